"""A query job and what comes back from a worker: the records that cross its pipe, and errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pyoxigraph as ox

from kg.errors import OsceKgError

Form = Literal["solutions", "boolean", "graph"]
FailureKind = Literal[
    "syntax", "unsupported", "not-acceptable", "forbidden", "unavailable", "failed"
]


def union_default_graph(store: ox.Store) -> bool:
    """Whether queries must read the union of the named graphs as their default graph: only
    for a build from before the build stored the RDF merge of its named graphs (each triple
    once) as the store's default graph; with the merge, the union would count triples twice."""
    return next(iter(store.quads_for_pattern(None, None, None, ox.DefaultGraph())), None) is None


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
    #: Rows (or triples) written at most; the answer says when more were cut.
    max_rows: int = field(kw_only=True)
    prefixes: tuple[tuple[str, str], ...] = ()
    #: SERVICE endpoints the query may call; any other SERVICE is refused before it runs.
    service_allowlist: tuple[str, ...] = ()
    #: The base IRI relative IRIs in the query resolve against (the endpoint's URL).
    base_iri: str | None = None


@dataclass(frozen=True)
class QueryAnswer:
    """A serialised result: its form, body, row count and whether rows were cut."""

    form: Form
    body: bytes
    rows: int = 0
    truncated: bool = False


@dataclass(frozen=True)
class QueryFailure:
    """What a worker sends back when a query cannot be answered.

    ``message`` may be shown to the client; ``detail`` (an unexpected error's own text) is
    only logged.
    """

    kind: FailureKind
    message: str
    form: Form | None = None
    detail: str = ""


class QueryError(OsceKgError):
    """A query could not be answered."""


class QuerySyntaxError(QueryError):
    """The query does not parse; the message is the parser's."""


class QueryUnsupportedError(QueryError):
    """The query is valid SPARQL but uses something this endpoint does not provide."""


class ResultNotAcceptableError(QueryError):
    """The query's form (SELECT/ASK vs CONSTRUCT/DESCRIBE) has no format the client accepts."""

    def __init__(self, message: str, form: Form | None) -> None:
        super().__init__(message)
        self.form = form


class QueryForbiddenError(QueryError):
    """The query asks for something this endpoint never does (an update, a SERVICE call)."""


class QueryUnavailableError(QueryError):
    """The query could not be run to its end now (time, memory or free workers ran out).

    ``retry_after``: seconds the client should wait before trying again (None: the time limit).
    """

    def __init__(self, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class QueryTimeoutError(QueryUnavailableError):
    """The query ran over its time limit and its worker was killed."""


class QueryMemoryError(QueryUnavailableError):
    """The query needed more memory than a worker may use; its worker died and was replaced."""


class QueryBusyError(QueryUnavailableError):
    """Every worker stayed busy while the query waited, or too many queries are running."""


class ClientBusyError(QueryError):
    """The client already runs as many queries at once as one client may (answered 429)."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class QueryFailedError(QueryError):
    """The query failed while running (or its worker died); ``detail`` is for the log only."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail


class QueryPoolRetiredError(QueryError):
    """The pool serves an older build and takes no new queries; ask the current pool."""


def failure_error(failure: QueryFailure) -> QueryError:
    """The error a worker's failure stands for, raised in the web process."""
    if failure.kind == "syntax":
        return QuerySyntaxError(failure.message)
    if failure.kind == "unavailable":  # an external SPARQL store could not answer
        return QueryUnavailableError(failure.message)
    if failure.kind == "unsupported":
        return QueryUnsupportedError(failure.message)
    if failure.kind == "forbidden":
        return QueryForbiddenError(failure.message)
    if failure.kind == "not-acceptable":
        return ResultNotAcceptableError(failure.message, failure.form)
    return QueryFailedError(failure.message, failure.detail)
