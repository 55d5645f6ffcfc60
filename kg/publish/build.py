"""Builds the knowledge graph: convert, validate, load the store, write dumps and report, publish.

The steps, in order: read the extra RDF (a syntax error stops the build before anything
is written); validate the context (ontology, vocabularies, reference graph, extras) once;
convert and validate each release file in worker processes (``kg.publish.work``; each file
and each release verdict from the cache when unchanged), quarantining releases that fail and
streaming the others' statements to disk; sort them there (``kg.publish.spool``); bulk-load
the store (the named graphs, and their RDF merge as the default graph) and write the dumps,
VoID and report from the sorted files; and publish by swapping ``DIR/current``. A build
killed midway leaves the published build alone, and a re-run takes what it finished from
the cache.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import multiprocessing
import os
import shutil
import signal
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, URIRef

from kg.conversion.cache import ConversionCache, converter_fingerprint
from kg.conversion.convert import Converter, ReadFunction
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
from kg.publish.spool import QuadSpool
from kg.publish.summary import BuildSummary
from kg.publish.void import BuildFacts, write_dumps_and_void
from kg.publish.work import FileOutcome, FileWork, install, process_file, process_installed
from kg.rdf.quads import graph_quads
from kg.rdf.rdffiles import MAX_RDF_BYTES
from kg.rdf.uris import DEFAULT_BASE, graph_iri
from kg.validation.batches import (
    ReleaseVerdict,
    ValidationContext,
    context_fingerprint,
    parse_documents,
    results_of,
    validate_context,
)
from kg.validation.shacl import load_shapes, read_results
from kg.validation.verdicts import VerdictCache

log = logging.getLogger(__name__)

#: told (files done, files in all) after each input file is converted or taken from the cache
ProgressCallback = Callable[[int, int], None]
#: told the name of each step as the build reaches it: "convert" after the first file,
#: "publish" just before the swap (a test can stop a build there)
StepCallback = Callable[[str], None]
#: the scratch folder inside a build folder (the spool and sorted files), removed before publishing
WORK = "work"
#: changes when what a build writes from the same inputs changes (no reuse of older builds)
PUBLISH_FORMAT = "osce-kg publish 2"


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
    #: worker processes converting and validating files; None: one per core
    jobs: int | None = None


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


def build(options: BuildOptions) -> BuildResult:
    """Runs a whole build and publishes it; raises OsceKgError when it cannot go on."""
    started = time.perf_counter()
    out_dir = options.out_dir.absolute()
    check_build_directory(out_dir, options.inputs)
    with build_lock(out_dir):
        return _build_locked(options, out_dir, started)


@dataclass
class _Sources:
    """What a build loads before it converts anything."""

    files: list[InputFile]
    build_time: str
    sources: SourceGraphs
    extras: dict[URIRef, Graph]


def _build_locked(options: BuildOptions, out_dir: Path, started: float) -> BuildResult:
    clock = _Clock()
    base = options.base
    files = collect_release_files(options.inputs or (bundled_samples_root(),))
    when = build_time([f.path for f in files] + list(options.extra_rdf))  # a bad setting: stop now
    extras = load_extra_rdf(options.extra_rdf, base=base, max_bytes=options.max_rdf_bytes)
    loaded = _Sources(files, when, load_source_graphs(base=base), extras)
    clock.lap("load")
    folder = prepare_build_folder(out_dir, new_build_id())
    conversions = ConversionCache(out_dir / CACHE)
    verdicts = VerdictCache(out_dir / CACHE)
    try:
        layout = BuildLayout(folder)
        prepared = _prepare(options, loaded, layout, conversions, verdicts, clock)
        summary = _write_build(layout, prepared, base, clock, started)
        shutil.rmtree(layout.root / WORK, ignore_errors=True)
        _reached(options, "publish")
        publish_build(out_dir, folder)
    except BaseException:
        if published_folder(out_dir) != Path(os.path.realpath(folder)):
            discard_build(folder)  # not published: DIR/current still names the last build
        raise
    finally:
        verdicts.close()
    conversions.prune()
    cleaning = VerdictCache(out_dir / CACHE)
    try:
        cleaning.keep_only(prepared.verdict_keys)
    finally:
        cleaning.close()
    return BuildResult(summary, out_dir, prepared.quarantine.entries())


@dataclass
class _Prepared:
    """What a build found before it writes the store, dumps and report."""

    files: int
    converted: int
    published: int
    validated: int
    quarantine: Quarantine
    build_time: str
    quads: Path
    triples: Path
    #: the result documents of the whole build (context and releases), without repeats
    documents: dict[str, None] = field(default_factory=dict)
    violations_outside: int = 0
    verdict_keys: set[str] = field(default_factory=set)
    #: the published build this one is equal to, whose store and dumps it copies
    previous: BuildLayout | None = None
    #: a hash of what the build publishes: the context, each file's bytes and converter, each
    #: release's verdict key; equal hashes, equal store, dumps and report
    digest: hashlib._Hash = field(default_factory=hashlib.sha256)


def _prepare(
    options: BuildOptions,
    loaded: _Sources,
    layout: BuildLayout,
    conversions: ConversionCache,
    verdicts: VerdictCache,
    clock: _Clock,
) -> _Prepared:
    """Validates the context, converts and validates every file, spools what is published."""
    base = options.base
    context_graphs = [*loaded.sources.named(base), *sorted(loaded.extras.items())]
    shapes = load_shapes()
    ontology = loaded.sources.ontology
    fingerprint = context_fingerprint(shapes, ontology, [g for _, g in context_graphs])
    context = ValidationContext(shapes, ontology, context_graphs, fingerprint)
    spool = QuadSpool(layout.root / WORK)
    for number, (name, graph) in enumerate(context_graphs):
        spool.add_quads(graph_quads(graph, name, bnode_prefix=f"g{number}x"))
    prepared = _Prepared(
        len(loaded.files), 0, 0, 0, Quarantine(), loaded.build_time, spool.path, spool.path
    )
    context_verdict = _context_verdict(context, verdicts, prepared)
    for part in (PUBLISH_FORMAT, base, loaded.build_time, fingerprint):
        prepared.digest.update(part.encode() + b"\x1f")
    prepared.documents.update(dict.fromkeys(context_verdict.results))
    prepared.violations_outside = sum(
        1 for r in results_of(context_verdict.results) if r.severity == "Violation"
    )
    clock.lap("context")
    work = FileWork(
        converter=_LazyConverter(options, loaded.sources),
        context=context,
        cache_folder=conversions.folder,
        fingerprint=converter_fingerprint(),
        base=base,
        max_release_bytes=options.max_release_bytes,
    )
    seen: dict[str, tuple[str, int]] = {}
    try:
        for number, outcome in enumerate(_outcomes(work, loaded.files, options.jobs), start=1):
            _take(outcome, prepared, spool, seen, base)
            if outcome.cache_key is not None:
                conversions.used.add(outcome.cache_key)
            _converted(options, number, len(loaded.files))
    finally:
        spool.close()
    clock.lap("convert+validate")
    prepared.previous = _reusable(layout, prepared.digest.hexdigest())
    if prepared.previous is None:
        prepared.quads, prepared.triples = spool.sorted_files()
        clock.lap("sort")
    return prepared


def _context_verdict(
    context: ValidationContext, verdicts: VerdictCache, prepared: _Prepared
) -> ReleaseVerdict:
    """The verdict on the context graphs alone, from the cache when nothing changed."""
    key = context.verdict_key("context")
    prepared.verdict_keys.add(key)
    cached = verdicts.get_many([key]).get(key)
    if cached is not None:
        return cached
    assignment, documents = validate_context(context)
    del assignment  # every result of the context pass is outside the releases
    failing = any(r.severity == "Violation" for r in results_of(documents))
    verdict = ReleaseVerdict(documents, failing)
    verdicts.put_many({key: verdict})
    return verdict


def _take(
    outcome: FileOutcome,
    prepared: _Prepared,
    spool: QuadSpool,
    seen: dict[str, tuple[str, int]],
    base: str,
) -> None:
    """Publishes (spools) or quarantines each release of one file's outcome."""
    prepared.converted += int(outcome.converted)
    prepared.digest.update(f"{outcome.file_name}\x1f{outcome.cache_key}\x1e".encode())
    prepared.validated += outcome.validated
    quarantine = prepared.quarantine
    for release in outcome.releases:
        if release.problem is not None or release.key is None:
            quarantine.add(outcome.file_name, release.item, release.problem or {}, release.record)
            continue
        if release.key in seen:
            first_file, first_item = seen[release.key]
            problem = {
                "stage": "map",
                "field": "title",
                "reason": f"same date and title as item {first_item} of {first_file} "
                f"(release key {release.key}); give one of them another title or remove it",
            }
            quarantine.add(outcome.file_name, release.item, problem, release.record)
            continue
        seen[release.key] = (outcome.file_name, release.item)
        verdict = release.verdict or ReleaseVerdict()
        prepared.digest.update(f"{release.item}\x1f{release.verdict_key}\x1e".encode())
        if release.verdict_key is not None:
            prepared.verdict_keys.add(release.verdict_key)
        prepared.documents.update(dict.fromkeys(verdict.results))
        if verdict.failing:
            violations = [r for r in results_of(verdict.results) if r.severity == "Violation"]
            quarantine.add_violations(
                outcome.file_name, release.item, release.key, violations, release.record
            )
            continue
        spool.add_ntriples(release.ntriples, str(graph_iri("release", release.key, base=base)))
        prepared.published += 1


def _outcomes(
    work: FileWork, files: Sequence[InputFile], jobs: int | None
) -> Iterator[FileOutcome]:
    """Each file's outcome, in file order: in worker processes when there is more than one file."""
    workers = min(jobs or os.cpu_count() or 1, len(files))
    if workers <= 1:
        try:
            for source in files:
                yield process_file(work, source)
        finally:
            work.close()
        return
    context = multiprocessing.get_context("fork")  # workers inherit the loaded graphs
    pool = ProcessPoolExecutor(
        workers, mp_context=context, initializer=_start_worker, initargs=(work,)
    )
    try:
        yield from pool.map(process_installed, files)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _start_worker(work: FileWork) -> None:
    """A worker leaves Ctrl-C to the build, which stops the pool and tidies up."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    install(work)


class _LazyConverter:
    """The converter, made on first use (building the name index takes a moment)."""

    def __init__(self, options: BuildOptions, sources: SourceGraphs) -> None:
        self._options = options
        self._sources = sources
        self._converter: Converter | None = None

    def __call__(self) -> Converter:
        if self._converter is None:
            self._converter = Converter(
                _reader(self._options), self._sources.labels(), self._options.base
            )
        return self._converter


def _write_build(
    layout: BuildLayout, prepared: _Prepared, base: str, clock: _Clock, started: float
) -> BuildSummary:
    """Writes the store, dumps and report of a prepared build into its own folder."""
    if prepared.previous is not None:
        counts = _copy_build(prepared.previous, layout)
        clock.lap("copy")
    else:
        _load_store(layout.store, prepared.quads, prepared.triples)
        build_search_index(layout)
        clock.lap("store")
        facts = BuildFacts(prepared.build_time, prepared.published, len(prepared.quarantine))
        dumps, stats = write_dumps_and_void(
            layout.dumps, prepared.quads, prepared.triples, facts, base=base
        )
        clock.lap("dumps")
        counts = _Counts(
            len(stats.graphs),
            stats.quads,
            stats.triples,
            {
                d.name: {"triples": d.statements, "bytes": d.byte_size, "sha256": d.sha256}
                for d in dumps
            },
        )
    report_graph = parse_documents(prepared.documents)
    summary = BuildSummary(
        build_id=layout.build_id,
        base=base,
        build_time=prepared.build_time,
        files=prepared.files,
        converted=prepared.converted,
        reused=prepared.files - prepared.converted,
        releases=prepared.published,
        quarantined=len(prepared.quarantine),
        validated=prepared.validated,
        default_graph="merge",
        graphs=counts.graphs,
        quads=counts.quads,
        triples=counts.triples,
        violations_outside_releases=prepared.violations_outside,
        warnings=sum(1 for r in read_results(report_graph) if r.severity == "Warning"),
        seconds=round(time.perf_counter() - started, 3),
        timings=clock.timings,
        dumps=counts.dumps,
        content_digest=prepared.digest.hexdigest(),
        quarantined_files=tuple(sorted({str(e["file"]) for e in prepared.quarantine.entries()})),
    )
    write_report(layout, report_graph, prepared.quarantine, summary)
    return summary


@dataclass(frozen=True)
class _Counts:
    """What the summary says of the store and dumps."""

    graphs: int | None
    quads: int | None
    triples: int | None
    dumps: Mapping[str, Mapping[str, object]]


def _reusable(layout: BuildLayout, digest: str) -> BuildLayout | None:
    """The published build of this directory when it publishes exactly what this one would."""
    folder = published_folder(layout.root.parent.parent)
    if folder is None:
        return None
    previous = BuildLayout(folder)
    try:
        summary = BuildSummary.read(previous.summary_file)
    except (OSError, ValueError):
        return None
    if summary.content_digest != digest or not previous.store.is_dir():
        return None
    return previous


def _copy_build(previous: BuildLayout, layout: BuildLayout) -> _Counts:
    """Copies the store and dumps of an equal published build: the store's immutable table
    files and the dumps (same statements, same build time, same bytes) as hard links, the rest
    of the store copied, so neither build can change the other's."""
    layout.store.mkdir(parents=True)
    for path in previous.store.iterdir():
        if path.suffix == ".sst":
            os.link(path, layout.store / path.name)
        elif path.is_file():
            shutil.copy2(path, layout.store / path.name)
    if previous.search_index.is_file():  # the same statements: the same labels to search
        layout.search_index.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(previous.search_index, layout.search_index)
    else:
        build_search_index(layout)
    layout.dumps.mkdir(parents=True)
    for path in previous.dumps.iterdir():  # written once, never changed: linked, not copied
        try:
            os.link(path, layout.dumps / path.name)
        except OSError:
            shutil.copy2(path, layout.dumps / path.name)
    summary = BuildSummary.read(previous.summary_file)
    return _Counts(summary.graphs, summary.quads, summary.triples, summary.dumps)


class _Clock:
    """Records how long each step took."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self.last = time.perf_counter()

    def lap(self, step: str) -> None:
        now = time.perf_counter()
        self.timings[step] = round(now - self.last, 3)
        self.last = now


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


def _load_store(path: Path, quads: Path, triples: Path) -> None:
    """Bulk-loads the named graphs and, as the default graph, their RDF merge (each triple
    once, so the SPARQL default graph is a set, not a bag) into a new on-disk store."""
    store = ox.Store(str(path))
    store.bulk_load(path=str(quads), format=ox.RdfFormat.N_QUADS)
    store.bulk_load(path=str(triples), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.DefaultGraph())
    store.flush()
    del store
