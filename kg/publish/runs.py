"""Keeps what each input file gives a build, at file level, so a rebuild reads only what changed.

A *segment* is one input file's part of a build, cached in ``DIR/.cache/runs`` by a key of the
file's conversion key (its bytes, name, base and the converter's code) and the validation
context's fingerprint (shapes, ontology, context graphs). It holds:

- ``<key>.json``: each release's key, verdict key, verdict results and whether it fails or
  has a problem (with the record when it is quarantined whatever the other files hold);
- ``<key>.records.json``: every release's record, read only when a release turns out to
  repeat one of an earlier file (quarantined then, so its record is needed);
- ``<key>.nq`` and ``<key>.nt``: a *run*, the sorted distinct quads of the releases the file
  publishes on its own, and the sorted distinct triples of those quads.

The build merges the runs of all files (``sort -m``) instead of sorting everything again, and
patches the previous store with the runs that differ from the previous build's. A segment is
written to temporary names and committed by renaming its ``.json`` last, so a build killed
midway leaves either a whole segment or none that the next build would read.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kg.ingest.inputs import InputFile
from kg.publish.work import FileOutcome, FileWork, installed, process_file
from kg.rdf.uris import graph_iri

log = logging.getLogger(__name__)

#: the folder in ``DIR/.cache`` that holds the segments and runs
RUNS = "runs"
#: changes when a segment's contents change meaning (older segments are then not read)
SEGMENT_FORMAT = "osce-kg segment 1"


@dataclass(frozen=True)
class Run:
    """A sorted file of distinct quads and the sorted file of their distinct triples."""

    #: names the run's contents: equal ids, equal files
    id: str
    quads: Path
    triples: Path


@dataclass(frozen=True)
class SegmentRelease:
    """One release of a file as the build needs it once the file is converted and validated."""

    item: int
    key: str | None  # the release key; None when the release could not be used
    verdict_key: str | None  # None for a problem, and for a repeat of a key in the same file
    results: tuple[str, ...] = ()  # the verdict's result documents
    failing: bool = False
    problem: dict[str, str | None] | None = None
    #: the record, kept here for a release quarantined whatever the other files hold
    record: dict[str, Any] | None = None


@dataclass
class Segment:
    """One input file's part of a build (see the module documentation)."""

    file_name: str
    key: str | None  # None for a file that was not read (too large or unreadable): not cached
    conversion_key: str | None
    releases: tuple[SegmentRelease, ...]
    converted: bool = False  # converted in this build
    validated: int = 0  # releases validated in this build
    run: Run | None = None
    folder: Path | None = field(default=None, repr=False)

    def records(self) -> list[dict[str, Any]]:
        """Every release's record, by item (read from the cache)."""
        if self.folder is None or self.key is None:
            return [r.record or {} for r in self.releases]
        text = (self.folder / f"{self.key}.records.json").read_text(encoding="utf-8")
        records: list[dict[str, Any]] = json.loads(text)
        return records


def segment_key(conversion_key: str, context_fingerprint: str) -> str:
    """The key of a file's segment: its conversion in one validation context."""
    text = "\x1f".join((SEGMENT_FORMAT, conversion_key, context_fingerprint))
    return hashlib.sha256(text.encode()).hexdigest()


def runs_folder(cache: Path) -> Path:
    """Where segments and runs are kept in a cache folder."""
    return cache / RUNS


def segment_exists(folder: Path, key: str) -> bool:
    """Whether a segment was committed for ``key`` (it may still turn out unreadable)."""
    return (folder / f"{key}.json").is_file()


def load_segment(folder: Path, key: str) -> Segment | None:
    """The cached segment for ``key``, or None when missing or unreadable (made again then)."""
    path = folder / f"{key}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        segment = _segment_from_json(data, folder, key)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("ignoring unreadable segment %s: %s", path, exc)
        return None
    if segment.run is not None and not (
        segment.run.quads.is_file() and segment.run.triples.is_file()
    ):
        return None
    return segment


def write_segment(folder: Path, key: str, outcome: FileOutcome, graph_of: Any) -> Segment:
    """Writes a converted and validated file's segment (its run last but one, its ``.json``
    last: the commit) and returns it. ``graph_of(release_key)`` names a release's graph."""
    folder.mkdir(parents=True, exist_ok=True)
    releases, published = _segment_releases(outcome)
    suffix = f".tmp{os.getpid()}"
    quads = sorted(
        {line for text, graph in _texts(published, graph_of) for line in _quad_lines(text, graph)}
    )
    triples = sorted({_triple_of(line) for line in quads})
    run = Run(key, folder / f"{key}.nq", folder / f"{key}.nt")
    _write_atomic(run.quads, "".join(quads).encode("utf-8"), suffix)
    _write_atomic(run.triples, "".join(triples).encode("utf-8"), suffix)
    records = [release.record for release in outcome.releases]
    _write_atomic(
        folder / f"{key}.records.json", json.dumps(records, ensure_ascii=False).encode(), suffix
    )
    segment = Segment(
        outcome.file_name,
        key,
        outcome.cache_key,
        releases,
        converted=outcome.converted,
        validated=outcome.validated,
        run=run,
        folder=folder,
    )
    _write_atomic(
        folder / f"{key}.json",
        json.dumps(_segment_to_json(segment), ensure_ascii=False).encode(),
        suffix,
    )
    return segment


def make_segment(work: FileWork, source: InputFile) -> Segment:
    """Converts and validates one file (each release's verdict from the cache when it has
    one) and writes its segment; a file that was not read gets an uncached one."""
    outcome = process_file(work, source)
    if outcome.cache_key is None:
        return uncached_segment(outcome)
    key = segment_key(outcome.cache_key, work.context.fingerprint)
    folder = runs_folder(work.cache_folder)
    return write_segment(folder, key, outcome, lambda k: graph_iri("release", k, base=work.base))


def make_installed_segment(source: InputFile) -> Segment:
    """:func:`make_segment` with the FileWork this worker process was given."""
    return make_segment(installed(), source)


def uncached_segment(outcome: FileOutcome) -> Segment:
    """The segment of a file that is not cached (not read: every release has a problem)."""
    releases, published = _segment_releases(outcome)
    assert not published, "a file that was not read publishes nothing"
    return Segment(
        outcome.file_name, None, outcome.cache_key, releases, converted=outcome.converted
    )


def _segment_releases(
    outcome: FileOutcome,
) -> tuple[tuple[SegmentRelease, ...], list[tuple[str, str]]]:
    """The releases of an outcome, and (ntriples, release key) of those the file publishes."""
    releases = []
    published = []
    for release in outcome.releases:
        verdict = release.verdict
        results = verdict.results if verdict is not None else ()
        failing = verdict.failing if verdict is not None else False
        quarantined = release.problem is not None or release.key is None
        quarantined = quarantined or release.verdict_key is None or failing
        releases.append(
            SegmentRelease(
                item=release.item,
                key=release.key,
                verdict_key=release.verdict_key,
                results=results,
                failing=failing,
                problem=release.problem,
                record=release.record if quarantined else None,
            )
        )
        if not quarantined and release.key is not None:
            published.append((release.ntriples, release.key))
    return tuple(releases), published


def _texts(published: list[tuple[str, str]], graph_of: Any) -> Iterable[tuple[str, str]]:
    for text, release_key in published:
        yield text, str(graph_of(release_key))


def _quad_lines(ntriples: str, graph: str) -> list[str]:
    """N-Triples lines (one statement a line) as N-Quads lines in ``graph``."""
    suffix = f" <{graph}> .\n"
    return [line[:-2] + suffix for line in ntriples.splitlines() if line.endswith(" .")]


def _triple_of(quad_line: str) -> str:
    """An N-Quads line of a named graph as the N-Triples line of its triple."""
    return quad_line[: quad_line.rindex(" <")] + " .\n"


def _write_atomic(path: Path, data: bytes, suffix: str) -> None:
    temporary = path.with_name(path.name + suffix)
    temporary.write_bytes(data)
    os.replace(temporary, path)


def _segment_to_json(segment: Segment) -> dict[str, Any]:
    return {
        "format": SEGMENT_FORMAT,
        "file_name": segment.file_name,
        "conversion_key": segment.conversion_key,
        "releases": [
            {
                "item": r.item,
                "key": r.key,
                "verdict_key": r.verdict_key,
                "results": list(r.results),
                "failing": r.failing,
                "problem": r.problem,
                "record": r.record,
            }
            for r in segment.releases
        ],
    }


def _segment_from_json(data: dict[str, Any], folder: Path, key: str) -> Segment:
    if data["format"] != SEGMENT_FORMAT:
        raise ValueError(f"segment format {data['format']!r}")
    releases = tuple(
        SegmentRelease(
            item=int(r["item"]),
            key=r["key"],
            verdict_key=r["verdict_key"],
            results=tuple(str(d) for d in r["results"]),
            failing=bool(r["failing"]),
            problem=r["problem"],
            record=r["record"],
        )
        for r in data["releases"]
    )
    run = Run(key, folder / f"{key}.nq", folder / f"{key}.nt")
    return Segment(data["file_name"], key, data["conversion_key"], releases, run=run, folder=folder)


def filtered_run(run: Run, graphs: set[str], folder: Path) -> Run:
    """The run without the quads of ``graphs`` (releases another file published first),
    written into ``folder`` (the cache) under an id naming the run and what it leaves out."""
    left_out = hashlib.sha256("\x1f".join(sorted(graphs)).encode()).hexdigest()[:16]
    run_id = f"{run.id}-x{left_out}"
    target = Run(run_id, folder / f"{run_id}.nq", folder / f"{run_id}.nt")
    if target.quads.is_file() and target.triples.is_file():
        return target
    kept = []
    with run.quads.open("r", encoding="utf-8") as handle:
        for line in handle:
            if line[line.rindex(" <") + 2 : -4] not in graphs:
                kept.append(line)
    suffix = f".tmp{os.getpid()}"
    _write_atomic(target.quads, "".join(kept).encode("utf-8"), suffix)
    triples = sorted({_triple_of(line) for line in kept})
    _write_atomic(target.triples, "".join(triples).encode("utf-8"), suffix)
    return target


def sorted_run(spool: Path, folder: Path, run_id: str) -> Run:
    """A run from an unsorted N-Quads file of named-graph quads (the context graphs), kept in
    ``folder`` as ``run_id``."""
    run = Run(run_id, folder / f"{run_id}.nq", folder / f"{run_id}.nt")
    if run.quads.is_file() and run.triples.is_file():
        return run
    folder.mkdir(parents=True, exist_ok=True)
    suffix = f".tmp{os.getpid()}"
    lines = spool.read_text(encoding="utf-8").splitlines(keepends=True)
    quads = sorted(set(lines))
    _write_atomic(run.quads, "".join(quads).encode("utf-8"), suffix)
    _write_atomic(
        run.triples, "".join(sorted({_triple_of(q) for q in quads})).encode("utf-8"), suffix
    )
    return run


def prune_runs(folder: Path, keep: Iterable[str]) -> int:
    """Removes segments and runs of ``folder`` whose key or id is not in ``keep``."""
    if not folder.is_dir():
        return 0
    wanted = set(keep)
    removed = 0
    for path in folder.iterdir():
        name = path.name.split(".", 1)[0]
        if name not in wanted:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            removed += 1
    return removed
