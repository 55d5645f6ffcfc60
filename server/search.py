"""Label search: the /search page (a plain form, results ranked) and /api/search (JSON)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from flask import Blueprint, Response, abort, jsonify, render_template, request

from kg.publish.search_index import Hit, Lookup, SearchIndex
from server import urls
from server.label_search import OSCE_LANGUAGES, TypeRef, current_index, type_ref
from server.labels import Labeller
from server.params import whole_number
from server.responses import HTML, finish_validated, not_modified, request_etag
from server.shortnames import entity_name, term_iri

bp = Blueprint("search", __name__)

#: The longest search text accepted (characters).
MAX_QUERY = 200
#: Results per request at most (the API's ``limit``), and per page of /search.
MAX_LIMIT = 50
PAGE_SIZE = 20
MAX_PAGE = 50
LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*")


@dataclass(frozen=True)
class Result:
    """One thing found, as the page and the API show it."""

    id: str
    iri: str
    url: str
    label: str
    matched: str
    lang: str
    score: float
    types: tuple[TypeRef, ...]


def query_text() -> str:
    """``q``, trimmed; 400 when longer than MAX_QUERY."""
    text = request.args.get("q", "").strip()
    if len(text) > MAX_QUERY:
        abort(400, f"q is {len(text)} characters long; search with at most {MAX_QUERY}")
    return text


def language() -> str | None:
    """``lang``: only labels in this language match (a tag such as ``fr``); None: all."""
    raw = request.args.get("lang", "").strip()
    if not raw:
        return None
    if not LANGUAGE_TAG.fullmatch(raw):
        abort(400, f"lang {raw!r} is not a language tag; use one such as en, fr, de, it, ru, es")
    return raw.lower()


def classes() -> tuple[str, ...]:
    """``type`` (repeatable): class short names (``City``, ``org:Organization``) or IRIs."""
    found = []
    for name in request.args.getlist("type"):
        iri = term_iri(name.strip())
        if iri is None:
            abort(400, f"type {name!r} is not a class name; use e.g. City or org:Organization")
        found.append(iri)
    return tuple(found)


def results(index: SearchIndex, hits: list[Hit], languages: list[str]) -> list[Result]:
    """The hits as shown: short id, local link, label in the reader's language, classes."""
    types: dict[str, TypeRef] = {}
    shown = []
    for hit in hits:
        for iri in hit.types:
            if iri not in types:
                types[iri] = type_ref(index, iri, languages)
        shown.append(
            Result(
                id=entity_name(hit.iri),
                iri=hit.iri,
                url=urls.iri_link(hit.iri) or hit.iri,
                label=hit.label(languages),
                matched=hit.matched.text,
                lang=hit.matched.lang,
                score=hit.score,
                types=tuple(types[iri] for iri in hit.types),
            )
        )
    return shown


@bp.get("/api/search")
def api() -> Response:
    """Things whose labels match ``q`` (any of the six languages), best first, as JSON."""
    text = query_text()
    if not text:
        abort(400, "give the text to search for as q, e.g. /api/search?q=vienna")
    lookup = Lookup(
        text,
        classes=classes(),
        lang=language(),
        limit=whole_number("limit", 10, MAX_LIMIT),
    )
    etag = request_etag("json")
    cached = not_modified(etag)
    if cached is not None:
        return cached
    index = current_index()
    languages = Labeller.for_request().languages
    found = results(index, index.search(lookup), languages)
    response = jsonify(query=text, results=[asdict(result) for result in found])
    response.vary.add("Accept-Language")
    return finish_validated(response, etag)


@bp.get("/search")
def page() -> Response:
    """The search page: a form that works without JavaScript, and ranked results."""
    text = query_text()
    number = whole_number("page", 1, MAX_PAGE)
    lang = language()
    wanted = classes()
    etag = request_etag("html")
    cached = not_modified(etag)
    if cached is not None:
        return cached
    found: list[Result] = []
    more = False
    if text:
        index = current_index()
        lookup = Lookup(
            text,
            classes=wanted,
            lang=lang,
            limit=PAGE_SIZE + 1,
            offset=(number - 1) * PAGE_SIZE,
        )
        found = results(index, index.search(lookup), Labeller.for_request().languages)
        more = len(found) > PAGE_SIZE
        found = found[:PAGE_SIZE]
    params = {"q": text, "lang": lang, "type": list(request.args.getlist("type"))}
    html = render_template(
        "search.html",
        query=text,
        lang=lang,
        languages=OSCE_LANGUAGES,
        results=found,
        page=number,
        first=(number - 1) * PAGE_SIZE + 1,
        previous=urls.search_url(**params, page=number - 1) if number > 1 else None,
        following=urls.search_url(**params, page=number + 1) if more else None,
    )
    response = Response(html, content_type=HTML.content_type)
    response.vary.add("Accept-Language")
    return finish_validated(response, etag)
