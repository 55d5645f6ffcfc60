"""Builds the knowledge graph: convert, validate, load the store, write dumps and report, publish.

The steps, in order: read the extra RDF (a syntax error stops the build before anything
is written), convert each release file (or take it from the cache), validate all graphs in
one pass, quarantine releases that failed, load the rest into a new on-disk store, write
the dumps, VoID and report, and publish by swapping ``DIR/current``.

Test hook: ``OSCE_KG_TEST_PAUSE=<stage>:<marker file>`` makes a build create the marker file
and sleep at that stage (``convert`` after the first file, ``publish`` just before the
swap), so a test can kill it there. It has no other effect and is unset in normal use.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
from rdflib import Dataset, Graph, URIRef
from tqdm import tqdm

from kg.conversion.cache import CacheEntry, ConversionCache, converter_fingerprint, entry_key
from kg.conversion.convert import Converter, ReadFunction, convert_file, unreadable_file
from kg.extraction.pipeline import read_releases
from kg.ingest.inputs import InputFile, build_time, bundled_samples_root, collect_release_files
from kg.publish.graphs import SourceGraphs, load_extra_rdf, load_source_graphs
from kg.publish.layout import (
    CACHE,
    build_lock,
    check_build_directory,
    current_build,
    discard_build,
    new_build_id,
    prepare_build_folder,
    publish_build,
)
from kg.publish.report import Quarantine, write_report
from kg.publish.void import write_dumps_and_void
from kg.rdf.quads import graph_quads, ntriples_quads, parse_ntriples, sort_quads
from kg.rdf.uris import current_base, graph_iri
from kg.validation.shacl import DatasetReport, load_shapes, validate_dataset

log = logging.getLogger(__name__)

PAUSE_ENV = "OSCE_KG_TEST_PAUSE"


@dataclass(frozen=True)
class BuildOptions:
    """What to build and where."""

    inputs: tuple[Path, ...] = ()  # release files or folders; none = the bundled samples
    extra_rdf: tuple[Path, ...] = ()
    out_dir: Path = Path("build")
    progress: bool = False  # a progress bar on stderr while converting
    read: ReadFunction | None = None  # default: kg.extraction.pipeline.read_releases


@dataclass(frozen=True)
class BuildSummary:
    """What a build did: the figures the CLI prints and ``report/summary.json`` keeps."""

    build_id: str
    out_dir: str
    build_time: str
    files: int
    converted: int  # files converted in this build
    reused: int  # files taken from the cache
    releases: int  # releases published
    quarantined: tuple[dict[str, object], ...]
    graphs: int
    quads: int
    triples: int
    violations_outside_releases: int
    warnings: int
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)
    #: per dump file: statements ("triples", quads for N-Quads), bytes and sha256
    dumps: dict[str, dict[str, object]] = field(default_factory=dict)
    base: str = ""  # the base IRI everything was minted under (the server must serve it)

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


def build(options: BuildOptions) -> BuildSummary:
    """Runs a whole build and publishes it; raises OsceKgError when it cannot go on."""
    started = time.perf_counter()
    base = current_base()  # $OSCE_KG_BASE: the reference data and the linker mint under it too
    out_dir = options.out_dir.absolute()
    check_build_directory(out_dir)
    with build_lock(out_dir):
        return _build_locked(options, base, out_dir, started)


def _build_locked(options: BuildOptions, base: str, out_dir: Path, started: float) -> BuildSummary:
    clock = _Clock()
    prepared = _prepare(options, base, out_dir, clock)
    folder = prepare_build_folder(out_dir, new_build_id())
    try:
        summary = _write_build(folder, prepared, base, clock, started)
        _pause_for_tests("publish")
        publish_build(out_dir, folder)
    except BaseException:
        if current_build(out_dir) != Path(os.path.realpath(folder)):
            discard_build(folder)  # not published: DIR/current still names the last build
        raise
    prepared.cache.prune()
    return summary


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


def _prepare(options: BuildOptions, base: str, out_dir: Path, clock: _Clock) -> _Prepared:
    """Loads, converts, validates and quarantines; returns the quads to publish."""
    files = collect_release_files(options.inputs or (bundled_samples_root(),))
    when = build_time([f.path for f in files] + list(options.extra_rdf))  # a bad setting: stop now
    extras = load_extra_rdf(options.extra_rdf, base=base)
    sources = load_source_graphs()
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
    folder: Path, prepared: _Prepared, base: str, clock: _Clock, started: float
) -> BuildSummary:
    """Writes the store, dumps and report of a prepared build into its own folder."""
    quads, published = prepared.quads, prepared.published
    _load_store(folder / "store", quads)
    clock.lap("store")
    dumps = write_dumps_and_void(
        folder / "dumps",
        quads,
        prepared.build_time,
        len(published),
        len(prepared.quarantine),
        base=base,
    )
    clock.lap("dumps")
    summary = BuildSummary(
        build_id=folder.name,
        base=base,
        out_dir=str(prepared.out_dir),
        build_time=prepared.build_time,
        files=len(prepared.files),
        converted=prepared.converted,
        reused=len(prepared.files) - prepared.converted,
        releases=len(published),
        quarantined=prepared.quarantine.entries(),
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
    )
    report_graph = prepared.report.report.report_graph
    write_report(folder / "report", report_graph, prepared.quarantine, _summary_json(summary))
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
    entries, converted = [], 0
    bar = tqdm(
        files,
        desc="converting",
        unit="file",
        file=sys.stderr,
        disable=None if options.progress else True,
    )
    for number, source in enumerate(bar, start=1):
        try:
            sha256 = source.sha256()
        except OSError as exc:  # quarantined, never cached: it is read again next time
            entries.append(unreadable_file(source, exc))
            continue
        key = entry_key(file_name=source.name, sha256=sha256, base=base, fingerprint=fingerprint)
        entry = cache.get(key)
        if entry is None:
            converter = converter or Converter(_reader(options), sources.labels(), base)
            entry = convert_file(source, sha256, converter)
            cache.put(key, entry)
            converted += 1
        entries.append(entry)
        if number == 1:
            _pause_for_tests("convert")
    return entries, converted


def _reader(options: BuildOptions) -> ReadFunction:
    return options.read if options.read is not None else read_releases


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
        if graph not in release_graphs and "/graph/release/" not in str(graph)
        for r in results
        if r.severity == "Violation"
    ]
    unassigned = [r for r in report.assignment.unassigned if r.severity == "Violation"]
    for result in [*outside, *unassigned][:20]:
        log.warning("violation outside the releases: %s %s", result.focus_node, result.message)
    return len(outside) + len(unassigned)


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


def _summary_json(summary: BuildSummary) -> dict[str, object]:
    return {
        "build_id": summary.build_id,
        "base": summary.base,
        "build_time": summary.build_time,
        "files": summary.files,
        "converted": summary.converted,
        "reused": summary.reused,
        "releases": summary.releases,
        "quarantined": len(summary.quarantined),
        "graphs": summary.graphs,
        "quads": summary.quads,
        "triples": summary.triples,
        "violations_outside_releases": summary.violations_outside_releases,
        "warnings": summary.warnings,
        "seconds": summary.seconds,
        "timings": summary.timings,
        "dumps": summary.dumps,
        "quarantined_files": sorted({str(e["file"]) for e in summary.quarantined}),
    }


def _pause_for_tests(stage: str) -> None:
    """The documented test hook: stop here (marker file + sleep) so a test can kill the build."""
    setting = os.environ.get(PAUSE_ENV, "")
    wanted, _, marker = setting.partition(":")
    if wanted != stage or not marker:
        return
    Path(marker).write_text(str(os.getpid()), encoding="utf-8")
    time.sleep(600)
