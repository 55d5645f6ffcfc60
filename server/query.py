"""Runs SPARQL queries in worker processes that are killed when a query runs too long.

pyoxigraph cannot cancel a running query, so each query runs in a small pool of worker
processes, each holding the store open read-only; a query over its time limit gets its
worker killed (and replaced) while the web process goes on serving other requests.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import queue
import re
import resource
import signal
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess
from typing import IO, Literal, cast

import pyoxigraph as ox
from pyparsing import ParseException
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.term import Variable

from kg.errors import OsceKgError

log = logging.getLogger(__name__)

Form = Literal["solutions", "boolean", "graph"]

#: Seconds between looks, while waiting for a free worker, at whether the pool was retired.
RETIRE_POLL = 0.1


@dataclass(frozen=True)
class QueryJob:
    """One query to run, with the result format chosen for each query form.

    A format is a media type pyoxigraph knows, or None when the client accepts no
    representation of that form (the worker then answers "not acceptable").
    """

    text: str
    solutions_format: str | None
    boolean_format: str | None
    graph_format: str | None
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    max_rows: int = 10000
    prefixes: tuple[tuple[str, str], ...] = ()
    #: SERVICE endpoints the query may call; any other SERVICE is refused before it runs.
    service_allowlist: tuple[str, ...] = ()
    #: The base IRI relative IRIs in the query resolve against (the endpoint's URL).
    base_iri: str | None = None


@dataclass(frozen=True)
class QueryAnswer:
    """A serialised result: its form, media type, body, row count and whether rows were cut."""

    form: Form
    media_type: str
    body: bytes
    rows: int = 0
    truncated: bool = False


@dataclass(frozen=True)
class _Failure:
    """What a worker sends back when a query cannot be answered."""

    kind: Literal["syntax", "not-acceptable", "forbidden", "failed"]
    message: str
    form: Form | None = None


class QueryError(OsceKgError):
    """A query could not be answered."""


class QuerySyntaxError(QueryError):
    """The query does not parse; the message is the parser's."""


class ResultNotAcceptableError(QueryError):
    """The query's form (SELECT/ASK vs CONSTRUCT/DESCRIBE) has no format the client accepts."""

    def __init__(self, message: str, form: Form | None) -> None:
        super().__init__(message)
        self.form = form


class QueryForbiddenError(QueryError):
    """The query asks for something this endpoint never does (an update, a SERVICE call)."""


class QueryTimeoutError(QueryError):
    """The query ran over its time limit and its worker was killed."""


class QueryMemoryError(QueryError):
    """The query needed more memory than a worker may use; its worker died and was replaced."""


class QueryBusyError(QueryError):
    """Every worker stayed busy for longer than the time limit."""


class QueryFailedError(QueryError):
    """The query failed while running (or its worker died)."""


class QueryPoolRetiredError(QueryError):
    """The pool serves an older build and takes no new queries; ask the current pool."""


class _RowCapReached(Exception):
    """Raised from inside pyoxigraph's serializer to stop it once enough rows are written."""


class _LineCappedBuffer:
    """A binary sink that stops the writer after ``max_lines`` complete lines."""

    def __init__(self, max_lines: int) -> None:
        self.max_lines = max_lines
        self.chunks: list[bytes] = []
        self.lines = 0

    def write(self, data: bytes) -> int:
        self.chunks.append(bytes(data))
        self.lines += data.count(b"\n")
        if self.lines > self.max_lines:
            raise _RowCapReached
        return len(data)

    def flush(self) -> None:
        """Nothing to flush: the data stays in memory."""

    def first_lines(self) -> list[bytes]:
        """The complete lines written, at most ``max_lines`` of them, each with its newline."""
        lines = b"".join(self.chunks).split(b"\n")[:-1]
        return [line + b"\n" for line in lines[: self.max_lines]]


@dataclass(frozen=True)
class QueryShape:
    """What a parsed query asks for, found in rdflib's algebra (not by reading the text)."""

    service_endpoints: tuple[str, ...]
    service_variable: bool
    has_dataset_clause: bool


_SERVICE_WORD = re.compile(r"service", re.IGNORECASE)
_FROM_WORD = re.compile(r"\bfrom\b", re.IGNORECASE)


def inspect_query(text: str, base_iri: str | None = None) -> QueryShape | None:
    """The SERVICE calls and dataset clause of a query, or None when rdflib cannot parse it."""
    try:
        algebra = translateQuery(parseQuery(text), base=base_iri).algebra
    except (ParseException, ValueError, TypeError, KeyError, AttributeError, RecursionError):
        return None
    endpoints: list[str] = []
    has_variable = False
    for node in _walk(algebra):
        if node.name == "ServiceGraphPattern":
            term = node.get("term")
            if isinstance(term, Variable) or not isinstance(term, str):
                has_variable = True
            else:
                endpoints.append(str(term))
    return QueryShape(tuple(endpoints), has_variable, bool(algebra.get("datasetClause")))


def _walk(node: object) -> list[CompValue]:
    """Every CompValue in a parse tree or algebra, subqueries and EXISTS filters included."""
    found: list[CompValue] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, CompValue):
            found.append(item)
            stack.extend(item.values())
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return found


def is_update(text: str) -> bool:
    """True when the text is a SPARQL Update request (which this endpoint refuses)."""
    try:
        parseUpdate(text)
    except (ParseException, ValueError, TypeError, RecursionError):
        return False
    return True


def check_query(
    text: str, allowlist: tuple[str, ...], base_iri: str | None = None
) -> _Failure | bool:
    """Refuses updates and SERVICE calls outside the allowlist before anything runs.

    Returns a failure, or whether the default graph should be the union of the named graphs
    (not when the query names its own dataset with FROM / FROM NAMED).
    """
    shape = inspect_query(text, base_iri)
    if shape is None:
        if is_update(text):
            return _Failure("forbidden", "this endpoint is read-only: updates are refused")
        if _SERVICE_WORD.search(text):
            # rdflib could not check it, so a SERVICE inside cannot be ruled out: refuse.
            return _Failure(
                "forbidden",
                "the query mentions SERVICE and could not be checked against the allowlist; "
                "federated queries are refused",
            )
        return not _FROM_WORD.search(text)
    if shape.service_variable:
        return _Failure(
            "forbidden", "SERVICE with a variable endpoint is refused: name an allowed endpoint"
        )
    refused = [iri for iri in shape.service_endpoints if iri not in allowlist]
    if refused:
        allowed = ", ".join(allowlist) or "none"
        return _Failure(
            "forbidden",
            f"SERVICE <{refused[0]}> is refused: this endpoint only calls endpoints on its "
            f"allowlist (allowed: {allowed})",
        )
    return not shape.has_dataset_clause


def execute_job(store: ox.Store, job: QueryJob) -> QueryAnswer | _Failure:
    """Checks, runs and serialises one query on a store (in the worker process)."""
    checked = check_query(job.text, job.service_allowlist, job.base_iri)
    if isinstance(checked, _Failure):
        return checked
    try:
        result = run_query(store, job, union_default_graph=checked)
    except SyntaxError as error:
        return _Failure("syntax", str(error))
    except (ValueError, OSError) as error:
        return _Failure("failed", str(error))
    try:
        if isinstance(result, ox.QueryBoolean):
            return _serialize_boolean(result, job)
        if isinstance(result, ox.QuerySolutions):
            return _serialize_solutions(result, job)
        return _serialize_graph(result, job)
    except (SyntaxError, ValueError, OSError, TypeError, RuntimeError) as error:
        return _Failure("failed", f"the query failed while running: {error}")


def run_query(
    store: ox.Store, job: QueryJob, *, union_default_graph: bool = True
) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
    """Starts a job's query with its dataset: the protocol's graphs win over the query's own."""
    if job.default_graphs or job.named_graphs:
        return store.query(
            job.text,
            base_iri=job.base_iri,
            default_graph=[ox.NamedNode(iri) for iri in job.default_graphs],
            named_graphs=[ox.NamedNode(iri) for iri in job.named_graphs],
        )
    return store.query(
        job.text, base_iri=job.base_iri, use_default_graph_as_union=union_default_graph
    )


def _not_acceptable(form: Form) -> _Failure:
    names = {"solutions": "SELECT", "boolean": "ASK", "graph": "CONSTRUCT/DESCRIBE"}
    return _Failure(
        "not-acceptable",
        f"this is a {names[form]} query and none of its result formats is acceptable",
        form,
    )


def _serialize_boolean(result: ox.QueryBoolean, job: QueryJob) -> QueryAnswer | _Failure:
    if job.boolean_format is None:
        return _not_acceptable("boolean")
    fmt = _results_format(job.boolean_format)
    return QueryAnswer("boolean", job.boolean_format, result.serialize(format=fmt) or b"", rows=1)


def _serialize_solutions(result: ox.QuerySolutions, job: QueryJob) -> QueryAnswer | _Failure:
    if job.solutions_format is None:
        return _not_acceptable("solutions")
    # TSV puts every solution on one line, so counting lines counts rows; the capped TSV is
    # then parsed back and written in the requested format, all by pyoxigraph.
    sink = _LineCappedBuffer(job.max_rows + 2)  # the header, max_rows rows and one more
    with contextlib.suppress(_RowCapReached):
        result.serialize(cast(IO[bytes], sink), format=ox.QueryResultsFormat.TSV)
    lines = sink.first_lines()
    rows = lines[1 : job.max_rows + 1]
    truncated = len(lines) - 1 > job.max_rows
    tsv = b"".join(lines[:1] + rows)
    fmt = _results_format(job.solutions_format)
    if fmt == ox.QueryResultsFormat.TSV:
        body = tsv
    else:
        solutions = ox.parse_query_results(tsv, ox.QueryResultsFormat.TSV)
        assert isinstance(solutions, ox.QuerySolutions)
        body = solutions.serialize(format=fmt) or b""
    return QueryAnswer("solutions", job.solutions_format, body, len(rows), truncated)


def _serialize_graph(result: ox.QueryTriples, job: QueryJob) -> QueryAnswer | _Failure:
    if job.graph_format is None:
        return _not_acceptable("graph")
    sink = _LineCappedBuffer(job.max_rows + 1)  # N-Triples: one triple a line
    with contextlib.suppress(_RowCapReached):
        result.serialize(cast(IO[bytes], sink), format=ox.RdfFormat.N_TRIPLES)
    lines = sink.first_lines()
    kept = lines[: job.max_rows]
    fmt = _rdf_format(job.graph_format)
    quads = ox.parse(b"".join(kept), format=ox.RdfFormat.N_TRIPLES)
    items: list[ox.Quad] | list[ox.Triple]
    items = list(quads) if fmt.supports_datasets else [quad.triple for quad in quads]
    body = ox.serialize(items, format=fmt, prefixes=dict(job.prefixes) or None) or b""
    return QueryAnswer("graph", job.graph_format, body, len(kept), len(lines) > job.max_rows)


def _results_format(media_type: str) -> ox.QueryResultsFormat:
    fmt = ox.QueryResultsFormat.from_media_type(media_type)
    if fmt is None:
        raise ValueError(f"pyoxigraph cannot write query results as {media_type}")
    return fmt


def _rdf_format(media_type: str) -> ox.RdfFormat:
    fmt = ox.RdfFormat.from_media_type(media_type)
    if fmt is None:
        raise ValueError(f"pyoxigraph cannot write RDF as {media_type}")
    return fmt


def limit_memory(megabytes: int) -> None:
    """Caps this process's heap (RLIMIT_DATA): a query that needs more makes it abort, not the host.

    Zero leaves the limit as it is.
    """
    if megabytes <= 0:
        return
    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    wanted = megabytes * 1024 * 1024
    if hard != resource.RLIM_INFINITY:
        wanted = min(wanted, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (wanted, hard))


def serve_jobs(store_path: str, conn: Connection, memory_mb: int = 0) -> None:
    """A worker's life: open the store read-only once, then answer jobs until the pipe closes."""
    limit_memory(memory_mb)
    try:
        store = ox.Store.read_only(store_path)
    except OSError as error:
        conn.send(_Failure("failed", f"{store_path}: cannot open the store read-only: {error}"))
        return
    conn.send("ready")
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        try:
            reply: QueryAnswer | _Failure = execute_job(store, job)
        except Exception as error:  # keep the worker (and its open store) alive
            log.exception("query failed in a worker")
            reply = _Failure("failed", f"the query failed while running: {error}")
        conn.send(reply)


@dataclass
class _Worker:
    """One worker process and the web process's end of its pipe."""

    process: BaseProcess
    conn: Connection
    ready: bool = False

    def wait_ready(self, timeout: float) -> None:
        """Waits for the worker to have opened the store."""
        if self.ready:
            return
        if not self.conn.poll(timeout):
            raise QueryFailedError(f"a query worker did not start within {timeout:g} s")
        message = self.conn.recv()
        if isinstance(message, _Failure):
            raise QueryFailedError(message.message)
        self.ready = True

    def stop(self) -> None:
        """Kills the process (by its pid) and closes the pipe."""
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()


@dataclass
class QueryPool:
    """A few worker processes holding the store read-only; ``run`` bounds each query in time."""

    store_path: str
    size: int = 2
    start_timeout: float = 60.0
    #: The heap each worker may use, in MB (0: no limit).
    memory_mb: int = 0
    _context: BaseContext = field(init=False, repr=False)
    _idle: queue.Queue[_Worker] = field(init=False, repr=False)
    _workers: list[_Worker] = field(init=False, repr=False)
    _lock: threading.Lock = field(init=False, repr=False)
    _closed: bool = field(init=False, default=False)
    _retiring: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        self._context = _worker_context()
        self._idle = queue.Queue()
        self._workers = []
        self._lock = threading.Lock()
        for _ in range(max(1, self.size)):
            self._idle.put(self._spawn())

    def _spawn(self) -> _Worker:
        parent, child = self._context.Pipe()
        process = self._context.Process(  # type: ignore[attr-defined]
            target=serve_jobs,
            args=(self.store_path, child, self.memory_mb),
            daemon=True,
            name="sparql-worker",
        )
        process.start()
        child.close()
        worker = _Worker(process, parent)
        with self._lock:
            self._workers.append(worker)
        return worker

    def _replace(self, worker: _Worker) -> None:
        """Kills a worker and, unless the pool is closing, puts a fresh one in its place."""
        worker.stop()
        with self._lock:
            if worker in self._workers:
                self._workers.remove(worker)
            closed = self._closed or self._retiring
        if not closed:
            self._idle.put(self._spawn())

    def run(self, job: QueryJob, *, timeout: float) -> QueryAnswer:
        """Runs a job in a free worker; kills the worker if the query outlasts ``timeout``."""
        if self._closed:
            raise QueryFailedError("the query pool is closed")
        worker = self._take_worker(timeout)
        try:
            worker.wait_ready(self.start_timeout)
            worker.conn.send(job)
            finished = worker.conn.poll(timeout)
            reply = worker.conn.recv() if finished else None
        except (EOFError, OSError) as error:
            self._replace(worker)
            if self.memory_mb and worker.process.exitcode == -signal.SIGABRT:
                raise QueryMemoryError(
                    f"the query needed more than the {self.memory_mb} MB of memory a query may "
                    "use and was stopped; narrow it down (smaller strings, LIMIT) and try again"
                ) from error
            raise QueryFailedError("the query worker stopped unexpectedly") from error
        except BaseException:
            self._replace(worker)
            raise
        if not finished:
            log.warning("query stopped at its time limit of %g s", timeout)
            self._replace(worker)
            raise QueryTimeoutError(
                f"the query ran longer than the {timeout:g} s limit and was stopped; "
                "narrow it down (add LIMIT, more specific patterns) and try again"
            )
        self._release(worker)
        if isinstance(reply, _Failure):
            raise _failure_error(reply)
        if not isinstance(reply, QueryAnswer):
            raise QueryFailedError(f"unexpected reply from a query worker: {reply!r}")
        return reply

    def _take_worker(self, timeout: float) -> _Worker:
        """A free worker, waiting up to ``timeout``; a waiter leaves as soon as the pool retires."""
        deadline = time.monotonic() + timeout
        while not self._retiring:
            left = deadline - time.monotonic()
            if left <= 0:
                raise QueryBusyError(
                    f"every query worker stayed busy for {timeout:g} s; try again later"
                )
            try:
                return self._idle.get(timeout=min(left, RETIRE_POLL))
            except queue.Empty:
                continue
        raise QueryPoolRetiredError("this query pool serves an older build")

    def _release(self, worker: _Worker) -> None:
        """Makes a worker free again, or stops it when the pool is retiring."""
        with self._lock:
            if not self._retiring:
                self._idle.put(worker)
                return
            if worker in self._workers:
                self._workers.remove(worker)
        worker.stop()

    def retire(self) -> None:
        """Takes no new queries; stops idle workers now and busy ones when their query ends."""
        idle: list[_Worker] = []
        with self._lock:
            self._retiring = True
            while True:
                try:
                    idle.append(self._idle.get_nowait())
                except queue.Empty:
                    break
            for worker in idle:
                self._workers.remove(worker)
        for worker in idle:
            worker.stop()

    def close(self) -> None:
        """Kills every worker; the pool answers no more queries."""
        with self._lock:
            self._closed = True
            workers = list(self._workers)
            self._workers.clear()
        for worker in workers:
            worker.stop()

    def worker_pids(self) -> list[int]:
        """The process ids of the live workers (for monitoring and tests)."""
        with self._lock:
            return [w.process.pid for w in self._workers if w.process.pid is not None]


def _failure_error(failure: _Failure) -> QueryError:
    if failure.kind == "syntax":
        return QuerySyntaxError(failure.message)
    if failure.kind == "forbidden":
        return QueryForbiddenError(failure.message)
    if failure.kind == "not-acceptable":
        return ResultNotAcceptableError(failure.message, failure.form)
    return QueryFailedError(failure.message)


def _worker_context() -> BaseContext:
    """Forkserver: workers start from a small clean process, never by forking a threaded server."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["server.query"])
    return context
