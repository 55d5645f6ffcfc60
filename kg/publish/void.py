"""Describes a build as a VoID and DCAT dataset: counts, graphs, classes, dates and downloads."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, Literal, Namespace, URIRef

from kg.publish.chunks import DatasetStats
from kg.publish.dumps import VOID_FILE, DumpChunks, DumpFile, write_checksums
from kg.rdf.quads import graph_quads, turtle_bytes
from kg.rdf.uris import dump_iri, entity_iri, short_hash, slugify, sparql_endpoint_iri
from kg.rdf.vocab import (
    DCAT,
    DCTERMS,
    ONTOLOGY_NS,
    PREFIXES,
    PROV,
    RDF,
    SD,
    VOID,
    XSD,
    bind_prefixes,
)

#: what writing the dumps gives: the dump files, what the VoID counts, the chunks
DumpsWritten = tuple[list[DumpFile], DatasetStats, DumpChunks]
#: SPDX terms for checksums, as DCAT 2 recommends (not in kg.rdf.vocab: only the VoID uses them)
SPDX = Namespace("http://spdx.org/rdf/terms#")
#: IANA media-type IRIs, as DCAT recommends for dcat:mediaType
IANA_MEDIA_TYPES = Namespace("https://www.iana.org/assignments/media-types/")


@dataclass(frozen=True)
class BuildFacts:
    """What the VoID says about one build besides its counts."""

    build_time: str  # xsd:dateTime, UTC, e.g. "2026-01-05T10:00:00Z"
    release_count: int
    quarantined_count: int


def dataset_iri(*, base: str) -> URIRef:
    """The IRI of the whole published dataset."""
    return entity_iri("dataset", "osce-kg", base=base)


def describe_dataset(
    stats: DatasetStats,
    dumps: Iterable[DumpFile],
    facts: BuildFacts,
    *,
    base: str,
) -> Graph:
    """The VoID + DCAT description of a build whose statements ``stats`` counted, but for its
    named graphs (one subset each: :func:`graph_subsets`, built without rdflib, as there are
    as many as releases)."""
    graph = bind_prefixes(Graph(bind_namespaces="none"))
    graph.bind("spdx", SPDX)
    dataset = dataset_iri(base=base)
    _describe_whole(graph, dataset, stats, facts, base)
    _describe_classes(graph, dataset, stats, base)
    for dump in dumps:
        _describe_dump(graph, dataset, dump, base)
    return graph


def _describe_whole(
    graph: Graph, dataset: URIRef, stats: DatasetStats, facts: BuildFacts, base: str
) -> None:
    when = Literal(facts.build_time, datatype=XSD.dateTime)
    for cls in (VOID.Dataset, DCAT.Dataset):
        graph.add((dataset, RDF.type, cls))
    graph.add((dataset, DCTERMS.title, Literal("OSCE knowledge graph", lang="en")))
    graph.add(
        (
            dataset,
            DCTERMS.description,
            Literal(
                "The OSCE's structure and its press releases as linked data: participating "
                "States, institutions, field operations, people, and one named graph per release.",
                lang="en",
            ),
        )
    )
    graph.add((dataset, DCTERMS.modified, when))
    graph.add((dataset, PROV.generatedAtTime, when))
    graph.add((dataset, VOID.triples, Literal(stats.triples, datatype=XSD.integer)))
    graph.add((dataset, VOID.distinctSubjects, Literal(stats.subjects)))
    graph.add((dataset, VOID.uriSpace, Literal(f"{base}id/")))
    graph.add((dataset, VOID.vocabulary, URIRef(ONTOLOGY_NS)))
    graph.add((dataset, VOID.sparqlEndpoint, sparql_endpoint_iri(base=base)))
    graph.add((dataset, VOID.documents, Literal(facts.release_count, datatype=XSD.integer)))
    _describe_period(graph, dataset, stats, base)


def _describe_period(graph: Graph, dataset: URIRef, stats: DatasetStats, base: str) -> None:
    """The span of publication dates of the releases (dcterms:temporal)."""
    if stats.first_date is None or stats.last_date is None:
        return
    period = entity_iri("dataset", "osce-kg-period", base=base)
    graph.add((dataset, DCTERMS.temporal, period))
    graph.add((period, RDF.type, DCTERMS.PeriodOfTime))
    graph.add((period, DCAT.startDate, Literal(stats.first_date, datatype=XSD.date)))
    graph.add((period, DCAT.endDate, Literal(stats.last_date, datatype=XSD.date)))


def graph_subsets(stats: DatasetStats, *, base: str) -> list[ox.Triple]:
    """The VoID subset of each named graph (its name and size), as pyoxigraph triples."""
    dataset = ox.NamedNode(str(dataset_iri(base=base)))
    subset_of = ox.NamedNode(str(VOID.subset))
    rdf_type = ox.NamedNode(str(RDF.type))
    kinds = (ox.NamedNode(str(VOID.Dataset)), ox.NamedNode(str(SD.NamedGraph)))
    named = ox.NamedNode(str(SD.name))
    size = ox.NamedNode(str(VOID.triples))
    integer = ox.NamedNode(str(XSD.integer))
    triples = []
    for name, count in sorted(stats.graphs.items()):
        key = f"osce-kg-graph-{short_hash(name, length=12)}"
        subset = ox.NamedNode(str(entity_iri("dataset", key, base=base)))
        triples += [
            ox.Triple(dataset, subset_of, subset),
            ox.Triple(subset, rdf_type, kinds[0]),
            ox.Triple(subset, rdf_type, kinds[1]),
            ox.Triple(subset, named, ox.NamedNode(name)),
            ox.Triple(subset, size, ox.Literal(str(count), datatype=integer)),
        ]
    return triples


def _describe_classes(graph: Graph, dataset: URIRef, stats: DatasetStats, base: str) -> None:
    graph.add((dataset, VOID.classes, Literal(len(stats.classes), datatype=XSD.integer)))
    for cls, count in sorted(stats.classes.items()):
        key = f"osce-kg-class-{slugify(cls.rsplit('/', 1)[-1], max_length=40)}-{short_hash(cls)}"
        partition = entity_iri("dataset", key.replace("--", "-"), base=base)
        graph.add((dataset, VOID.classPartition, partition))
        graph.add((partition, VOID["class"], URIRef(cls)))
        graph.add((partition, VOID.entities, Literal(count, datatype=XSD.integer)))


def _describe_dump(graph: Graph, dataset: URIRef, dump: DumpFile, base: str) -> None:
    key = f"osce-kg-dump-{slugify(dump.name)}"
    distribution = entity_iri("dataset", key, base=base)
    checksum = entity_iri("dataset", f"{key}-sha256", base=base)
    url = dump_iri(dump.name, base=base)
    graph.add((dataset, VOID.dataDump, url))
    graph.add((dataset, DCAT.distribution, distribution))
    graph.add((distribution, RDF.type, DCAT.Distribution))
    graph.add((distribution, DCTERMS.title, Literal(dump.name)))
    graph.add((distribution, DCAT.downloadURL, url))
    graph.add((distribution, DCAT.accessURL, url))
    graph.add((distribution, DCAT.mediaType, IANA_MEDIA_TYPES[dump.media_type]))
    if dump.compressed:
        graph.add((distribution, DCAT.compressFormat, IANA_MEDIA_TYPES["application/gzip"]))
    graph.add(
        (distribution, DCAT.byteSize, Literal(dump.byte_size, datatype=XSD.nonNegativeInteger))
    )
    graph.add((distribution, VOID.triples, Literal(dump.statements, datatype=XSD.integer)))
    graph.add((distribution, SPDX.checksum, checksum))
    graph.add((checksum, RDF.type, SPDX.Checksum))
    graph.add((checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256))
    graph.add((checksum, SPDX.checksumValue, Literal(dump.sha256, datatype=XSD.hexBinary)))


def write_dumps_and_void(
    folder: Path,
    facts: BuildFacts,
    *,
    base: str,
    write: Callable[[Path], DumpsWritten | None],
) -> DumpsWritten | None:
    """Writes the dumps (``write(folder)``: ``kg.publish.dumps.write_rdf_dumps`` or
    ``patch_rdf_dumps``), their VoID description and SHA256SUMS into ``folder``; returns the
    dumps, the counts and the chunks, or None when ``write`` could not write them."""
    folder.mkdir(parents=True, exist_ok=True)
    written = write(folder)
    if written is None:
        return None
    dumps, stats, _ = written
    void = describe_dataset(stats, dumps, facts, base=base)
    void_quads = graph_quads(void, dataset_iri(base=base), bnode_prefix="v")
    triples = [q.triple for q in void_quads] + graph_subsets(stats, base=base)
    ordered = sorted(triples, key=str)
    (folder / VOID_FILE).write_bytes(turtle_bytes(ordered, {**PREFIXES, "spdx": str(SPDX)}))
    write_checksums(folder, [d.name for d in dumps] + [VOID_FILE])
    return written
