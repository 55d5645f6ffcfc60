"""The site's own pages: home, ontology documentation, SHACL shapes and health."""

from __future__ import annotations

import json

import pyoxigraph as ox
from flask import Blueprint, Response, jsonify, render_template, request

from kg.rdf.uris import graph_iri
from kg.rdf.vocab import OWL
from server import urls
from server.cache import cached_document
from server.documents import context_document
from server.examples import example_queries
from server.labels import Labeller
from server.ontology_view import ontology_view
from server.responses import (
    HTML,
    finish_document,
    finish_negotiated,
    negotiate_document,
    not_modified,
    rdf_response,
)
from server.result_view import result_rows
from server.shapes_view import shape_views, shipped_shapes
from server.shortnames import browse_link
from server.store import construct, current_build, select

bp = Blueprint("pages", __name__)
# The query page (the sparql blueprint's template) shows result cells by label: a template
# global, so the sparql blueprint stays free of page rendering.
bp.add_app_template_global(result_rows, "result_rows")

# Things by class; the ontology's own terms (typed with OWL) are documented on /ontology instead.
# ?owl is bound to OWL's namespace (a binding must be projected, so it is grouped by too).
_CLASS_COUNTS_QUERY = """
SELECT ?owl ?class (COUNT(DISTINCT ?s) AS ?n) WHERE {
  ?s a ?class .
  FILTER(!STRSTARTS(STR(?class), ?owl))
}
GROUP BY ?owl ?class ORDER BY DESC(?n) ?class"""

_GRAPH_QUERY = "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }"


@bp.get("/")
def home() -> Response:
    """What the dataset is, counts by class, example queries and how to download it."""
    return cached_document(HTML.media_type, home_page)  # made once per build and language


def home_page() -> Response:
    """The home page, made from the store."""
    build = current_build()
    labeller = Labeller.for_request()
    rows = select(_CLASS_COUNTS_QUERY, {"owl": ox.Literal(str(OWL))})
    counts = [
        (labeller.class_link(row["class"]), int(row["n"].value), browse_link(row["class"].value))
        for row in rows
    ]
    examples = [(title, query, urls.sparql_url(query)) for _, title, query in example_queries()]
    html = render_template(
        "index.html", counts=counts, examples=examples, summary=build.summary, build=build
    )
    return Response(html, content_type=HTML.content_type)


@bp.get("/context.jsonld")
def jsonld_context() -> Response:
    """The JSON-LD context the data documents refer to (the project's prefixes)."""
    etag = current_build().etag_for("context.jsonld")
    cached = not_modified(etag)
    if cached is not None:
        return cached
    body = Response(json.dumps(context_document(), indent=2), content_type="application/ld+json")
    return finish_document(body, etag, location=urls.context_url(), alternates=[])


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
        view = ontology_view(graph, Labeller.for_request())
        body = Response(render_template("ontology.html", view=view), content_type=HTML.content_type)
        body.vary.add("Accept-Language")
    else:
        body = rdf_response(construct(_GRAPH_QUERY, {"g": graph}, union=False), fmt)
    return finish_negotiated(body, etag, fmt, urls.ontology_url)


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
