"""Answers repeated requests from the per-build caches before Flask routes them.

A cache hit inside Flask costs its routing, request context, hooks and response object (about
200 µs); a published build's answers never change, so a repeat can be sent as it was sent the
first time. ``FastPath`` wraps the app's WSGI callable. For a GET or HEAD of an entity document
(``/data/...``, ``/page/...``) or the home page, it looks the document up by the key the view
uses (``server.cache.document_key``); for a GET of ``/sparql?query=...`` in a non-HTML format, by
the key the endpoint uses (``server.sparql.response_key``), after the same checks of the query
text and the same admission (a client over its limit is left to Flask, which answers 429).
A hit is the finished answer with every header it had (CORS, security headers, validators),
``X-Cache: hit`` and, for SPARQL, this request's ``Server-Timing``; a conditional request gets
werkzeug's answer to it (304, 412) as the Flask path gives. Everything else, misses included, goes
to Flask unchanged; when a view says its answer may be kept (``server.cache.keep_answer``), the
finished 200 answer to a GET is kept on its way out.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from flask import Flask
from werkzeug.exceptions import HTTPException, SecurityError
from werkzeug.wrappers import Response

from server import conneg
from server.admission import admission_of, client_of
from server.cache import KEEP, LOOKED_UP, CachedDocument, Keep, caches_of, document_key
from server.entity_view import ENTITY_FORMATS
from server.limits import limits_of
from server.protocol import (
    ProtocolRequest,
    check_query_text,
    query_job,
    response_key,
    result_offers,
    strict_parameters,
)
from server.query import ClientBusyError, QueryBusyError
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


class FastPath:
    """The app's WSGI callable with kept answers sent before Flask (see the module)."""

    def __init__(self, app: Flask, wsgi_app: WSGIApplication) -> None:
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        if environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            kept = self._find(environ)
            if kept is not None:
                return self._send(kept, environ, start_response, started)
        return self._through_flask(environ, start_response)

    # -- finding a kept answer ------------------------------------------------------------------

    def _find(self, environ: WSGIEnvironment) -> CachedDocument | None:
        path = environ.get("PATH_INFO") or ""
        if path == "/sparql":
            return self._find_answer(environ) if environ.get("REQUEST_METHOD") == "GET" else None
        media_type = document_media_type(path)
        if media_type is None:
            return None
        build_id = served_build(self.app).build_id
        kept = caches_of(self.app).documents.get(build_id, document_key(environ, media_type))
        environ[LOOKED_UP] = True  # the view will not look again
        return kept

    def _find_answer(self, environ: WSGIEnvironment) -> CachedDocument | None:
        """The finished answer kept for this query, dataset and format; None (Flask answers)
        when there is none, the request is not one the endpoint would answer with it, or the
        client may not run another query now."""
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
        build_id = served_build(self.app).build_id
        kept = caches_of(self.app).results.get(build_id, response_key(job, offers))
        if not isinstance(kept, CachedDocument):
            return None
        client = client_of(request.remote_addr, request.headers, limits.trusted_proxies)
        try:
            with admission_of(self.app).admit(client):
                return kept
        except (ClientBusyError, QueryBusyError):
            return None  # Flask answers 429 or 503 with its usual body

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
        start_response("200 OK", headers)
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [kept.body]

    def _through_flask(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        sent: list[Any] = []

        def remember(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            sent[:] = [status, headers]
            return start_response(status, headers, exc_info)

        body = self.wsgi_app(environ, remember)
        keep: Keep | None = environ.get(KEEP)
        if keep is None or environ.get("REQUEST_METHOD") != "GET" or not sent:
            return body
        if not str(sent[0]).startswith("200 "):
            return body
        try:
            data = b"".join(body)
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
        keep.cache.put(
            keep.build_id, keep.key, CachedDocument(data, tuple(sent[1]), keep.conditional)
        )
        return [data]


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
