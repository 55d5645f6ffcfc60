"""Finds the IRI of a known thing (city, concept, organisation) from a label, by class."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

from kg.rdf.vocab import FOAF, OSCE, RDF, RDFS, SCHEMA, SKOS

#: properties whose values name a thing
LABEL_PROPERTIES = (
    RDFS.label,
    SKOS.prefLabel,
    SKOS.altLabel,
    SCHEMA.name,
    FOAF.name,
    OSCE.formerName,
    OSCE.abbreviation,
)


def normalise_label(text: str) -> str:
    """The form labels are compared in: case, accents and spacing do not matter."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(letters.replace("-", " ").split())


@dataclass(frozen=True)
class LabelIndex:
    """Labels of the things of a graph, with each thing's classes (asserted and inherited)."""

    things: Mapping[str, tuple[tuple[URIRef, frozenset[URIRef]], ...]]

    @classmethod
    def from_graphs(cls, data: Graph, ontology: Graph) -> LabelIndex:
        """Indexes every labelled IRI of ``data``; classes are closed over ``rdfs:subClassOf``."""
        superclasses = _superclass_closure(ontology)
        things: dict[str, dict[URIRef, frozenset[URIRef]]] = {}
        for prop in LABEL_PROPERTIES:
            for subject, label in data.subject_objects(prop):
                if not isinstance(subject, URIRef) or not isinstance(label, Literal):
                    continue
                classes = _classes_of(data, subject, superclasses)
                things.setdefault(normalise_label(str(label)), {})[subject] = classes
        return cls({label: tuple(sorted(found.items())) for label, found in things.items()})

    def find(self, label: str, *classes: URIRef) -> URIRef | None:
        """The one thing of one of ``classes`` with this label, or None (unknown or ambiguous)."""
        wanted = frozenset(classes)
        matches = [
            iri for iri, types in self.things.get(normalise_label(label), ()) if types & wanted
        ]
        return matches[0] if len(matches) == 1 else None


def _classes_of(
    data: Graph, subject: URIRef, superclasses: Mapping[Node, frozenset[URIRef]]
) -> frozenset[URIRef]:
    classes: set[URIRef] = set()
    for cls in data.objects(subject, RDF.type):
        if isinstance(cls, URIRef):
            classes.add(cls)
            classes |= superclasses.get(cls, frozenset())
    return frozenset(classes)


def _superclass_closure(ontology: Graph) -> dict[Node, frozenset[URIRef]]:
    direct: dict[Node, set[URIRef]] = {}
    for sub, sup in ontology.subject_objects(RDFS.subClassOf):
        if isinstance(sup, URIRef):
            direct.setdefault(sub, set()).add(sup)
    return {cls: frozenset(_ancestors(cls, direct)) for cls in direct}


def _ancestors(cls: Node, direct: Mapping[Node, Iterable[URIRef]]) -> set[URIRef]:
    seen: set[URIRef] = set()
    stack = list(direct.get(cls, ()))
    while stack:
        parent = stack.pop()
        if parent not in seen:
            seen.add(parent)
            stack.extend(direct.get(parent, ()))
    return seen
