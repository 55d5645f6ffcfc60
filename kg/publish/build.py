"""Builds the knowledge graph: convert, validate, load the store, write dumps and report, publish.

The steps, in order: read the extra RDF (a syntax error stops the build before anything
is written), convert each release file (or take it from the cache), validate all graphs in
one pass, quarantine releases that failed, load the rest into a new on-disk store, write
the dumps, VoID and report, and publish by swapping ``DIR/current``.
"""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import Dataset, Graph, URIRef

from kg.conversion.cache import CacheEntry, ConversionCache, converter_fingerprint, entry_key
from kg.conversion.convert import (
    Converter,
    ReadFunction,
    convert_file,
    refused_file,
    unreadable_file,
)
from kg.extraction.linking import default_gazetteer
from kg.extraction.pipeline import read_releases
from kg.ingest.inputs import (
    MAX_RELEASE_BYTES,
    InputFile,
    build_time,
    bundled_samples_root,
    collect_release_files,
)
from kg.publish.graphs import SourceGraphs, load_extra_rdf, load_source_graphs
from kg.publish.layout import (
    CACHE,
    BuildLayout,
    build_lock,
    check_build_directory,
    discard_build,
    new_build_id,
    prepare_build_folder,
    publish_build,
    published_folder,
)
from kg.publish.report import Quarantine, write_report
from kg.publish.search_index import build_search_index
from kg.publish.summary import BuildSummary
from kg.publish.void import write_dumps_and_void
from kg.rdf.quads import graph_quads, ntriples_quads, parse_ntriples, sort_quads
from kg.rdf.rdffiles import MAX_RDF_BYTES
from kg.rdf.uris import DEFAULT_BASE, graph_iri, parse_graph_iri
from kg.validation.shacl import DatasetReport, load_shapes, validate_dataset

log = logging.getLogger(__name__)

#: told (files done, files in all) after each input file is converted or taken from the cache
ProgressCallback = Callable[[int, int], None]
#: told the name of each step as the build reaches it: "convert" after the first file,
#: "publish" just before the swap (a test can stop a build there)
StepCallback = Callable[[str], None]


@dataclass(frozen=True)
class BuildOptions:
    """What to build and where."""

    inputs: tuple[Path, ...] = ()  # release files or folders; none = the bundled samples
    extra_rdf: tuple[Path, ...] = ()
    out_dir: Path = Path("build")
    base: str = DEFAULT_BASE  # the base IRI everything is minted under (normalised)
    read: ReadFunction | None = None  # default: read_releases with the name index for ``base``
    on_progress: ProgressCallback | None = None
    on_step: StepCallback | None = None
    #: a release file larger than this (bytes) is quarantined unread
    max_release_bytes: int = MAX_RELEASE_BYTES
    #: an extra RDF file larger than this (bytes, after decompressing) stops the build
    max_rdf_bytes: int = MAX_RDF_BYTES


@dataclass(frozen=True)
class BuildResult:
    """What a build did: its summary (``report/summary.json``) and the releases it rejected."""

    summary: BuildSummary
    out_dir: Path
    #: every quarantined release with file, item, stage, field, reason and record
    quarantined: tuple[dict[str, object], ...] = ()

    @property
    def exit_code(self) -> int:
        """0 when nothing was quarantined, 1 when something was."""
        return 1 if self.quarantined else 0


@dataclass
class _Release:
    """A usable release on its way into the store."""

    key: str
    file_name: str
    item: int
    ntriples: str
    record: dict[str, object]


def build(options: BuildOptions) -> BuildResult:
    """Runs a whole build and publishes it; raises OsceKgError when it cannot go on."""
    started = time.perf_counter()
    out_dir = options.out_dir.absolute()
    check_build_directory(out_dir, options.inputs)
    with build_lock(out_dir):
        return _build_locked(options, out_dir, started)


def _build_locked(options: BuildOptions, out_dir: Path, started: float) -> BuildResult:
    clock = _Clock()
    prepared = _prepare(options, out_dir, clock)
    folder = prepare_build_folder(out_dir, new_build_id())
    try:
        summary = _write_build(BuildLayout(folder), prepared, options.base, clock, started)
        _reached(options, "publish")
        publish_build(out_dir, folder)
    except BaseException:
        if published_folder(out_dir) != Path(os.path.realpath(folder)):
            discard_build(folder)  # not published: DIR/current still names the last build
        raise
    prepared.cache.prune()
    return BuildResult(summary, prepared.out_dir, prepared.quarantine.entries())


@dataclass
class _Prepared:
    """Everything a build decided before it writes anything into its build folder."""

    out_dir: Path
    files: list[InputFile]
    converted: int
    cache: ConversionCache
    published: list[_Release]
    quarantine: Quarantine
    report: DatasetReport
    quads: list[ox.Quad]
    build_time: str


def _prepare(options: BuildOptions, out_dir: Path, clock: _Clock) -> _Prepared:
    """Loads, converts, validates and quarantines; returns the quads to publish."""
    base = options.base
    files = collect_release_files(options.inputs or (bundled_samples_root(),))
    when = build_time([f.path for f in files] + list(options.extra_rdf))  # a bad setting: stop now
    extras = load_extra_rdf(options.extra_rdf, base=base, max_bytes=options.max_rdf_bytes)
    sources = load_source_graphs(base=base)
    clock.lap("load")
    cache = ConversionCache(out_dir / CACHE)
    entries, converted = _convert_all(files, options, sources, base, cache)
    clock.lap("convert")
    quarantine = Quarantine()
    releases = _usable_releases(entries, quarantine)
    report = _validate(sources, extras, releases, base)
    clock.lap("validate")
    published = _drop_failing(releases, report, quarantine, base)
    quads = _all_quads(sources, extras, published, base)
    clock.lap("assemble")
    return _Prepared(out_dir, files, converted, cache, published, quarantine, report, quads, when)


def _write_build(
    layout: BuildLayout, prepared: _Prepared, base: str, clock: _Clock, started: float
) -> BuildSummary:
    """Writes the store, dumps and report of a prepared build into its own folder."""
    quads, published = prepared.quads, prepared.published
    _load_store(layout.store, quads)
    build_search_index(layout)
    clock.lap("store")
    dumps = write_dumps_and_void(
        layout.dumps,
        quads,
        prepared.build_time,
        len(published),
        len(prepared.quarantine),
        base=base,
    )
    clock.lap("dumps")
    summary = BuildSummary(
        build_id=layout.build_id,
        base=base,
        build_time=prepared.build_time,
        files=len(prepared.files),
        converted=prepared.converted,
        reused=len(prepared.files) - prepared.converted,
        releases=len(published),
        quarantined=len(prepared.quarantine),
        graphs=len({q.graph_name for q in quads}),
        quads=len(quads),
        triples=len({q.triple for q in quads}),
        violations_outside_releases=_violations_outside(prepared.report, published, base),
        warnings=prepared.report.report.count("Warning"),
        seconds=round(time.perf_counter() - started, 3),
        timings=clock.timings,
        dumps={
            d.name: {"triples": d.statements, "bytes": d.byte_size, "sha256": d.sha256}
            for d in dumps
        },
        quarantined_files=tuple(sorted({str(e["file"]) for e in prepared.quarantine.entries()})),
    )
    report_graph = prepared.report.report.report_graph
    write_report(layout, report_graph, prepared.quarantine, summary)
    return summary


class _Clock:
    """Records how long each step took."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self.last = time.perf_counter()

    def lap(self, step: str) -> None:
        now = time.perf_counter()
        self.timings[step] = round(now - self.last, 3)
        self.last = now


def _convert_all(
    files: Sequence[InputFile],
    options: BuildOptions,
    sources: SourceGraphs,
    base: str,
    cache: ConversionCache,
) -> tuple[list[CacheEntry], int]:
    """Each file's conversion, from the cache when its content and the code did not change."""
    fingerprint = converter_fingerprint()
    converter: Converter | None = None
    entries: list[CacheEntry] = []
    converted = 0
    for number, source in enumerate(files, start=1):
        try:
            too_large = source.size_problem(options.max_release_bytes)
            sha256 = "" if too_large else source.sha256()
        except OSError as exc:  # quarantined, never cached: it is read again next time
            entries.append(unreadable_file(source, exc))
            _converted(options, number, len(files))
            continue
        if too_large:  # never cached either: a higher limit reads it next time
            entries.append(refused_file(source, too_large))
            _converted(options, number, len(files))
            continue
        key = entry_key(file_name=source.name, sha256=sha256, base=base, fingerprint=fingerprint)
        entry = cache.get(key)
        if entry is None:
            converter = converter or Converter(_reader(options), sources.labels(), base)
            entry = convert_file(source, sha256, converter)
            cache.put(key, entry)
            converted += 1
        entries.append(entry)
        _converted(options, number, len(files))
    return entries, converted


def _converted(options: BuildOptions, done: int, total: int) -> None:
    if options.on_progress is not None:
        options.on_progress(done, total)
    if done == 1:
        _reached(options, "convert")


def _reached(options: BuildOptions, step: str) -> None:
    if options.on_step is not None:
        options.on_step(step)


def _reader(options: BuildOptions) -> ReadFunction:
    """The read function: the one given, or read + extract linking names under the build's base."""
    if options.read is not None:
        return options.read
    return functools.partial(read_releases, gazetteer=default_gazetteer(options.base))


def _usable_releases(entries: Sequence[CacheEntry], quarantine: Quarantine) -> list[_Release]:
    """The releases that converted, each key once (a second one with a key is quarantined)."""
    seen: dict[str, _Release] = {}
    for entry in entries:
        for item, cached in enumerate(entry.releases):
            if cached.problem is not None or cached.key is None:
                quarantine.add(entry.file_name, item, cached.problem or {}, cached.record)
                continue
            if cached.key in seen:
                first = seen[cached.key]
                problem = {
                    "stage": "map",
                    "field": "title",
                    "reason": f"same date and title as item {first.item} of {first.file_name} "
                    f"(release key {cached.key}); give one of them another title or remove it",
                }
                quarantine.add(entry.file_name, item, problem, cached.record)
                continue
            seen[cached.key] = _Release(
                cached.key, entry.file_name, item, cached.ntriples, cached.record
            )
    return list(seen.values())


def _validate(
    sources: SourceGraphs, extras: dict[URIRef, Graph], releases: Sequence[_Release], base: str
) -> DatasetReport:
    """Validates every graph of the build together, in one pass."""
    dataset = Dataset()
    for name, graph in [*sources.named(base), *extras.items()]:
        target = dataset.graph(name)
        for triple in graph:
            target.add(triple)
    for release in releases:
        target = dataset.graph(graph_iri("release", release.key, base=base))
        for triple in parse_ntriples(release.ntriples):
            target.add(triple)
    return validate_dataset(dataset, shapes=load_shapes(), ontology=sources.ontology)


def _drop_failing(
    releases: Sequence[_Release], report: DatasetReport, quarantine: Quarantine, base: str
) -> list[_Release]:
    """The releases without violations; the others go to quarantine with their SHACL results."""
    failing = report.assignment.failing_graphs()
    kept = []
    for release in releases:
        name = graph_iri("release", release.key, base=base)
        if name not in failing:
            kept.append(release)
            continue
        results = [r for r in report.assignment.by_graph[name] if r.severity == "Violation"]
        quarantine.add_violations(
            release.file_name, release.item, release.key, results, release.record
        )
    return kept


def _violations_outside(report: DatasetReport, published: Sequence[_Release], base: str) -> int:
    release_graphs = {graph_iri("release", r.key, base=base) for r in published}
    outside = [
        r
        for graph, results in report.assignment.by_graph.items()
        if graph not in release_graphs and not _is_release_graph(graph, base)
        for r in results
        if r.severity == "Violation"
    ]
    unassigned = [r for r in report.assignment.unassigned if r.severity == "Violation"]
    for result in [*outside, *unassigned][:20]:
        log.warning("violation outside the releases: %s %s", result.focus_node, result.message)
    return len(outside) + len(unassigned)


def _is_release_graph(graph: URIRef, base: str) -> bool:
    parsed = parse_graph_iri(str(graph), base=base)
    return parsed is not None and parsed[0] == "release"


def _all_quads(
    sources: SourceGraphs, extras: dict[URIRef, Graph], releases: Sequence[_Release], base: str
) -> list[ox.Quad]:
    quads: list[ox.Quad] = []
    for number, (name, graph) in enumerate([*sources.named(base), *sorted(extras.items())]):
        quads.extend(graph_quads(graph, name, bnode_prefix=f"g{number}x"))
    for release in releases:
        quads.extend(ntriples_quads(release.ntriples, graph_iri("release", release.key, base=base)))
    return sort_quads(quads)


def _load_store(path: Path, quads: Sequence[ox.Quad]) -> None:
    """Bulk-loads the quads into a new on-disk store and closes it."""
    store = ox.Store(str(path))
    store.bulk_extend(quads)
    store.flush()
    del store
