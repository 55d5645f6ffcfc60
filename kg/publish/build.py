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

import dataclasses
import functools
import hashlib
import json
import logging
import multiprocessing
import os
import shutil
import signal
import time
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, URIRef

from kg.conversion.cache import ConversionCache, converter_fingerprint, entry_key
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
from kg.publish.chunks import CHUNKS, ChunkCache
from kg.publish.dumps import DumpChunks, patch_rdf_dumps, write_rdf_dumps
from kg.publish.fingerprint import input_fingerprint
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
from kg.publish.patch import PatchApplied, apply_patch, copy_store, plan_patch
from kg.publish.report import Quarantine, write_report
from kg.publish.runs import (
    Run,
    Segment,
    filtered_run,
    load_segment,
    make_installed_segment,
    make_segment,
    prune_runs,
    runs_folder,
    segment_exists,
    segment_key,
    sorted_run,
)
from kg.publish.search_index import build_search_index, patch_search_index
from kg.publish.spool import QuadSpool, merge_sorted
from kg.publish.summary import BuildSummary
from kg.publish.void import BuildFacts, DumpsWritten, write_dumps_and_void
from kg.publish.work import FileWork, install
from kg.rdf.quads import graph_quads
from kg.rdf.rdffiles import MAX_RDF_BYTES
from kg.rdf.uris import DEFAULT_BASE, graph_iri
from kg.rdf.vocab import PREFIXES, RDFS
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
PUBLISH_FORMAT = "osce-kg publish 3"


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
    inputs: _Inputs


@dataclass(frozen=True)
class _Inputs:
    """The SHA-256 of each release file (None: not read, too large or unreadable), and the
    fingerprint of the whole build's inputs (None when it cannot be taken)."""

    digests: tuple[str | None, ...]
    fingerprint: str | None


class _Caches:
    """The caches of a build directory (``DIR/.cache``)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.conversions = ConversionCache(folder)
        self.verdicts = VerdictCache(folder)
        self.runs = runs_folder(folder)
        self.chunks = ChunkCache(folder / CHUNKS)


def _build_locked(options: BuildOptions, out_dir: Path, started: float) -> BuildResult:
    clock = _Clock()
    base = options.base
    files = collect_release_files(options.inputs or (bundled_samples_root(),))
    when = build_time([f.path for f in files] + list(options.extra_rdf))  # a bad setting: stop now
    inputs = _fingerprint(options, files, when)
    clock.lap("fingerprint")
    unchanged = _unchanged(out_dir, inputs.fingerprint)
    if unchanged is not None:
        return _reuse(options, out_dir, unchanged, len(files), clock, started)
    extras = load_extra_rdf(options.extra_rdf, base=base, max_bytes=options.max_rdf_bytes)
    loaded = _Sources(files, when, load_source_graphs(base=base), extras, inputs)
    clock.lap("load")
    folder = prepare_build_folder(out_dir, new_build_id())
    caches = _Caches(out_dir / CACHE)
    try:
        layout = BuildLayout(folder)
        prepared = _prepare(options, loaded, layout, caches, clock)
        summary = _write_build(layout, prepared, base, caches, clock, started)
        shutil.rmtree(layout.root / WORK, ignore_errors=True)
        _reached(options, "publish")
        publish_build(out_dir, folder)
    except BaseException:
        if published_folder(out_dir) != Path(os.path.realpath(folder)):
            discard_build(folder)  # not published: DIR/current still names the last build
        raise
    finally:
        caches.verdicts.close()
    _prune(caches, prepared)
    return BuildResult(summary, out_dir, prepared.quarantine.entries())


def _fingerprint(options: BuildOptions, files: Sequence[InputFile], when: str) -> _Inputs:
    """Each release file's SHA-256 and the fingerprint of all the build's inputs."""
    digests: list[str | None] = []
    readable = True
    for source in files:
        try:
            too_large = source.size_problem(options.max_release_bytes)
            digests.append(None if too_large else source.sha256())
        except OSError:
            digests.append(None)
            readable = False
    if not readable or options.read is not None:  # a read function given in code: no fingerprint
        return _Inputs(tuple(digests), None)
    settings = (
        PUBLISH_FORMAT,
        options.base,
        when,
        str(options.max_release_bytes),
        str(options.max_rdf_bytes),
    )
    named = [d or "refused" for d in digests]
    try:
        fingerprint = input_fingerprint(settings, files, named, options.extra_rdf)
    except OSError:  # an extra RDF file cannot be read: loading it says why
        return _Inputs(tuple(digests), None)
    return _Inputs(tuple(digests), fingerprint)


def _published(out_dir: Path) -> tuple[BuildLayout, BuildSummary] | None:
    """The build published in ``out_dir`` with its summary, if there is one that can be read."""
    folder = published_folder(out_dir)
    if folder is None:
        return None
    previous = BuildLayout(folder)
    try:
        return previous, BuildSummary.read(previous.summary_file)
    except (OSError, ValueError):
        return None


def _unchanged(out_dir: Path, fingerprint: str | None) -> BuildLayout | None:
    """The published build when it was built from exactly these inputs, complete."""
    published = _published(out_dir) if fingerprint is not None else None
    if published is None:
        return None
    previous, summary = published
    parts = (previous.store, previous.dumps, previous.quarantine_file, previous.validation_file)
    if summary.input_digest != fingerprint or not all(p.exists() for p in parts):
        return None
    return previous


def _reuse(
    options: BuildOptions,
    out_dir: Path,
    previous: BuildLayout,
    files: int,
    clock: _Clock,
    started: float,
) -> BuildResult:
    """Publishes a copy of the published build (its inputs are unchanged) as a new build."""
    folder = prepare_build_folder(out_dir, new_build_id())
    layout = BuildLayout(folder)
    try:
        _converted(options, files, files)
        _copy_build(previous, layout)
        layout.report.mkdir(parents=True)
        for path in (previous.validation_file, previous.quarantine_file):
            _link_or_copy(path, layout.report / path.name)
        quarantined = json.loads(previous.quarantine_file.read_text(encoding="utf-8"))
        clock.lap("copy")
        summary = dataclasses.replace(
            BuildSummary.read(previous.summary_file),
            build_id=layout.build_id,
            converted=0,
            reused=files,
            validated=0,
            seconds=round(time.perf_counter() - started, 3),
            timings=clock.timings,
        )
        summary.write(layout.summary_file)
        _reached(options, "publish")
        publish_build(out_dir, folder)
    except BaseException:
        if published_folder(out_dir) != Path(os.path.realpath(folder)):
            discard_build(folder)
        raise
    return BuildResult(summary, out_dir, tuple(quarantined))


def _prune(caches: _Caches, prepared: _Prepared) -> None:
    """Removes what the published build does not use from the caches."""
    caches.conversions.used |= prepared.conversion_keys
    caches.conversions.prune()
    cleaning = VerdictCache(caches.folder)
    try:
        cleaning.keep_only(prepared.verdict_keys)
    finally:
        cleaning.close()
    prune_runs(caches.runs, prepared.segment_keys | {run.id for run in prepared.runs})
    if prepared.previous is None:  # the dumps were written: their chunks are what is used
        caches.chunks.prune()


@dataclass
class _Prepared:
    """What a build found before it writes the store, dumps and report."""

    files: int
    converted: int
    published: int
    validated: int
    quarantine: Quarantine
    build_time: str
    input_digest: str | None
    #: the runs this build publishes: the context's, then each file's
    runs: list[Run] = field(default_factory=list)
    #: the result documents of the whole build (context and releases), without repeats
    documents: dict[str, None] = field(default_factory=dict)
    violations_outside: int = 0
    verdict_keys: set[str] = field(default_factory=set)
    conversion_keys: set[str] = field(default_factory=set)
    segment_keys: set[str] = field(default_factory=set)
    #: the published build this one is equal to, whose store and dumps it copies
    previous: BuildLayout | None = None
    #: the merged sorted files of all runs (when the store and dumps are written)
    quads: Path | None = None
    triples: Path | None = None
    #: a hash of what the build publishes: the context and each file's segment and the
    #: releases it leaves to other files; equal hashes, equal store, dumps and report
    digest: hashlib._Hash = field(default_factory=hashlib.sha256)


def _prepare(
    options: BuildOptions,
    loaded: _Sources,
    layout: BuildLayout,
    caches: _Caches,
    clock: _Clock,
) -> _Prepared:
    """Validates the context, takes each file's segment (made when not cached), merges runs."""
    base = options.base
    context_graphs = [*loaded.sources.named(base), *sorted(loaded.extras.items())]
    shapes = load_shapes()
    ontology = loaded.sources.ontology
    fingerprint = context_fingerprint(shapes, ontology, [g for _, g in context_graphs])
    context = ValidationContext(shapes, ontology, context_graphs, fingerprint)
    prepared = _Prepared(
        len(loaded.files), 0, 0, 0, Quarantine(), loaded.build_time, loaded.inputs.fingerprint
    )
    prepared.runs.append(_context_run(context_graphs, layout, caches))
    context_verdict = _context_verdict(context, caches.verdicts, prepared)
    for part in (PUBLISH_FORMAT, base, loaded.build_time, fingerprint, prepared.runs[0].id):
        prepared.digest.update(part.encode() + b"\x1f")
    prepared.documents.update(dict.fromkeys(context_verdict.results))
    prepared.violations_outside = sum(
        1 for r in results_of(context_verdict.results) if r.severity == "Violation"
    )
    clock.lap("context")
    work = FileWork(
        converter=_LazyConverter(options, loaded.sources),
        context=context,
        cache_folder=caches.folder,
        fingerprint=converter_fingerprint(),
        base=base,
        max_release_bytes=options.max_release_bytes,
    )
    seen: dict[str, tuple[str, int]] = {}
    segments = _segments(work, loaded, caches, options.jobs)
    for number, segment in enumerate(segments, start=1):
        _take(segment, prepared, seen, base, caches)
        _converted(options, number, len(loaded.files))
    clock.lap("convert+validate")
    prepared.previous = _reusable(layout, prepared.digest.hexdigest())
    return prepared


def _merged(layout: BuildLayout, prepared: _Prepared) -> tuple[Path, Path]:
    """The sorted distinct quads and triples of all runs (merged on first use)."""
    if prepared.quads is None or prepared.triples is None:
        scratch = layout.root / WORK
        scratch.mkdir(parents=True, exist_ok=True)
        quads, triples = scratch / "quads.nq", scratch / "triples.nt"
        sources = ([r.quads for r in prepared.runs], [r.triples for r in prepared.runs])
        with ThreadPoolExecutor(2, thread_name_prefix="sort") as pool:  # two `sort` processes
            merges = [
                pool.submit(merge_sorted, files, target, scratch)
                for files, target in zip(sources, (quads, triples), strict=True)
            ]
            for merge in merges:
                merge.result()
        prepared.quads, prepared.triples = quads, triples
    return prepared.quads, prepared.triples


def _context_run(
    context_graphs: Sequence[tuple[URIRef, Graph]], layout: BuildLayout, caches: _Caches
) -> Run:
    """The run of the context graphs (ontology, vocabularies, reference graph, extras)."""
    spool = QuadSpool(layout.root / WORK)
    try:
        for number, (name, graph) in enumerate(context_graphs):
            spool.add_quads(graph_quads(graph, name, bnode_prefix=f"g{number}x"))
    finally:
        spool.close()
    with spool.path.open("rb") as stream:
        digest = hashlib.file_digest(stream, "sha256").hexdigest()
    run = sorted_run(spool.path, caches.runs, f"context-{digest}")
    spool.path.unlink()
    return run


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
    segment: Segment,
    prepared: _Prepared,
    seen: dict[str, tuple[str, int]],
    base: str,
    caches: _Caches,
) -> None:
    """Publishes or quarantines each release of one file's segment; adds the file's run."""
    prepared.converted += int(segment.converted)
    prepared.validated += segment.validated
    if segment.conversion_key is not None:
        prepared.conversion_keys.add(segment.conversion_key)
    if segment.key is not None:
        prepared.segment_keys.add(segment.key)
    quarantine = prepared.quarantine
    name = segment.file_name
    records: list[dict[str, object]] | None = None
    left_out: set[str] = set()
    for release in segment.releases:
        if release.problem is not None or release.key is None:
            quarantine.add(name, release.item, release.problem or {}, release.record or {})
            continue
        if release.key in seen:
            first_file, first_item = seen[release.key]
            problem = {
                "stage": "map",
                "field": "title",
                "reason": f"same date and title as item {first_item} of {first_file} "
                f"(release key {release.key}); give one of them another title or remove it",
            }
            record = release.record
            if record is None:  # a release the file publishes on its own: leave it out
                records = records if records is not None else segment.records()
                record = records[release.item]
                left_out.add(str(graph_iri("release", release.key, base=base)))
            quarantine.add(name, release.item, problem, record)
            continue
        seen[release.key] = (name, release.item)
        if release.verdict_key is not None:
            prepared.verdict_keys.add(release.verdict_key)
        prepared.documents.update(dict.fromkeys(release.results))
        if release.failing:
            violations = [r for r in results_of(release.results) if r.severity == "Violation"]
            quarantine.add_violations(
                name, release.item, release.key, violations, release.record or {}
            )
            continue
        prepared.published += 1
    prepared.digest.update(f"{name}\x1f{segment.key}\x1f{sorted(left_out)}\x1e".encode())
    if segment.run is not None:
        run = segment.run if not left_out else filtered_run(segment.run, left_out, caches.runs)
        prepared.runs.append(run)


def _segments(
    work: FileWork, loaded: _Sources, caches: _Caches, jobs: int | None
) -> Iterator[Segment]:
    """Each file's segment, in file order: from the cache when the file and the validation
    context are unchanged, else made in worker processes (or here, for one file)."""
    keys: list[str | None] = []
    for source, sha256 in zip(loaded.files, loaded.inputs.digests, strict=True):
        key = None
        if sha256 is not None:
            conversion = entry_key(
                file_name=source.name, sha256=sha256, base=work.base, fingerprint=work.fingerprint
            )
            key = segment_key(conversion, work.context.fingerprint)
        keys.append(key if key is not None and segment_exists(caches.runs, key) else None)
    pending = [source for source, key in zip(loaded.files, keys, strict=True) if key is None]
    made = _made_segments(work, pending, jobs)
    try:
        for source, key in zip(loaded.files, keys, strict=True):
            segment = load_segment(caches.runs, key) if key is not None else next(made)
            yield segment if segment is not None else make_segment(work, source)
    finally:
        made.close()
        work.close()


def _made_segments(
    work: FileWork, files: Sequence[InputFile], jobs: int | None
) -> Generator[Segment, None, None]:
    """Each file's new segment, in file order: in worker processes when there is more than one."""
    workers = min(jobs or os.cpu_count() or 1, len(files))
    if workers <= 1:
        for source in files:
            yield make_segment(work, source)
        return
    context = multiprocessing.get_context("fork")  # workers inherit the loaded graphs
    pool = ProcessPoolExecutor(
        workers, mp_context=context, initializer=_start_worker, initargs=(work,)
    )
    try:
        yield from pool.map(make_installed_segment, files)
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
    layout: BuildLayout,
    prepared: _Prepared,
    base: str,
    caches: _Caches,
    clock: _Clock,
    started: float,
) -> BuildSummary:
    """Writes the store, dumps and report of a prepared build into its own folder."""
    if prepared.previous is not None:
        counts = _copy_build(prepared.previous, layout)
        clock.lap("copy")
    else:
        facts = BuildFacts(prepared.build_time, prepared.published, len(prepared.quarantine))
        patched = _make_store(layout, prepared)
        if patched is not None:
            clock.lap("store patch")
            _write_search_index(layout, patched)
            clock.lap("search")
            dumps, stats, chunks = _write_dumps(layout, prepared, patched, facts, caches, base)
            clock.lap("dumps patch" if prepared.quads is None else "dumps")
        else:
            dumps, stats, chunks = _load_and_write(layout, prepared, facts, caches, base, clock)
        (layout.chunks_file).write_text(json.dumps(chunks.to_json()) + "\n", encoding="utf-8")
        counts = _Counts(
            len(stats.graphs),
            stats.quads,
            stats.triples,
            {
                d.name: {"triples": d.statements, "bytes": d.byte_size, "sha256": d.sha256}
                for d in dumps
            },
        )
    _write_manifest(layout, prepared.runs)
    report_graph = parse_documents(prepared.documents)
    warnings = sum(1 for r in read_results(report_graph) if r.severity == "Warning")
    clock.lap("report")
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
        warnings=warnings,
        seconds=round(time.perf_counter() - started, 3),
        timings=clock.timings,
        dumps=counts.dumps,
        content_digest=prepared.digest.hexdigest(),
        input_digest=prepared.input_digest,
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


def _write_manifest(layout: BuildLayout, runs: Sequence[Run]) -> None:
    """Records the runs the build's store holds (the next build patches it from them)."""
    data = {"format": PUBLISH_FORMAT, "runs": [run.id for run in runs]}
    layout.runs_file.write_text(json.dumps(data) + "\n", encoding="utf-8")


def _previous_runs(previous: BuildLayout, folder: Path) -> list[Run] | None:
    """The runs the published build's store holds, or None when not known or not cached."""
    try:
        data = json.loads(previous.runs_file.read_text(encoding="utf-8"))
        if data["format"] != PUBLISH_FORMAT:
            return None
        runs = [Run(str(i), folder / f"{i}.nq", folder / f"{i}.nt") for i in data["runs"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not all(run.quads.is_file() for run in runs):
        return None
    return runs


@dataclass(frozen=True)
class _Patched:
    """A store patched from the published build's: that build, and what changed."""

    previous: BuildLayout
    applied: PatchApplied


def _write_dumps(
    layout: BuildLayout,
    prepared: _Prepared,
    patched: _Patched | None,
    facts: BuildFacts,
    caches: _Caches,
    base: str,
) -> DumpsWritten:
    """The dumps, VoID and SHA256SUMS: the published build's dumps patched where the change
    reaches, when the store was patched and that build's chunks are all cached; else written
    in full from the merged runs."""
    written = None
    previous = DumpChunks.read(patched.previous.chunks_file) if patched is not None else None
    if patched is not None and previous is not None:
        change = patched.applied

        def patch(folder: Path) -> DumpsWritten | None:
            return patch_rdf_dumps(
                folder,
                previous,
                change.quads,
                change.triples,
                prefixes=PREFIXES,
                cache=caches.chunks,
            )

        written = write_dumps_and_void(layout.dumps, facts, base=base, write=patch)
    if written is None:
        quads, triples = _merged(layout, prepared)

        def full(folder: Path) -> DumpsWritten:
            return write_rdf_dumps(folder, quads, triples, prefixes=PREFIXES, cache=caches.chunks)

        written = write_dumps_and_void(layout.dumps, facts, base=base, write=full)
    assert written is not None
    return written


def _load_and_write(
    layout: BuildLayout,
    prepared: _Prepared,
    facts: BuildFacts,
    caches: _Caches,
    base: str,
    clock: _Clock,
) -> DumpsWritten:
    """Bulk-loads the store from the merged runs and makes its search index in a thread while
    this one writes the dumps from the same merged files: the bulk loader and the store's
    queries run in Rust without Python's lock, so the two use both cores. Records each one's
    own seconds ("store", "search", "dumps"; they overlap) and the seconds of all three."""
    quads, triples = _merged(layout, prepared)
    clock.lap("sort")
    own: dict[str, float] = {}

    def store_and_search() -> None:
        started = time.perf_counter()
        _load_store(layout.store, quads, triples)
        loaded = time.perf_counter()
        build_search_index(layout)
        own["store"], own["search"] = loaded - started, time.perf_counter() - loaded

    with ThreadPoolExecutor(1, thread_name_prefix="store") as pool:
        loading = pool.submit(store_and_search)
        try:
            started = time.perf_counter()
            written = _write_dumps(layout, prepared, None, facts, caches, base)
            own["dumps"] = time.perf_counter() - started
        finally:
            done = loading.exception()  # waits: the store is never left half-written behind
        if done is not None:
            raise done
    for step in ("store", "search", "dumps"):
        clock.timings[step] = round(own[step], 3)
    clock.lap("store+search+dumps")
    return written


def _make_store(layout: BuildLayout, prepared: _Prepared) -> _Patched | None:
    """The first step of the build's store: a copy of the published build's store, patched,
    when that is worth it (says what was patched); else None, and :func:`_load_and_write`
    bulk-loads the store from the merged runs."""
    folder = published_folder(layout.root.parent.parent)
    if folder is None:
        return None
    previous = BuildLayout(folder)
    old = _previous_runs(previous, prepared.runs[0].quads.parent)
    if old is None or not previous.store.is_dir():
        return None
    patch = plan_patch(old, prepared.runs)
    if patch is None:
        return None
    copy_store(previous.store, layout.store)
    return _Patched(previous, apply_patch(layout.store, patch))


def _write_search_index(layout: BuildLayout, patched: _Patched | None) -> None:
    """The label search index: the previous build's, patched, when the store was patched and
    the class hierarchy is the same; else made from the whole store."""
    if (
        patched is not None
        and patched.previous.search_index.is_file()
        and str(RDFS.subClassOf) not in patched.applied.touched
    ):
        patch_search_index(layout, patched.previous.search_index, patched.applied.touched)
    else:
        build_search_index(layout)


def _reusable(layout: BuildLayout, digest: str) -> BuildLayout | None:
    """The published build of this directory when it publishes exactly what this one would."""
    published = _published(layout.root.parent.parent)
    if published is None:
        return None
    previous, summary = published
    if summary.content_digest != digest or not previous.store.is_dir():
        return None
    return previous


def _copy_build(previous: BuildLayout, layout: BuildLayout) -> _Counts:
    """Copies the store and dumps of an equal published build: the store's immutable table
    files and the dumps (same statements, same build time, same bytes) as hard links, the rest
    of the store copied, so neither build can change the other's."""
    copy_store(previous.store, layout.store)
    if previous.search_index.is_file():  # the same statements: the same labels to search
        layout.search_index.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(previous.search_index, layout.search_index)
    else:
        build_search_index(layout)
    layout.dumps.mkdir(parents=True)
    for path in previous.dumps.iterdir():  # written once, never changed: linked, not copied
        _link_or_copy(path, layout.dumps / path.name)
    for made in (previous.runs_file, previous.chunks_file):
        if made.is_file():
            shutil.copy2(made, layout.root / made.name)
    summary = BuildSummary.read(previous.summary_file)
    return _Counts(summary.graphs, summary.quads, summary.triples, summary.dumps)


def _link_or_copy(source: Path, target: Path) -> None:
    """A hard link to a file written once and never changed (a copy on another file system)."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


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
    # lenient: no IRI checks again; every line was written by pyoxigraph's serializer from
    # statements the build already checked (extra RDF: load_storable_graph)
    store.bulk_load(path=str(quads), format=ox.RdfFormat.N_QUADS, lenient=True)
    store.bulk_load(
        path=str(triples), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.DefaultGraph(), lenient=True
    )
    store.flush()
    del store
