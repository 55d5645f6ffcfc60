"""Answers repeated requests from the per-build caches before Flask routes them.

A cache hit inside Flask costs its routing, request context, hooks and response object (about
200 µs); a published build's answers never change, so a repeat can be sent as it was sent the
first time. ``FastPath`` wraps the app's WSGI callable. For a GET or HEAD of an entity document
(``/data/...``, ``/page/...``) or the home page, it looks the document up by the key the view
uses (``server.cache.document_key``), and for an entity URI (``/id/...``) its 303 by the Accept
header (``server.cache.redirect_key``); for a GET of ``/sparql?query=...`` in a non-HTML format, by
the key the endpoint uses (``server.sparql.response_key``), after the same checks of the query
text and the same admission (a client over its limit is left to Flask, which answers 429).

A SPARQL GET whose answer is not kept is run here too (the answer cache by job, else the query
pool), and answered without Flask when an answer in the same media type went through Flask
before: that answer's headers, with this one's length, row headers, ``X-Cache`` and
``Server-Timing``, are what Flask would send. Otherwise, and for any error, the outcome is left in
the environ (``OUTCOME``) for the endpoint, which answers it as it would have (the query does not
run twice).
A hit is the finished answer with every header it had (CORS, security headers, validators),
``X-Cache: hit`` and, for SPARQL, this request's ``Server-Timing``; a conditional request gets
werkzeug's answer to it (304, 412) as the Flask path gives. Everything else, misses included, goes
to Flask unchanged; when a view says its answer may be kept (``server.cache.keep_answer``), the
finished 200 answer to a GET is kept on its way out.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import Flask
from werkzeug.exceptions import HTTPException, SecurityError
from werkzeug.wrappers import Response

from server import conneg
from server.admission import admission_of, client_of
from server.cache import (
    KEEP,
    LOOKED_UP,
    CachedDocument,
    Keep,
    caches_of,
    document_key,
    redirect_key,
)
from server.entity_view import ENTITY_FORMATS
from server.limits import limits_of
from server.pool import run_job
from server.protocol import (
    ProtocolRequest,
    ResultOffers,
    check_query_text,
    query_job,
    response_key,
    result_offers,
    strict_parameters,
)
from server.query import ClientBusyError, QueryAnswer, QueryBusyError, QueryJob
from server.store import served_build

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

#: Request headers that make an answer conditional (304, 412) or partial.
CONDITIONAL_HEADERS = (
    "HTTP_IF_NONE_MATCH",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_IF_MATCH",
    "HTTP_IF_UNMODIFIED_SINCE",
    "HTTP_IF_RANGE",
    "HTTP_RANGE",
)
#: The SPARQL parameters a kept answer can be found by; any other goes to Flask.
SPARQL_PARAMETERS = frozenset(
    ("query", "default-graph-uri", "named-graph-uri", "format", "output", "results")
)

_ENTITY_OFFERS = tuple(ENTITY_FORMATS)

#: WSGI environ key: what the fast path made of a SPARQL request it left to Flask (an Outcome).
OUTCOME = "osce_kg.sparql_outcome"
#: The headers of a SPARQL answer that are this answer's own; the others are the same for every
#: answer in the same media type (CORS, security headers, Vary).
OWN_HEADERS = frozenset(
    (
        "Content-Length",
        "X-Cache",
        "Server-Timing",
        "X-SPARQL-Max-Rows",
        "X-SPARQL-Rows",
        "X-SPARQL-Truncated",
    )
)


@dataclass(frozen=True)
class Outcome:
    """A job the fast path ran and left to the endpoint: its answer (and whether it came from
    the cache) or the error it raised, which the endpoint answers as if it had run the job."""

    job: QueryJob
    answer: QueryAnswer | None = None
    hit: bool = False
    error: Exception | None = None


@dataclass(frozen=True)
class _Asked:
    """A SPARQL GET as the endpoint reads it: its job, negotiated formats and client."""

    job: QueryJob
    offers: ResultOffers
    client: str


def document_media_type(path: str) -> str | None:
    """The media type the view of ``path`` keeps its document under, or None when no kept
    document can answer it (the home page, ``/page/{kind}/{key}``, ``/data/{kind}/{key}.{ext}``)."""
    if path == "/":
        return conneg.HTML.media_type
    parts = path.split("/")
    if len(parts) != 4 or not parts[2] or not parts[3]:
        return None
    if parts[1] == "page":
        return conneg.HTML.media_type
    if parts[1] == "data":
        key, _, extension = parts[3].rpartition(".")
        offer = conneg.find_offer(_ENTITY_OFFERS, extension) if key else None
        if offer is not None and offer.key == extension:
            return offer.media_type
    return None


def is_entity_uri(path: str) -> bool:
    """Whether ``path`` is ``/id/{kind}/{key}``, whose 303 may be kept."""
    parts = path.split("/")
    return len(parts) == 4 and parts[1] == "id" and bool(parts[2]) and bool(parts[3])


class FastPath:
    """The app's WSGI callable with kept answers sent before Flask (see the module)."""

    def __init__(self, app: Flask, wsgi_app: WSGIApplication) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        #: the headers of the last SPARQL answer Flask sent, by Content-Type
        self._sparql_headers: dict[str, tuple[tuple[str, str], ...]] = {}

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        method = environ.get("REQUEST_METHOD")
        if method == "GET" and environ.get("PATH_INFO") == "/sparql":
            answered = self._answer_sparql(environ, start_response, started)
            if answered is not None:
                return answered
        elif method in ("GET", "HEAD"):
            kept = self._find_document(environ)
            if kept is not None:
                return self._send(kept, environ, start_response, started)
        return self._through_flask(environ, start_response)

    # -- finding a kept answer ------------------------------------------------------------------

    def _find_document(self, environ: WSGIEnvironment) -> CachedDocument | None:
        path = environ.get("PATH_INFO") or ""
        if is_entity_uri(path):
            key: Hashable = redirect_key(environ)
        else:
            media_type = document_media_type(path)
            if media_type is None:
                return None
            key = document_key(environ, media_type)
        build_id = served_build(self.app).build_id
        kept = caches_of(self.app).documents.get(build_id, key)
        environ[LOOKED_UP] = True  # the view will not look again
        return kept

    def _answer_sparql(
        self, environ: WSGIEnvironment, start_response: StartResponse, started: float
    ) -> Iterable[bytes] | None:
        """The kept answer to a SPARQL GET, else the query's answer (see the module); None:
        Flask answers (the request is not one the endpoint would answer so, the client may not
        run another query now, or the outcome is left to the endpoint)."""
        asked = self._read_sparql(environ)
        if asked is None:
            return None
        build_id = served_build(self.app).build_id
        results = caches_of(self.app).results
        key = response_key(asked.job, asked.offers)
        kept = results.get(build_id, key)
        if not isinstance(kept, CachedDocument) and conneg.HTML in asked.offers.values():
            return None  # the query page is Flask's
        with contextlib.ExitStack() as admitted:
            try:
                admitted.enter_context(admission_of(self.app).admit(asked.client))
            except (ClientBusyError, QueryBusyError):
                return None  # Flask answers 429 or 503 with its usual body
            if isinstance(kept, CachedDocument):
                return self._send(kept, environ, start_response, started)
            try:
                answer, hit = self._run(asked.job, build_id)
            except Exception as error:  # the endpoint answers it (400, 403, 503, 500...)
                environ[OUTCOME] = Outcome(asked.job, error=error)
                return None
        offer = asked.offers[answer.form]
        headers = None if offer is None else self._sparql_headers.get(offer.content_type)
        if headers is None:
            environ[OUTCOME] = Outcome(asked.job, answer, hit)
            return None
        sent = [_own(name, value, answer, hit, self.app, started) for name, value in headers]
        if not answer.truncated and served_build(self.app).build_id == build_id:
            results.put(build_id, key, CachedDocument(answer.body, tuple(sent), False))
        start_response("200 OK", sent)
        return [answer.body]

    def _run(self, job: QueryJob, build_id: str) -> tuple[QueryAnswer, bool]:
        """The answer kept for the job, else the pool's (kept unless cut at the row limit, as
        ``server.sparql.cached_answer`` does); and whether it was kept."""
        results = caches_of(self.app).results
        kept = results.get(build_id, job)
        if isinstance(kept, QueryAnswer):
            return kept, True
        answer = run_job(self.app, job, timeout=limits_of(self.app).timeout)
        if not answer.truncated and served_build(self.app).build_id == build_id:
            results.put(build_id, job, answer)
        return answer, False

    def _read_sparql(self, environ: WSGIEnvironment) -> _Asked | None:
        """The job, formats and client of a SPARQL GET; None (Flask answers) when it is not one
        the endpoint answers (an error, a parameter the fast path does not read)."""
        raw = str(environ.get("QUERY_STRING", ""))
        if "query=" not in raw:
            return None
        try:
            args = strict_parameters(raw.encode("latin-1"), "the URL's query string")
            if not set(args) <= SPARQL_PARAMETERS or len(args.getlist("query")) != 1:
                return None
            limits = limits_of(self.app)
            check_query_text(args["query"], limits)
            request = self.app.request_class(environ)
            if (trusted_hosts := self.app.config["TRUSTED_HOSTS"]) is not None:
                request.trusted_hosts = trusted_hosts
            operation = ProtocolRequest(
                args["query"],
                tuple(args.getlist("default-graph-uri")),
                tuple(args.getlist("named-graph-uri")),
                args.get("format") or args.get("output") or args.get("results") or None,
            )
            offers = result_offers(environ.get("HTTP_ACCEPT"), operation.format_param)
            job = query_job(operation, offers, limits, request.base_url)
        except (HTTPException, SecurityError, UnicodeError):
            return None  # Flask answers the error
        client = client_of(request.remote_addr, request.headers, limits.trusted_proxies)
        return _Asked(job, offers, client)

    # -- answering --------------------------------------------------------------------------------

    def _send(
        self,
        kept: CachedDocument,
        environ: WSGIEnvironment,
        start_response: StartResponse,
        started: float,
    ) -> Iterable[bytes]:
        headers = [_fresh(name, value, started) for name, value in kept.headers]
        if kept.conditional and any(name in environ for name in CONDITIONAL_HEADERS):
            response = Response(kept.body, headers=headers)
            response.make_conditional(environ)
            del response.headers["Date"]  # as server.responses.conditional does
            return response(environ, start_response)
        start_response(kept.status, headers)
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [kept.body]

    def _through_flask(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        sent: list[Any] = []

        def remember(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            sent[:] = [status, headers]
            return start_response(status, headers, exc_info)

        body = self.wsgi_app(environ, remember)
        status = str(sent[0]) if sent else ""
        if not status.startswith(("200 ", "303 ")) or environ.get("REQUEST_METHOD") != "GET":
            return body
        if status.startswith("200 ") and environ.get("PATH_INFO") == "/sparql":
            self._remember_sparql_headers(sent[1])
        keep: Keep | None = environ.get(KEEP)
        if keep is None:
            return body
        try:
            data = b"".join(body)
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
        kept = CachedDocument(data, tuple(sent[1]), keep.conditional, status)
        keep.cache.put(keep.build_id, keep.key, kept)
        return [data]

    def _remember_sparql_headers(self, headers: list[tuple[str, str]]) -> None:
        """Keeps the headers of a SPARQL answer Flask sent, for answers in its media type."""
        content_type = next((v for n, v in headers if n.lower() == "content-type"), None)
        if content_type is not None and {n for n, _ in headers} >= OWN_HEADERS:
            self._sparql_headers[content_type] = tuple(headers)


def _own(
    name: str, value: str, answer: QueryAnswer, hit: bool, app: Flask, started: float
) -> tuple[str, str]:
    """A header of a SPARQL answer in the same media type, as this answer has it."""
    if name == "Content-Length":
        return name, str(len(answer.body))
    if name == "X-Cache":
        return name, "hit" if hit else "miss"
    if name == "X-SPARQL-Rows":
        return name, str(answer.rows)
    if name == "X-SPARQL-Truncated":
        return name, "true" if answer.truncated else "false"
    if name == "X-SPARQL-Max-Rows":
        return name, str(limits_of(app).max_rows)
    if name == "Server-Timing":
        return name, f"app;dur={(time.perf_counter() - started) * 1000:.3f}"
    return name, value


def _fresh(name: str, value: str, started: float) -> tuple[str, str]:
    """A kept header as a repeat sends it: ``X-Cache: hit`` and this request's server time."""
    if name == "X-Cache":
        return name, "hit"
    if name == "Server-Timing":
        return name, f"app;dur={(time.perf_counter() - started) * 1000:.3f}"
    return name, value


def init_app(app: Flask) -> None:
    """Puts the fast path in front of the app (every server and test client goes through it)."""
    app.wsgi_app = FastPath(app, app.wsgi_app)  # type: ignore[method-assign]
