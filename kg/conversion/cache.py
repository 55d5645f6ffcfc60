"""Keeps converted release files in DIR/.cache by content hash: rebuilds convert what changed.

An entry is one input file: the N-Triples of each release it gave and the records of the
releases that could not be used. Its key is a hash of the file's bytes, its name relative
to the input root, the base IRI and the converter's fingerprint (the code, facts tables and
ontology the conversion depends on), so any change to one of them converts the file again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kg
from kg.resources import ontology_dir, reference_dir

log = logging.getLogger(__name__)

CACHE_FORMAT = 1
#: the parts of the package a conversion runs (modules and data, relative to kg/): the stages
#: up to conversion and what they stand on, not validation, publishing, the command lines or the
#: settings; a test checks that every module kg.conversion.convert imports is matched here
CONVERTER_SOURCES = (
    "__init__.py",  # the version
    "errors.py",
    "resources.py",
    "lexicon/**/*",
    "rdf/*.py",
    "reference/*.py",
    "ingest/**/*.py",
    "extraction/**/*",
    "conversion/*.py",
    "data/*.tsv",
    "data/reference/*.tsv",
)
_SOURCE_SUFFIXES = frozenset({".py", ".tsv", ".txt", ".json"})


@dataclass(frozen=True)
class CachedRelease:
    """One release of a converted file: its key, record and graph (empty when not usable)."""

    key: str | None
    record: dict[str, Any]
    ntriples: str
    #: why the release is not usable (stage, field, reason), or None
    problem: dict[str, str | None] | None = None


@dataclass(frozen=True)
class CacheEntry:
    """Everything converting one file gave."""

    file_name: str
    sha256: str
    releases: tuple[CachedRelease, ...]


def converter_sources() -> list[Path]:
    """The files of the package a conversion depends on (``CONVERTER_SOURCES``), sorted."""
    package = Path(kg.__file__).parent
    return sorted(
        {
            p
            for pattern in CONVERTER_SOURCES
            for p in package.glob(pattern)
            if p.is_file() and p.suffix in _SOURCE_SUFFIXES and "__pycache__" not in p.parts
        }
    )


def converter_fingerprint() -> str:
    """A hash of the code and data a conversion depends on: a change in any converts again."""
    digest = hashlib.sha256(f"osce-kg {kg.__version__} cache {CACHE_FORMAT}".encode())
    package = Path(kg.__file__).parent
    for path in converter_sources():
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    for folder in (ontology_dir(), reference_dir()):
        for resource in sorted(folder.iterdir(), key=lambda r: r.name):
            if resource.is_file() and resource.name.endswith((".ttl", ".tsv")):
                digest.update(resource.name.encode())
                digest.update(resource.read_bytes())
    return digest.hexdigest()


def entry_key(*, file_name: str, sha256: str, base: str, fingerprint: str) -> str:
    """The cache key of one input file."""
    return hashlib.sha256("\x1f".join((file_name, sha256, base, fingerprint)).encode()).hexdigest()


class ConversionCache:
    """The cache folder of one build directory (``DIR/.cache``)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.used: set[str] = set()

    def get(self, key: str) -> CacheEntry | None:
        """The entry for ``key``, or None when missing or unreadable (converted again then)."""
        path = self.folder / f"{key}.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            entry = _entry_from_json(data)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring unreadable cache entry %s: %s", path, exc)
            return None
        self.used.add(key)
        return entry

    def put(self, key: str, entry: CacheEntry) -> None:
        """Stores an entry atomically (a killed build leaves no half-written entry)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{key}.json"
        temporary = path.with_suffix(f".tmp{os.getpid()}")
        temporary.write_text(json.dumps(_entry_to_json(entry), ensure_ascii=False), "utf-8")
        os.replace(temporary, path)
        self.used.add(key)

    def prune(self) -> int:
        """Removes the entries this build did not use (files gone or changed); returns how many."""
        if not self.folder.is_dir():
            return 0
        removed = 0
        for path in self.folder.iterdir():
            if not (path.suffix == ".json" or path.suffix.startswith(".tmp")):
                continue  # not an entry (e.g. the verdicts database next to them)
            if path.name.removesuffix(".json") not in self.used:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                removed += 1
        return removed


def _entry_to_json(entry: CacheEntry) -> dict[str, Any]:
    return {
        "file_name": entry.file_name,
        "sha256": entry.sha256,
        "releases": [
            {"key": r.key, "record": r.record, "ntriples": r.ntriples, "problem": r.problem}
            for r in entry.releases
        ],
    }


def _entry_from_json(data: dict[str, Any]) -> CacheEntry:
    return CacheEntry(
        file_name=str(data["file_name"]),
        sha256=str(data["sha256"]),
        releases=tuple(
            CachedRelease(
                key=r["key"], record=r["record"], ntriples=r["ntriples"], problem=r["problem"]
            )
            for r in data["releases"]
        ),
    )
