"""Opens a built knowledge graph read-only for the server: its store, dumps and reports.

The store interface: everything the web process asks of the served store goes through
``select``, ``construct``, ``ask`` and ``links_into`` here (values always as bindings), and
``Build.store`` for the list of named graphs and /healthz; the query workers open the store
themselves from ``BuildLayout.store`` (``server/worker.py``). Another backend (an external
SPARQL endpoint, ``server/remote.py``, setting ``SPARQL_ENDPOINT``) stands in for the pyoxigraph
store under these four functions and the workers' ``open_store``.

``STORE`` chooses where the served copy lives: ``disk`` (RocksDB, read-only; the default) or
``memory`` (a copy loaded into pyoxigraph's in-memory store when the build is opened: faster
queries, about 550 bytes of memory per quad, held by the web process and each query worker).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import heapq
import itertools
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox
from flask import Flask, current_app

from kg.errors import ConfigError
from kg.publish.layout import CURRENT, BuildLayout
from kg.publish.summary import BuildSummary
from kg.rdf.uris import normalise_base
from server.query import union_default_graph
from server.remote import RemoteStore, check_endpoint, is_endpoint

log = logging.getLogger(__name__)

#: What serves queries: the build's pyoxigraph store, or an external SPARQL endpoint.
Store = ox.Store | RemoteStore

EXTENSION_KEY = "osce_kg_build"

#: Where the served store lives: on disk (read-only RocksDB) or copied into memory.
STORE_MODES = ("disk", "memory")


def resident_bytes() -> int:
    """This process's resident memory in bytes (0 where /proc is not there)."""
    try:
        pages = int(Path("/proc/self/statm").read_text(encoding="ascii").split()[1])
    except (OSError, ValueError, IndexError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class StoreFacts:
    """How a store is held: on disk or in memory, and what the memory copy cost."""

    mode: str = "disk"
    quads: int | None = None
    memory_bytes: int = 0
    load_seconds: float = 0.0

    def as_json(self) -> dict[str, object]:
        return {
            "mode": self.mode,
            "quads": self.quads,
            "memory_mb": round(self.memory_bytes / 1e6, 1),
            "load_seconds": round(self.load_seconds, 2),
        }

    def describe(self) -> str:
        if self.mode == "remote":
            return "store: an external SPARQL endpoint"
        if self.mode == "disk":
            return "store on disk (read-only)"
        return (
            f"store in memory: {self.quads} quads, {self.memory_bytes / 1e6:.0f} MB in this "
            f"process and as much in each query worker, loaded in {self.load_seconds:.1f} s"
        )


#: Quads copied into memory per call when other threads must keep running meanwhile: each call
#: holds the interpreter's lock for a few milliseconds, not for the whole copy.
YIELDING_CHUNK = 5_000


def open_store(
    path: str | os.PathLike[str], *, in_memory: bool = False, yielding: bool = False
) -> tuple[Store, StoreFacts]:
    """The store at ``path`` opened read-only, or copied into memory; OSError when it cannot be
    opened (RuntimeError when RocksDB finds corruption). A URL is an external SPARQL endpoint.

    ``yielding`` copies in chunks of ``YIELDING_CHUNK`` quads, so the threads of a web process
    that is serving meanwhile are not stopped for the seconds the whole copy takes."""
    if is_endpoint(os.fspath(path)):
        return RemoteStore(os.fspath(path)), StoreFacts("remote")
    disk = ox.Store.read_only(os.fspath(path))
    if not in_memory:
        return disk, StoreFacts()
    before, started = resident_bytes(), time.monotonic()
    memory = ox.Store()
    quads = disk.quads_for_pattern(None, None, None, None)
    if yielding:
        count = 0
        while chunk := list(itertools.islice(quads, YIELDING_CHUNK)):
            memory.bulk_extend(chunk)
            count += len(chunk)  # the store's quads are distinct: no need to count the copy
    else:
        memory.bulk_extend(quads)
        count = len(memory)
    del disk
    facts = StoreFacts(
        "memory", count, max(0, resident_bytes() - before), time.monotonic() - started
    )
    return memory, facts


@dataclass(frozen=True)
class Build:
    """One completed build, resolved once: its folder, store and summary."""

    root: Path
    store: Store
    summary: BuildSummary = field(default_factory=BuildSummary)
    built_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    store_facts: StoreFacts = field(default_factory=StoreFacts)
    #: the external SPARQL endpoint that answers for this build (None: its own store)
    endpoint: str | None = None

    @property
    def store_location(self) -> str:
        """What the query workers open: the endpoint's URL, or the build's store folder."""
        return self.endpoint or str(self.layout.store)

    @functools.cached_property
    def base(self) -> str | None:
        """The base IRI the build was made with (its summary), normalised; None if unrecorded."""
        return normalise_base(self.summary.base) if self.summary.base else None

    @property
    def layout(self) -> BuildLayout:
        """Where the build's store, dumps and report are."""
        return BuildLayout(self.root)

    @property
    def build_id(self) -> str:
        """The build's folder name (``.builds/<build-id>``)."""
        return self.root.name

    def etag_for(self, *parts: str) -> str:
        """A strong validator for a document of this build: changes whenever the build does."""
        digest = hashlib.sha256("\x1f".join((self.build_id, *parts)).encode("utf-8"))
        return digest.hexdigest()[:32]


def resolve_build_root(build_dir: str | os.PathLike[str]) -> Path:
    """``DIR/current`` resolved to the real ``.builds/<build-id>`` folder, checked for a store."""
    current = Path(build_dir) / CURRENT
    root = Path(os.path.realpath(current))
    if not BuildLayout(root).store.is_dir():
        raise ConfigError(
            f"{current}: no completed build there (no store folder); "
            f"run `osce-kg build --out {build_dir}` to make one"
        )
    return root


def read_summary(layout: BuildLayout) -> BuildSummary:
    """The build's ``summary.json``, or an empty summary when it is missing or unreadable."""
    path = layout.summary_file
    try:
        return BuildSummary.read(path)
    except FileNotFoundError:
        log.warning("%s: missing; the site shows no build summary", path)
    except (OSError, ValueError) as error:
        log.warning("%s: unreadable (%s); the site shows no build summary", path, error)
    return BuildSummary()


def build_time(layout: BuildLayout, summary: BuildSummary) -> datetime:
    """When the build was made: ``build_time`` of its summary, else when the summary was written."""
    if summary.build_time:
        try:
            return datetime.fromisoformat(summary.build_time).astimezone(UTC).replace(microsecond=0)
        except ValueError:
            log.warning(
                "%s: build_time %r is not an ISO date-time", layout.report, summary.build_time
            )
    written = layout.summary_file
    stamp = (written if written.exists() else layout.root).stat().st_mtime
    return datetime.fromtimestamp(int(stamp), UTC)


def open_build(
    build_dir: str | os.PathLike[str],
    *,
    in_memory: bool = False,
    remote: RemoteStore | None = None,
    yielding: bool = False,
) -> Build:
    """Resolves ``DIR/current`` once and opens that build's store read-only (or copies it into
    memory); with ``remote``, the build's queries go to that SPARQL endpoint instead (checked
    here), while its dumps and reports still come from ``DIR``."""
    layout = BuildLayout(resolve_build_root(build_dir))
    if remote is not None:
        check_endpoint(remote)
        summary = read_summary(layout)
        base = normalise_base(summary.base) if summary.base else None
        prefix = remote.graph_prefix or (f"{base}graph/" if base else None)
        log.info("serving build %s from %s, queries from %s", layout.build_id, layout.root, remote)
        return Build(
            layout.root,
            RemoteStore(remote.endpoint, timeout=remote.timeout, graph_prefix=prefix),
            summary,
            build_time(layout, summary),
            StoreFacts("remote"),
            remote.endpoint,
        )
    try:
        store, facts = open_store(layout.store, in_memory=in_memory, yielding=yielding)
    except (OSError, RuntimeError) as error:  # RuntimeError: RocksDB found corruption
        raise ConfigError(
            f"{layout.store}: cannot open the store read-only ({error}); "
            f"rebuild with `osce-kg build --out {build_dir}`"
        ) from error
    log.info("serving build %s from %s; %s", layout.build_id, layout.root, facts.describe())
    summary = read_summary(layout)
    return Build(layout.root, store, summary, build_time(layout, summary), facts)


#: Readies a newly opened build before it is served (warms its query workers); raises when the
#: build cannot be served.
Preparation = Callable[[Build], None]


@dataclass
class BuildWatcher:
    """The build being served, swapped for a newer one when ``DIR/current`` moves.

    ``DIR/current`` is looked at most once per ``interval`` seconds; a new build is opened (and
    made ready by ``prepare``, which warms its query workers) before it replaces the old one,
    and a build that fails to open or to get ready is logged and skipped. With ``background``
    this happens in a thread of its own: the request that notices the new build, and every one
    after it, is answered by the old build until the new one is loaded and warm, then the next
    request gets the new one. Requests that already hold the old build finish with it.
    """

    build_dir: str
    interval: float
    build: Build
    in_memory: bool = False
    #: the external SPARQL endpoint every build is answered from (None: each build's store)
    remote: RemoteStore | None = None
    prepare: Preparation | None = None
    background: bool = False
    _checked: float = field(default=0.0, repr=False)
    _refused: Path | None = field(default=None, repr=False)
    #: the build folder being opened and warmed in the background, if any
    _preparing: Path | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def current(self) -> Build:
        """The newest completed build that is ready (re-checked at most once per interval)."""
        now = time.monotonic()
        if now - self._checked < self.interval:
            return self.build
        with self._lock:
            if now - self._checked >= self.interval:
                self._checked = now
                self._follow_current()
        return self.build

    @property
    def preparing(self) -> str | None:
        """The id of the build being made ready in the background, if any."""
        preparing = self._preparing
        return preparing.name if preparing is not None else None

    def _follow_current(self) -> None:
        """Starts serving the build ``DIR/current`` names, if it is new (holding the lock)."""
        if self._preparing is not None:
            return  # one build at a time: a newer one is noticed once this one is served
        real = Path(os.path.realpath(Path(self.build_dir) / CURRENT))
        if real in (self.build.root, self._refused):
            return
        if not self.background:
            self._switch_to(real)
            return
        self._preparing = real
        threading.Thread(
            target=self._switch_to, args=(real,), name=f"build-swap-{real.name}", daemon=True
        ).start()

    def _switch_to(self, real: Path) -> None:
        """Opens the build at ``real``, makes it ready, then serves it; on failure keeps the
        old one and remembers ``real`` as refused."""
        try:
            build = open_build(
                self.build_dir,
                in_memory=self.in_memory,
                remote=self.remote,
                yielding=self.background,  # requests are served meanwhile
            )
            if self.prepare is not None:
                self.prepare(build)
        except Exception as error:  # ConfigError, or workers that could not open the store
            log.warning(
                "a new build appeared but cannot be served (%s); serving %s still",
                error,
                self.build.build_id,
            )
            with self._guard():
                self._refused = real  # warn once per broken build, not once a second
                self._preparing = None
            return
        with self._guard():
            self.build = build
            self._preparing = None
        log.info("now serving build %s", build.build_id)

    def _guard(self) -> contextlib.AbstractContextManager[object]:
        """The lock, when this runs in the background (the request path holds it otherwise)."""
        return self._lock if self.background else contextlib.nullcontext()


def init_app(app: Flask) -> None:
    """Opens the configured build and keeps it (and later builds) on the app for every request."""
    build_dir = app.config["BUILD_DIR"]
    interval = float(app.config.get("BUILD_CHECK_INTERVAL", 1.0))
    in_memory = store_in_memory(app)
    remote = remote_store(app)
    if remote is not None and in_memory:
        raise ConfigError("SPARQL_ENDPOINT and STORE=memory exclude each other: choose one")
    build = open_build(build_dir, in_memory=in_memory, remote=remote)
    app.extensions[EXTENSION_KEY] = BuildWatcher(build_dir, interval, build, in_memory, remote)


def prepare_new_builds(app: Flask, prepare: Preparation, *, background: bool) -> None:
    """Has each new build made ready by ``prepare`` before it is served; with ``background``,
    off the request path while the old build keeps answering."""
    watcher: BuildWatcher = app.extensions[EXTENSION_KEY]
    watcher.prepare = prepare
    watcher.background = background


def build_watcher(app: Flask) -> BuildWatcher:
    """What follows ``DIR/current`` for ``app`` (tests and monitoring)."""
    watcher: BuildWatcher = app.extensions[EXTENSION_KEY]
    return watcher


def remote_store(app: Flask) -> RemoteStore | None:
    """The external SPARQL endpoint of the setting ``SPARQL_ENDPOINT``, or None."""
    endpoint = app.config.get("SPARQL_ENDPOINT")
    if not endpoint:
        return None
    if not is_endpoint(str(endpoint)):
        raise ConfigError(
            f"setting SPARQL_ENDPOINT={endpoint!r} is not an http(s) URL; give the store's "
            "SPARQL query address (`osce-kg serve --sparql-endpoint URL`)"
        )
    # the endpoint's named graphs that are the build's, not the store's own
    base = app.config.get("BASE")
    return RemoteStore(
        str(endpoint),
        timeout=float(app.config["SPARQL_TIMEOUT"]),
        graph_prefix=f"{base}graph/" if base else None,
    )


def store_in_memory(app: Flask) -> bool:
    """Whether the setting ``STORE`` asks for an in-memory copy; ConfigError if it is neither."""
    mode = str(app.config.get("STORE", "disk")).lower()
    if mode not in STORE_MODES:
        raise ConfigError(
            f"setting STORE={mode!r} is not one of {', '.join(STORE_MODES)}; set OSCE_KG_STORE "
            "(or `osce-kg serve --store`) to disk or memory"
        )
    return mode == "memory"


def served_build(app: Flask) -> Build:
    """The build ``app`` serves (the newest published one); needs no request or app context."""
    watcher: BuildWatcher = app.extensions[EXTENSION_KEY]
    return watcher.current()


def current_build() -> Build:
    """The build the running app serves (the newest published one)."""
    return served_build(current_app)


def current_store() -> Store:
    """The read-only pyoxigraph store of the build the running app serves."""
    return current_build().store


Bindings = Mapping[str, ox.NamedNode | ox.BlankNode | ox.Literal]


def select(query: str, bindings: Bindings, *, union: bool = True) -> ox.QuerySolutions:
    """Runs a SELECT on the served store; values come in as bindings, never as query text."""
    result = _run(query, bindings, union)
    if not isinstance(result, ox.QuerySolutions):
        raise TypeError(f"not a SELECT query: {query}")
    return result


def construct(query: str, bindings: Bindings, *, union: bool = True) -> list[ox.Triple]:
    """Runs a CONSTRUCT on the served store and returns its distinct triples in order."""
    result = _run(query, bindings, union)
    if not isinstance(result, ox.QueryTriples):
        raise TypeError(f"not a CONSTRUCT query: {query}")
    return list(dict.fromkeys(result))


def ask(query: str, bindings: Bindings, *, union: bool = True) -> bool:
    """Runs an ASK on the served store."""
    return bool(_run(query, bindings, union))


def _run(
    query: str, bindings: Bindings, union: bool
) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
    substitutions: dict[ox.Variable, ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple] = {
        ox.Variable(name): value for name, value in bindings.items()
    }
    store = current_store()
    if union and not isinstance(store, RemoteStore):  # a remote store's default graph is the union
        union = union_default_graph(store)  # a build with the merge reads it instead
    return store.query(query, substitutions=substitutions, use_default_graph_as_union=union)


# Every link into an entity, unsorted: pyoxigraph sorts a whole solution sequence for ORDER BY
# even under LIMIT, which costs 5x more than a heap over the rows when thousands of releases
# point at a State.
_LINKS_INTO_QUERY = "SELECT ?s ?x ?p WHERE { ?x ?p ?s . FILTER(!isBlank(?x)) }"


def links_into(
    node: ox.NamedNode, *, offset: int, limit: int
) -> list[tuple[ox.NamedNode, ox.NamedNode]]:
    """The distinct (subject, predicate) pairs of the links into ``node`` from IRIs, ordered by
    subject then predicate IRI (as ``ORDER BY ?x ?p`` orders them), ``limit`` from ``offset``."""
    pairs = {(row[1].value, row[2].value) for row in select(_LINKS_INTO_QUERY, {"s": node})}
    page = heapq.nsmallest(offset + limit, pairs)[offset:]
    return [(ox.NamedNode(subject), ox.NamedNode(predicate)) for subject, predicate in page]
