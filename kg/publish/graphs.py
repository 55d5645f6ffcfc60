"""Loads what a build publishes besides releases: ontology, vocabularies, reference, extras."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from rdflib import Graph, Literal, URIRef

from kg.rdf.label_index import LabelIndex
from kg.rdf.rdffiles import MAX_RDF_BYTES, load_storable_graph
from kg.rdf.uris import entity_iri, graph_iri, short_hash, slugify, source_file_iri
from kg.rdf.vocab import ORG, OSCE, PROV, RDF, RDFS, SKOS, bind_prefixes
from kg.reference.graph import build_reference
from kg.reference.ontologies import load_ontology, load_vocabularies
from kg.reference.organisations import ORGANISATIONS_TABLE, load_organisations, organisations_file

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SourceGraphs:
    """The ontology, the SKOS vocabularies and the reference graph of one build."""

    ontology: Graph
    vocabularies: Graph
    reference: Graph

    def named(self, base: str) -> list[tuple[URIRef, Graph]]:
        """Each graph with the name it is published under."""
        return [
            (graph_iri("ontology", base=base), self.ontology),
            (graph_iri("vocabularies", base=base), self.vocabularies),
            (graph_iri("reference", base=base), self.reference),
        ]

    def labels(self) -> LabelIndex:
        """The label index mapping uses to link cities, concepts and organisations."""
        return self._labels

    @cached_property
    def _labels(self) -> LabelIndex:
        data = Graph()
        for graph in (self.vocabularies, self.reference):
            for triple in graph:
                data.add(triple)
        return LabelIndex.from_graphs(data, self.ontology + self.vocabularies)


def load_source_graphs(*, base: str) -> SourceGraphs:
    """The shipped ontology and vocabularies, and the reference graph made from the facts tables
    with its IRIs under ``base``."""
    reference = _reference_graph(base)
    reference += organisations_graph(base=base)
    return SourceGraphs(
        ontology=load_ontology(), vocabularies=load_vocabularies(), reference=reference
    )


def _reference_graph(base: str) -> Graph:
    """The reference graph; a bad row of a facts table is logged and the rest is built."""
    built = build_reference(base=base)
    for error in built.errors:
        log.warning("reference data: %s", error.describe())
    return built.graph


def organisations_graph(*, base: str) -> Graph:
    """The non-OSCE organisations releases link to (``kg/data/organisations.tsv``).

    The linker mints their IRIs from that table; describing them here (type, English label,
    abbreviations, other names, the table they come from) keeps those links from dangling.
    It is published as part of the reference graph.
    """
    data = organisations_file().read_bytes()
    graph = bind_prefixes(Graph(bind_namespaces="none"))
    source = source_file_iri(f"kg/data/{ORGANISATIONS_TABLE}", base=base)
    graph.add((source, RDF.type, OSCE.SourceFile))
    graph.add((source, RDFS.label, Literal(f"kg/data/{ORGANISATIONS_TABLE}")))
    graph.add((source, OSCE.sha256, Literal(hashlib.sha256(data).hexdigest())))
    graph.add((source, OSCE.reader, Literal("table")))
    for organisation in load_organisations():
        iri = entity_iri("organisation", organisation.key, base=base)
        graph.add((iri, RDF.type, ORG.FormalOrganization))
        graph.add((iri, RDF.type, ORG.Organization))
        graph.add((iri, RDFS.label, Literal(organisation.label, lang="en")))
        for abbreviation in organisation.abbreviations:
            graph.add((iri, OSCE.abbreviation, Literal(abbreviation, lang="en")))
        for name in organisation.other_names:
            graph.add((iri, SKOS.altLabel, Literal(name, lang="en")))
        graph.add((iri, PROV.wasDerivedFrom, source))
    return graph


def load_extra_rdf(
    paths: Sequence[Path], *, base: str, max_bytes: int = MAX_RDF_BYTES
) -> dict[URIRef, Graph]:
    """Each extra RDF file as one graph named ``{base}graph/extra/{key}``.

    Raises InputError naming the file: larger than ``max_bytes`` (decompressed), a syntax
    error (line and column) or an IRI the store cannot hold (line).
    """
    graphs: dict[URIRef, Graph] = {}
    for path in paths:
        graph = load_storable_graph(path, max_bytes=max_bytes)
        name = graph_iri("extra", _extra_key(path.name, len(graphs), graphs, base), base=base)
        graphs[name] = graph
        log.info("extra RDF %s: %d triples", path, len(graph))
    return graphs


def _extra_key(file_name: str, number: int, taken: dict[URIRef, Graph], base: str) -> str:
    key = f"{slugify(file_name, max_length=60) or 'file'}-{short_hash(file_name)}"
    if graph_iri("extra", key, base=base) in taken:
        key = f"{key}-{number}"
    return key
