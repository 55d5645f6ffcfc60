"""Validates RDF graphs against the SHACL shapes and says which named graph each problem is in."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pyshacl import shape as pyshacl_shape
from pyshacl import validate
from pyshacl.constraints import ALL_CONSTRAINT_PARAMETERS, CONSTRAINT_PARAMETERS_MAP
from rdflib import SH, BNode, Dataset, Graph, URIRef
from rdflib.term import Node

from kg.errors import InputError

# load_rdf_files moved to kg.rdf.rdffiles; re-exported for code written against kg.validation.shacl.
from kg.rdf.rdffiles import add_rdf_file, load_turtle_folder
from kg.rdf.rdffiles import load_rdf_files as load_rdf_files
from kg.rdf.uris import DEFAULT_BASE
from kg.reference import ontologies
from kg.reference.graph import reference_graph
from kg.resources import shapes_dir

log = logging.getLogger(__name__)

SEVERITY_ORDER = ("Violation", "Warning", "Info")


class _HashedParameters(list[URIRef]):
    """pySHACL's list of constraint parameters (sh:minCount, sh:class, ...), answering ``in``
    by hash instead of comparing with every member: the same answers, much faster."""

    def __init__(self, parameters: Iterable[URIRef]) -> None:
        super().__init__(parameters)
        self._members = frozenset(self)

    def __contains__(self, item: object) -> bool:
        return item in self._members


def _hash_constraint_parameters() -> None:
    """Gives pySHACL its list of constraint parameters as a :class:`_HashedParameters`.

    For every shape it validates (tens of times per release: ``sh:node``, ``sh:or`` and
    ``sh:property`` validate shapes per value) pySHACL asks, for each predicate of the shape,
    whether it is in that list of about 40 IRIs, one ``==`` at a time: a tenth of a batch's
    validation time. pySHACL keeps the list in ``pyshacl.shape.CONSTRAINT_PARAMS`` once made;
    this makes it with the same members. A pySHACL that keeps it elsewhere is left alone.
    """
    if getattr(pyshacl_shape, "module", None) is not pyshacl_shape or not isinstance(
        ALL_CONSTRAINT_PARAMETERS, list
    ):
        return  # not the layout this was written for
    parameters = _HashedParameters(ALL_CONSTRAINT_PARAMETERS)
    pyshacl_shape.CONSTRAINT_PARAMS = (parameters, CONSTRAINT_PARAMETERS_MAP)


_hash_constraint_parameters()


@dataclass(frozen=True)
class ValidationResult:
    """One SHACL result: what is wrong with which node, found by which shape."""

    focus_node: Node
    severity: str  # "Violation", "Warning" or "Info"
    source_shape: Node
    message: str
    #: the property at fault; None for a node-level constraint or a path other than ``p``/``^p``
    path: URIRef | None = None
    #: True when the path is the inverse ``^path`` (statements pointing at the focus node)
    inverse: bool = False
    value: Node | None = None
    #: the SHACL constraint component, e.g. sh:MinCountConstraintComponent
    constraint: URIRef | None = None


@dataclass(frozen=True)
class ValidationReport:
    """The outcome of one validation. ``conforms`` is False only when there is a Violation."""

    conforms: bool
    results: tuple[ValidationResult, ...]
    report_graph: Graph = field(compare=False, repr=False)
    seconds: float = field(default=0.0, compare=False)

    def count(self, severity: str) -> int:
        """How many results have this severity ("Violation", "Warning", "Info")."""
        return sum(1 for r in self.results if r.severity == severity)

    def by_focus_node(self) -> dict[Node, tuple[ValidationResult, ...]]:
        """Results grouped by focus node, nodes with violations first, then by IRI."""
        groups: dict[Node, list[ValidationResult]] = {}
        for result in self.results:
            groups.setdefault(result.focus_node, []).append(result)

        def rank(node: Node) -> tuple[int, str]:
            worst = min(SEVERITY_ORDER.index(r.severity) for r in groups[node])
            return worst, str(node)

        return {
            node: tuple(sorted(groups[node], key=result_sort_key))
            for node in sorted(groups, key=rank)
        }


@dataclass(frozen=True)
class GraphAssignment:
    """The results of a validation of many named graphs, each put in the graph(s) it comes from."""

    by_graph: Mapping[URIRef, tuple[ValidationResult, ...]]
    #: results whose focus node is in no named graph (e.g. a node only the ontology mentions)
    unassigned: tuple[ValidationResult, ...] = ()

    def failing_graphs(self) -> frozenset[URIRef]:
        """The named graphs with at least one Violation: the ones a build quarantines."""
        return frozenset(
            graph
            for graph, results in self.by_graph.items()
            if any(r.severity == "Violation" for r in results)
        )


@dataclass(frozen=True)
class DatasetReport:
    """A validation of a whole dataset in one pass, with results assigned to named graphs."""

    report: ValidationReport
    assignment: GraphAssignment


def load_shapes() -> Graph:
    """The SHACL shapes graph: every ``.ttl`` file of ``shapes/``."""
    return load_turtle_folder(shapes_dir(), "shapes")


def load_ontology() -> Graph:
    """The OWL ontology, for class reasoning (its axioms are mixed into the data)."""
    return ontologies.load_ontology()


def load_vocabularies() -> Graph:
    """The SKOS vocabularies. They are data, not axioms: add them to the data graph."""
    return ontologies.load_vocabularies()


def validate_graph(
    data: Graph,
    *,
    shapes: Graph | None = None,
    ontology: Graph | None = None,
    inplace: bool = False,
) -> ValidationReport:
    """Validates ``data`` against the shapes; a failed validation is a returned report.

    The ontology's axioms are mixed into the data so that ``sh:class`` and ``sh:targetClass`` see
    subclasses (SHACL follows ``rdfs:subClassOf`` in the data graph). No RDFS entailment
    is run: it would type every value of ``osce:hostState`` as a State from the
    property's range and so hide exactly the wrong links ``sh:class`` is there to catch.
    With ``inplace`` the data graph itself receives the ontology triples (saves a copy).
    Only axioms are mixed in, so the SKOS concepts that values must be (fields of work, ...)
    have to be in ``data``: add ``load_vocabularies()`` when validating a graph on its own.
    """
    started = time.perf_counter()
    conforms, report_graph, _ = validate(
        data,
        shacl_graph=shapes if shapes is not None else load_shapes(),
        ont_graph=ontology if ontology is not None else load_ontology(),
        inference="none",
        allow_warnings=True,
        inplace=inplace,
    )
    seconds = time.perf_counter() - started
    assert isinstance(report_graph, Graph)
    results = tuple(sorted(read_results(report_graph), key=result_sort_key))
    log.info("validated %d triples in %.2f s: %d results", len(data), seconds, len(results))
    return ValidationReport(
        conforms=bool(conforms), results=results, report_graph=report_graph, seconds=seconds
    )


def validate_dataset(
    dataset: Dataset,
    *,
    shapes: Graph | None = None,
    ontology: Graph | None = None,
) -> DatasetReport:
    """Validates the union of all named graphs in one pass, then assigns results to graphs.

    Release graphs link to States and structures of the reference graph, so each graph
    only makes sense together with the others: validating the union once is both correct
    and much faster than one validation per release.
    """
    union = Graph()
    for prefix, namespace in dataset.namespaces():
        union.bind(prefix, namespace)
    for s, p, o, _ in dataset.quads((None, None, None, None)):
        union.add((s, p, o))
    report = validate_graph(union, shapes=shapes, ontology=ontology, inplace=True)
    return DatasetReport(
        report=report, assignment=assign_results_to_graphs(dataset, report.results)
    )


def assign_results_to_graphs(
    dataset: Dataset, results: Iterable[ValidationResult]
) -> GraphAssignment:
    """Puts each result in the named graph(s) that hold the statement at fault.

    A result with a value of a plain property belongs to the graphs holding
    ``focus path value``; otherwise (e.g. a missing property) to the graphs where the focus
    node is a subject, else to those where it is an object.
    """
    by_graph: dict[URIRef, list[ValidationResult]] = {}
    unassigned: list[ValidationResult] = []
    for result in results:
        graphs = _graphs_of(dataset, result)
        if not graphs:
            unassigned.append(result)
        for graph in graphs:
            by_graph.setdefault(graph, []).append(result)
    return GraphAssignment(
        by_graph={g: tuple(by_graph[g]) for g in sorted(by_graph)},
        unassigned=tuple(unassigned),
    )


def result_patterns(result: ValidationResult) -> list[tuple[Node | None, Node | None, Node | None]]:
    """Where a result's statement may be, most telling first: the offending triple itself (when
    the result has a path and a value), then any triple about the focus node, then any triple
    pointing at it. The graph holding the first pattern found is the result's graph."""
    patterns: list[tuple[Node | None, Node | None, Node | None]] = []
    if result.path is not None and result.value is not None:
        if result.inverse:
            patterns.append((result.value, result.path, result.focus_node))
        else:
            patterns.append((result.focus_node, result.path, result.value))
    patterns.append((result.focus_node, None, None))
    patterns.append((None, None, result.focus_node))
    return patterns


def _graphs_of(dataset: Dataset, result: ValidationResult) -> list[URIRef]:
    for s, p, o in result_patterns(result):
        found = {c for _, _, _, c in dataset.quads((s, p, o, None)) if isinstance(c, URIRef)}
        found.discard(URIRef("urn:x-rdflib:default"))
        if found:
            return sorted(found)
    return []


def read_results(report: Graph) -> Iterable[ValidationResult]:
    """The results of a SHACL report graph as records."""
    # Only the report's own results: nested sh:detail results (from sh:node) repeat them.
    for node in report.objects(None, SH.result):
        severity = report.value(node, SH.resultSeverity)
        constraint = report.value(node, SH.sourceConstraintComponent)
        messages = sorted(str(m) for m in report.objects(node, SH.resultMessage))
        path, inverse = _read_path(report, report.value(node, SH.resultPath))
        yield ValidationResult(
            focus_node=_required(report.value(node, SH.focusNode)),
            severity=str(severity).rsplit("#", 1)[-1] if severity is not None else "Violation",
            source_shape=_required(report.value(node, SH.sourceShape)),
            message="; ".join(messages) or "(no message)",
            path=path,
            inverse=inverse,
            value=report.value(node, SH.value),
            constraint=constraint if isinstance(constraint, URIRef) else None,
        )


def _read_path(report: Graph, node: Node | None) -> tuple[URIRef | None, bool]:
    if isinstance(node, URIRef):
        return node, False
    inverse = report.value(node, SH.inversePath) if node is not None else None
    if isinstance(inverse, URIRef):
        return inverse, True
    return None, False


def _required(node: Node | None) -> Node:
    return node if node is not None else BNode()


def result_sort_key(result: ValidationResult) -> tuple[int, str, str, str, str]:
    """The order of results in a report: severity, focus node, path, shape, value."""
    return (
        SEVERITY_ORDER.index(result.severity) if result.severity in SEVERITY_ORDER else 3,
        str(result.focus_node),
        ("^" if result.inverse else "") + str(result.path or ""),
        str(result.source_shape),
        str(result.value or ""),
    )


@dataclass(frozen=True)
class FileValidation:
    """What ``osce-kg validate`` found: the report, the data (for labels) and, for the
    given files, which file or named graph each result is in."""

    report: ValidationReport | None
    data: Graph = field(repr=False)
    assignment: GraphAssignment | None = None
    #: files that could not be read or parsed; the others were validated
    errors: tuple[InputError, ...] = ()


def validate_files(
    paths: Iterable[str | Path], *, with_reference: bool = False, base: str = DEFAULT_BASE
) -> FileValidation:
    """What ``osce-kg validate`` checks: the given files, or the reference graph (under
    ``base``) by default, always with the SKOS vocabularies (values must be their concepts).

    An unusable file is reported in ``errors`` and the rest is validated; when no file is
    usable there is no report.
    """
    files = [Path(p) for p in paths]
    data = Graph()
    dataset, errors = _load_usable_files(files) if files else (None, [])
    if files and len(errors) == len(files):
        return FileValidation(None, data, errors=tuple(errors))
    if dataset is not None:
        for prefix, namespace in dataset.namespaces():
            data.bind(prefix, namespace)
        for s, p, o, _ in dataset.quads((None, None, None, None)):
            data.add((s, p, o))
    if with_reference or dataset is None:
        data += reference_graph(base=base)
    data += load_vocabularies()
    report = validate_graph(data)
    assignment = assign_results_to_graphs(dataset, report.results) if dataset else None
    return FileValidation(report, data, assignment, tuple(errors))


def _load_usable_files(paths: list[Path]) -> tuple[Dataset, list[InputError]]:
    dataset = Dataset(default_union=True)
    errors: list[InputError] = []
    for path in paths:
        before = len(dataset)
        try:
            add_rdf_file(dataset, path)
            if len(dataset) == before:  # e.g. plain JSON as .jsonld: nothing to validate
                raise InputError(
                    path,
                    None,
                    "the file holds no RDF statements, so there is nothing to validate",
                    hint="check that it is the file you meant (JSON-LD needs an @context)",
                )
        except InputError as error:
            log.debug("skipping %s: %s", path, error)
            errors.append(error)
    return dataset, errors
