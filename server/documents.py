"""The RDF documents about an entity as linked-data clients expect them: Turtle grouped by subject
with only the prefixes it uses, compacted JSON-LD with a published context, TriG and N-Quads
keeping each statement's named graph, and a description of the document itself."""

from __future__ import annotations

import bisect
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Generic, TypeVar

import pyoxigraph as ox
from flask import Response, current_app, request
from rdflib import BNode, Graph

from kg.publish.void import dataset_iri
from kg.rdf.vocab import DCTERMS, FOAF, PREFIXES, PROV, RDF, VOID, XSD
from server import conneg, urls
from server.entity_view import ENTITY_FORMATS, IncomingLinks
from server.labels import build_memo, is_memoised, memoise
from server.prefixes import with_prefixes
from server.responses import HTML
from server.store import current_build, select

ENTITY_OFFERS: tuple[conneg.Offer, ...] = (HTML, *ENTITY_FORMATS)
#: The forms that keep named graphs: each statement in the graph (release) that states it.
DATASET_OFFERS = (conneg.TRIG, conneg.N_QUADS)

#: The setting naming the licence of the data (an IRI); unset: the licence the ontology declares.
LICENSE_SETTING = "DATA_LICENSE"

_RDF_TYPE = ox.NamedNode(str(RDF.type))

_OWN_QUADS = "SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }"

# What the entity links to: each distinct object of its statements.
_OBJECTS = "SELECT DISTINCT ?s ?o WHERE { ?s ?p ?o FILTER(!isLiteral(?o)) }"

# The whole of a blank node the entity links to, in the graphs that state it.
_BLANK_QUADS = "SELECT ?o ?op ?oo ?g WHERE { GRAPH ?g { ?o ?op ?oo } }"

_INCOMING_QUADS = "SELECT ?x ?p ?s ?g WHERE { GRAPH ?g { ?x ?p ?s } }"

_LABEL_QUADS = with_prefixes("""
SELECT ?x ?lp ?label ?g WHERE {
  GRAPH ?g { ?x ?lp ?label }
  FILTER(?lp IN (rdfs:label, skos:prefLabel, schema:name))
}""")

_ONTOLOGY_LICENSE = with_prefixes(
    "SELECT ?licence WHERE { ?ontology a owl:Ontology ; dcterms:license ?licence } "
    "ORDER BY ?licence LIMIT 1"
)


def data_license() -> str | None:
    """The licence of the data: the ``DATA_LICENSE`` setting, else the ontology's own licence
    (``dcterms:license`` of the owl:Ontology), else None."""
    configured = current_app.config.get(LICENSE_SETTING)
    if configured is not None:
        return str(configured) or None
    for row in select(_ONTOLOGY_LICENSE, {}):
        licence = row["licence"]
        if isinstance(licence, ox.NamedNode):
            return licence.value
    return None


def jsonld_context() -> dict[str, str]:
    """The JSON-LD context of every document: the project's prefixes (published at
    ``/context.jsonld``), so compact IRIs read as in Turtle."""
    return dict(sorted(PREFIXES.items()))


def label_quads(node: ox.NamedNode) -> list[ox.Quad]:
    """The labels of ``node`` (rdfs:label, skos:prefLabel, schema:name), each in the named graph
    that states it: asked once per build and kept (``build_memo``), as the things documents
    link to are linked from many documents."""
    return list(build_memo(("label quads", node.value), lambda: _ask_label_quads(node)))


#: IRIs asked for in one joined label query.
LABELS_PER_QUERY = 200

_JOINED_LABEL_QUADS = with_prefixes("""
SELECT ?x ?lp ?label ?g WHERE {
  VALUES ?x { %s }
  GRAPH ?g { ?x ?lp ?label }
  FILTER(?lp IN (rdfs:label, skos:prefLabel, schema:name))
}""")


def prefetch_label_quads(nodes: Iterable[ox.NamedNode]) -> None:
    """Asks for the label statements of those ``nodes`` the build's label cache lacks in one
    joined query (per ``LABELS_PER_QUERY``) and keeps them, so ``label_quads`` finds them: a
    document's first render asks one query for the labels of all it links to, not one each."""
    missing = [n for n in dict.fromkeys(nodes) if not is_memoised(("label quads", n.value))]
    for start in range(0, len(missing), LABELS_PER_QUERY):
        chunk = missing[start : start + LABELS_PER_QUERY]
        found: dict[str, list[ox.Quad]] = {n.value: [] for n in chunk}
        query = _JOINED_LABEL_QUADS.replace("%s", " ".join(str(n) for n in chunk))
        for row in select(query, {}, union=False):
            x = row["x"]
            found[x.value].append(ox.Quad(x, row["lp"], row["label"], row["g"]))
        for iri, quads in found.items():
            memoise(("label quads", iri), tuple(quads))


def _ask_label_quads(node: ox.NamedNode) -> tuple[ox.Quad, ...]:
    return tuple(
        ox.Quad(node, row["lp"], row["label"], row["g"])
        for row in select(_LABEL_QUADS, {"x": node}, union=False)
    )


def entity_quads(node: ox.NamedNode, incoming: IncomingLinks) -> list[ox.Quad]:
    """The entity's statements, labels of what it links to, its blank nodes and one page of
    incoming links, each in the named graph that states it. Labels come from the build's label
    cache (``label_quads``), which the server and the static export share.

    A linked node's label is given once, in one graph that states it (``one_graph_each``): a
    source file's name is stated by each of its thousand releases' graphs, and a release's
    document would otherwise repeat it a thousand times in TriG and N-Quads."""
    found: dict[ox.Quad, None] = {}
    linked_labels: list[ox.Quad] = []
    for row in select(_OWN_QUADS, {"s": node}, union=False):
        found[ox.Quad(node, row["p"], row["o"], row["g"])] = None
    objects = [row["o"] for row in select(_OBJECTS, {"s": node})]
    subjects = [subject for subject, _ in incoming.links]
    prefetch_label_quads([o for o in objects if isinstance(o, ox.NamedNode)] + subjects)
    for linked in objects:
        if isinstance(linked, ox.BlankNode):
            for part in select(_BLANK_QUADS, {"o": linked}, union=False):
                found[ox.Quad(linked, part["op"], part["oo"], part["g"])] = None
        elif isinstance(linked, ox.NamedNode):
            linked_labels += label_quads(linked)
    for subject, predicate in incoming.links:
        for row in select(_INCOMING_QUADS, {"x": subject, "p": predicate, "s": node}, union=False):
            found[ox.Quad(subject, predicate, node, row["g"])] = None
        linked_labels += label_quads(subject)
    graphs = {quad.graph_name for quad in found}
    found.update(dict.fromkeys(one_graph_each(linked_labels, graphs)))
    return list(found)


def one_graph_each(quads: Iterable[ox.Quad], preferred: set[Any]) -> list[ox.Quad]:
    """Each statement of ``quads`` once, in one of the graphs that state it: one of
    ``preferred`` (the graphs of the document's own statements) if any, else the first by IRI.
    The statement stays true to the store, with a graph that really states it."""
    chosen: dict[ox.Triple, ox.Quad] = {}
    for quad in quads:
        held = chosen.get(quad.triple)
        if held is None or _graph_rank(quad, preferred) < _graph_rank(held, preferred):
            chosen[quad.triple] = quad
    return list(chosen.values())


def _graph_rank(quad: ox.Quad, preferred: set[Any]) -> tuple[bool, str]:
    return quad.graph_name not in preferred, str(quad.graph_name)


def self_description(document: str, topic: ox.NamedNode) -> list[ox.Triple]:
    """What the document says about itself: its topic, licence, dataset, build and date."""
    build = current_build()
    doc = ox.NamedNode(document)
    modified = ox.Literal(build.built_at.isoformat(), datatype=ox.NamedNode(str(XSD.dateTime)))
    activity = ox.BlankNode("build")
    triples = [
        ox.Triple(doc, named(RDF.type), named(FOAF.Document)),
        ox.Triple(doc, named(FOAF.primaryTopic), topic),
        ox.Triple(doc, named(DCTERMS.modified), modified),
        ox.Triple(doc, named(VOID.inDataset), ox.NamedNode(str(dataset_iri(base=urls.base())))),
        ox.Triple(doc, named(PROV.wasGeneratedBy), activity),
        ox.Triple(activity, named(RDF.type), named(PROV.Activity)),
        ox.Triple(activity, named(DCTERMS.identifier), ox.Literal(build.build_id)),
        ox.Triple(activity, named(PROV.endedAtTime), modified),
    ]
    licence = data_license()
    if licence:
        triples.append(ox.Triple(doc, named(DCTERMS.license), ox.NamedNode(licence)))
    return triples


def named(term: object) -> ox.NamedNode:
    return ox.NamedNode(str(term))


def subject_order(first: ox.NamedNode) -> Callable[[ox.Triple], tuple[bool, str, str, str]]:
    """The sort key of ``by_subject``."""
    return lambda t: (t.subject != first, str(t.subject), str(t.predicate), str(t.object))


def by_subject(triples: Iterable[ox.Triple], first: ox.NamedNode) -> list[ox.Triple]:
    """Triples grouped by subject (``first`` first, then in IRI order), so Turtle writes each
    subject once with its properties under it."""
    return sorted(dict.fromkeys(triples), key=subject_order(first))


def used_prefixes(triples: Iterable[ox.Triple]) -> dict[str, str]:
    """The project's prefixes that Turtle needs for these triples: some IRI or datatype starts
    with the namespace (rdf:type as a predicate is written ``a`` and needs none)."""
    return prefixes_for(iris_of(triples))


def iris_of(triples: Iterable[ox.Triple]) -> set[str]:
    """The IRIs Turtle writes for these triples: of terms, and datatypes other than xsd:string
    (rdf:type as a predicate is written ``a``)."""
    iris = set()
    for triple in triples:
        for position, term in enumerate((triple.subject, triple.predicate, triple.object)):
            if isinstance(term, ox.NamedNode) and not (position == 1 and term == _RDF_TYPE):
                iris.add(term.value)
            elif isinstance(term, ox.Literal) and not term.language:
                iris.add(term.datatype.value)  # (xsd:string is written as a plain string)
    iris.discard(str(XSD.string))
    return iris


def prefixes_for(iris: set[str]) -> dict[str, str]:
    """The project's prefixes some of ``iris`` start with (and are more than)."""
    return {
        prefix: namespace
        for prefix, namespace in PREFIXES.items()
        if any(iri.startswith(namespace) and iri != namespace for iri in iris)
    }


def serialise_document(
    quads: list[ox.Quad], about: list[ox.Triple], topic: ox.NamedNode, offer: conneg.Offer
) -> bytes:
    """The document in an offered form: statements (in their graphs for TriG and N-Quads) and,
    in the default graph, what the document says about itself."""
    return serialise_documents(quads, {offer: about}, topic)[offer]


def serialise_documents(
    quads: list[ox.Quad], abouts: Mapping[conneg.Offer, list[ox.Triple]], topic: ox.NamedNode
) -> dict[conneg.Offer, bytes]:
    """The document in each form ``abouts`` names, with what that form's document says about
    itself: the statements are ordered, and their IRIs gathered, once for all the forms."""
    statements = Statements(quads, topic)
    bodies = {}
    for offer, about in abouts.items():
        rdf_format = ENTITY_FORMATS[offer]
        prefixes = prefixes_for(statements.iris | iris_of(about))
        if offer in DATASET_OFFERS:
            items = statements.quads_with(about)
            if rdf_format != ox.RdfFormat.TRIG:
                bodies[offer] = ox.serialize(items, format=rdf_format) or b""
            else:
                bodies[offer] = ox.serialize(items, format=rdf_format, prefixes=prefixes) or b""
            continue
        triples = statements.triples_with(about)
        if offer == conneg.JSON_LD:
            bodies[offer] = compact_jsonld(triples)
        elif offer == conneg.N_TRIPLES:
            bodies[offer] = ox.serialize(triples, format=rdf_format) or b""
        else:
            bodies[offer] = ox.serialize(triples, format=rdf_format, prefixes=prefixes) or b""
    return bodies


class Statements:
    """A document's statements, ordered once as quads (``quad_order``) and as triples
    (``by_subject``); each form adds its own description in order."""

    def __init__(self, quads: list[ox.Quad], topic: ox.NamedNode) -> None:
        self.quads = Ordered(quads, lambda q: quad_order(q, topic))
        self.triples = Ordered((q.triple for q in self.quads.items), subject_order(topic))
        self.iris = iris_of(self.triples.items)

    def quads_with(self, about: list[ox.Triple]) -> list[ox.Quad]:
        """The quads and, in the default graph, ``about``: as sorting all of them orders them."""
        return self.quads.with_items([ox.Quad(t.subject, t.predicate, t.object) for t in about])

    def triples_with(self, about: list[ox.Triple]) -> list[ox.Triple]:
        """The triples and ``about``: as ``by_subject`` orders all of them."""
        return self.triples.with_items(about)


Item = TypeVar("Item", ox.Quad, ox.Triple)


class Ordered(Generic[Item]):
    """Distinct items sorted by ``key``, which tells every two items apart (terms' N-Triples
    forms do), with their keys: more items are put in place without sorting again."""

    def __init__(self, items: Iterable[Item], key: Callable[[Item], Any]) -> None:
        self.key: Callable[[Item], Any] = key
        pairs = sorted(((key(item), item) for item in dict.fromkeys(items)), key=first)
        self.keys: list[Any] = [pair[0] for pair in pairs]
        self.items: list[Item] = [pair[1] for pair in pairs]
        self.present: set[Item] = set(self.items)

    def with_items(self, more: list[Item]) -> list[Item]:
        """``sorted(dict.fromkeys([*items, *more]), key=key)``."""
        extra = sorted(
            ((self.key(item), item) for item in dict.fromkeys(more) if item not in self.present),
            key=first,
        )
        result = list(self.items)
        # from the last to the first, so the places found in ``keys`` stay right (and of two
        # items for one place, the later is put there first)
        for key, item in reversed(extra):
            result.insert(bisect.bisect(self.keys, key), item)
        return result


def first(pair: tuple[Any, Any]) -> Any:
    return pair[0]


def quad_order(quad: ox.Quad, topic: ox.NamedNode) -> tuple[str, bool, str, str, str]:
    """The default graph (the document's self-description) last; in each graph the topic first."""
    graph = "" if isinstance(quad.graph_name, ox.DefaultGraph) else str(quad.graph_name)
    return (
        graph or "\uffff",
        quad.subject != topic,
        str(quad.subject),
        str(quad.predicate),
        str(quad.object),
    )


def compact_jsonld(triples: list[ox.Triple]) -> bytes:
    """JSON-LD compacted with the published context (rdflib's compaction), one node per subject,
    the context referred to by its URL."""
    graph = Graph(bind_namespaces="none")
    # the store's blank node labels kept (rdflib would draw new random ones in every process)
    labels = {
        term.value: BNode(term.value)
        for triple in triples
        for term in (triple.subject, triple.object)
        if isinstance(term, ox.BlankNode)
    }
    data = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""
    graph.parse(data=data, format="nt", bnode_context=labels)
    text = graph.serialize(format="json-ld", context=jsonld_context(), auto_compact=True)
    document: dict[str, Any] = json.loads(text)
    document["@context"] = context_url()
    topic = triples[0].subject if triples else None
    first = topic.value if isinstance(topic, ox.NamedNode) else ""
    ordered = canonical_order(document)
    if isinstance(ordered.get("@graph"), list):  # the document's topic first, then by @id
        ordered["@graph"].sort(key=lambda node: (node.get("@id") != first, json.dumps(node)))
    return json.dumps(ordered, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")


def canonical_order(value: Any, key: str = "") -> Any:
    """The same JSON-LD in one order whatever the process: rdflib's serializer walks sets, whose
    order changes with each interpreter's hash seed, and a document must be the same bytes in
    every worker and replica (its ETag is the build's). Arrays are unordered in JSON-LD except
    ``@list``, so they are sorted by their canonical text."""
    if isinstance(value, dict):
        return {name: canonical_order(item, name) for name, item in value.items()}
    if isinstance(value, list):
        items = [canonical_order(item) for item in value]
        if key == "@list":
            return items
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True, ensure_ascii=False))
    return value


def context_url() -> str:
    """``/context.jsonld``, relative: a JSON-LD processor resolves it against the URL it read
    the document from, whatever host that is (the document never names the client's Host)."""
    return urls.context_url()


def context_document() -> Mapping[str, Any]:
    """The published JSON-LD context document."""
    return {"@context": jsonld_context()}


def document_iri() -> str:
    """The canonical IRI of the requested document: its path (and query) under the base IRI, as
    the entity IRIs are (never the client's ``Host``: documents are cached across hosts)."""
    return urls.base() + request.full_path.lstrip("/").removesuffix("?")


def entity_response(node: ox.NamedNode, incoming: IncomingLinks, offer: conneg.Offer) -> Response:
    """The data document about an entity in the offered form, describing itself."""
    about = self_description(document_iri(), node)
    body = serialise_document(entity_quads(node, incoming), about, node, offer)
    return Response(body, content_type=offer.content_type)
