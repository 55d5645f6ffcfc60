"""Answers every blueprint shares: negotiated RDF documents, their headers, and error answers."""

from __future__ import annotations

import json
from collections.abc import Callable

import pyoxigraph as ox
from flask import Response, g, render_template, request
from werkzeug.exceptions import HTTPException

from kg.rdf.vocab import PREFIXES
from server import conneg
from server.store import current_build

#: The forms of an entity document, HTML first (for browsers and clients that take anything).
RDF_FORMATS: dict[conneg.Offer, ox.RdfFormat] = {
    conneg.TURTLE: ox.RdfFormat.TURTLE,
    conneg.N_TRIPLES: ox.RdfFormat.N_TRIPLES,
    conneg.JSON_LD: ox.RdfFormat.JSON_LD,
    conneg.RDF_XML: ox.RdfFormat.RDF_XML,
}
HTML = conneg.HTML
DOCUMENT_OFFERS: tuple[conneg.Offer, ...] = (HTML, *RDF_FORMATS)

ERROR_TYPES = ("text/html", "application/json", "text/plain")


def negotiate_document(offers: tuple[conneg.Offer, ...] = DOCUMENT_OFFERS) -> conneg.Offer:
    """The form a request asks for: ``?format=`` first, then Accept; none or ``*/*``: the first.

    The form is kept for the error answer: an RDF client gets its 404 as RDF.
    """
    offer = conneg.negotiate(
        offers, accept=request.headers.get("Accept"), format_param=request.args.get("format")
    )
    g.document_format = offer
    return offer


def serialise(triples: list[ox.Triple], offer: conneg.Offer) -> bytes:
    """RDF bytes in an offered form, by pyoxigraph's serialisers."""
    rdf_format = RDF_FORMATS[offer]
    if rdf_format in (ox.RdfFormat.TURTLE, ox.RdfFormat.RDF_XML):
        data = ox.serialize(triples, format=rdf_format, prefixes=PREFIXES)
    else:
        data = ox.serialize(triples, format=rdf_format)
    return data or b""


def rdf_response(triples: list[ox.Triple], offer: conneg.Offer, *, status: int = 200) -> Response:
    """A response holding RDF in the offered form."""
    return Response(serialise(triples, offer), status=status, content_type=offer.content_type)


def not_modified(etag: str) -> Response | None:
    """A 304 answer when the client's copy (If-None-Match / If-Modified-Since) is current."""
    response = Response(status=200)
    response.vary.add("Accept")
    response.set_etag(etag)
    response.last_modified = current_build().built_at
    conditional(response)
    return response if response.status_code == 304 else None


def finish_document(
    response: Response, etag: str, *, location: str, alternates: list[tuple[str, str]]
) -> Response:
    """Adds the headers every document carries: Vary, validators, Content-Location, Link."""
    response.vary.add("Accept")
    response.set_etag(etag)
    response.last_modified = current_build().built_at
    response.headers["Content-Location"] = location
    if alternates:
        response.headers["Link"] = ", ".join(
            f'<{url}>; rel="alternate"; type="{media_type}"' for url, media_type in alternates
        )
    conditional(response)
    return response


def conditional(response: Response) -> None:
    """Answers If-None-Match / If-Modified-Since (304) and Range, without a ``Date`` header of
    its own: the HTTP server (werkzeug, gunicorn) always adds one, and two confuse caches."""
    response.make_conditional(request)
    del response.headers["Date"]


def finish_negotiated(
    response: Response, etag: str, offer: conneg.Offer, url_of: Callable[..., str]
) -> Response:
    """``finish_document`` for a negotiated document whose forms ``url_of(extension=...)``
    names: its location is the chosen form, its alternates link the others."""
    others = [(url_of(extension=o.key), o.media_type) for o in DOCUMENT_OFFERS if o is not offer]
    return finish_document(response, etag, location=url_of(extension=offer.key), alternates=others)


def _error_type_for_machines() -> str:
    """The error body type for a client that accepts none of HTML, JSON or text.

    Such a client is a program (a SPARQL client asking for results as CSV or
    application/sparql-results+json): JSON if it reads some JSON, else plain text, never a page.
    """
    if any(mimetype.endswith("+json") for mimetype, _ in request.accept_mimetypes):
        return "application/json"
    return "text/plain"


def render_error(error: HTTPException) -> Response:
    """The one error answer: HTML, JSON, text or (for RDF requests) an empty RDF document."""
    code = error.code or 500
    message = error.description or error.name
    fmt: conneg.Offer | None = g.get("document_format")
    if fmt is not None and fmt in RDF_FORMATS:
        response = rdf_response([], fmt, status=code)
    else:
        best = request.accept_mimetypes.best_match(ERROR_TYPES) or _error_type_for_machines()
        if not request.headers.get("Accept", "").strip():
            best = "text/html"
        if best == "application/json":
            body = json.dumps({"status": code, "error": error.name, "message": message})
            response = Response(body, status=code, mimetype="application/json")
        elif best == "text/plain":
            response = Response(
                f"{code} {error.name}: {message}\n", status=code, mimetype="text/plain"
            )
        else:
            html = render_template("error.html", code=code, name=error.name, message=message)
            response = Response(html, status=code, content_type=HTML.content_type)
    response.vary.add("Accept")
    for header, value in error.get_headers():
        if header.lower() not in ("content-type", "content-length"):
            response.headers[header] = value
    return response


def request_etag(*parts: str) -> str:
    """A validator for an answer made only from the build and the request (host, path and
    query, languages) and ``parts`` (the negotiated form): lists, search, reconciliation."""
    languages = ",".join(request.accept_languages.values())
    return current_build().etag_for("request", request.host, request.full_path, languages, *parts)


def finish_validated(response: Response, etag: str) -> Response:
    """Adds ETag and Last-Modified (the build's) and answers a conditional request with 304."""
    response.set_etag(etag)
    response.last_modified = current_build().built_at
    conditional(response)
    return response
