"""Turns rdflib graphs into pyoxigraph quads with stable blank-node labels, and back."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import to_canonical_graph
from rdflib.term import Node

_UNSAFE_BNODE_CHARS = re.compile(r"[^A-Za-z0-9]")


def canonical_graph(graph: Graph) -> Graph:
    """The graph itself, or, when it has blank nodes, a copy whose blank-node labels are canonical.

    rdflib labels parsed blank nodes at random; canonical labels (a hash of each node's
    surroundings) make the same input give the same dumps.
    """
    has_bnodes = any(isinstance(term, BNode) for triple in graph for term in (triple[0], triple[2]))
    if not has_bnodes:
        return graph
    return to_canonical_graph(graph)


def to_ox_term(term: Node, *, bnode_prefix: str = "b") -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """One rdflib term as the pyoxigraph term with the same meaning."""
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(bnode_prefix + _UNSAFE_BNODE_CHARS.sub("", str(term)))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"cannot convert RDF term {term!r} of type {type(term).__name__}")


def graph_quads(graph: Graph, graph_name: URIRef, *, bnode_prefix: str) -> list[ox.Quad]:
    """The triples of ``graph`` as quads in the named graph ``graph_name``.

    ``bnode_prefix`` keeps blank nodes of different graphs apart in a union dump.
    """
    name = ox.NamedNode(str(graph_name))
    quads = []
    for s, p, o in canonical_graph(graph):
        subject = to_ox_term(s, bnode_prefix=bnode_prefix)
        assert not isinstance(subject, ox.Literal)
        predicate = ox.NamedNode(str(p))
        quads.append(ox.Quad(subject, predicate, to_ox_term(o, bnode_prefix=bnode_prefix), name))
    return quads


def sort_quads(quads: Iterable[ox.Quad]) -> list[ox.Quad]:
    """Quads sorted by their N-Quads text, without duplicates: the canonical order of the dumps."""
    unique = {str(quad): quad for quad in quads}
    return [unique[key] for key in sorted(unique)]


def ntriples_text(graph: Iterable[tuple[Node, Node, Node]]) -> str:
    """A graph (or its triples, each once) without blank nodes as sorted canonical N-Triples
    (the form the cache keeps)."""
    triples = sorted(
        (ox.Triple(*_triple_terms(s, p, o)) for s, p, o in graph),
        key=str,
    )
    return serialize_rdf(triples, ox.RdfFormat.N_TRIPLES).decode("utf-8")


def _triple_terms(
    s: Node, p: Node, o: Node
) -> tuple[ox.NamedNode | ox.BlankNode, ox.NamedNode, ox.NamedNode | ox.BlankNode | ox.Literal]:
    subject = to_ox_term(s)
    assert not isinstance(subject, ox.Literal)
    return subject, ox.NamedNode(str(p)), to_ox_term(o)


def parse_ntriples(text: str) -> Graph:
    """N-Triples text (as :func:`ntriples_text` writes it) back into an rdflib graph."""
    graph = Graph(bind_namespaces="none")
    graph.parse(data=text, format="nt")
    return graph


def ntriples_terms(text: str) -> list[tuple[Node, URIRef, Node]]:
    """N-Triples text as rdflib triples, parsed by pyoxigraph (several times faster than
    rdflib's parser, and no graph is built: the caller adds them where it needs them)."""
    return [
        (_rdflib_term(t.subject), _iri(t.predicate.value), _rdflib_term(t.object))
        for t in ox.parse(text.encode("utf-8"), format=ox.RdfFormat.N_TRIPLES)
    ]


_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


@functools.lru_cache(maxsize=65536)
def _iri(value: str) -> URIRef:
    return URIRef(value)


def _rdflib_term(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> Node:
    if isinstance(term, ox.NamedNode):
        return _iri(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        if datatype == _XSD_STRING:
            return Literal(term.value)
        return Literal(term.value, datatype=_iri(datatype))
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    raise TypeError(f"an N-Triples graph cannot hold {term!r}")


def ntriples_quads(text: str, graph_name: URIRef) -> list[ox.Quad]:
    """N-Triples text as quads in the named graph ``graph_name``, without going through rdflib."""
    name = ox.NamedNode(str(graph_name))
    return [
        ox.Quad(q.subject, q.predicate, q.object, name)
        for q in ox.parse(text.encode("utf-8"), format=ox.RdfFormat.N_TRIPLES)
    ]


def serialize_rdf(
    items: Iterable[ox.Triple] | Iterable[ox.Quad],
    rdf_format: ox.RdfFormat,
    *,
    prefixes: dict[str, str] | None = None,
) -> bytes:
    """Triples or quads serialised by pyoxigraph, in the order given."""
    data = ox.serialize(items, format=rdf_format, prefixes=prefixes)
    assert data is not None  # pyoxigraph returns bytes when given no output
    return data


def turtle_bytes(triples: Sequence[ox.Triple], prefixes: Mapping[str, str]) -> bytes:
    """Sorted triples as Turtle with the prefix lines in a fixed order.

    pyoxigraph writes the prefixes in hash-map order, which changes from one process to the
    next; sorting those lines makes the same triples always give the same bytes.
    """
    data = serialize_rdf(triples, ox.RdfFormat.TURTLE, prefixes=dict(prefixes))
    lines = data.split(b"\n")
    count = next(
        (i for i, line in enumerate(lines) if not line.startswith(b"@prefix ")), len(lines)
    )
    return b"\n".join(sorted(lines[:count]) + lines[count:])
