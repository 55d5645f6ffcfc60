"""What /ontology shows (pyLODE's layout): the ontology's metadata, its class hierarchy, and each
class with its properties and each property with its domain and range."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox

from kg.rdf.vocab import DCTERMS, OWL, RDF, RDFS, SKOS
from server.labels import Labeller, Link, short_name
from server.store import select

_GRAPH_TRIPLES = "SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }"

#: What a term is, by its rdf:type, in the order the page lists the kinds.
KINDS = {
    str(OWL.Class): "Class",
    str(RDFS.Class): "Class",
    str(OWL.ObjectProperty): "ObjectProperty",
    str(OWL.DatatypeProperty): "DatatypeProperty",
    str(OWL.AnnotationProperty): "AnnotationProperty",
    str(RDF.Property): "Property",
}
KIND_HEADINGS = (
    ("Class", "Classes"),
    ("ObjectProperty", "Object properties"),
    ("DatatypeProperty", "Datatype properties"),
    ("AnnotationProperty", "Annotation properties"),
    ("Property", "Other properties"),
)
#: Property characteristics named on a property's entry.
CHARACTERISTICS = {
    str(OWL.FunctionalProperty): "functional",
    str(OWL.InverseFunctionalProperty): "inverse functional",
    str(OWL.TransitiveProperty): "transitive",
    str(OWL.SymmetricProperty): "symmetric",
}
TERM_FIELDS = {
    str(RDFS.domain): "domain",
    str(RDFS.range): "range",
    str(RDFS.subClassOf): "subclass of",
    str(RDFS.subPropertyOf): "subproperty of",
    str(OWL.equivalentClass): "equivalent to",
    str(OWL.equivalentProperty): "equivalent to",
    str(OWL.inverseOf): "inverse of",
    str(OWL.disjointWith): "disjoint with",
}
DEFINITIONS = (str(SKOS.definition), str(RDFS.comment))

Objects = dict[str, list[ox.NamedNode | ox.BlankNode | ox.Literal]]


@dataclass(frozen=True)
class Term:
    """One class or property as documented on /ontology."""

    anchor: str
    iri: str
    label: str
    kind: str
    definition: str
    relations: tuple[tuple[str, Link], ...]
    characteristics: tuple[str, ...] = ()
    #: for a class: the properties whose domain it is, with their ranges
    properties: tuple[tuple[Link, tuple[Link, ...]], ...] = ()
    #: for a class: the properties whose range it is, with their domains
    used_by: tuple[tuple[Link, tuple[Link, ...]], ...] = ()
    subclasses: tuple[Link, ...] = ()


@dataclass(frozen=True)
class TreeNode:
    """A class in the hierarchy, with its subclasses."""

    link: Link
    children: tuple[TreeNode, ...]


@dataclass(frozen=True)
class OntologyHeader:
    """The ontology's own description: what pyLODE puts at the top."""

    iri: str
    title: str
    description: tuple[str, ...]
    version: str
    version_iri: str
    license: Link | None
    creators: tuple[str, ...]
    created: str
    modified: str
    prefix: str
    namespace: str


@dataclass(frozen=True)
class OntologyView:
    """The whole page: header, hierarchy, terms by kind."""

    header: OntologyHeader | None
    hierarchy: tuple[TreeNode, ...]
    sections: tuple[tuple[str, str, tuple[Term, ...]], ...]  # (kind, heading, terms)

    @property
    def terms(self) -> tuple[Term, ...]:
        return tuple(term for _, _, terms in self.sections for term in terms)


def graph_facts(graph: ox.NamedNode) -> dict[str, Objects]:
    """Every subject of the graph with its (property -> objects)."""
    facts: dict[str, Objects] = {}
    for row in select(_GRAPH_TRIPLES, {"g": graph}, union=False):
        if isinstance(row["s"], ox.NamedNode):
            objects = facts.setdefault(row["s"].value, {}).setdefault(row["p"].value, [])
            objects.append(row["o"])
    return facts


def named(values: Iterable[object]) -> list[ox.NamedNode]:
    return [v for v in values if isinstance(v, ox.NamedNode)]


def texts(values: Iterable[object]) -> list[ox.Literal]:
    return [v for v in values if isinstance(v, ox.Literal)]


def ontology_view(graph: ox.NamedNode, labeller: Labeller) -> OntologyView:
    """The documentation of the ontology graph: header, class tree, classes, properties."""
    facts = graph_facts(graph)
    kinds = {
        iri: kind
        for iri, objects in facts.items()
        for kind in [
            next(
                (KINDS[t.value] for t in named(objects.get(str(RDF.type), [])) if t.value in KINDS),
                None,
            )
        ]
        if kind is not None
    }
    by_iri = {iri: term_of(iri, kind, facts, kinds, labeller) for iri, kind in kinds.items()}
    sections = tuple(
        (
            kind,
            heading,
            tuple(
                sorted(
                    (t for t in by_iri.values() if t.kind == kind), key=lambda t: t.label.casefold()
                )
            ),
        )
        for kind, heading in KIND_HEADINGS
        if any(t.kind == kind for t in by_iri.values())
    )
    classes = [iri for iri, kind in kinds.items() if kind == "Class"]
    return OntologyView(
        header=ontology_header(facts, labeller),
        hierarchy=class_tree(classes, facts, labeller),
        sections=sections,
    )


def term_of(
    iri: str, kind: str, facts: dict[str, Objects], kinds: dict[str, str], labeller: Labeller
) -> Term:
    node = ox.NamedNode(iri)
    objects = facts[iri]
    relations = sorted(
        (
            (TERM_FIELDS[p], labeller.link(o))
            for p, values in objects.items()
            if p in TERM_FIELDS
            for o in named(values)
        ),
        key=lambda r: (r[0], r[1].text.casefold()),
    )
    characteristics = tuple(
        CHARACTERISTICS[t.value]
        for t in named(objects.get(str(RDF.type), []))
        if t.value in CHARACTERISTICS
    )
    term = Term(
        anchor=short_name(node),
        iri=iri,
        label=labeller.label(node),
        kind=kind,
        definition=labeller.choose([v for p in DEFINITIONS for v in texts(objects.get(p, []))])
        or "",
        relations=tuple(relations),
        characteristics=characteristics,
    )
    if kind != "Class":
        return term
    return Term(
        **{
            **term.__dict__,
            "properties": properties_with(
                iri, str(RDFS.domain), str(RDFS.range), facts, kinds, labeller
            ),
            "used_by": properties_with(
                iri, str(RDFS.range), str(RDFS.domain), facts, kinds, labeller
            ),
            "subclasses": tuple(
                sorted(
                    (labeller.link(ox.NamedNode(other)) for other in direct_subclasses(iri, facts)),
                    key=lambda link: link.text.casefold(),
                )
            ),
        }
    )


def properties_with(
    cls: str,
    side: str,
    other_side: str,
    facts: dict[str, Objects],
    kinds: dict[str, str],
    labeller: Labeller,
) -> tuple[tuple[Link, tuple[Link, ...]], ...]:
    """Properties whose ``side`` (domain or range) is the class, with their ``other_side``."""
    found = []
    for prop, objects in facts.items():
        if kinds.get(prop, "Class") == "Class":
            continue
        if cls in (v.value for v in named(objects.get(side, []))):
            others = tuple(labeller.link(v) for v in named(objects.get(other_side, [])))
            found.append((labeller.link(ox.NamedNode(prop)), others))
    return tuple(sorted(found, key=lambda item: item[0].text.casefold()))


def direct_subclasses(cls: str, facts: dict[str, Objects]) -> list[str]:
    return [
        iri
        for iri, objects in facts.items()
        if iri != cls and cls in (v.value for v in named(objects.get(str(RDFS.subClassOf), [])))
    ]


def class_tree(
    classes: list[str], facts: dict[str, Objects], labeller: Labeller
) -> tuple[TreeNode, ...]:
    """The ontology's classes as a tree by rdfs:subClassOf (a class under each own superclass)."""
    own = set(classes)

    def node(iri: str, seen: frozenset[str]) -> TreeNode:
        children = sorted(
            (c for c in direct_subclasses(iri, facts) if c in own and c not in seen),
            key=lambda c: labeller.label(ox.NamedNode(c)).casefold(),
        )
        return TreeNode(
            labeller.link(ox.NamedNode(iri)), tuple(node(c, seen | {c}) for c in children)
        )

    roots = [
        iri
        for iri in classes
        if not any(
            v.value in own and v.value != iri
            for v in named(facts[iri].get(str(RDFS.subClassOf), []))
        )
    ]
    roots.sort(key=lambda c: labeller.label(ox.NamedNode(c)).casefold())
    return tuple(node(iri, frozenset({iri})) for iri in roots)


def ontology_header(facts: dict[str, Objects], labeller: Labeller) -> OntologyHeader | None:
    """The owl:Ontology's title, description, version, licence and namespace, if it has one."""
    iri = next(
        (
            s
            for s, objects in facts.items()
            if str(OWL.Ontology) in (t.value for t in named(objects.get(str(RDF.type), [])))
        ),
        None,
    )
    if iri is None:
        return None
    objects = facts[iri]

    def text(prop: object) -> str:
        return labeller.choose(texts(objects.get(str(prop), []))) or ""

    licences = named(objects.get(str(DCTERMS.license), []))
    version_iris = named(objects.get(str(OWL.versionIRI), []))
    vann = "http://purl.org/vocab/vann/"
    return OntologyHeader(
        iri=iri,
        title=text(DCTERMS.title) or text(RDFS.label) or iri,
        description=tuple(p.strip() for p in text(DCTERMS.description).split("\n\n") if p.strip()),
        version=text(OWL.versionInfo),
        version_iri=version_iris[0].value if version_iris else "",
        license=labeller.link(licences[0]) if licences else None,
        creators=tuple(sorted(v.value for v in texts(objects.get(str(DCTERMS.creator), [])))),
        created=text(DCTERMS.created),
        modified=text(DCTERMS.modified),
        prefix=text(vann + "preferredNamespacePrefix"),
        namespace=text(vann + "preferredNamespaceUri"),
    )
