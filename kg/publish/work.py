"""One input file's work in a build: convert it (or take it from the cache) and validate each
of its releases (or take the verdict from the cache). Runs in the build's worker processes.

A worker gets its :class:`FileWork` once (``install``) and then one file at a time; it sends
back a :class:`FileOutcome` with each release's graph text, problem or verdict, and nothing of
the other files, so the build's memory does not grow with the archive.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kg.conversion.cache import CacheEntry, ConversionCache, entry_key
from kg.conversion.convert import Converter, convert_file, refused_file, unreadable_file
from kg.ingest.inputs import InputFile
from kg.rdf.quads import ntriples_terms
from kg.rdf.uris import graph_iri
from kg.validation.batches import ReleaseVerdict, ValidationContext, validate_batch
from kg.validation.verdicts import VerdictCache

log = logging.getLogger(__name__)

#: releases validated in one pySHACL run: large enough to spread its fixed cost, small
#: enough to bound a worker's memory (measured in benchmarks/bench_build.py)
BATCH_SIZE = 1000


@dataclass
class FileWork:
    """What every file's work needs; built once per build, shared by the workers."""

    converter: Callable[[], Converter]  # made on first use: not every build converts
    context: ValidationContext
    cache_folder: Path
    fingerprint: str  # the conversion fingerprint
    base: str
    max_release_bytes: int
    batch_size: int = BATCH_SIZE
    _conversions: ConversionCache | None = field(default=None, repr=False)
    _verdicts: VerdictCache | None = field(default=None, repr=False)

    def conversions(self) -> ConversionCache:
        if self._conversions is None:
            self._conversions = ConversionCache(self.cache_folder)
        return self._conversions

    def verdicts(self) -> VerdictCache:
        if self._verdicts is None:  # one connection per process
            self._verdicts = VerdictCache(self.cache_folder)
        return self._verdicts

    def close(self) -> None:
        if self._verdicts is not None:
            self._verdicts.close()
            self._verdicts = None


@dataclass(frozen=True)
class ReleaseOutcome:
    """One release of a file: its key and graph, or its problem; and its verdict."""

    item: int
    record: dict[str, object]
    key: str | None
    ntriples: str
    problem: dict[str, str | None] | None
    verdict: ReleaseVerdict | None = None
    verdict_key: str | None = None


@dataclass(frozen=True)
class FileOutcome:
    """Everything one file gave the build."""

    file_name: str
    converted: bool
    cache_key: str | None
    releases: tuple[ReleaseOutcome, ...]
    validated: int = 0  # releases validated now (the others had a cached verdict)


_installed: FileWork | None = None


def install(work: FileWork) -> None:
    """Gives this process the build's FileWork (a pool's initializer)."""
    global _installed
    _installed = work


def installed() -> FileWork:
    """The FileWork this process was given."""
    assert _installed is not None, "install() was not called in this process"
    return _installed


def process_file(work: FileWork, source: InputFile) -> FileOutcome:
    """Converts one file (or takes it from the cache) and validates its usable releases."""
    entry, converted, key = _convert(work, source)
    first_of_key: set[str] = set()
    pending: list[tuple[int, str, str]] = []  # (index, verdict key, ntriples)
    for index, cached in enumerate(entry.releases):
        if cached.problem is None and cached.key is not None and cached.key not in first_of_key:
            first_of_key.add(cached.key)  # a later one with the same key is quarantined
            pending.append((index, work.context.verdict_key(cached.ntriples), cached.ntriples))
    verdicts = work.verdicts().get_many(k for _, k, _ in pending)
    missing = [(i, k, text) for i, k, text in pending if k not in verdicts]
    for start in range(0, len(missing), work.batch_size):
        batch = missing[start : start + work.batch_size]
        graphs = [
            (graph_iri("release", str(entry.releases[i].key), base=work.base), ntriples_terms(text))
            for i, _, text in batch
        ]
        fresh = dict(
            zip((k for _, k, _ in batch), validate_batch(work.context, graphs), strict=True)
        )
        work.verdicts().put_many(fresh)
        verdicts.update(fresh)
    keys = {i: k for i, k, _ in pending}
    releases = tuple(
        ReleaseOutcome(
            item=index,
            record=cached.record,
            key=cached.key,
            ntriples=cached.ntriples,
            problem=cached.problem,
            verdict=verdicts.get(keys[index]) if index in keys else None,
            verdict_key=keys.get(index),
        )
        for index, cached in enumerate(entry.releases)
    )
    return FileOutcome(entry.file_name, converted, key, releases, validated=len(missing))


def _convert(work: FileWork, source: InputFile) -> tuple[CacheEntry, bool, str | None]:
    """The file's conversion: from the cache when its bytes and the converter are unchanged."""
    try:
        too_large = source.size_problem(work.max_release_bytes)
        sha256 = "" if too_large else source.sha256()
    except OSError as exc:  # quarantined, never cached: it is read again next time
        return unreadable_file(source, exc), False, None
    if too_large:  # never cached either: a higher limit reads it next time
        return refused_file(source, too_large), False, None
    key = entry_key(
        file_name=source.name, sha256=sha256, base=work.base, fingerprint=work.fingerprint
    )
    cache = work.conversions()
    entry = cache.get(key)
    if entry is not None:
        return entry, False, key
    entry = convert_file(source, sha256, work.converter())
    cache.put(key, entry)
    return entry, True, key
