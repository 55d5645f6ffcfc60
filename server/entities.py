"""Dereferences entity URIs: /id (303 by negotiation), /page (HTML) and /data (RDF) documents."""

from __future__ import annotations

import pyoxigraph as ox
from flask import Blueprint, Response, abort, g, request

from kg.rdf.uris import entity_iri
from server import conneg, urls
from server.cache import cached_document, cached_redirect
from server.documents import ENTITY_OFFERS, entity_response
from server.entity_view import ENTITY_FORMATS, EntityView, incoming_links, render_page
from server.responses import HTML, finish_document, negotiate_document, not_modified
from server.store import ask, current_build

bp = Blueprint("entities", __name__)

_EXISTS_QUERY = "ASK { ?s ?p ?o }"

#: The highest ``?page=`` of incoming links accepted.
MAX_PAGE = 1_000_000


def lookup_entity(kind: str, key: str) -> ox.NamedNode:
    """Path -> IRI under the configured base -> exists in the store? else 404."""
    try:
        iri = entity_iri(kind, key, base=urls.base())
    except ValueError:
        abort(404, f"/id/{kind}/{key} is not an entity URI of this dataset")
    node = ox.NamedNode(str(iri))
    if not ask(_EXISTS_QUERY, {"s": node}):
        abort(404, f"no entity {iri} in this dataset")
    return node


def page_number() -> int:
    """The ``?page=`` of incoming links (1 when absent); 400 when it is not a positive number."""
    raw = request.args.get("page", "1")
    # isdecimal() alone admits digits int() refuses ("²") and numbers too big to slice with
    if not (raw.isascii() and raw.isdecimal()) or not 1 <= int(raw) <= MAX_PAGE:
        abort(400, f"page {raw!r} is not a whole number from 1 to {MAX_PAGE}")
    return int(raw)


def check_page_exists(has_links: bool, page: int) -> None:
    """404 for a page of incoming links past the last one (page 1 always exists)."""
    if page > 1 and not has_links:
        abort(404, f"page {page} is past the last page of links into this entity")


def alternates_of(kind: str, key: str, page: int) -> list[tuple[str, str]]:
    """Links to every form of an entity's document (HTML page first)."""
    links = [(urls.page_url(kind, key, page=page), HTML.media_type)]
    return links + [
        (urls.data_url(kind, key, offer.key, page=page), offer.media_type)
        for offer in ENTITY_FORMATS
    ]


@bp.get("/id/<kind>/<key>")
def resolve(kind: str, key: str) -> Response:
    """An entity URI names a thing: 303 to the document in the negotiated form.

    The redirect is kept per build and Accept header: the fast path sends a repeat without
    Flask (``X-Cache: hit``), as it does the documents."""

    def make() -> Response:
        offer = negotiate_document(ENTITY_OFFERS)
        lookup_entity(kind, key)
        target = urls.page_url(kind, key) if offer is HTML else urls.data_url(kind, key, offer.key)
        response = Response(status=303, headers={"Location": target})
        response.vary.add("Accept")
        return response

    return cached_redirect(make)


@bp.get("/data/<kind>/<name>")
def data(kind: str, name: str) -> Response:
    """An RDF document about an entity, in the form its extension names."""
    key, _, extension = name.rpartition(".")
    offer = conneg.find_offer(tuple(ENTITY_FORMATS), extension) if key else None
    if offer is None or offer.key != extension:
        abort(404, f"no document {name!r}: use one of .ttl, .nt, .jsonld, .rdf, .trig, .nq")
    g.document_format = offer
    return cached_document(offer.media_type, lambda: data_document(kind, key, offer))


def data_document(kind: str, key: str, offer: conneg.Offer) -> Response:
    """The RDF document about an entity, made from the store."""
    node = lookup_entity(kind, key)
    page = page_number()
    etag = current_build().etag_for("data", kind, key, offer.key, str(page))
    cached = not_modified(etag)
    if cached is not None:
        return cached
    incoming = incoming_links(node, page)
    check_page_exists(bool(incoming.links), page)
    response = entity_response(node, incoming, offer)
    alternates = [a for a in alternates_of(kind, key, page) if a[1] != offer.media_type]
    finished = finish_document(
        response,
        etag,
        location=urls.data_url(kind, key, offer.key, page=page),
        alternates=alternates,
    )
    if incoming.more:
        following = urls.data_url(kind, key, offer.key, page=page + 1)
        finished.headers["Link"] += f', <{following}>; rel="next"'
    return finished


@bp.get("/page/<kind>/<key>")
def page(kind: str, key: str) -> Response:
    """The HTML page about an entity, in the language the browser asks for."""
    g.document_format = HTML
    return cached_document(HTML.media_type, lambda: page_document(kind, key))


def page_document(kind: str, key: str) -> Response:
    """The HTML page about an entity, made from the store."""
    node = lookup_entity(kind, key)
    number = page_number()
    languages = ",".join(request.accept_languages.values())
    etag = current_build().etag_for("page", kind, key, str(number), languages)
    cached = not_modified(etag)
    if cached is not None:
        return cached
    view = EntityView.build(node, kind, key, number)
    check_page_exists(bool(view.incoming), number)
    response = Response(render_page(view), content_type=HTML.content_type)
    response.vary.add("Accept-Language")
    return finish_document(
        response,
        etag,
        location=urls.page_url(kind, key, page=number),
        alternates=alternates_of(kind, key, number)[1:],
    )
