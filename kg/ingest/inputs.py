"""Finds the release files a build reads, names them relative to their root, and dates the build."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from kg.errors import InputError, megabytes
from kg.ingest.formats import RELEASE_SUFFIXES, is_release_file
from kg.resources import ontology_dir, reference_dir, samples_dir, shapes_dir

#: folders of the bundled samples that are not input (gold records are expected output)
SKIPPED_FOLDERS = frozenset({"gold", "__pycache__"})
SOURCE_DATE_EPOCH = "SOURCE_DATE_EPOCH"
#: the folder that marks a build directory (kg.publish.layout.BUILDS), never read as input
BUILD_MARKER = ".builds"
#: The largest release file a build reads, in bytes (``osce-kg build --max-release-size``).
#: Reading is linear in a file's size; the cap bounds the time and memory one file costs
#: (a saved page is tens of kilobytes, a JSON Lines file of a thousand releases a few MB).
MAX_RELEASE_BYTES = 10_000_000


@dataclass(frozen=True)
class InputFile:
    """A release file: where it is, and its name relative to the input root it was found under."""

    path: Path
    name: str

    def sha256(self) -> str:
        """The hex SHA-256 of the file's bytes."""
        with self.path.open("rb") as stream:
            return hashlib.file_digest(stream, "sha256").hexdigest()

    def size_problem(self, limit: int) -> InputError | None:
        """Why the file is too large to read (over ``limit`` bytes), or None.

        Raises OSError when the file cannot be found or examined.
        """
        size = self.path.stat().st_size
        if size <= limit:
            return None
        return InputError(
            self.path,
            None,
            f"the file has {size:,} bytes, more than the limit of {megabytes(limit)} "
            "for one release file",
            hint="split it into smaller files (a JSON Lines file can be cut at any line), or "
            "raise the limit with osce-kg build --max-release-size MB",
        )


def bundled_samples_root() -> Path:
    """The folder of the sample releases shipped in the package."""
    return Path(str(samples_dir()))


def collect_release_files(paths: Sequence[Path]) -> list[InputFile]:
    """The release files under ``paths`` (files or folders), sorted by name.

    A folder gives every file with a known ending below it, except ``gold/`` folders and
    README files; a file is taken as given. Files are named relative to the folder given;
    when two different files would get the same name (``a/r.txt`` and ``b/r.txt`` given
    as ``a b``), each of them is named with its folder in front, so neither is lost and
    their cache entries and source-file IRIs stay apart. The same file reached twice is
    read once. Raises InputError for a path that does not exist or a folder without
    release files.
    """
    found: list[tuple[Path, Path, str]] = []  # (root, file, name relative to the root)
    for root in paths:
        if root.is_dir():
            below = [(root, p, p.relative_to(root).as_posix()) for p in _release_files_below(root)]
            if not below:
                raise InputError(
                    root,
                    None,
                    "the folder holds no release file (" + ", ".join(RELEASE_SUFFIXES) + ")",
                    hint="give the folder the release pages were saved in",
                )
            found.extend(below)
        elif root.is_file():
            found.append((root.parent, root, root.name))
        else:
            raise InputError(root, None, "no such file or folder", hint="check the path")
    named = _unique_names(_distinct_files(found))
    return [named[name] for name in sorted(named)]


def _distinct_files(found: list[tuple[Path, Path, str]]) -> list[tuple[Path, Path, str]]:
    """Each file once, however many of the given paths reach it."""
    seen: set[Path] = set()
    distinct = []
    for root, path, name in found:
        real = path.resolve()
        if real not in seen:
            seen.add(real)
            distinct.append((root, path, name))
    return distinct


def _unique_names(found: list[tuple[Path, Path, str]]) -> dict[str, InputFile]:
    """The files by name; names that two files share get their root folder in front."""
    counts: dict[str, int] = {}
    for _, _, name in found:
        counts[name] = counts.get(name, 0) + 1
    named: dict[str, InputFile] = {}
    for root, path, name in found:
        if counts[name] > 1:
            name = f"{root.resolve().name}/{name}"
        while name in named:  # two roots with the same folder name: number them
            name = f"{len(named)}-{name}"
        named[name] = InputFile(path, name)
    return named


def _release_files_below(root: Path) -> Iterable[Path]:
    """The release files below ``root``, following linked folders (each real folder once)."""
    visited: set[str] = set()
    for folder, subfolders, files in os.walk(root, followlinks=True):
        real = os.path.realpath(folder)
        # a link back up the tree, two links to one folder, or a build directory (--out
        # inside an input folder: its links lead into the builds)
        if real in visited or BUILD_MARKER in subfolders:
            subfolders[:] = []
            continue
        visited.add(real)
        subfolders[:] = sorted(
            d for d in subfolders if d not in SKIPPED_FOLDERS and not d.startswith(".")
        )
        for name in sorted(files):
            if is_release_file(name):
                yield Path(folder) / name


def build_time(inputs: Iterable[Path]) -> str:
    """The time a build states, as xsd:dateTime in UTC.

    ``$SOURCE_DATE_EPOCH`` when set (the reproducible-builds convention); otherwise the
    newest modification time of the inputs and the shipped ontology, shapes and facts
    tables. So the same inputs give the same VoID, byte for byte.
    """
    epoch = os.environ.get(SOURCE_DATE_EPOCH)
    if epoch:
        seconds = _epoch_seconds(epoch)
    else:
        seconds = int(max((_mtime(p) for p in [*inputs, *_shipped_files()]), default=0))
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


#: the last second xsd:dateTime can write with a four-digit year (9999-12-31T23:59:59Z)
_LAST_EPOCH = 253402300799


def _epoch_seconds(epoch: str) -> int:
    """``$SOURCE_DATE_EPOCH`` as seconds; InputError unless a whole number from 0 to year 9999."""
    try:
        seconds = int(epoch)
    except ValueError:
        seconds = -1
    if not 0 <= seconds <= _LAST_EPOCH:
        raise InputError(
            None,
            SOURCE_DATE_EPOCH,
            f"{epoch!r} is not a whole number of seconds from 0 to {_LAST_EPOCH}",
            hint="set it to a Unix time such as 1700000000 or unset it",
        )
    return seconds


def _shipped_files() -> list[Path]:
    files: list[Path] = []
    for folder in (ontology_dir(), shapes_dir(), reference_dir()):
        files.extend(Path(str(r)) for r in folder.iterdir() if r.is_file())
    return files


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
