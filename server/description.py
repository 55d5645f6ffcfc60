"""Describes the SPARQL endpoint in RDF: its SPARQL 1.1 Service Description and its limits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import ClosedNamespace

from kg.rdf.uris import DEFAULT_BASE, endpoint_vocabulary_iri
from kg.rdf.vocab import DCTERMS, RDF, RDFS, SD, XSD, bind_prefixes
from server import conneg
from server.limits import Limits

#: W3C's unique IRIs for formats, as Service Descriptions name them.
FORMATS_NS = "http://www.w3.org/ns/formats/"

FORMAT_IRIS: dict[conneg.Offer, URIRef] = {
    conneg.SPARQL_JSON: URIRef(FORMATS_NS + "SPARQL_Results_JSON"),
    conneg.SPARQL_XML: URIRef(FORMATS_NS + "SPARQL_Results_XML"),
    conneg.SPARQL_CSV: URIRef(FORMATS_NS + "SPARQL_Results_CSV"),
    conneg.SPARQL_TSV: URIRef(FORMATS_NS + "SPARQL_Results_TSV"),
    conneg.TURTLE: URIRef(FORMATS_NS + "Turtle"),
    conneg.N_TRIPLES: URIRef(FORMATS_NS + "N-Triples"),
    conneg.JSON_LD: URIRef(FORMATS_NS + "JSON-LD"),
    conneg.RDF_XML: URIRef(FORMATS_NS + "RDF_XML"),
    conneg.TRIG: URIRef(FORMATS_NS + "TriG"),
    conneg.N_QUADS: URIRef(FORMATS_NS + "N-Quads"),
}

#: The formats the description itself is available in, and rdflib's name for each.
DESCRIPTION_FORMATS: dict[conneg.Offer, str] = {
    conneg.TURTLE: "turtle",
    conneg.N_TRIPLES: "nt",
    conneg.JSON_LD: "json-ld",
    conneg.RDF_XML: "xml",
    conneg.TRIG: "trig",
    conneg.N_QUADS: "nquads",
}

UNION_NOTE = (
    "The default graph is the union of all named graphs (the ontology, the vocabularies, "
    "the reference data and one graph per press release), unless the request names its own "
    "dataset with default-graph-uri / named-graph-uri or the query with FROM / FROM NAMED."
)


def endpoint_terms(base: str = DEFAULT_BASE) -> ClosedNamespace:
    """The endpoint vocabulary: a misspelt term fails at once."""
    return ClosedNamespace(
        str(endpoint_vocabulary_iri(base=base)),
        [
            "queryTimeout",
            "maxResultRows",
            "maxQueryBytes",
            "maxQueryMemoryMB",
            "serviceAllowed",
            "rowCapHeader",
        ],
    )


@dataclass(frozen=True)
class ServiceFacts:
    """Everything a Service Description states about this running endpoint."""

    endpoint: str
    void_url: str
    limits: Limits
    named_graphs: tuple[str, ...] = ()
    base: str = DEFAULT_BASE


def describe_service(facts: ServiceFacts) -> Graph:
    """The SPARQL 1.1 Service Description of the endpoint as an rdflib graph."""
    graph = bind_prefixes(Graph())
    terms = endpoint_terms(facts.base)
    graph.bind("endpoint", str(endpoint_vocabulary_iri(base=facts.base)))
    service = URIRef(facts.endpoint)
    graph.add((service, RDF.type, SD.Service))
    graph.add((service, SD.endpoint, service))
    graph.add((service, SD.supportedLanguage, SD.SPARQL11Query))
    graph.add((service, SD.feature, SD.UnionDefaultGraph))
    if facts.limits.service_allowlist:
        graph.add((service, SD.feature, SD.BasicFederatedQuery))
    for iri in FORMAT_IRIS.values():
        graph.add((service, SD.resultFormat, iri))
    graph.add((service, DCTERMS.description, Literal(describe_limits(facts.limits), lang="en")))
    _add_limits(graph, service, facts.limits, terms)
    _add_dataset(graph, service, facts)
    return graph


def _add_limits(graph: Graph, service: URIRef, limits: Limits, terms: ClosedNamespace) -> None:
    graph.add((service, terms.queryTimeout, Literal(str(limits.timeout), datatype=XSD.decimal)))
    graph.add((service, terms.maxResultRows, Literal(limits.max_rows, datatype=XSD.integer)))
    graph.add((service, terms.maxQueryBytes, Literal(limits.max_query_bytes, datatype=XSD.integer)))
    graph.add((service, terms.rowCapHeader, Literal("X-SPARQL-Truncated")))
    if limits.worker_memory_mb:
        graph.add(
            (
                service,
                terms.maxQueryMemoryMB,
                Literal(limits.worker_memory_mb, datatype=XSD.integer),
            )
        )
    for iri in limits.service_allowlist:
        graph.add((service, terms.serviceAllowed, URIRef(iri)))


def _add_dataset(graph: Graph, service: URIRef, facts: ServiceFacts) -> None:
    dataset, default_graph = BNode(), BNode()
    graph.add((service, SD.defaultDataset, dataset))
    graph.add((dataset, RDF.type, SD.Dataset))
    graph.add((dataset, RDFS.seeAlso, URIRef(facts.void_url)))
    graph.add((dataset, SD.defaultGraph, default_graph))
    graph.add((default_graph, RDF.type, SD.Graph))
    graph.add((default_graph, DCTERMS.description, Literal(UNION_NOTE, lang="en")))
    for name in facts.named_graphs:
        named = BNode()
        graph.add((dataset, SD.namedGraph, named))
        graph.add((named, RDF.type, SD.NamedGraph))
        graph.add((named, SD.name, URIRef(name)))


def describe_limits(limits: Limits) -> str:
    """The endpoint's limits in English (for people and for the description)."""
    allowed = ", ".join(limits.service_allowlist) or "no endpoint"
    text = (
        f"Read-only SPARQL 1.1 query endpoint. Each query may run {limits.timeout:g} s "
        f"(then it is stopped with 503); results are cut at {limits.max_rows} rows or triples, "
        f"announced by the X-SPARQL-Max-Rows header and X-SPARQL-Truncated: true; query text "
        f"up to {limits.max_query_bytes} bytes; SERVICE is allowed for: {allowed}."
    )
    if limits.worker_memory_mb:
        text += f" A query may use {limits.worker_memory_mb} MB of memory (then 503)."
    return text


def serialize_description(graph: Graph, offer: conneg.Offer) -> bytes:
    """The description in one of ``DESCRIPTION_FORMATS``. For TriG and N-Quads it is all in
    the default graph, where a Turtle document is TriG and N-Triples lines are N-Quads (rdflib's
    quad serializers take only datasets)."""
    fmt = {"trig": "turtle", "nquads": "nt"}.get(
        DESCRIPTION_FORMATS[offer], DESCRIPTION_FORMATS[offer]
    )
    return graph.serialize(format=fmt, encoding="utf-8")


def description_offers() -> Sequence[conneg.Offer]:
    """HTML first (a browser, or a client that takes anything), then the RDF formats."""
    return (conneg.HTML, *DESCRIPTION_FORMATS)
