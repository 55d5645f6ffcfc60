"""What an entity's documents show: its data, one page of incoming links, and its page's view."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox
from flask import render_template
from rdflib.namespace import GEO as GEOSPARQL

from kg.rdf.uris import entity_iri, parse_graph_iri
from kg.rdf.vocab import PREFIXES, RDF, RDFS, SCHEMA, SKOS
from server import conneg, urls
from server.labels import Labeller, Link, Value, labels_of, short_name
from server.limits import current_limits
from server.prefixes import with_prefixes
from server.release_view import ReleaseSummary, release_summary
from server.responses import RDF_FORMATS
from server.schema_org import schema_org
from server.sections import RELEASES, Section, sections_for
from server.store import construct, links_into, select

#: Every form of an entity's data document: the graph forms, then the dataset forms (TriG,
#: N-Quads) that keep each statement in the named graph (release) that states it.
ENTITY_FORMATS: dict[conneg.Offer, ox.RdfFormat] = {
    **RDF_FORMATS,
    conneg.TRIG: ox.RdfFormat.TRIG,
    conneg.N_QUADS: ox.RdfFormat.N_QUADS,
}

RDF_TYPE = str(RDF.type)
#: Properties listed first on an entity page, in this order: what it is, then what it is called.
FIRST_PROPERTIES = tuple(
    str(term) for term in (RDF.type, RDFS.label, SKOS.prefLabel, SCHEMA.name, SCHEMA.headline)
)

# The entity's triples, labels of what it links to, and the description of its blank nodes.
_OUTGOING_QUERY = with_prefixes("""
CONSTRUCT { ?s ?p ?o . ?o ?op ?oo . } WHERE {
  ?s ?p ?o .
  OPTIONAL {
    ?o ?op ?oo .
    FILTER(isBlank(?o) || (?op IN (rdfs:label, skos:prefLabel, schema:name)))
  }
}""")

_STATEMENTS_QUERY = "SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?p ?o ?g"

# geo: is W3C Basic Geo (WGS84) in the project's prefixes; GeoSPARQL gets a name of its own.
_COORDINATES_QUERY = with_prefixes(
    """
SELECT ?s ?lat ?long ?wkt WHERE {
  { ?s geo:lat ?lat ; geo:long ?long }
  UNION { ?s schema:latitude ?lat ; schema:longitude ?long }
  UNION { ?s geosparql:hasGeometry/geosparql:asWKT ?wkt }
} LIMIT 1""",
    {**PREFIXES, "geosparql": str(GEOSPARQL)},
)


@dataclass(frozen=True)
class IncomingLinks:
    """One page of (subject, predicate) pairs pointing at an entity, and whether more follow."""

    links: tuple[tuple[ox.NamedNode, ox.NamedNode], ...]
    more: bool


def incoming_links(node: ox.NamedNode, page: int) -> IncomingLinks:
    """The links into an entity on page ``page`` (from 1), the page size the limits give."""
    size = current_limits().page_size
    rows = links_into(node, offset=(page - 1) * size, limit=size + 1)
    return IncomingLinks(tuple(rows[:size]), len(rows) > size)


def describe_entity(node: ox.NamedNode, incoming: IncomingLinks) -> list[ox.Triple]:
    """The data document: own triples, labels of linked things, one page of incoming links."""
    triples = dict.fromkeys(construct(_OUTGOING_QUERY, {"s": node}))
    label_predicate = ox.NamedNode(str(RDFS.label))
    for subject, predicate in incoming.links:
        triples[ox.Triple(subject, predicate, node)] = None
        for label in labels_of(subject):
            triples[ox.Triple(subject, label_predicate, label)] = None
    return list(triples)


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
class DocumentForm:
    """One form of the entity's data document: its short name, URL and media type."""

    text: str
    url: str
    media_type: str


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
    formats: tuple[DocumentForm, ...]
    sparql_url: str
    release: ReleaseSummary | None = None  # for a press release: its head, shown first
    schema_org: dict[str, Any] = field(default_factory=dict)  # embedded as JSON-LD

    @classmethod
    def build(cls, node: ox.NamedNode, kind: str, key: str, page: int) -> EntityView:
        labeller = Labeller.for_request()
        rows = statement_rows(node)
        types = [obj for (predicate, obj) in rows if predicate.value == RDF_TYPE]
        incoming = incoming_links(node, page)
        statements = group_statements(rows, labeller)
        type_iris = frozenset(t.value for t in types)
        release = release_summary(node, labeller) if type_iris & RELEASES else None
        coordinates = coordinates_of(node)
        return cls(
            iri=node.value,
            label=labeller.label(node),
            types=tuple(labeller.class_link(t) for t in types if isinstance(t, ox.NamedNode)),
            sections=sections_for(node, type_iris, labeller),
            statements=statements,
            single_source=single_source(statements),
            incoming=tuple((labeller.link(s), labeller.link(p)) for s, p in incoming.links),
            page=page,
            previous_url=urls.page_url(kind, key, page=page - 1) if page > 1 else None,
            next_url=urls.page_url(kind, key, page=page + 1) if incoming.more else None,
            coordinates=coordinates,
            formats=tuple(
                DocumentForm(offer.key, urls.data_url(kind, key, offer.key), offer.media_type)
                for offer in ENTITY_FORMATS
            ),
            sparql_url=urls.sparql_url(f"DESCRIBE <{node.value}>"),
            release=release,
            schema_org=schema_org(
                node, type_iris, labeller, release=release, coordinates=coordinates
            ),
        )


def render_page(view: EntityView) -> str:
    """The HTML of an entity page (what ``/page/{kind}/{key}`` answers, and the static export
    writes)."""
    return render_template("entity.html", view=view)


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
    parsed = parse_graph_iri(graph.value, base=urls.base())
    if parsed is not None and parsed[0] == "release" and parsed[1] is not None:
        key = parsed[1]
        release = ox.NamedNode(str(entity_iri("release", key, base=urls.base())))
        return Link(labeller.label(release), urls.id_url("release", key))
    return Link(f"{short_name(graph)} graph", None)


def coordinates_of(node: ox.NamedNode) -> tuple[str, ...]:
    """``(lat, long)`` or ``(wkt,)`` when the entity has a position, else ``()``."""
    for row in select(_COORDINATES_QUERY, {"s": node}):
        if row["wkt"] is not None:
            return (row["wkt"].value,)
        return (row["lat"].value, row["long"].value)
    return ()
