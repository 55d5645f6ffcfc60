"""Validates release graphs a batch at a time, each with the slice of the context it links to.

A build validates the context (ontology, vocabularies, reference graph, extra RDF) once, and
each release graph together with the part of the context it refers to: the statements about
every node the release names, and the types of the nodes those statements name (enough for
``sh:class``, ``sh:node`` and ``sh:or`` on a linked State, structure or concept). Releases never
make statements about each other's nodes (every node a release mints carries its key), so a
release's verdict does not depend on the other releases: a batch gives each release the
results a one-pass validation of everything would give it. That is what lets a build cache
each release's verdict (:class:`ReleaseVerdict`) by the hash of its graph and the context.

A shape whose verdict on a release would need more of the graph than that (a SPARQL-based
constraint, a path of two or more steps into the reference graph) breaks this assumption;
``tests/test_build_validation.py`` compares with a one-pass validation to catch it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from rdflib import RDF, SH, BNode, Dataset, Graph, Literal, URIRef
from rdflib.term import Node

from kg.rdf.quads import graph_quads
from kg.rdf.vocab import OSCE
from kg.validation.precheck import Precheck, compile_precheck
from kg.validation.shacl import (
    GraphAssignment,
    ValidationResult,
    assign_results_to_graphs,
    read_results,
    result_patterns,
    result_sort_key,
    validate_graph,
)

log = logging.getLogger(__name__)

#: the name the context slice of a batch is given when results are put in graphs
CONTEXT_SLICE = URIRef("urn:x-osce-kg:context-slice")
_REPORT = BNode("report")
_ROOT_LABEL = "r"
#: set to 0 to validate every release with pySHACL (no pre-check): for comparisons and debugging
PRECHECK_ENV = "OSCE_KG_SHACL_PRECHECK"
_NOT_COMPILED = "compiled again on first use"
_FILE_DIGEST = re.compile(rf'^(<[^>]*> <{re.escape(str(OSCE.sha256))}> )"[0-9a-f]{{64}}" \.$', re.M)
Triple = tuple[Node, Node, Node]


@dataclass(frozen=True)
class ReleaseVerdict:
    """What validating one release graph found: each result as a small N-Triples document.

    Each document holds the result's own statements (with its nested details) and one
    ``_:report sh:result _:r`` statement naming its root, so verdicts can be cached as text
    and merged into one report.
    """

    results: tuple[str, ...] = ()
    #: True when at least one result is a Violation: the release is quarantined
    failing: bool = False

    def to_json(self) -> dict[str, object]:
        return {"results": list(self.results), "failing": self.failing}

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> ReleaseVerdict:
        results = data["results"]
        assert isinstance(results, list)
        return cls(tuple(str(r) for r in results), bool(data["failing"]))


class ValidationContext:
    """The shapes, the ontology and the context graphs of one build, indexed for slicing."""

    def __init__(
        self,
        shapes: Graph,
        ontology: Graph,
        graphs: Sequence[tuple[URIRef, Graph]],
        fingerprint: str,
        *,
        precheck: bool | None = None,
    ) -> None:
        self.shapes = shapes
        self.ontology = ontology
        self.graphs = tuple(graphs)
        #: a hash of the shapes, the ontology and the context: part of every verdict's key
        self.fingerprint = fingerprint
        if precheck is None:
            precheck = os.environ.get(PRECHECK_ENV, "1").strip() != "0"
        #: the compiled pre-check (kg.validation.precheck), None when off or not possible
        self._precheck: object = compile_precheck(shapes, ontology) if precheck else None
        self._about: dict[Node, list[Triple]] = {}
        self._types: dict[Node, list[Triple]] = {}  # the rdf:type statements of _about
        for _, graph in self.graphs:
            for triple in graph:
                self._about.setdefault(triple[0], []).append(triple)
                if triple[1] == RDF.type:
                    self._types.setdefault(triple[0], []).append(triple)

    @property
    def precheck(self) -> Precheck | None:
        """The pre-check that proves releases clean without pySHACL (None when off)."""
        if self._precheck == _NOT_COMPILED:  # after unpickling: compiled closures do not pickle
            self._precheck = compile_precheck(self.shapes, self.ontology)
        assert self._precheck is None or isinstance(self._precheck, Precheck)
        return self._precheck

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        if state["_precheck"] is not None:
            state["_precheck"] = _NOT_COMPILED
        return state

    def verdict_key(self, ntriples: str) -> str:
        """The cache key of a release graph's verdict (its N-Triples text in this context).

        A release graph states the SHA-256 of the file it came from, so editing one release
        of a file changes that digest in every release of the file. A well-formed digest
        (64 lower-case hex digits, what the shape requires) is left out of the key: one valid
        digest cannot validate differently from another, and no result names it. A malformed
        one stays in the key.
        """
        digest = hashlib.sha256(self.fingerprint.encode())
        digest.update(b"\x1f")
        digest.update(_FILE_DIGEST.sub(r'\1"(sha256)" .', ntriples).encode("utf-8"))
        return digest.hexdigest()

    def slice_for(self, nodes: Iterable[Node]) -> list[Triple]:
        """The context statements about ``nodes``, and the types of the nodes they name
        (each once)."""
        found: dict[Triple, None] = {}
        seen: set[Node] = set()
        about, types = self._about, self._types
        for node in nodes:
            if node in seen:
                continue
            seen.add(node)
            for triple in about.get(node, ()):
                found[triple] = None
                value = triple[2]
                if value not in seen and isinstance(value, URIRef | BNode):
                    for typed in types.get(value, ()):
                        found[typed] = None
        return list(found)

    def whole(self) -> Dataset:
        """The context graphs as one dataset (each graph under its name)."""
        dataset = Dataset()
        for name, graph in self.graphs:
            target = dataset.graph(name)
            for triple in graph:
                target.add(triple)
        return dataset


def context_fingerprint(shapes: Graph, ontology: Graph, graphs: Iterable[Graph]) -> str:
    """A hash of the shapes, ontology and context graphs: their statements in canonical form
    (blank nodes labelled by what surrounds them, so the same files give the same hash)."""
    digest = hashlib.sha256(b"osce-kg verdicts 1")
    for graph in (shapes, ontology, *graphs):
        lines = sorted(str(q) for q in graph_quads(graph, CONTEXT_SLICE, bnode_prefix="c"))
        digest.update(f"{len(lines)}\n".encode())
        digest.update("\n".join(lines).encode("utf-8"))
    return digest.hexdigest()


def validate_context(context: ValidationContext) -> tuple[GraphAssignment, tuple[str, ...]]:
    """Validates the context graphs alone: the results about the reference data and extras.

    Returns the results assigned to the context graphs, and each result as a document.
    """
    dataset = context.whole()
    data = Graph(bind_namespaces="none")
    for s, p, o, _ in dataset.quads((None, None, None, None)):
        data.add((s, p, o))
    report = validate_graph(data, shapes=context.shapes, ontology=context.ontology, inplace=True)
    documents = _result_documents(report.report_graph)
    return assign_results_to_graphs(dataset, report.results), tuple(documents.values())


def validate_batch(
    context: ValidationContext, releases: Sequence[tuple[URIRef, Iterable[Triple]]]
) -> list[ReleaseVerdict]:
    """Validates release graphs (each under its graph name) in one pySHACL run.

    A release graph is given as its triples (an rdflib graph will do). Every release gets the
    results a one-pass validation of the whole build assigns to its graph; results about the
    context alone are left to :func:`validate_context`. Releases the context's pre-check
    proves clean (:mod:`kg.validation.precheck`) get the empty verdict without pySHACL.
    """
    if not releases:
        return []
    materialised = [(name, list(triples)) for name, triples in releases]
    cleared = _precheck_clean(context, materialised)
    verdicts = _validate_with_pyshacl(
        context, [r for r, clean in zip(materialised, cleared, strict=True) if not clean]
    )
    found = iter(verdicts)
    return [ReleaseVerdict() if clean else next(found) for clean in cleared]


def _precheck_clean(
    context: ValidationContext, releases: Sequence[tuple[URIRef, list[Triple]]]
) -> list[bool]:
    """For each release, whether the pre-check proves it gets no result (all False when off)."""
    precheck = context.precheck
    if precheck is None:
        return [False] * len(releases)
    cleared = []
    for _, triples in releases:
        nodes = {t[0] for t in triples}
        nodes.update(t[2] for t in triples)
        cleared.append(precheck.is_clean(triples, context.slice_for(nodes)))
    return cleared


def _validate_with_pyshacl(
    context: ValidationContext, releases: Sequence[tuple[URIRef, list[Triple]]]
) -> list[ReleaseVerdict]:
    """Validates release graphs in one pySHACL run (see :func:`validate_batch`)."""
    if not releases:
        return []
    data = Graph(bind_namespaces="none")
    add = data.add
    holders = _Holders()
    for name, triples in releases:
        for triple in triples:
            add(triple)
            holders.add(name, triple)
    for triple in context.slice_for(holders.nodes()):
        add(triple)
        holders.add(CONTEXT_SLICE, triple)
    report = validate_graph(data, shapes=context.shapes, ontology=context.ontology, inplace=True)
    documents = _result_documents(report.report_graph)
    by_graph: dict[URIRef, list[ValidationResult]] = {}
    for result in report.results:
        for name in holders.graphs_holding(result):
            by_graph.setdefault(name, []).append(result)
    verdicts = []
    for name, _ in releases:
        results = by_graph.get(name, [])
        verdicts.append(
            ReleaseVerdict(
                tuple(documents[r] for r in results),
                any(r.severity == "Violation" for r in results),
            )
        )
    return verdicts


class _Holders:
    """Which graphs of a batch hold a statement, a subject or an object: the three patterns
    of ``result_patterns``, answered without searching every graph."""

    def __init__(self) -> None:
        self._triples: dict[Triple, set[URIRef]] = {}
        self._subjects: dict[Node, set[URIRef]] = {}
        self._objects: dict[Node, set[URIRef]] = {}

    def add(self, name: URIRef, triple: Triple) -> None:
        self._triples.setdefault(triple, set()).add(name)
        self._subjects.setdefault(triple[0], set()).add(name)
        self._objects.setdefault(triple[2], set()).add(name)

    def nodes(self) -> list[Node]:
        """Every subject and object named so far."""
        return [*self._subjects, *self._objects]

    def graphs_holding(self, result: ValidationResult) -> list[URIRef]:
        """The graphs a result belongs to, by the rule of ``assign_results_to_graphs``."""
        for s, p, o in result_patterns(result):
            if s is not None and p is not None and o is not None:
                found = self._triples.get((s, p, o))
            elif s is not None:
                found = self._subjects.get(s)
            elif o is not None:
                found = self._objects.get(o)
            else:
                found = None
            if found:
                return sorted(found)
        return []


def _result_documents(report: Graph) -> dict[ValidationResult, str]:
    """Each result of a pySHACL report as a small N-Triples document (see ReleaseVerdict)."""
    documents: dict[ValidationResult, str] = {}
    for node in report.objects(None, SH.result):
        single = Graph(bind_namespaces="none")
        single.add((_REPORT, SH.result, node))
        _copy_tree(report, node, single)
        results = list(read_results(single))
        if results:
            documents.setdefault(results[0], _ntriples(single, node))
    return documents


def _copy_tree(report: Graph, node: Node, into: Graph) -> None:
    """The statements about ``node`` and, recursively, about the blank nodes they name."""
    pending, seen = [node], {node}
    while pending:
        current = pending.pop()
        for s, p, o in report.triples((current, None, None)):
            into.add((s, p, o))
            if isinstance(o, BNode) and o not in seen:
                seen.add(o)
                pending.append(o)


def _ntriples(graph: Graph, root: Node) -> str:
    """N-Triples with stable blank-node labels: ``_:report``, ``_:r`` for the root, ``_:rN``."""
    labels: dict[Node, str] = {_REPORT: "_:report", root: f"_:{_ROOT_LABEL}"}

    def term(node: Node) -> str:
        if isinstance(node, BNode):
            return labels.setdefault(node, f"_:{_ROOT_LABEL}{len(labels)}")
        return node.n3()

    lines = sorted(f"{term(s)} {term(p)} {term(o)} .\n" for s, p, o in graph)
    return "".join(lines)


def parse_documents(documents: Iterable[str]) -> Graph:
    """Result documents as one report graph: one sh:ValidationReport node with every result.

    Each document gets fresh blank nodes; ``sh:conforms`` is false when any is a Violation.
    """
    graph = Graph(bind_namespaces="none")
    report = BNode()
    for document in documents:
        single = Graph(bind_namespaces="none")
        single.parse(data=document, format="nt")
        for s, p, o in single:
            if p == SH.result:
                graph.add((report, SH.result, o))
            else:
                graph.add((s, p, o))
    results = list(read_results(graph))
    graph.add((report, RDF.type, SH.ValidationReport))
    conforms = not any(r.severity == "Violation" for r in results)
    graph.add((report, SH.conforms, Literal(conforms)))
    return graph


def results_of(documents: Iterable[str]) -> list[ValidationResult]:
    """The results that documents hold, as records, in the report's order."""
    return sorted(read_results(parse_documents(documents)), key=result_sort_key)
