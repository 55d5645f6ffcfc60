"""The site's own pages: home, ontology documentation, SHACL shapes and health."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, jsonify, render_template, request

from kg.rdf.uris import graph_iri
from kg.rdf.vocab import OWL, RDFS, SKOS
from kg.resources import shapes_dir, turtle_files
from server import urls
from server.cache import cached_document
from server.examples import example_queries
from server.labels import Labeller, Link, short_name
from server.prefixes import with_prefixes
from server.responses import HTML, finish_negotiated, negotiate_document, not_modified, rdf_response
from server.store import construct, current_build, select

bp = Blueprint("pages", __name__)

SHAPES_KEY = "osce_kg_shapes"

# Things by class; the ontology's own terms (typed with OWL) are documented on /ontology instead.
# ?owl is bound to OWL's namespace (a binding must be projected, so it is grouped by too).
_CLASS_COUNTS_QUERY = """
SELECT ?owl ?class (COUNT(DISTINCT ?s) AS ?n) WHERE {
  ?s a ?class .
  FILTER(!STRSTARTS(STR(?class), ?owl))
}
GROUP BY ?owl ?class ORDER BY DESC(?n) ?class"""

_GRAPH_QUERY = "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }"

_TERMS_QUERY = with_prefixes("""
SELECT DISTINCT ?g ?term ?type WHERE {
  GRAPH ?g { ?term a ?type }
  FILTER(isIRI(?term) && ?type IN (owl:Class, rdfs:Class, owl:ObjectProperty,
         owl:DatatypeProperty, owl:AnnotationProperty, rdf:Property))
} ORDER BY ?type ?term""")

_TERM_QUERY = "SELECT ?g ?term ?p ?o WHERE { GRAPH ?g { ?term ?p ?o } }"

_SHAPES_QUERY = with_prefixes("""
SELECT ?shape ?target ?path ?constraint ?value WHERE {
  ?shape a sh:NodeShape .
  OPTIONAL { ?shape sh:targetClass ?target }
  OPTIONAL {
    ?shape sh:property ?property .
    ?property sh:path ?path .
    OPTIONAL { ?property ?constraint ?value . FILTER(?constraint != sh:path && !isBlank(?value)) }
  }
} ORDER BY ?shape ?path ?constraint""")

TERM_FIELDS = {
    str(RDFS.domain): "domain",
    str(RDFS.range): "range",
    str(RDFS.subClassOf): "subclass of",
    str(RDFS.subPropertyOf): "subproperty of",
    str(OWL.equivalentClass): "equivalent to",
}
DEFINITIONS = (str(SKOS.definition), str(RDFS.comment))


@dataclass(frozen=True)
class Term:
    """One ontology term as documented on /ontology."""

    anchor: str
    iri: str
    label: str
    kind: str
    definition: str
    relations: tuple[tuple[str, Link], ...]


@bp.get("/")
def home() -> Response:
    """What the dataset is, counts by class, example queries and how to download it."""
    return cached_document(HTML.media_type, home_page)  # made once per build and language


def home_page() -> Response:
    """The home page, made from the store."""
    build = current_build()
    labeller = Labeller.for_request()
    rows = select(_CLASS_COUNTS_QUERY, {"owl": ox.Literal(str(OWL))})
    counts = [(labeller.class_link(row["class"]), int(row["n"].value)) for row in rows]
    examples = [(title, query, urls.sparql_url(query)) for _, title, query in example_queries()]
    html = render_template(
        "index.html", counts=counts, examples=examples, summary=build.summary, build=build
    )
    return Response(html, content_type=HTML.content_type)


@bp.get("/healthz")
def health() -> Response:
    """JSON status: the build served and whether its store answers."""
    build = current_build()
    store_ok = isinstance(bool(build.store.query("ASK { ?s ?p ?o }")), bool)
    return jsonify(
        status="ok" if store_ok else "failing",
        build=build.build_id,
        built_at=build.built_at.isoformat(),
        base=urls.base(),
        store=build.store_facts.as_json(),
    )


@bp.get("/ontology")
def ontology() -> Response:
    """HTML documentation of every term of the ontology, or the ontology as RDF."""
    fmt = negotiate_document()
    etag = current_build().etag_for("ontology", fmt.key, *request.accept_languages.values())
    cached = not_modified(etag)
    if cached is not None:
        return cached
    graph = ox.NamedNode(str(graph_iri("ontology", base=urls.base())))
    if fmt is HTML:
        terms = ontology_terms(graph, Labeller.for_request())
        body = Response(
            render_template("ontology.html", terms=terms), content_type=HTML.content_type
        )
        body.vary.add("Accept-Language")
    else:
        body = rdf_response(construct(_GRAPH_QUERY, {"g": graph}, union=False), fmt)
    return finish_negotiated(body, etag, fmt, urls.ontology_url)


def ontology_terms(graph: ox.NamedNode, labeller: Labeller) -> list[Term]:
    """Every class and property of the ontology graph with its label, definition and relations."""
    terms: dict[str, Term] = {}
    for row in select(_TERMS_QUERY, {"g": graph}, union=False):
        term = row["term"]
        if term.value in terms:
            continue
        facts = [
            (r["p"].value, r["o"])
            for r in select(_TERM_QUERY, {"g": graph, "term": term}, union=False)
        ]
        definitions = [o for p, o in facts if p in DEFINITIONS and isinstance(o, ox.Literal)]
        relations = tuple(
            (TERM_FIELDS[p], labeller.link(o))
            for p, o in facts
            if p in TERM_FIELDS and isinstance(o, ox.NamedNode)
        )
        terms[term.value] = Term(
            anchor=short_name(term),
            iri=term.value,
            label=labeller.label(term),
            kind=short_name(row["type"]),
            definition=labeller.choose(definitions) or "",
            relations=tuple(sorted(relations, key=lambda r: (r[0], r[1].text))),
        )
    return list(terms.values())


def shipped_shapes() -> list[ox.Triple]:
    """The SHACL shapes shipped with the package, parsed once."""
    if SHAPES_KEY not in current_app.extensions:
        triples: list[ox.Triple] = []
        for path in turtle_files(shapes_dir()):
            parsed = ox.parse(path.read_bytes(), format=ox.RdfFormat.TURTLE, base_iri=urls.base())
            triples.extend(quad.triple for quad in parsed)
        current_app.extensions[SHAPES_KEY] = triples
    shapes: list[ox.Triple] = current_app.extensions[SHAPES_KEY]
    return shapes


@bp.get("/shapes")
def shapes() -> Response:
    """The SHACL shapes every build is validated against: Turtle, or an HTML list."""
    fmt = negotiate_document()
    etag = current_build().etag_for("shapes", fmt.key)
    cached = not_modified(etag)
    if cached is not None:
        return cached
    triples = shipped_shapes()
    if fmt is HTML:
        body = Response(
            render_template("shapes.html", shapes=shape_views(triples)),
            content_type=HTML.content_type,
        )
    else:
        body = rdf_response(triples, fmt)
    return finish_negotiated(body, etag, fmt, urls.shapes_url)


@dataclass
class ShapeView:
    """One node shape as listed on /shapes: its target classes and its property constraints."""

    name: str
    targets: set[str] = field(default_factory=set)
    paths: dict[str, list[str]] = field(default_factory=dict)


def shape_views(triples: list[ox.Triple]) -> list[ShapeView]:
    """Per node shape: its target classes and, per property path, its constraints."""
    store = ox.Store()
    store.extend(ox.Quad(t.subject, t.predicate, t.object) for t in triples)
    rows = store.query(_SHAPES_QUERY)
    assert isinstance(rows, ox.QuerySolutions)
    found: dict[str, ShapeView] = {}
    for row in rows:
        name = short_name(row["shape"])
        shape = found.setdefault(name, ShapeView(name))
        if row["target"] is not None:
            shape.targets.add(short_name(row["target"]))
        if row["path"] is not None:
            constraints = shape.paths.setdefault(short_name(row["path"]), [])
            if row["constraint"] is not None:
                value = short_name_or_value(row["value"])
                constraints.append(f"{short_name(row['constraint'])} {value}")
    return sorted(found.values(), key=lambda shape: shape.name)


def short_name_or_value(term: ox.NamedNode | ox.Literal) -> str:
    return term.value if isinstance(term, ox.Literal) else short_name(term)
