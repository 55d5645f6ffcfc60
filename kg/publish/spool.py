"""Streams a build's statements to disk and puts them in the dumps' canonical order there.

The build appends each published graph's quads to an N-Quads file as it goes; ``sort``
(GNU coreutils, byte order, bounded memory, spilling to disk) then gives the canonical
order of the dumps: the distinct quads sorted by their N-Quads text, and the distinct
triples of all graphs (the RDF merge) sorted by their N-Triples text. Both files are what
the store is bulk-loaded from and what the dumps are compressed from; one pass over them
counts what the VoID says.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import pyoxigraph as ox

from kg.errors import BuildError
from kg.rdf.vocab import RDF, SCHEMA, XSD

#: memory ``sort`` may use before it spills to temporary files
SORT_MEMORY = "512M"
_TYPE = f"<{RDF.type}>"
_DATE_PUBLISHED = f"<{SCHEMA.datePublished}>"
_DATE_SUFFIX = f'"^^<{XSD.date}>'


class QuadSpool:
    """An N-Quads file the build appends published graphs to, in any order."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.path = folder / "spool.nq"
        self._handle: IO[bytes] | None = self.path.open("wb")

    def add_ntriples(self, ntriples: str, graph: str) -> None:
        """A graph given as N-Triples lines (one statement a line, as ntriples_text writes)."""
        assert self._handle is not None
        suffix = f" <{graph}> .\n"
        lines = [line[:-2] + suffix for line in ntriples.splitlines() if line.endswith(" .")]
        self._handle.write("".join(lines).encode("utf-8"))

    def add_quads(self, quads: Iterable[ox.Quad]) -> None:
        """Quads (from rdflib graphs with stable blank-node labels)."""
        assert self._handle is not None
        self._handle.write(_serialize(quads))

    def close(self) -> None:
        """Closes the spool file (sorting it, or not needing it)."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def sorted_files(self) -> tuple[Path, Path]:
        """Closes the spool; the sorted distinct quads and the sorted distinct triples."""
        self.close()
        quads = self.folder / "quads.nq"
        _sort(self.path, quads, self.folder)
        self.path.unlink()
        merged = self.folder / "merge.unsorted.nt"
        with quads.open("rb") as source, merged.open("wb") as target:
            for line in source:
                target.write(line[: line.rindex(b" <")] + b" .\n")
        triples = self.folder / "triples.nt"
        _sort(merged, triples, self.folder)
        merged.unlink()
        return quads, triples


def _serialize(quads: Iterable[ox.Quad]) -> bytes:
    data = ox.serialize(quads, format=ox.RdfFormat.N_QUADS)
    assert data is not None
    return data


def _sort(source: Path, target: Path, scratch: Path) -> None:
    """``sort -u`` in byte order (the order of Python's str sort on the same text)."""
    program = shutil.which("sort")
    if program is None:
        raise BuildError("the build needs the `sort` program (GNU coreutils); install coreutils")
    environment = {**os.environ, "LC_ALL": "C"}
    command = [program, "-u", "-S", SORT_MEMORY, "-T", str(scratch), "-o", str(target)]
    completed = subprocess.run(
        [*command, str(source)], env=environment, capture_output=True, check=False
    )
    if completed.returncode != 0:
        message = completed.stderr.decode("utf-8", "replace").strip()
        raise BuildError(f"sorting the build's statements failed ({source}): {message}")


@dataclass
class DatasetStats:
    """What the VoID says of a build's statements, counted in one pass over the sorted files."""

    quads: int = 0
    triples: int = 0
    subjects: int = 0
    #: statements per named graph
    graphs: Counter[str] = field(default_factory=Counter)
    #: distinct subjects per class (the merge holds each ``s rdf:type C`` once)
    classes: Counter[str] = field(default_factory=Counter)
    first_date: str | None = None
    last_date: str | None = None


def count_statements(quads: Path, triples: Path) -> DatasetStats:
    """Counts quads per graph, triples, subjects, class members and the publication dates."""
    stats = DatasetStats()
    with quads.open("r", encoding="utf-8") as handle:
        for line in handle:
            stats.quads += 1
            stats.graphs[line[line.rindex(" <") + 2 : -4]] += 1
    previous = None
    with triples.open("r", encoding="utf-8") as handle:
        for line in handle:
            stats.triples += 1
            subject, predicate, rest = line.split(" ", 2)
            if subject != previous:
                stats.subjects += 1
                previous = subject
            if predicate == _TYPE and rest.startswith("<"):
                stats.classes[rest[1 : rest.index(">")]] += 1
            elif predicate == _DATE_PUBLISHED and rest.endswith(_DATE_SUFFIX + " .\n"):
                day = rest[1 : -len(_DATE_SUFFIX) - 3]
                if stats.first_date is None or day < stats.first_date:
                    stats.first_date = day
                if stats.last_date is None or day > stats.last_date:
                    stats.last_date = day
    return stats
