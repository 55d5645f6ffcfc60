"""A query worker process: opens the store read-only, then checks, runs and writes each job."""

from __future__ import annotations

import logging
import re
import resource
from multiprocessing.connection import Connection

import pyoxigraph as ox

from server.checks import check_query, refuse_update
from server.query import QueryAnswer, QueryFailure, QueryJob
from server.query import union_default_graph as reads_union
from server.remote import RemoteStore, RemoteStoreError
from server.results import write_result
from server.sandbox import deny_network
from server.store import Store, open_store

log = logging.getLogger(__name__)

#: Told to the client when a query fails for a reason of the server's; the reason is logged.
FAILED_WHILE_RUNNING = "the query failed while running"


def execute_job(store: Store, job: QueryJob) -> QueryAnswer | QueryFailure:
    """Checks, runs and writes one query on a store (in the worker process)."""
    checked = check_query(job.text, job.service_allowlist, job.base_iri)
    if isinstance(checked, QueryFailure):
        return checked
    try:
        result = run_query(store, job, union_default_graph=checked)
    except SyntaxError as error:
        # an update only reaches pyoxigraph's query parser when the check skipped rdflib
        return refuse_update(job.text) or QueryFailure("syntax", str(error))
    except RuntimeError as error:
        return _unsupported(error) or _unexpected("the query could not be started", error)
    except (ValueError, OSError) as error:
        return _unexpected("the query could not be started", error)
    except RemoteStoreError as error:  # the external SPARQL store's answer, read already
        return QueryFailure("unavailable", error.description or "the SPARQL store did not answer")
    try:
        return write_result(result, job)
    except RuntimeError as error:  # results are computed lazily, while they are written
        return _unsupported(error) or _unexpected(FAILED_WHILE_RUNNING, error)
    except (SyntaxError, ValueError, OSError, TypeError) as error:
        return _unexpected(FAILED_WHILE_RUNNING, error)


#: pyoxigraph's words for a function call it has no implementation of
_UNKNOWN_FUNCTION = re.compile(r"custom function (<[^>\s]*>) is not supported")


def _unsupported(error: RuntimeError) -> QueryFailure | None:
    """A client's mistake pyoxigraph reports as a runtime error (an unknown function), or None."""
    found = _UNKNOWN_FUNCTION.search(str(error))
    if found is None:
        return None
    return QueryFailure(
        "unsupported",
        f"the query calls {found.group(1)}, a function this endpoint does not know; "
        "it offers the SPARQL 1.1 built-in functions and XSD casts",
    )


def run_query(
    store: Store, job: QueryJob, *, union_default_graph: bool = True
) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
    """Starts a job's query with its dataset: the protocol's graphs win over the query's own."""
    if job.default_graphs or job.named_graphs:
        return store.query(
            job.text,
            base_iri=job.base_iri,
            default_graph=[ox.NamedNode(iri) for iri in job.default_graphs],
            named_graphs=[ox.NamedNode(iri) for iri in job.named_graphs],
        )
    # a build with the merge reads it; a remote store's default graph is the union already
    union = union_default_graph and (isinstance(store, RemoteStore) or reads_union(store))
    return store.query(job.text, base_iri=job.base_iri, use_default_graph_as_union=union)


def _unexpected(message: str, error: BaseException) -> QueryFailure:
    """A failure whose client message is ours and whose error text goes to the log only."""
    return QueryFailure("failed", message, detail=f"{type(error).__name__}: {error}")


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


#: Run once by a new worker before it says it is ready: the first real query then finds the
#: store, the query engine, the result writer and rdflib's parser (FROM) warm.
WARM_UP_JOBS = tuple(
    QueryJob(
        text,
        "application/sparql-results+json",
        "application/sparql-results+json",
        "text/turtle",
        max_rows=1,
    )
    for text in (
        "SELECT * WHERE { ?s ?p ?o } LIMIT 1",
        "SELECT * FROM <urn:x-osce-kg:warm-up> WHERE { ?s ?p ?o } LIMIT 1",
    )
)


def serve_jobs(
    store_path: str,
    conn: Connection,
    memory_mb: int,
    offline: bool = True,
    in_memory: bool = False,
) -> None:
    """A worker's life: open the store read-only once (or copy it into memory), run a warm-up
    query, then answer jobs until the pipe closes. Its ready message is its StoreFacts.

    An offline worker first loses its network, before pyoxigraph starts any thread: a SERVICE
    call that got past the check still cannot connect anywhere. It runs at the web process's CPU
    priority; the pool lowers it while a query runs long (``server.pool.FULL_PRIORITY_SECONDS``).
    """
    limit_memory(memory_mb)
    if offline:
        deny_network()
    try:
        store, facts = open_store(store_path, in_memory=in_memory)
    except (OSError, RuntimeError) as error:
        detail = f"{store_path}: cannot open the store read-only: {error}"
        conn.send(QueryFailure("failed", "a query worker could not open the store", detail=detail))
        return
    for warm_up in WARM_UP_JOBS:
        execute_job(store, warm_up)
    conn.send(facts)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        try:
            answer: QueryAnswer | QueryFailure = execute_job(store, job)
        except Exception as error:  # keep the worker (and its open store) alive
            log.exception("query failed in a worker")
            answer = _unexpected(FAILED_WHILE_RUNNING, error)
        conn.send(answer)
