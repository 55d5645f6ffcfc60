"""The SPARQL 1.1 Protocol endpoint ``/sparql``: read-only, bounded in time, rows and size."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any, cast
from urllib.parse import urljoin

from flask import Blueprint, Response, current_app, render_template, request
from flask_cors import cross_origin
from werkzeug.datastructures import CombinedMultiDict
from werkzeug.exceptions import (
    BadRequest,
    Forbidden,
    HTTPException,
    InternalServerError,
    NotAcceptable,
    RequestEntityTooLarge,
    ServiceUnavailable,
    TooManyRequests,
    UnsupportedMediaType,
)

from kg.rdf.uris import sparql_endpoint_iri
from server import conneg, urls
from server.admission import admission_of, client_of
from server.cache import Keep, caches_of, keep_answer
from server.description import (
    ServiceFacts,
    describe_limits,
    describe_service,
    description_offers,
    serialize_description,
)
from server.examples import example_queries, example_text
from server.fastpath import OUTCOME, Outcome
from server.limits import current_limits
from server.pool import run_job
from server.protocol import (
    RESULT_FAMILIES,
    ProtocolRequest,
    check_query_text,
    query_job,
    response_key,
    result_offers,
    strict_parameters,
)
from server.query import (
    ClientBusyError,
    Form,
    QueryAnswer,
    QueryFailedError,
    QueryForbiddenError,
    QueryJob,
    QuerySyntaxError,
    QueryUnavailableError,
    QueryUnsupportedError,
    ResultNotAcceptableError,
)
from server.store import current_build, current_store
from server.yasgui import current_yasgui

log = logging.getLogger(__name__)

bp = Blueprint("sparql", __name__)

FORM_TYPE = "application/x-www-form-urlencoded"
QUERY_TYPE = "application/sparql-query"
UPDATE_TYPE = "application/sparql-update"

#: Headers a browser script may read from a cross-origin answer.
EXPOSED_HEADERS = [
    "X-SPARQL-Max-Rows",
    "X-SPARQL-Truncated",
    "X-SPARQL-Rows",
    "X-Cache",
    "Server-Timing",
    "Vary",
]

READ_ONLY = (
    "this endpoint is read-only: SPARQL updates are refused and the data stays as published; "
    "download the dumps to change a copy"
)


_View = Callable[[], Response]
# flask-cors is untyped; its decorator returns the view unchanged in type.
_with_cors = cast(
    Callable[[_View], _View], cross_origin(send_wildcard=True, expose_headers=EXPOSED_HEADERS)
)


@bp.route("/sparql", methods=["GET", "POST"], strict_slashes=False)
@_with_cors
def endpoint() -> Response:
    """Answers a query, or describes the service when there is none."""
    started = time.perf_counter()
    operation = read_protocol_request()
    if operation is None:
        return service_description()
    response = answer_query(operation)
    # the time this process spent on the request, for clients and benchmarks (Server-Timing)
    elapsed = (time.perf_counter() - started) * 1000
    response.headers["Server-Timing"] = f"app;dur={elapsed:.3f}"
    return response


def read_protocol_request() -> ProtocolRequest | None:
    """The query and dataset of a GET, form POST or direct POST (None: a GET without a query);
    4xx for anything else."""
    limit = current_limits().max_query_bytes
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
        return None
    text = queries[0]
    check_query_text(text, current_limits())
    return ProtocolRequest(
        text,
        tuple(values.getlist("default-graph-uri")),
        tuple(values.getlist("named-graph-uri")),
        # SPARQLWrapper, Fuseki and Virtuoso clients name the format as format=, output= or
        # results= (SPARQLWrapper sends all three)
        values.get("format") or values.get("output") or values.get("results") or None,
    )


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
    offers = result_offers(request.headers.get("Accept"), operation.format_param)
    job = query_job(operation, offers, current_limits(), request.base_url)
    build_id = current_build().build_id
    answer, hit = _run(job)
    offer = offers[answer.form]
    if offer is None:  # the worker wrote a form the client accepts no format of
        log.error("a %s answer came back although no format of it was acceptable", answer.form)
        raise InternalServerError("the query's answer could not be written; please report this")
    if offer == conneg.HTML:
        response = _query_page(operation.query, answer)
    else:
        response = Response(answer.body, content_type=offer.content_type)
        # the finished answer is kept for the fast path, as the answer itself is: never a
        # cut one, nor one a new build may have answered
        if not answer.truncated and current_build().build_id == build_id:
            results = caches_of(current_app).results
            keep_answer(Keep(results, build_id, response_key(job, offers), conditional=False))
    response.headers["X-Cache"] = "hit" if hit else "miss"
    return _with_row_headers(response, answer)


def _run(job: QueryJob) -> tuple[QueryAnswer, bool]:
    """Answers a job once admitted (a client over its limit gets 429 even for a kept answer),
    from the cache or else in the pool, turning each way it can fail into an HTTP error.
    Returns the answer and whether it came from the cache."""
    limits = current_limits()
    timeout = limits.timeout
    client = client_of(request.remote_addr, request.headers, limits.trusted_proxies)
    try:
        with admission_of(current_app).admit(client):
            return cached_answer(job, timeout)
    except ClientBusyError as error:
        raise TooManyRequests(str(error), retry_after=error.retry_after) from error
    except QuerySyntaxError as error:
        raise BadRequest(f"syntax error in the query: {error}") from error
    except QueryUnsupportedError as error:
        raise BadRequest(str(error)) from error
    except QueryForbiddenError as error:
        raise Forbidden(str(error)) from error
    except ResultNotAcceptableError as error:
        raise NotAcceptable(f"{error}; ask for one of: {_available(error.form)}") from error
    except QueryUnavailableError as error:
        raise _unavailable(str(error), retry_after=error.retry_after or int(timeout)) from error
    except QueryFailedError as error:
        # the message is ours; the error's own text (detail) stays in the log
        log.error("query failed: %s (%s)", error, error.detail or "no detail")
        raise InternalServerError(f"{error}; the server's log says why") from error
    except Exception as error:
        log.exception("query could not be answered")
        raise InternalServerError(
            "the query could not be answered; the server's log says why"
        ) from error


def cached_answer(job: QueryJob, timeout: float) -> tuple[QueryAnswer, bool]:
    """The answer kept for this build and job (text, dataset, formats, row limit), else one
    from the pool, kept unless cut at the row limit; failures and timeouts raise, never kept.
    A job the fast path ran already is not run again: its answer or error is used."""
    outcome = request.environ.pop(OUTCOME, None)
    if isinstance(outcome, Outcome) and outcome.job == job:
        if outcome.error is not None:
            raise outcome.error
        if outcome.answer is not None:
            return outcome.answer, outcome.hit
    build_id = current_build().build_id
    results = caches_of(current_app).results
    kept = results.get(build_id, job)
    if isinstance(kept, QueryAnswer):
        return kept, True
    answer = run_job(current_app, job, timeout=timeout)
    # a build published while the query ran: the answer may be the new build's, so not kept
    if not answer.truncated and current_build().build_id == build_id:
        results.put(build_id, job, answer)
    return answer, False


def _available(form: Form | None) -> str:
    offers = RESULT_FAMILIES[form or "graph"]
    return ", ".join(f"{o.media_type} (format={o.key})" for o in (*offers, conneg.HTML))


def _unavailable(message: str, *, retry_after: int) -> HTTPException:
    error = ServiceUnavailable(message)
    error.retry_after = max(1, retry_after)
    return error


def _with_row_headers(response: Response, answer: QueryAnswer) -> Response:
    response.headers["X-SPARQL-Max-Rows"] = str(current_limits().max_rows)
    response.headers["X-SPARQL-Rows"] = str(answer.rows)
    response.headers["X-SPARQL-Truncated"] = "true" if answer.truncated else "false"
    response.vary.add("Accept")
    return response


def _query_page(query: str | None, answer: QueryAnswer | None = None) -> Response:
    """The query form for a browser, with a query's result as a table (or as Turtle)."""
    table: dict[str, Any] | None = None
    text: str | None = None
    if answer is not None and answer.form == "graph":
        text = answer.body.decode("utf-8")
    elif answer is not None:
        table = json.loads(answer.body)
    html = render_template(
        "sparql.html",
        urls=urls,
        query=query,
        table=table,
        text=text,
        answer=answer,
        examples=example_queries(),
        limits=describe_limits(current_limits()),
        yasgui=current_yasgui(),
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
        response = _query_page(
            request.args.get("example") and example_text(request.args["example"])
        )
    else:
        endpoint = public_url()
        facts = ServiceFacts(
            endpoint=endpoint,
            void_url=urljoin(endpoint, urls.void_url().lstrip("/")),
            limits=current_limits(),
            named_graphs=named_graphs(),
            base=urls.base(),
        )
        body = serialize_description(describe_service(facts), offer)
        response = Response(body, content_type=offer.content_type)
    response.headers["X-SPARQL-Max-Rows"] = str(current_limits().max_rows)
    response.vary.add("Accept")
    return response


def public_url() -> str:
    """The endpoint's address as the world knows it (setting ``PUBLIC_URL``; default: the base
    IRI's ``sparql``), never the Host a client sent."""
    configured: str | None = current_app.config.get("PUBLIC_URL")
    return configured or str(sparql_endpoint_iri(base=urls.base()))


def named_graphs() -> tuple[str, ...]:
    """The IRIs of the store's named graphs, sorted."""
    return tuple(sorted(g.value for g in current_store().named_graphs() if hasattr(g, "value")))
