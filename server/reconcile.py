"""The W3C Entity Reconciliation API (versions 0.1 and 0.2, as OpenRefine uses it): manifest,
batch queries with type and property constraints, preview and suggest services."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox
from flask import Blueprint, Response, abort, render_template, request

from kg.publish.search_index import Hit, Lookup, SearchIndex, choose_name, fold
from kg.rdf.vocab import OWL, RDF, RDFS
from server import urls
from server.label_search import current_index, type_ref
from server.labels import Labeller
from server.params import whole_number
from server.responses import HTML, finish_validated, request_etag
from server.shortnames import entity_iri, entity_name, named_node, term_iri, term_name
from server.store import select

bp = Blueprint("reconcile", __name__)

#: Queries one request may hold (OpenRefine sends 10 at a time by default).
MAX_QUERIES = 100
DEFAULT_LIMIT = 5
MAX_LIMIT = 50
MAX_QUERY = 500
#: How far suggestions page (``cursor=``).
MAX_CURSOR = 10_000
#: How much the property constraints weigh in a score when a query has some.
PROPERTY_WEIGHT = 0.3
#: JSONP callback names accepted: a dotted JavaScript identifier, nothing that could run code.
CALLBACK = re.compile(r"[A-Za-z_$][\w$]{0,63}(?:\.[A-Za-z_$][\w$]{0,63}){0,3}")
CLASS_TYPES = (str(OWL.Class), str(RDFS.Class))
PROPERTY_TYPES = (
    str(OWL.ObjectProperty),
    str(OWL.DatatypeProperty),
    str(OWL.AnnotationProperty),
    str(RDF.Property),
)
#: The types offered first in OpenRefine's reconciliation dialog.
DEFAULT_TYPES = (
    "ParticipatingState",
    "Person",
    "Structure",
    "City",
    "PressRelease",
    "FieldOfWork",
)

# ?s and ?p are bound, so projected (pyoxigraph substitutes projected variables only)
_VALUES_QUERY = "SELECT DISTINCT ?o ?s ?p WHERE { ?s ?p ?o }"


@dataclass(frozen=True)
class Query:
    """One reconciliation query: the text, the types, property constraints, how many."""

    text: str
    types: tuple[str, ...]
    properties: tuple[tuple[str, tuple[Any, ...]], ...]
    limit: int


@bp.route("/reconcile", methods=["GET", "POST"])
def service() -> Response:
    """The service manifest (no query), or the answers to ``queries`` (a JSON batch) or to
    ``query`` (one query, the older form)."""
    form = request.form if request.method == "POST" else request.args
    if "queries" in form:
        batch = parse_json(form["queries"], "queries")
        if not isinstance(batch, dict):
            abort(400, 'queries must be a JSON object such as {"q0": {"query": "Vienna"}}')
        if len(batch) > MAX_QUERIES:
            abort(400, f"{len(batch)} queries in one request; send at most {MAX_QUERIES}")
        index = current_index()
        answer = {
            str(key): {"result": reconcile(index, read_query(value, str(key)))}
            for key, value in batch.items()
        }
        return json_answer(answer)
    if "query" in form:
        raw = form["query"]
        value = parse_json(raw, "query") if raw.lstrip().startswith("{") else raw
        return json_answer({"result": reconcile(current_index(), read_query(value, "query"))})
    return json_answer(manifest())


def manifest() -> dict[str, Any]:
    """What OpenRefine reads when the service is added: names, id spaces, services."""
    root = request.host_url.rstrip("/")
    service_url = root + urls.reconcile_url()
    index = current_index()
    languages = Labeller.for_request().languages
    return {
        "versions": ["0.1", "0.2"],
        "name": "OSCE knowledge graph",
        "identifierSpace": urls.base() + "id/",
        "schemaSpace": urls.base() + "ontology#",
        "defaultTypes": [
            {"id": ref.id, "name": ref.label}
            for ref in (type_ref(index, term_iri(t) or t, languages) for t in DEFAULT_TYPES)
        ],
        "view": {"url": root + urls.id_prefix() + "{{id}}"},
        "preview": {"url": service_url + "/preview?id={{id}}", "width": 430, "height": 160},
        "suggest": {
            kind: {"service_url": service_url, "service_path": f"/suggest/{kind}"}
            for kind in ("entity", "type", "property")
        },
    }


def parse_json(raw: str, name: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError as error:
        abort(400, f"{name} is not valid JSON ({error}); see {urls.reconcile_url()}")


def read_query(value: Any, key: str) -> Query:
    """A query as the API writes it: a string, or an object with query, type, properties,
    limit; 400 naming the query and field when one is malformed."""
    if isinstance(value, str):
        value = {"query": value}
    if not isinstance(value, dict):
        abort(400, f"query {key!r} must be a JSON object or a string")
    text = value.get("query", "")
    if not isinstance(text, str) or len(text) > MAX_QUERY:
        abort(400, f"query {key!r}: field 'query' must be text of at most {MAX_QUERY} characters")
    limit = value.get("limit", DEFAULT_LIMIT)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        abort(400, f"query {key!r}: field 'limit' must be a whole number from 1 to {MAX_LIMIT}")
    given = value.get("type")
    names = given if isinstance(given, list) else [] if given in (None, "") else [given]
    if not all(isinstance(name, str) for name in names):
        abort(400, f"query {key!r}: field 'type' must be a type id or a list of type ids")
    properties = []
    for number, constraint in enumerate(value.get("properties") or []):
        pid = constraint.get("pid") if isinstance(constraint, dict) else None
        if not isinstance(pid, str) or "v" not in constraint:
            abort(400, f"query {key!r}: properties[{number}] needs a 'pid' and a 'v'")
        wanted = constraint["v"]
        properties.append((pid, tuple(wanted if isinstance(wanted, list) else [wanted])))
    return Query(text.strip(), tuple(names), tuple(properties), limit)


def reconcile(index: SearchIndex, query: Query) -> list[dict[str, Any]]:
    """Candidates for one query, best first, with a score (0-100) and whether it is a match:
    the only candidate whose label is the text exactly and that meets every property."""
    classes = tuple(iri for iri in (term_iri(name) for name in query.types) if iri)
    if not query.text or (query.types and not classes):
        return []
    # more candidates than asked for: properties may reorder them, and a second exact name
    # must be seen to refuse an automatic match
    pool = max(4 * query.limit, 20) if query.properties else query.limit + 5
    hits = index.search(
        Lookup(query.text, classes=classes, prefix=False, any_word=True, limit=pool)
    )
    scored = []
    for hit in hits:
        met = properties_met(hit.iri, query.properties, index) if query.properties else 1.0
        score = hit.score
        if query.properties:
            score = (1 - PROPERTY_WEIGHT) * hit.score + PROPERTY_WEIGHT * 100 * met
        scored.append((round(score, 1), hit, hit.exact and met == 1.0))
    scored.sort(key=lambda item: -item[0])
    # counted before the cut: a second thing of the same name rules the match out even when
    # only one candidate is asked for
    exact = [item for item in scored if item[2]]
    languages = Labeller.for_request().languages
    return [
        candidate(hit, score, len(exact) == 1 and matched, index, languages)
        for score, hit, matched in scored[: query.limit]
    ]


def candidate(
    hit: Hit, score: float, match: bool, index: SearchIndex, languages: list[str]
) -> dict[str, Any]:
    types = [type_ref(index, iri, languages) for iri in hit.types]
    return {
        "id": entity_name(hit.iri),
        "name": hit.label(languages),
        "type": [{"id": ref.id, "name": ref.label} for ref in types],
        "score": score,
        "match": match,
        "description": ", ".join(ref.label for ref in types),
    }


def properties_met(
    iri: str, properties: tuple[tuple[str, tuple[Any, ...]], ...], index: SearchIndex
) -> float:
    """The share of property constraints a thing meets (a constraint with several values is met
    when the thing has any of them)."""
    met = 0
    for pid, wanted in properties:
        predicate = named_node(term_iri(pid))
        if predicate is None:
            continue  # no such property: the constraint cannot be met
        bindings = {"s": ox.NamedNode(iri), "p": predicate}
        values = [row["o"] for row in select(_VALUES_QUERY, bindings)]
        if any(value_fits(value, want, index) for value in values for want in wanted):
            met += 1
    return met / len(properties)


def value_fits(
    value: ox.NamedNode | ox.BlankNode | ox.Literal, wanted: Any, index: SearchIndex
) -> bool:
    """Whether a value of the thing is the one a constraint gives: an ``{"id": ...}`` is
    compared with the IRI; text with the literal or a label of the linked thing (folded)."""
    if isinstance(wanted, dict):
        given = wanted.get("id")
        return (
            isinstance(value, ox.NamedNode)
            and isinstance(given, str)
            and (value.value == entity_iri(given))
        )
    if isinstance(wanted, bool):
        wanted = "true" if wanted else "false"
    if not isinstance(wanted, str | int | float):
        return False
    text = fold(str(wanted))
    if isinstance(value, ox.Literal):
        return fold(value.value) == text
    if isinstance(value, ox.NamedNode):
        if fold(entity_name(value.value)) == text:
            return True
        return any(fold(name.text) == text for name in index.names_of(value.value))
    return False


@bp.get("/reconcile/suggest/<kind>")
def suggest(kind: str) -> Response:
    """Things, types or properties whose labels start with ``prefix`` (OpenRefine's boxes)."""
    if kind not in ("entity", "type", "property"):
        abort(404, f"no suggest service {kind!r}: use entity, type or property")
    prefix = request.args.get("prefix", "").strip()
    if len(prefix) > MAX_QUERY:
        abort(400, f"prefix is longer than {MAX_QUERY} characters")
    cursor = whole_number("cursor", 0, MAX_CURSOR, lowest=0)
    index = current_index()
    languages = Labeller.for_request().languages
    results: list[dict[str, Any]] = []
    if prefix:
        lookup = Lookup(prefix, limit=10, offset=cursor)
        if kind == "type":
            lookup = Lookup(prefix, terms=True, classes=CLASS_TYPES, limit=10, offset=cursor)
        elif kind == "property":
            lookup = Lookup(prefix, terms=True, classes=PROPERTY_TYPES, limit=10, offset=cursor)
        for hit in index.search(lookup):
            ident = entity_name(hit.iri) if kind == "entity" else term_name(hit.iri)
            types = [type_ref(index, iri, languages) for iri in hit.types]
            entry: dict[str, Any] = {"id": ident, "name": hit.label(languages)}
            if kind == "entity":
                entry["description"] = ", ".join(ref.label for ref in types)
                entry["notable"] = [{"id": ref.id, "name": ref.label} for ref in types]
            else:
                entry["description"] = hit.iri
            results.append(entry)
    return json_answer(
        {"code": "/api/status/ok", "status": "200 OK", "prefix": prefix, "result": results}
    )


@bp.get("/reconcile/preview")
def preview() -> Response:
    """A small HTML card about a thing, shown by OpenRefine when a candidate is hovered."""
    ident = request.args.get("id", "").strip()
    if not ident:
        abort(400, "give the id of the thing to preview, e.g. /reconcile/preview?id=state/at")
    iri = entity_iri(ident)
    index = current_index()
    names = index.names_of(iri)
    if not names:
        abort(404, f"no thing {ident!r} with a label in this dataset")
    languages = Labeller.for_request().languages
    label = choose_name(names, languages) or ident
    types = [type_ref(index, t, languages) for t in index.types_of(iri)]
    others = sorted({(n.lang, n.text) for n in names if n.text != label and n.lang})
    html = render_template(
        "reconcile_preview.html",
        label=label,
        iri=iri,
        url=urls.iri_link(iri),
        types=types,
        others=others,
    )
    response = Response(html, content_type=HTML.content_type)
    response.vary.add("Accept-Language")
    return finish_validated(response, request_etag("html"))


def json_answer(body: Any) -> Response:
    """JSON, or JSONP when a valid ``callback`` is given (older OpenRefine suggest boxes)."""
    text = json.dumps(body, ensure_ascii=False)
    callback = request.values.get("callback")
    if callback:
        if not CALLBACK.fullmatch(callback):
            abort(400, "callback must be a JavaScript function name")
        response = Response(
            f"/**/{callback}({text});", content_type="text/javascript; charset=utf-8"
        )
    else:
        response = Response(text, content_type="application/json")
    response.vary.add("Accept-Language")
    if request.method == "GET":
        return finish_validated(response, request_etag("json"))
    return response
