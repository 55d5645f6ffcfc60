"""The SPARQL 1.1 Protocol endpoint ``/sparql``: read-only, bounded in time, rows and size."""

from __future__ import annotations

import atexit
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import parse_qsl

from flask import Blueprint, Flask, Response, current_app, render_template, request
from flask_cors import cross_origin
from werkzeug.datastructures import CombinedMultiDict, MultiDict
from werkzeug.exceptions import (
    BadRequest,
    Forbidden,
    HTTPException,
    InternalServerError,
    NotAcceptable,
    RequestEntityTooLarge,
    ServiceUnavailable,
    UnsupportedMediaType,
)

from kg.rdf.vocab import PREFIXES
from server import conneg, urls
from server.description import (
    EndpointLimits,
    ServiceFacts,
    describe_limits,
    describe_service,
    description_offers,
    serialize_description,
)
from server.query import (
    QueryAnswer,
    QueryBusyError,
    QueryForbiddenError,
    QueryJob,
    QueryMemoryError,
    QueryPool,
    QueryPoolRetiredError,
    QuerySyntaxError,
    QueryTimeoutError,
    ResultNotAcceptableError,
)
from server.store import current_store, served_build

bp = Blueprint("sparql", __name__)

POOL_KEY = "osce_kg_sparql_pool"
_POOL_LOCK = threading.Lock()

FORM_TYPE = "application/x-www-form-urlencoded"
QUERY_TYPE = "application/sparql-query"
UPDATE_TYPE = "application/sparql-update"

#: Headers a browser script may read from a cross-origin answer.
EXPOSED_HEADERS = ["X-SPARQL-Max-Rows", "X-SPARQL-Truncated", "X-SPARQL-Rows", "Vary"]

READ_ONLY = (
    "this endpoint is read-only: SPARQL updates are refused and the data stays as published; "
    "download the dumps to change a copy"
)


@dataclass(frozen=True)
class ProtocolRequest:
    """A query operation as the SPARQL 1.1 Protocol defines it: query text and dataset."""

    query: str | None
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    #: The ``format=`` parameter, which overrides Accept.
    format_param: str | None = None


_View = Callable[[], Response]
# flask-cors is untyped; its decorator returns the view unchanged in type.
_with_cors = cast(
    Callable[[_View], _View], cross_origin(send_wildcard=True, expose_headers=EXPOSED_HEADERS)
)


@bp.route("/sparql", methods=["GET", "POST"], strict_slashes=False)
@_with_cors
def endpoint() -> Response:
    """Answers a query, or describes the service when there is none."""
    operation = read_protocol_request()
    if operation.query is None:
        return service_description()
    return answer_query(operation)


def read_protocol_request() -> ProtocolRequest:
    """The query and dataset of a GET, form POST or direct POST; 4xx for anything else."""
    limit = int(current_app.config["MAX_QUERY_BYTES"])
    args = strict_parameters(request.query_string, "the URL's query string")
    if "update" in args:
        raise Forbidden(READ_ONLY)
    if request.method in ("GET", "HEAD"):
        values = args
        queries = values.getlist("query")
    elif request.mimetype == FORM_TYPE:
        _check_body_size(limit * 3 + 4096)  # percent-encoding may triple the size
        _check_charset()
        form = strict_parameters(request.get_data(cache=False), "the form body")
        if "update" in form:
            raise Forbidden(READ_ONLY)
        values = CombinedMultiDict([args, form])
        queries = args.getlist("query") + form.getlist("query")
    elif request.mimetype == QUERY_TYPE:
        values = args
        if "query" in values:
            raise BadRequest("the query is in the body; do not also give a query= parameter")
        queries = [_read_direct_body(limit)]
    elif request.mimetype == UPDATE_TYPE:
        raise Forbidden(READ_ONLY)
    else:
        raise UnsupportedMediaType(
            f"a POST to /sparql must be {FORM_TYPE} (with query=...) or {QUERY_TYPE} "
            f"(the query as the body), not {request.mimetype or 'a body without Content-Type'}"
        )
    if len(queries) > 1:
        raise BadRequest(f"give exactly one query, not {len(queries)}")
    if not queries:
        if request.method == "POST":
            raise BadRequest("no query= in the form: nothing to run")
        return ProtocolRequest(None)
    text = queries[0]
    if not text.strip():
        raise BadRequest("the query is empty")
    if len(text.encode("utf-8")) > limit:
        raise RequestEntityTooLarge(f"the query is longer than the {limit}-byte limit")
    return ProtocolRequest(
        text,
        tuple(values.getlist("default-graph-uri")),
        tuple(values.getlist("named-graph-uri")),
        values.get("format") or None,
    )


def strict_parameters(raw: bytes, where: str) -> MultiDict[str, str]:
    """Form-encoded parameters decoded as UTF-8, refusing (400) anything that is not.

    Werkzeug decodes leniently, which would silently run a different query than was sent.
    """
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError as error:
        raise BadRequest(
            f"{where} is not UTF-8 percent-encoded ({error.reason}); "
            "percent-encode the query's UTF-8 bytes (e.g. é as %C3%A9)"
        ) from error
    except ValueError as error:
        raise BadRequest(f"{where} is not valid form encoding ({error})") from error
    return MultiDict(pairs)


def _check_body_size(limit: int) -> None:
    length = request.content_length
    if length is not None and length > limit:
        raise RequestEntityTooLarge(f"the request body is longer than the {limit}-byte limit")


def _check_charset() -> None:
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise UnsupportedMediaType(f"the body is in {charset}; send the query as UTF-8")


def _read_direct_body(limit: int) -> str:
    _check_body_size(limit)
    _check_charset()
    body = request.get_data(cache=False)
    if len(body) > limit:
        raise RequestEntityTooLarge(f"the query is longer than the {limit}-byte limit")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadRequest(f"the query body is not valid UTF-8 ({error})") from error


def answer_query(operation: ProtocolRequest) -> Response:
    """Runs the query in a worker and answers in the negotiated format."""
    assert operation.query is not None
    offers = _result_offers(operation)
    config = current_app.config
    job = QueryJob(
        text=operation.query,
        solutions_format=_worker_format(offers[0], conneg.SPARQL_JSON),
        boolean_format=_worker_format(offers[1], conneg.SPARQL_JSON),
        graph_format=_worker_format(offers[2], conneg.TURTLE),
        default_graphs=_graph_iris(operation.default_graphs, "default-graph-uri"),
        named_graphs=_graph_iris(operation.named_graphs, "named-graph-uri"),
        max_rows=int(config["SPARQL_MAX_ROWS"]),
        prefixes=tuple(PREFIXES.items()),
        service_allowlist=tuple(config["SPARQL_SERVICE_ALLOWLIST"]),
        base_iri=request.base_url,
    )
    answer = _run(job)
    offer = {"solutions": offers[0], "boolean": offers[1], "graph": offers[2]}[answer.form]
    assert offer is not None
    if offer == conneg.HTML:
        response = _html_result(operation.query, answer)
    else:
        response = Response(answer.body, content_type=offer.content_type)
    return _with_row_headers(response, answer)


def _result_offers(
    operation: ProtocolRequest,
) -> tuple[conneg.Offer | None, conneg.Offer | None, conneg.Offer | None]:
    """The negotiated format for SELECT, ASK and CONSTRUCT/DESCRIBE results (None: none fits)."""
    accept = request.headers.get("Accept")
    wanted = operation.format_param
    families = (conneg.SOLUTION_OFFERS, conneg.BOOLEAN_OFFERS, conneg.GRAPH_OFFERS)
    # A family nobody accepts gets None: the worker still checks the query's syntax first
    # and answers 406 only if the query really is of that form.
    chosen = tuple(
        conneg.try_negotiate((*family, conneg.HTML), accept=accept, format_param=wanted)
        for family in families
    )
    return chosen[0], chosen[1], chosen[2]


def _worker_format(offer: conneg.Offer | None, for_html: conneg.Offer) -> str | None:
    if offer is None:
        return None
    return for_html.media_type if offer == conneg.HTML else offer.media_type


def _graph_iris(values: tuple[str, ...], parameter: str) -> tuple[str, ...]:
    for value in values:
        if not value or any(c in value for c in ' <>"{}|^`\\') or ":" not in value:
            raise BadRequest(f"{parameter}={value!r} is not an absolute IRI")
    return values


def _run(job: QueryJob) -> QueryAnswer:
    """Runs a job in the pool, turning each way it can fail into an HTTP error."""
    timeout = float(current_app.config["SPARQL_TIMEOUT"])
    try:
        return _run_in_current_pool(job, timeout)
    except QuerySyntaxError as error:
        raise BadRequest(f"syntax error in the query: {error}") from error
    except QueryForbiddenError as error:
        raise Forbidden(str(error)) from error
    except ResultNotAcceptableError as error:
        raise NotAcceptable(f"{error}; ask for one of: {_available(error.form)}") from error
    except (QueryTimeoutError, QueryBusyError, QueryMemoryError) as error:
        raise _unavailable(str(error), retry_after=int(timeout)) from error
    except Exception as error:
        raise InternalServerError(f"the query could not be answered: {error}") from error


def _run_in_current_pool(job: QueryJob, timeout: float) -> QueryAnswer:
    """Runs a job; when a new build retired the pool just now, runs it in the new pool."""
    try:
        return query_pool(current_app).run(job, timeout=timeout)
    except QueryPoolRetiredError:
        return query_pool(current_app).run(job, timeout=timeout)


def _available(form: str | None) -> str:
    families = {"solutions": conneg.SOLUTION_OFFERS, "boolean": conneg.BOOLEAN_OFFERS}
    offers = families.get(form or "", conneg.GRAPH_OFFERS)
    return ", ".join(f"{o.media_type} (format={o.key})" for o in (*offers, conneg.HTML))


def _unavailable(message: str, *, retry_after: int) -> HTTPException:
    error = ServiceUnavailable(message)
    error.retry_after = max(1, retry_after)
    return error


def _with_row_headers(response: Response, answer: QueryAnswer) -> Response:
    response.headers["X-SPARQL-Max-Rows"] = str(current_app.config["SPARQL_MAX_ROWS"])
    response.headers["X-SPARQL-Rows"] = str(answer.rows)
    response.headers["X-SPARQL-Truncated"] = "true" if answer.truncated else "false"
    response.vary.add("Accept")
    return response


def _html_result(query: str, answer: QueryAnswer) -> Response:
    """The query form with its result shown as a table (or as Turtle) for a browser."""
    table: dict[str, Any] | None = None
    text: str | None = None
    if answer.form == "graph":
        text = answer.body.decode("utf-8")
    else:
        table = json.loads(answer.body)
    html = render_template(
        "sparql.html",
        urls=urls,
        query=query,
        table=table,
        text=text,
        answer=answer,
        examples=example_queries(),
        limits=describe_limits(endpoint_limits()),
        yasgui=_yasgui_assets(),
    )
    return Response(html, content_type=conneg.HTML.content_type)


def service_description() -> Response:
    """GET without a query: the Service Description (RDF) or the query page (HTML)."""
    offer = conneg.negotiate(
        description_offers(),
        accept=request.headers.get("Accept"),
        format_param=request.args.get("format") or None,
    )
    if offer == conneg.HTML:
        html = render_template(
            "sparql.html",
            urls=urls,
            query=request.args.get("example") and _example_text(request.args["example"]),
            table=None,
            text=None,
            answer=None,
            examples=example_queries(),
            limits=describe_limits(endpoint_limits()),
            yasgui=_yasgui_assets(),
        )
        response = Response(html, content_type=conneg.HTML.content_type)
    else:
        facts = ServiceFacts(
            endpoint=request.base_url,
            void_url=request.host_url.rstrip("/") + urls.void_url(),
            limits=endpoint_limits(),
            named_graphs=named_graphs(),
            base=urls.base(),
        )
        body = serialize_description(describe_service(facts), offer)
        response = Response(body, content_type=offer.content_type)
    response.headers["X-SPARQL-Max-Rows"] = str(current_app.config["SPARQL_MAX_ROWS"])
    response.vary.add("Accept")
    return response


#: YASGUI, loaded by the browser only as an enhancement of the plain form.
YASGUI_DEFAULTS = {
    "YASGUI_JS": "https://cdn.jsdelivr.net/npm/@triply/yasgui@4/build/yasgui.min.js",
    "YASGUI_CSS": "https://cdn.jsdelivr.net/npm/@triply/yasgui@4/build/yasgui.min.css",
}


def _yasgui_assets() -> dict[str, str]:
    """Where the page loads YASGUI from (settings ``YASGUI_JS``/``YASGUI_CSS``; empty: never)."""
    return {key: str(current_app.config.get(key, url)) for key, url in YASGUI_DEFAULTS.items()}


def endpoint_limits() -> EndpointLimits:
    """The limits the app is configured with."""
    config = current_app.config
    return EndpointLimits(
        timeout=float(config["SPARQL_TIMEOUT"]),
        max_rows=int(config["SPARQL_MAX_ROWS"]),
        max_query_bytes=int(config["MAX_QUERY_BYTES"]),
        service_allowlist=tuple(config["SPARQL_SERVICE_ALLOWLIST"]),
        memory_mb=int(config.get("SPARQL_WORKER_MEMORY_MB", 0)),
    )


def named_graphs() -> tuple[str, ...]:
    """The IRIs of the store's named graphs, sorted."""
    return tuple(sorted(g.value for g in current_store().named_graphs() if hasattr(g, "value")))


def query_pool(app: Flask) -> QueryPool:
    """The app's pool of query workers over the current build, started on first use.

    When a new build is published the old pool is retired: its queries in flight finish,
    then its workers stop.
    """
    store_path = str(served_build(app).root / "store")
    with _POOL_LOCK:
        pool: QueryPool | None = app.extensions.get(POOL_KEY)
        if pool is not None and pool.store_path == store_path:
            return pool
        if pool is not None:
            pool.retire()  # stays registered at exit: a query still running is stopped then
        pool = QueryPool(
            store_path,
            size=int(app.config.get("SPARQL_WORKERS", 2)),
            memory_mb=int(app.config.get("SPARQL_WORKER_MEMORY_MB", 0)),
        )
        app.extensions[POOL_KEY] = pool
        atexit.register(pool.close)
        return pool


def close_query_pool(app: Flask) -> None:
    """Stops the app's query workers (tests, shutdown)."""
    with _POOL_LOCK:
        pool: QueryPool | None = app.extensions.pop(POOL_KEY, None)
    if pool is not None:
        pool.close()
        atexit.unregister(pool.close)


EXAMPLES: tuple[tuple[str, str, str], ...] = (
    (
        "states",
        "The participating States",
        "SELECT ?state ?name WHERE {\n"
        "  ?state a osce:ParticipatingState ; rdfs:label|skos:prefLabel ?name .\n"
        '  FILTER(langMatches(lang(?name), "en") || lang(?name) = "")\n'
        "} ORDER BY ?name",
    ),
    (
        "field-operations",
        "Field operations and the States that host them",
        "SELECT ?operation ?name ?host WHERE {\n"
        "  ?operation a osce:FieldOperation .\n"
        "  OPTIONAL { ?operation rdfs:label|skos:prefLabel ?name }\n"
        "  OPTIONAL { ?operation osce:hostState ?host }\n"
        "} ORDER BY ?name",
    ),
    (
        "releases",
        "The twenty most recent press releases",
        "SELECT ?release ?date ?headline WHERE {\n"
        "  ?release a osce:PressRelease ; schema:headline ?headline .\n"
        "  OPTIONAL { ?release schema:datePublished ?date }\n"
        "} ORDER BY DESC(?date) LIMIT 20",
    ),
    (
        "quoted",
        "Persons quoted most often",
        "SELECT ?person (SAMPLE(?label) AS ?name) (COUNT(?quote) AS ?quotes) WHERE {\n"
        "  ?release osce:quotation ?quote . ?quote osce:speaker ?person .\n"
        "  OPTIONAL { ?person rdfs:label|schema:name ?label }\n"
        "} GROUP BY ?person ORDER BY DESC(?quotes) LIMIT 20",
    ),
    (
        "mentions",
        "States mentioned in the most releases",
        "SELECT ?state (COUNT(DISTINCT ?release) AS ?releases) WHERE {\n"
        "  ?release osce:mentionsState ?state .\n"
        "} GROUP BY ?state ORDER BY DESC(?releases) LIMIT 20",
    ),
    (
        "graphs",
        "Named graphs and their sizes",
        "SELECT ?graph (COUNT(*) AS ?triples) WHERE {\n"
        "  GRAPH ?graph { ?s ?p ?o }\n"
        "} GROUP BY ?graph ORDER BY DESC(?triples) LIMIT 50",
    ),
)


def _with_prefixes(body: str) -> str:
    used = [p for p in PREFIXES if f"{p}:" in body]
    return "".join(f"PREFIX {p}: <{PREFIXES[p]}>\n" for p in used) + body


def example_queries() -> list[tuple[str, str, str]]:
    """(key, title, full query text) of each example, prefixes declared."""
    return [(key, title, _with_prefixes(body)) for key, title, body in EXAMPLES]


def _example_text(key: str) -> str | None:
    return next((text for k, _, text in example_queries() if k == key), None)
