"""Dereferences entity URIs: /id (303 by negotiation), /page (HTML) and /data (RDF) documents."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import pyoxigraph as ox
from flask import Blueprint, Response, abort, current_app, g, render_template, request

from kg.rdf.uris import entity_iri, graph_iri
from kg.rdf.vocab import PREFIXES
from server import conneg, urls
from server.labels import Labeller, Link, Value, labels_of, short_name
from server.sections import Section, sections_for
from server.store import ask, construct, current_build, select

bp = Blueprint("entities", __name__)

RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
#: Properties listed first on an entity page, in this order: what it is, then what it is called.
FIRST_PROPERTIES = (
    RDF_TYPE,
    RDFS_LABEL,
    "http://www.w3.org/2004/02/skos/core#prefLabel",
    "https://schema.org/name",
    "https://schema.org/headline",
)


# The entity's triples, labels of what it links to, and the description of its blank nodes.
_OUTGOING_QUERY = """
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX schema: <https://schema.org/>
CONSTRUCT { ?s ?p ?o . ?o ?op ?oo . } WHERE {
  ?s ?p ?o .
  OPTIONAL {
    ?o ?op ?oo .
    FILTER(isBlank(?o) || (?op IN (rdfs:label, skos:prefLabel, schema:name)))
  }
}"""

_INCOMING_QUERY = (
    "SELECT DISTINCT ?s ?x ?p WHERE { ?x ?p ?s . FILTER(!isBlank(?x)) } ORDER BY ?x ?p"
)

_STATEMENTS_QUERY = "SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?p ?o ?g"

_EXISTS_QUERY = "ASK { ?s ?p ?o }"

_COORDINATES_QUERY = """
PREFIX wgs: <http://www.w3.org/2003/01/geo/wgs84_pos#>
PREFIX schema: <https://schema.org/>
PREFIX geo: <http://www.opengis.net/ont/geosparql#>
SELECT ?s ?lat ?long ?wkt WHERE {
  { ?s wgs:lat ?lat ; wgs:long ?long }
  UNION { ?s schema:latitude ?lat ; schema:longitude ?long }
  UNION { ?s geo:hasGeometry/geo:asWKT ?wkt }
} LIMIT 1"""


#: The forms of an entity document, HTML first (for browsers and clients that take anything).
RDF_FORMATS: dict[conneg.Offer, ox.RdfFormat] = {
    conneg.TURTLE: ox.RdfFormat.TURTLE,
    conneg.N_TRIPLES: ox.RdfFormat.N_TRIPLES,
    conneg.JSON_LD: ox.RdfFormat.JSON_LD,
    conneg.RDF_XML: ox.RdfFormat.RDF_XML,
}
HTML = conneg.HTML
DOCUMENT_OFFERS: tuple[conneg.Offer, ...] = (HTML, *RDF_FORMATS)


def negotiate_format(offers: tuple[conneg.Offer, ...] = DOCUMENT_OFFERS) -> conneg.Offer:
    """The form a request asks for: ``?format=`` first, then Accept; none or ``*/*``: the first."""
    return conneg.negotiate(
        offers, accept=request.headers.get("Accept"), format_param=request.args.get("format")
    )


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
    response.make_conditional(request)
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
    response.make_conditional(request)
    return response


def other_forms(url_of: Callable[..., str], chosen: conneg.Offer) -> list[tuple[str, str]]:
    """Links to the other forms of a negotiated document; ``url_of`` takes ``extension=``."""
    return [
        (url_of(extension=offer.key), offer.media_type)
        for offer in DOCUMENT_OFFERS
        if offer is not chosen
    ]


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


#: The highest ``?page=`` of incoming links accepted.
MAX_PAGE = 1_000_000


def page_number() -> int:
    """The ``?page=`` of incoming links (1 when absent); 400 when it is not a positive number."""
    raw = request.args.get("page", "1")
    # isdecimal() alone admits digits int() refuses ("²") and numbers too big to slice with
    if not (raw.isascii() and raw.isdecimal()) or not 1 <= int(raw) <= MAX_PAGE:
        abort(400, f"page {raw!r} is not a whole number from 1 to {MAX_PAGE}")
    return int(raw)


def incoming_links(
    node: ox.NamedNode, page: int
) -> tuple[list[tuple[ox.NamedNode, ox.NamedNode]], bool]:
    """One page of (subject, predicate) pairs pointing at an entity, and whether more follow."""
    size: int = current_app.config["PAGE_SIZE"]
    rows = select(_INCOMING_QUERY, {"s": node})
    start = (page - 1) * size
    chunk = [(row["x"], row["p"]) for row in itertools.islice(rows, start, start + size + 1)]
    return chunk[:size], len(chunk) > size


def describe_entity(node: ox.NamedNode, page: int) -> list[ox.Triple]:
    """The data document: own triples, labels of linked things, one page of incoming links."""
    triples = dict.fromkeys(construct(_OUTGOING_QUERY, {"s": node}))
    label_predicate = ox.NamedNode(RDFS_LABEL)
    incoming, _ = incoming_links(node, page)
    for subject, predicate in incoming:
        triples[ox.Triple(subject, predicate, node)] = None
        for label in labels_of(subject):
            triples[ox.Triple(subject, label_predicate, label)] = None
    return list(triples)


def alternates_of(kind: str, key: str, page: int) -> list[tuple[str, str]]:
    """Links to every form of an entity's document (HTML page first)."""
    links = [(urls.page_url(kind, key, page=page), HTML.media_type)]
    return links + [
        (urls.data_url(kind, key, offer.key, page=page), offer.media_type) for offer in RDF_FORMATS
    ]


@bp.get("/id/<kind>/<key>")
def resolve(kind: str, key: str) -> Response:
    """An entity URI names a thing: 303 to the document in the negotiated form."""
    offer = negotiate_format()
    g.document_format = offer
    lookup_entity(kind, key)
    target = urls.page_url(kind, key) if offer is HTML else urls.data_url(kind, key, offer.key)
    response = Response(status=303, headers={"Location": target})
    response.vary.add("Accept")
    return response


@bp.get("/data/<kind>/<name>")
def data(kind: str, name: str) -> Response:
    """An RDF document about an entity, in the form its extension names."""
    key, _, extension = name.rpartition(".")
    offer = conneg.find_offer(tuple(RDF_FORMATS), extension) if key else None
    if offer is None or offer.key != extension:
        abort(404, f"no document {name!r}: use one of .ttl, .nt, .jsonld, .rdf")
    g.document_format = offer
    node = lookup_entity(kind, key)
    page = page_number()
    etag = current_build().etag_for("data", kind, key, offer.key, str(page))
    cached = not_modified(etag)
    if cached is not None:
        return cached
    response = rdf_response(describe_entity(node, page), offer)
    alternates = [a for a in alternates_of(kind, key, page) if a[1] != offer.media_type]
    finished = finish_document(
        response,
        etag,
        location=urls.data_url(kind, key, offer.key, page=page),
        alternates=alternates,
    )
    _, more = incoming_links(node, page)
    if more:
        following = urls.data_url(kind, key, offer.key, page=page + 1)
        finished.headers["Link"] += f', <{following}>; rel="next"'
    return finished


@bp.get("/page/<kind>/<key>")
def page(kind: str, key: str) -> Response:
    """The HTML page about an entity, in the language the browser asks for."""
    g.document_format = HTML
    node = lookup_entity(kind, key)
    number = page_number()
    languages = ",".join(request.accept_languages.values())
    etag = current_build().etag_for("page", kind, key, str(number), languages)
    cached = not_modified(etag)
    if cached is not None:
        return cached
    view = EntityView.build(node, kind, key, number)
    response = Response(render_template("entity.html", view=view), content_type=HTML.content_type)
    response.vary.add("Accept-Language")
    return finish_document(
        response,
        etag,
        location=urls.page_url(kind, key, page=number),
        alternates=alternates_of(kind, key, number)[1:],
    )


@dataclass(frozen=True)
class SourcedValue:
    """One value of a property and the named graphs (releases) it came from."""

    value: Value
    sources: tuple[Link, ...]


@dataclass(frozen=True)
class Statement:
    """One property of the entity with all its values."""

    predicate: Link
    values: tuple[SourcedValue, ...]


@dataclass(frozen=True)
class EntityView:
    """Everything the entity page shows."""

    iri: str
    label: str
    types: tuple[Link, ...]
    sections: tuple[Section, ...]
    statements: tuple[Statement, ...]
    single_source: Link | None  # when every statement comes from one graph, said once
    incoming: tuple[tuple[Link, Link], ...]
    page: int
    previous_url: str | None
    next_url: str | None
    coordinates: tuple[str, ...]
    formats: tuple[Link, ...]
    sparql_url: str

    @classmethod
    def build(cls, node: ox.NamedNode, kind: str, key: str, page: int) -> EntityView:
        labeller = Labeller.for_request()
        rows = statement_rows(node)
        types = [obj for (predicate, obj) in rows if predicate.value == RDF_TYPE]
        incoming, more = incoming_links(node, page)
        statements = group_statements(rows, labeller)
        return cls(
            iri=node.value,
            label=labeller.label(node),
            types=tuple(labeller.class_link(t) for t in types if isinstance(t, ox.NamedNode)),
            sections=sections_for(node, frozenset(t.value for t in types), labeller),
            statements=statements,
            single_source=single_source(statements),
            incoming=tuple((labeller.link(s), labeller.link(p)) for s, p in incoming),
            page=page,
            previous_url=urls.page_url(kind, key, page=page - 1) if page > 1 else None,
            next_url=urls.page_url(kind, key, page=page + 1) if more else None,
            coordinates=coordinates_of(node),
            formats=tuple(
                Link(offer.key, urls.data_url(kind, key, offer.key)) for offer in RDF_FORMATS
            ),
            sparql_url=urls.sparql_url(f"DESCRIBE <{node.value}>"),
        )


StatementRows = dict[
    tuple[ox.NamedNode, ox.NamedNode | ox.BlankNode | ox.Literal], list[ox.NamedNode]
]


def statement_rows(node: ox.NamedNode) -> StatementRows:
    """Each (predicate, object) of the entity with the named graphs it is stated in."""
    grouped: StatementRows = {}
    for row in select(_STATEMENTS_QUERY, {"s": node}, union=False):
        grouped.setdefault((row["p"], row["o"]), []).append(row["g"])
    return grouped


def group_statements(rows: StatementRows, labeller: Labeller) -> tuple[Statement, ...]:
    """One statement per property, its values in order: type first, then labels, then by name."""
    values: dict[ox.NamedNode, list[SourcedValue]] = {}
    for (predicate, obj), graphs in rows.items():
        sources = tuple(source_link(graph, labeller) for graph in graphs)
        values.setdefault(predicate, []).append(SourcedValue(labeller.value(obj), sources))
    ranks = {iri: rank for rank, iri in enumerate(FIRST_PROPERTIES)}

    def order(predicate: ox.NamedNode) -> tuple[int, str]:
        return ranks.get(predicate.value, len(ranks)), labeller.label(predicate).casefold()

    return tuple(
        Statement(
            labeller.link(predicate),
            tuple(sorted(values[predicate], key=lambda v: (v.value.note, v.value.text.casefold()))),
        )
        for predicate in sorted(values, key=order)
    )


def single_source(statements: tuple[Statement, ...]) -> Link | None:
    """The one source of all statements, or None when they come from several (or none)."""
    sources = {source for s in statements for value in s.values for source in value.sources}
    return sources.pop() if len(sources) == 1 else None


def source_link(graph: ox.NamedNode, labeller: Labeller) -> Link:
    """What the named graph a statement is in stands for: its release (linked), or its name."""
    prefix = str(graph_iri("release", base=urls.base())) + "/"
    key = graph.value.removeprefix(prefix)
    if key != graph.value:
        try:
            release = ox.NamedNode(str(entity_iri("release", key, base=urls.base())))
        except ValueError:
            return Link(f"release graph {key}", None)
        return Link(labeller.label(release), urls.id_url("release", key))
    return Link(f"{short_name(graph)} graph", None)


def coordinates_of(node: ox.NamedNode) -> tuple[str, ...]:
    """``(lat, long)`` or ``(wkt,)`` when the entity has a position, else ``()``."""
    for row in select(_COORDINATES_QUERY, {"s": node}):
        if row["wkt"] is not None:
            return (row["wkt"].value,)
        return (row["lat"].value, row["long"].value)
    return ()
