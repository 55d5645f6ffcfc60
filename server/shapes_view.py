"""The SHACL shapes shipped with the package: parsed once, listed per node shape."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox
from flask import current_app

from kg.resources import shapes_dir, turtle_files
from server import urls
from server.labels import short_name
from server.prefixes import with_prefixes

SHAPES_KEY = "osce_kg_shapes"

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


_OWNERS_QUERY = with_prefixes(
    "SELECT ?node ?property WHERE { ?node a sh:NodeShape OPTIONAL { ?node sh:property ?property } }"
    " ORDER BY ?node"
)


def shape_anchors(triples: list[ox.Triple]) -> dict[str, str]:
    """Per shape IRI, the anchor of its entry on /shapes: a node shape's own name, a property
    shape's first node shape (a property shape may serve several)."""
    store = ox.Store()
    store.extend(ox.Quad(t.subject, t.predicate, t.object) for t in triples)
    rows = store.query(_OWNERS_QUERY)
    assert isinstance(rows, ox.QuerySolutions)
    anchors: dict[str, str] = {}
    for row in rows:
        anchors.setdefault(row["node"].value, short_name(row["node"]))
        if row["property"] is not None:
            anchors.setdefault(row["property"].value, short_name(row["node"]))
    return anchors
