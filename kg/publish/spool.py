"""Streams statements to disk and merges sorted files of them there (GNU ``sort``).

The build appends the context graphs' quads to an N-Quads file (the spool); each input file's
published quads are kept sorted in its cached run (``kg.publish.runs``). ``sort -m -u``
(GNU coreutils, byte order, bounded memory) then merges the sorted runs into the canonical
order of the dumps: the distinct quads sorted by their N-Quads text, and the distinct triples
of all graphs (the RDF merge) sorted by their N-Triples text, the same lines in the same order
as sorting everything again. Both files are what the store is bulk-loaded from and what the
dumps are compressed from.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO

import pyoxigraph as ox

from kg.errors import BuildError

#: memory ``sort`` may use before it spills to temporary files
SORT_MEMORY = "512M"


class QuadSpool:
    """An N-Quads file the build appends graphs to, in any order."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.path = folder / "spool.nq"
        self._handle: IO[bytes] | None = self.path.open("wb")

    def add_quads(self, quads: Iterable[ox.Quad]) -> None:
        """Quads (from rdflib graphs with stable blank-node labels)."""
        assert self._handle is not None
        data = ox.serialize(quads, format=ox.RdfFormat.N_QUADS)
        assert data is not None
        self._handle.write(data)

    def close(self) -> None:
        """Closes the spool file."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def merge_sorted(sources: Sequence[Path], target: Path, scratch: Path) -> None:
    """Merges files of sorted distinct lines into ``target`` (``sort -m -u``, byte order): the
    lines of all of them, each once, in the order sorting all of them again would give."""
    if not sources:
        target.write_bytes(b"")
        return
    listing = scratch / f"{target.name}.sources"
    listing.write_bytes(b"".join(os.fsencode(s) + b"\0" for s in sources))
    try:
        _sort(["-m", f"--files0-from={listing}"], target, scratch)
    finally:
        listing.unlink()


def _sort(arguments: list[str], target: Path, scratch: Path) -> None:
    """Runs ``sort -u`` in byte order (the order of Python's str sort on the same text)."""
    program = shutil.which("sort")
    if program is None:
        raise BuildError("the build needs the `sort` program (GNU coreutils); install coreutils")
    environment = {**os.environ, "LC_ALL": "C"}
    command = [program, "-u", "-S", SORT_MEMORY, "-T", str(scratch), "-o", str(target)]
    completed = subprocess.run(
        [*command, *arguments], env=environment, capture_output=True, check=False
    )
    if completed.returncode != 0:
        message = completed.stderr.decode("utf-8", "replace").strip()
        raise BuildError(f"sorting the build's statements failed ({target}): {message}")
