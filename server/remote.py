"""An external SPARQL 1.1 endpoint as the server's store: only queries are forwarded, and the
answers come back as pyoxigraph results, so the rest of the server cannot tell it from its own.

``RemoteStore`` has the part of ``pyoxigraph.Store`` the server uses: ``query`` (with
``substitutions``, ``base_iri`` and a protocol dataset) and ``named_graphs``. Every text is parsed
by pyoxigraph first: an update (or anything else that is not one SPARQL query) is refused with
the SyntaxError the local store raises, before anything is sent. Bound values travel as a
``VALUES`` block opening the WHERE clause, written from pyoxigraph terms (never pasted text).
The endpoint is asked with a time limit and its answer is read up to a size limit; failing that
a ``RemoteStoreError`` (503) says so. Only ``query=`` (and the protocol's dataset) is ever sent, as
a POST form (a GET measured no quicker on Virtuoso, and would put query texts in the store's
access log). The liveness probe of /healthz and the warm-up (``HEALTH_PROBE``) reuses the
endpoint's yes for ``HEALTH_PROBE_SECONDS``.
"""

from __future__ import annotations

import http.client
import re
import threading
import time
import urllib.parse
import weakref
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import pyoxigraph as ox
from werkzeug.exceptions import ServiceUnavailable

from kg.errors import ConfigError
from server.checks import OPAQUE_TOKENS

Result = ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples
Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple

#: The formats asked for: JSON results for SELECT and ASK, N-Triples (or Turtle) for graphs.
SOLUTIONS_ACCEPT = "application/sparql-results+json, application/sparql-results+xml;q=0.5"
GRAPH_ACCEPT = "application/n-triples, text/turtle;q=0.9, application/rdf+xml;q=0.5"
#: How the server names itself to the endpoint.
USER_AGENT = "osce-kg (SPARQL endpoint over this store)"
#: What some stores call N-Triples (Virtuoso: text/plain).
RDF_ALIASES = {"text/plain": ox.RdfFormat.N_TRIPLES}

#: No row is the right answer; a store that drops the FILTER answers one.
_VALUES_PROBE = "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n" + (
    "SELECT ?x WHERE { VALUES (?x) { (<urn:x-osce-kg:probe>) } OPTIONAL { ?x rdfs:label ?y } "
    "OPTIONAL { ?x a ?z } FILTER(BOUND(?y) || BOUND(?z)) }"
)
#: The query /healthz and the warm-up ask to see that the store answers.
HEALTH_PROBE = "ASK { ?s ?p ?o }"
#: How long a "yes" to ``HEALTH_PROBE`` stands for the endpoint's: /healthz polled often then
#: costs no round trip each time, and an endpoint that stops answering is seen within this.
HEALTH_PROBE_SECONDS = 1.0
_NAMED_GRAPHS = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
_ALL_TRIPLES = "CONSTRUCT WHERE { ?s ?p ?o }"

#: The tokens that decide where a query's WHERE clause opens: strings, IRIs and comments (which
#: may hold anything), variables, words (keywords and prefixed names) and braces.
_TOKENS = re.compile(
    OPAQUE_TOKENS + r"|[?$][\w]+"
    r"|[A-Za-z_][\w.-]*(?::[\w.%:-]*)?"
    r"|[{}]",
    re.DOTALL,
)
_FORMS = ("select", "construct", "describe", "ask")


class RemoteStoreError(ServiceUnavailable):
    """The SPARQL endpoint did not answer (in time, within the size limit, or at all)."""


def is_endpoint(location: str) -> bool:
    """Whether a store location is a SPARQL endpoint's URL rather than a folder."""
    return location.startswith(("http://", "https://"))


def values_block(bindings: Mapping[ox.Variable, Term]) -> str:
    """``VALUES (?a ?b) { (<x> "y") }`` binding each variable to its term."""
    names, terms = [], []
    for variable, term in bindings.items():
        if not isinstance(term, (ox.NamedNode, ox.Literal)):
            raise ValueError(f"{term} cannot be sent to a SPARQL endpoint as a value")
        names.append(str(variable))
        terms.append(str(term))  # pyoxigraph writes N-Triples syntax, which SPARQL reads
    return f"VALUES ({' '.join(names)}) {{ ({' '.join(terms)}) }}"


def where_clause_span(query: str) -> tuple[int, int]:
    """Where the query's WHERE clause is: just after its opening ``{`` and at its closing ``}``.

    The keyword WHERE at the top level, else (it is optional) the first top-level ``{`` of a
    SELECT, ASK or DESCRIBE; a CONSTRUCT's first group is its template. ValueError if none.
    """
    depth = 0
    form = None
    start: int | None = None
    after_where = template = False
    for token in _TOKENS.finditer(query):
        text = token.group()
        if text == "{":
            if start is None and depth == 0:
                if form == "construct" and after_where and not template:
                    break  # CONSTRUCT WHERE { ... }: the pattern is the template, no VALUES
                if after_where or form in ("select", "ask", "describe"):
                    start = token.end()
                template = template or form == "construct"
            depth += 1
        elif text == "}":
            depth = max(0, depth - 1)
            if depth == 0 and start is not None:
                return start, token.start()
        elif depth == 0 and text.lower() in _FORMS and form is None:
            form = text.lower()
        elif depth == 0 and text.lower() == "where":
            after_where = True
    raise ValueError("the query has no WHERE clause to bind values in")


def where_clause_start(query: str) -> int:
    """The position just after the ``{`` that opens the query's WHERE clause."""
    return where_clause_span(query)[0]


def bind_values(query: str, bindings: Mapping[ox.Variable, Term], *, nested: bool = False) -> str:
    """The query with its variables bound by a VALUES block opening its WHERE clause.

    ``nested`` puts the clause's own patterns in a group of their own, joined with the VALUES
    block: for stores that drop a FILTER after OPTIONALs when a VALUES block opens the group
    (Virtuoso 7; see ``RemoteStore.nests_values``).
    """
    if not bindings:
        return query
    start, end = where_clause_span(query)
    values = values_block(bindings)
    if nested:
        return f"{query[:start]} {values} {{{query[start:end]}}} {query[end:]}"
    return f"{query[:start]} {values} {query[start:]}"


@dataclass
class RemoteStore:
    """A SPARQL 1.1 Protocol endpoint, queried like a read-only ``pyoxigraph.Store``."""

    endpoint: str
    #: seconds the endpoint may take to answer (and between parts of the answer)
    timeout: float = 300.0
    #: the largest answer read; a larger one is refused (the row cap applies to what is kept)
    max_bytes: int = 256_000_000
    #: named graphs listed are those under this prefix (a store may hold graphs of its own)
    graph_prefix: str | None = None
    _local: threading.local = field(default_factory=threading.local, repr=False)
    _graphs: tuple[ox.NamedNode, ...] | None = field(default=None, repr=False)
    _nested: bool | None = field(default=None, repr=False)
    #: when the endpoint last said yes to ``HEALTH_PROBE`` (time.monotonic; None: never)
    _alive_at: float | None = field(default=None, repr=False)
    #: every thread's open connection, closed with the store (``close``, or when it is dropped)
    _open: set[http.client.HTTPConnection] = field(default_factory=set, repr=False)

    def __post_init__(self) -> None:
        weakref.finalize(self, _close_all, self._open)

    def close(self) -> None:
        """Closes the connections of every thread (a later query opens its own again)."""
        _close_all(self._open)

    def _connection(self) -> http.client.HTTPConnection:
        """This thread's kept-alive connection to the endpoint (opened when first needed)."""
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is None:
            parts = urllib.parse.urlsplit(self.endpoint)
            kind = (
                http.client.HTTPSConnection
                if parts.scheme == "https"
                else http.client.HTTPConnection
            )
            connection = kind(parts.hostname or "", parts.port, timeout=min(10.0, self.timeout))
            self._local.connection = connection
            with _OPEN_LOCK:
                self._open.add(connection)
        return connection

    def query(
        self,
        query: str,
        *,
        base_iri: str | None = None,
        use_default_graph_as_union: bool = False,
        default_graph: Sequence[ox.NamedNode] | None = None,
        named_graphs: Sequence[ox.NamedNode] | None = None,
        substitutions: Mapping[ox.Variable, Term] | None = None,
    ) -> Result:
        """Runs a query on the endpoint; its default graph is the endpoint's (the union of the
        named graphs, checked by ``check_endpoint``), so ``use_default_graph_as_union`` is
        already so. Raises SyntaxError for anything that is not one SPARQL query."""
        del use_default_graph_as_union  # the endpoint's default graph is the union already
        probe = query == HEALTH_PROBE and not (default_graph or named_graphs or substitutions)
        if probe and self._answered_recently():
            return ox.parse_query_results(b'{"head":{},"boolean":true}', ox.QueryResultsFormat.JSON)
        # pyoxigraph's parser decides what is sent: an update never leaves this process
        form = ox.Store().query(query, base_iri=base_iri)
        bindings = dict(substitutions or {})
        if any(isinstance(term, ox.BlankNode) for term in bindings.values()):
            # a blank node of an earlier answer names nothing the endpoint can look up
            return empty_like(form)
        text = bind_values(query, bindings, nested=bool(bindings) and self.nests_values())
        if base_iri is not None:
            text = f"BASE <{ox.NamedNode(base_iri).value}>\n{text}"
        fields: list[tuple[str, str]] = [("query", text)]
        fields += [("default-graph-uri", g.value) for g in default_graph or ()]
        fields += [("named-graph-uri", g.value) for g in named_graphs or ()]
        accept = GRAPH_ACCEPT if isinstance(form, ox.QueryTriples) else SOLUTIONS_ACCEPT
        media_type, body = self._post(fields, accept)
        answer = read_answer(form, media_type, body)
        if probe and isinstance(answer, ox.QueryBoolean) and bool(answer):
            self._alive_at = time.monotonic()
        return answer

    def _answered_recently(self) -> bool:
        """Whether the endpoint said yes to ``HEALTH_PROBE`` within ``HEALTH_PROBE_SECONDS``."""
        alive_at = self._alive_at
        return alive_at is not None and time.monotonic() - alive_at < HEALTH_PROBE_SECONDS

    def _post(self, fields: list[tuple[str, str]], accept: str) -> tuple[str, bytes]:
        """POSTs the form; the answer's media type and body, read within the limits.

        The standard library's client on one kept-alive connection per thread: a query costs
        about a millisecond less than through ``requests``, which matters where the store
        answers in two. A connection the endpoint closed while idle is opened again once
        (a query changes nothing, so sending it again is safe)."""
        body = urllib.parse.urlencode(fields).encode("ascii")
        headers = {
            "Accept": accept,
            "Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": USER_AGENT,
        }
        path = self._path()
        try:
            try:
                answer = self._send(path, body, headers)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self._close()  # closed while idle: once more on a new connection
                answer = self._send(path, body, headers)
            try:
                return self._read(answer)
            finally:
                if answer.will_close or not answer.isclosed():
                    self._close()
        except TimeoutError as error:
            self._close()
            raise RemoteStoreError(
                f"the SPARQL store did not answer within {self.timeout:g} s"
            ) from error
        except (OSError, http.client.HTTPException) as error:
            self._close()
            raise RemoteStoreError(f"the SPARQL store cannot be reached ({error})") from error

    def _path(self) -> str:
        parts = urllib.parse.urlsplit(self.endpoint)
        return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

    def _send(self, path: str, body: bytes, headers: dict[str, str]) -> http.client.HTTPResponse:
        connection = self._connection()
        connection.request("POST", path, body=body, headers=headers)
        if connection.sock is not None:  # connected within the connect limit; now the answer's
            connection.sock.settimeout(self.timeout)
        return connection.getresponse()

    def _read(self, answer: http.client.HTTPResponse) -> tuple[str, bytes]:
        """The answer's media type and body; errors for a refusal, a failure, a size or time
        over the limits."""
        deadline = time.monotonic() + self.timeout
        if 400 <= answer.status < 500:
            said = " ".join(answer.read(4096).decode("utf-8", "replace").split())[:500]
            raise SyntaxError(f"the SPARQL store refused the query: {said}")
        if answer.status != 200:
            said = " ".join(answer.read(4096).decode("utf-8", "replace").split())[:300]
            raise RemoteStoreError(f"the SPARQL store could not answer ({answer.status}: {said})")
        chunks, size = [], 0
        while chunk := answer.read(1 << 16):
            size += len(chunk)
            if size > self.max_bytes:
                raise RemoteStoreError(
                    f"the SPARQL store's answer is larger than {self.max_bytes} bytes; "
                    "ask for less (LIMIT)"
                )
            if time.monotonic() > deadline:
                raise RemoteStoreError(f"the SPARQL store did not answer within {self.timeout:g} s")
            chunks.append(chunk)
        media_type = (answer.getheader("Content-Type") or "").split(";")[0].strip()
        return media_type.lower(), b"".join(chunks)

    def _close(self) -> None:
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None
            with _OPEN_LOCK:
                self._open.discard(connection)

    def nests_values(self) -> bool:
        """Whether bound values must stand apart from the query's own patterns here: asked
        once, by a query whose right answer is no row (a FILTER no binding passes)."""
        if self._nested is None:
            answer = self.query(_VALUES_PROBE)
            assert isinstance(answer, ox.QuerySolutions)
            self._nested = any(True for _ in answer)
        return self._nested

    def named_graphs(self) -> Iterator[ox.NamedNode]:
        """The endpoint's named graphs (under ``graph_prefix``), asked once: a build is
        immutable."""
        if self._graphs is None:
            answer = self.query(_NAMED_GRAPHS)
            assert isinstance(answer, ox.QuerySolutions)
            found = [row["g"] for row in answer if isinstance(row["g"], ox.NamedNode)]
            prefix = self.graph_prefix
            self._graphs = tuple(g for g in found if prefix is None or g.value.startswith(prefix))
        return iter(self._graphs)


#: Guards the sets of open connections (threads open and close theirs at once).
_OPEN_LOCK = threading.Lock()


def _close_all(connections: set[http.client.HTTPConnection]) -> None:
    with _OPEN_LOCK:
        for connection in connections:
            connection.close()
        connections.clear()


def empty_like(form: Result) -> Result:
    """An answer of the same form with nothing in it."""
    if isinstance(form, ox.QuerySolutions):
        head = ",".join(f'"{variable.value}"' for variable in form.variables)
        empty = f'{{"head":{{"vars":[{head}]}},"results":{{"bindings":[]}}}}'
        return ox.parse_query_results(empty.encode(), ox.QueryResultsFormat.JSON)
    if isinstance(form, ox.QueryBoolean):
        return ox.parse_query_results(b'{"head":{},"boolean":false}', ox.QueryResultsFormat.JSON)
    return ox.Store().query(_ALL_TRIPLES)


def read_answer(form: Result, media_type: str, body: bytes) -> Result:
    """The endpoint's answer as the pyoxigraph result the local store would have given."""
    if isinstance(form, ox.QueryTriples):
        rdf_format = RDF_ALIASES.get(media_type) or ox.RdfFormat.from_media_type(media_type)
        if rdf_format is None:
            raise RemoteStoreError(f"the SPARQL store answered a graph as {media_type!r}")
        try:
            graph = ox.Store()
            graph.extend(ox.parse(body, format=rdf_format))
        except SyntaxError as error:
            raise RemoteStoreError(f"the SPARQL store's graph does not parse: {error}") from error
        # pyoxigraph's graph results come only from a query: ask the copy for all of it
        return graph.query(_ALL_TRIPLES)
    results_format = ox.QueryResultsFormat.from_media_type(media_type)
    if results_format is None:
        raise RemoteStoreError(f"the SPARQL store answered the query as {media_type!r}")
    try:
        answer = ox.parse_query_results(body, results_format)
    except SyntaxError as error:
        raise RemoteStoreError(f"the SPARQL store's answer does not parse: {error}") from error
    if isinstance(form, ox.QueryBoolean) and isinstance(answer, ox.QuerySolutions):
        answer = ask_answer(answer)
    if type(answer) is not type(form):
        raise RemoteStoreError("the SPARQL store answered another form of query than was asked")
    return answer


#: Virtuoso 7 answers ASK as a one-row SELECT of this variable, 1 for true.
ASK_RETVAL = "__ASK_RETVAL"


def ask_answer(solutions: ox.QuerySolutions) -> ox.QuerySolutions | ox.QueryBoolean:
    """The boolean of an ASK answered as Virtuoso 7 does; other solutions as they are."""
    if [variable.value for variable in solutions.variables] != [ASK_RETVAL]:
        return solutions
    true = any(
        isinstance(row[ASK_RETVAL], ox.Literal) and row[ASK_RETVAL].value in ("1", "true")
        for row in solutions
    )
    text = b'{"head":{},"boolean":true}' if true else b'{"head":{},"boolean":false}'
    return ox.parse_query_results(text, ox.QueryResultsFormat.JSON)


def check_endpoint(store: RemoteStore) -> None:
    """ConfigError unless the endpoint answers, holds named graphs, and its default graph is
    their union (as Virtuoso's and QLever's are; ``oxigraph serve --union-default-graph``)."""
    try:
        named = bool(store.query("ASK { GRAPH ?g { ?s ?p ?o } }"))
        default = bool(store.query("ASK { ?s ?p ?o }"))
    except (RemoteStoreError, SyntaxError) as error:
        raise ConfigError(
            f"{store.endpoint}: not a SPARQL endpoint that answers ({error}); give its query URL "
            "(Oxigraph: /query, Virtuoso: /sparql, QLever: its base URL)"
        ) from error
    if not named:
        raise ConfigError(
            f"{store.endpoint} holds no named graphs: load the build into it first with "
            "`osce-kg publish --to GRAPH-STORE-URL BUILD`"
        )
    if not default:
        raise ConfigError(
            f"{store.endpoint} finds nothing in its default graph: make the default graph the "
            "union of the named graphs (oxigraph serve --union-default-graph; Fuseki: "
            "tdb2:unionDefaultGraph true)"
        )
