"""Finds the release files a build reads, names them relative to their root, and dates the build."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from kg.errors import InputError
from kg.resources import ontology_dir, reference_dir, samples_dir, shapes_dir

#: file name endings the readers understand
RELEASE_SUFFIXES = (".txt", ".html", ".htm", ".jsonl")
#: folders of the bundled samples that are not input (gold records are expected output)
SKIPPED_FOLDERS = frozenset({"gold", "__pycache__"})
SOURCE_DATE_EPOCH = "SOURCE_DATE_EPOCH"


@dataclass(frozen=True)
class InputFile:
    """A release file: where it is, and its name relative to the input root it was found under."""

    path: Path
    name: str

    def sha256(self) -> str:
        """The hex SHA-256 of the file's bytes."""
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def bundled_samples_root() -> Path:
    """The folder of the sample releases shipped in the package."""
    return Path(str(samples_dir()))


def collect_release_files(paths: Sequence[Path]) -> list[InputFile]:
    """The release files under ``paths`` (files or folders), sorted by name.

    A folder gives every file with a known ending below it, except ``gold/`` folders and
    README files; a file is taken as given. Files are named relative to the folder given.
    """
    found: dict[str, InputFile] = {}
    for root in paths:
        if root.is_dir():
            for path in _release_files_below(root):
                name = path.relative_to(root).as_posix()
                found.setdefault(name, InputFile(path, name))
        elif root.is_file():
            found.setdefault(root.name, InputFile(root, root.name))
        else:
            raise InputError(root, None, "no such file or folder", hint="check the path")
    return [found[name] for name in sorted(found)]


def _release_files_below(root: Path) -> Iterable[Path]:
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(
            d for d in subfolders if d not in SKIPPED_FOLDERS and not d.startswith(".")
        )
        for name in sorted(files):
            if name.lower().endswith(RELEASE_SUFFIXES) and not name.upper().startswith("README"):
                yield Path(folder) / name


def build_time(inputs: Iterable[Path]) -> str:
    """The time a build states, as xsd:dateTime in UTC.

    ``$SOURCE_DATE_EPOCH`` when set (the reproducible-builds convention); otherwise the
    newest modification time of the inputs and the shipped ontology, shapes and facts
    tables. So the same inputs give the same VoID, byte for byte.
    """
    epoch = os.environ.get(SOURCE_DATE_EPOCH)
    if epoch:
        try:
            seconds = int(epoch)
        except ValueError as exc:
            raise InputError(
                None,
                SOURCE_DATE_EPOCH,
                f"{epoch!r} is not a whole number of seconds",
                hint="set it to a Unix time such as 1700000000 or unset it",
            ) from exc
    else:
        seconds = int(max((_mtime(p) for p in [*inputs, *_shipped_files()]), default=0))
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


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
