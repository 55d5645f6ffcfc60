"""Validates RDF graphs against the SHACL shapes and says which named graph each problem is in."""

from __future__ import annotations

import gzip
import logging
import time
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib.resources.abc import Traversable
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname
from xml.sax import SAXParseException

import pyoxigraph
from pyshacl import validate
from rdflib import SH, BNode, Dataset, Graph, Literal, URIRef
from rdflib.exceptions import ParserError
from rdflib.plugins.parsers.notation3 import BadSyntax
from rdflib.term import Node
from rdflib.util import guess_format

from kg import ontologies
from kg.errors import InputError
from kg.resources import shapes_dir, turtle_files

log = logging.getLogger(__name__)

SEVERITY_ORDER = ("Violation", "Warning", "Info")

# rdflib format names -> pyoxigraph formats, to locate a syntax error rdflib gives no line for.
_OXIGRAPH_FORMATS = {
    "nt": pyoxigraph.RdfFormat.N_TRIPLES,
    "nquads": pyoxigraph.RdfFormat.N_QUADS,
}
_QUAD_FORMATS = frozenset({"nquads", "trig", "trix"})
_FORMAT_NAMES = {
    "turtle": "Turtle",
    "nt": "N-Triples",
    "nquads": "N-Quads",
    "trig": "TriG",
    "xml": "RDF/XML",
    "json-ld": "JSON-LD",
    "n3": "Notation3",
}


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
            node: tuple(sorted(groups[node], key=_result_sort_key))
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
    return _load_turtle_folder(shapes_dir(), "shapes")


def load_ontology() -> Graph:
    """The OWL ontology, for class reasoning (its axioms are mixed into the data)."""
    return ontologies.load_ontology()


def load_vocabularies() -> Graph:
    """The SKOS vocabularies. They are data, not axioms: add them to the data graph."""
    return ontologies.load_vocabularies()


def _load_turtle_folder(folder: Traversable, what: str) -> Graph:
    graph = Graph()
    for resource in turtle_files(folder):
        data = resource.read_bytes()
        try:
            graph.parse(data=data, format="turtle", publicID=_public_id(resource.name, what))
        except (BadSyntax, ParserError) as exc:
            raise _input_error(f"{what}/{resource.name}", data, "turtle", exc) from exc
    log.debug("loaded %d %s triples", len(graph), what)
    return graph


def _public_id(name: str, what: str) -> str:
    return f"file:///{what}/{name}"


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
    results = tuple(sorted(_read_results(report_graph), key=_result_sort_key))
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


def _graphs_of(dataset: Dataset, result: ValidationResult) -> list[URIRef]:
    patterns: list[tuple[Node | None, Node | None, Node | None]] = []
    if result.path is not None and result.value is not None:
        if result.inverse:
            patterns.append((result.value, result.path, result.focus_node))
        else:
            patterns.append((result.focus_node, result.path, result.value))
    patterns.append((result.focus_node, None, None))
    patterns.append((None, None, result.focus_node))
    for s, p, o in patterns:
        found = {c for _, _, _, c in dataset.quads((s, p, o, None)) if isinstance(c, URIRef)}
        found.discard(URIRef("urn:x-rdflib:default"))
        if found:
            return sorted(found)
    return []


def _read_results(report: Graph) -> Iterable[ValidationResult]:
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


def _result_sort_key(result: ValidationResult) -> tuple[int, str, str, str, str]:
    return (
        SEVERITY_ORDER.index(result.severity) if result.severity in SEVERITY_ORDER else 3,
        str(result.focus_node),
        ("^" if result.inverse else "") + str(result.path or ""),
        str(result.source_shape),
        str(result.value or ""),
    )


def load_rdf_files(paths: Iterable[str | Path]) -> Dataset:
    """Parses RDF files (format from the extension, ``.gz`` allowed) into one Dataset.

    Quad files (N-Quads, TriG) keep their named graphs; each triple file becomes a named
    graph called by its file IRI, so results can be traced back to the file.
    Raises InputError naming the file, line and column of the first syntax error.
    """
    dataset = Dataset(default_union=True)
    for path in map(Path, paths):
        add_rdf_file(dataset, path)
    return dataset


def add_rdf_file(dataset: Dataset, path: Path) -> None:
    """Parses one RDF file into ``dataset``, as ``load_rdf_files`` does; InputError if unusable."""
    data, fmt = _read_rdf_file(path)
    try:
        _parse_into(dataset, path.resolve().as_uri(), data, fmt)
    except (BadSyntax, ParserError, SyntaxError, ValueError, SAXParseException) as exc:
        raise _input_error(str(path), data, fmt, exc) from exc


def _parse_into(dataset: Dataset, iri: str, data: bytes, fmt: str) -> None:
    rdflib_terms = logging.getLogger("rdflib.term")
    level = rdflib_terms.level
    # An ill-typed literal ("2020-02-31"^^xsd:date) makes rdflib log a traceback; the
    # validation report names the literal already, in words.
    rdflib_terms.setLevel(logging.CRITICAL)
    try:
        if fmt in _QUAD_FORMATS:
            with warnings.catch_warnings():
                # rdflib's own quad parsers still call a Dataset API it deprecates.
                warnings.filterwarnings("ignore", "Dataset.default_context", DeprecationWarning)
                dataset.parse(data=data, format=fmt, publicID=iri)
        else:
            dataset.graph(URIRef(iri)).parse(data=data, format=fmt, publicID=iri)
    finally:
        rdflib_terms.setLevel(level)


def _read_rdf_file(path: Path) -> tuple[bytes, str]:
    name = path.name[:-3] if path.name.endswith(".gz") else path.name
    fmt = guess_format(name)
    if fmt is None:
        raise InputError(
            path,
            None,
            "unknown RDF file extension",
            hint="use .ttl, .nt, .nq, .trig, .rdf, .owl or .jsonld, optionally with .gz",
        )
    try:
        data = path.read_bytes()
        return (gzip.decompress(data) if path.name.endswith(".gz") else data), fmt
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise InputError(path, None, f"cannot read the file: {exc}", hint="check the path") from exc


def _input_error(where: str, data: bytes, fmt: str, exc: Exception) -> InputError:
    """An InputError with the parser's line and column (both 1-based) where it knows them."""
    line, column, problem = _locate_syntax_error(data, fmt, exc)
    return InputError(
        where,
        None,
        f"not valid {_FORMAT_NAMES.get(fmt, fmt)}: {problem}",
        hint="fix the syntax at this line and column",
        line=line,
        column=column,
    )


def _locate_syntax_error(
    data: bytes, fmt: str, exc: Exception
) -> tuple[int | None, int | None, str]:
    if isinstance(exc, BadSyntax):
        # BadSyntax carries the parsed text and the character offset of the fault.
        text: bytes = exc._str if isinstance(exc._str, bytes) else str(exc._str).encode()
        offset = min(exc._i, len(text))
        line_start = text.rfind(b"\n", 0, offset) + 1
        return text.count(b"\n", 0, offset) + 1, offset - line_start + 1, exc._why
    lineno = getattr(exc, "lineno", None) or _call(exc, "getLineNumber")
    column = getattr(exc, "colno", None) or _call(exc, "getColumnNumber")
    if lineno is None and fmt in _OXIGRAPH_FORMATS:
        # rdflib's line-based parsers give no position; pyoxigraph's parser does.
        return _locate_with_oxigraph(data, _OXIGRAPH_FORMATS[fmt], str(exc))
    if isinstance(column, int) and getattr(exc, "colno", None) is None:
        column += 1  # expat counts columns from 0
    if isinstance(exc, SAXParseException):
        return lineno, column, exc.getMessage()
    return lineno, column, str(getattr(exc, "msg", None) or exc)


def _locate_with_oxigraph(
    data: bytes, fmt: pyoxigraph.RdfFormat, problem: str
) -> tuple[int | None, int | None, str]:
    try:
        for _ in pyoxigraph.parse(data, fmt):
            pass
    except SyntaxError as exc:
        return exc.lineno, exc.offset, exc.msg
    return None, None, problem


def _call(exc: Exception, method: str) -> int | None:
    function = getattr(exc, method, None)
    value = function() if callable(function) else None
    return value if isinstance(value, int) else None


_LABEL_PROPERTIES = (
    URIRef("http://www.w3.org/2004/02/skos/core#prefLabel"),
    URIRef("http://www.w3.org/2000/01/rdf-schema#label"),
    URIRef("https://schema.org/name"),
    URIRef("http://xmlns.com/foaf/0.1/name"),
)


def render_report(
    report: ValidationReport,
    data: Graph | None = None,
    *,
    assignment: GraphAssignment | None = None,
) -> str:
    """The report as text a data editor can act on: one block per focus node, worst first,
    with the node's label and, given an assignment, the files or graphs to edit."""
    names = Graph()  # for everyone's prefixes
    for prefix, namespace in [*report.report_graph.namespaces(), *(data or Graph()).namespaces()]:
        names.bind(prefix, namespace, override=False, replace=False)
    places = _places_by_focus_node(assignment)
    lines = [_summary_line(report)]
    for node, results in report.by_focus_node().items():
        label = _label_of(data, node) if data is not None else None
        lines.append("")
        lines.append(_short(names, node) + (f"  ({label})" if label else ""))
        lines.extend(f"  in {place}" for place in places.get(node, ()))
        for result in results:
            where = "^" if result.inverse else ""
            where += _short(names, result.path) if result.path is not None else "(node)"
            if result.value is not None and result.value != result.focus_node:
                where += f" = {_short(names, result.value)}"
            lines.append(f"  {result.severity}: {where}")
            lines.append(f"    {result.message}")
            lines.append(f"    shape: {_short(names, result.source_shape)}")
    return "\n".join(lines) + "\n"


def _places_by_focus_node(assignment: GraphAssignment | None) -> dict[Node, list[str]]:
    """Focus node -> the files (as paths) or named graphs its results were assigned to."""
    places: dict[Node, list[str]] = {}
    for graph, results in (assignment.by_graph if assignment else {}).items():
        place = _display_place(graph)
        for node in dict.fromkeys(r.focus_node for r in results):
            places.setdefault(node, []).append(place)
    return places


def _display_place(graph: URIRef) -> str:
    if not graph.startswith("file://"):
        return f"<{graph}>"
    path = Path(url2pathname(urlparse(str(graph)).path))
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _summary_line(report: ValidationReport) -> str:
    counts = ", ".join(
        f"{report.count(s)} {s.lower()}{'' if report.count(s) == 1 else 's'}"
        for s in SEVERITY_ORDER
    )
    verdict = "Conforms" if report.conforms else "Does NOT conform"
    nodes = len({r.focus_node for r in report.results})
    return f"{verdict}: {counts} on {nodes} node(s) ({report.seconds:.1f} s)."


def _short(names: Graph, node: Node) -> str:
    if isinstance(node, Literal):
        text = str(node) if len(str(node)) <= 80 else str(node)[:77] + "..."
        if node.language:
            return f'"{text}"@{node.language}'
        if node.datatype is not None:
            return f'"{text}"^^{_short(names, node.datatype)}'
        return f'"{text}"'
    if isinstance(node, URIRef):
        try:
            return names.namespace_manager.normalizeUri(node)
        except (ValueError, KeyError):
            return f"<{node}>"
    if isinstance(node, BNode):
        return f"_:{node}"
    return str(node)


def _label_of(data: Graph, node: Node) -> str | None:
    for prop in _LABEL_PROPERTIES:
        values = list(data.objects(node, prop))
        english = [v for v in values if isinstance(v, Literal) and v.language in (None, "en")]
        if english or values:
            return str(sorted(map(str, english or values))[0])
    return None


@dataclass(frozen=True)
class FileValidation:
    """What ``osce-kg validate`` found: the report, the data (for labels) and, for the
    given files, which file or named graph each result is in."""

    report: ValidationReport | None
    data: Graph = field(repr=False)
    assignment: GraphAssignment | None = None
    #: files that could not be read or parsed; the others were validated
    errors: tuple[InputError, ...] = ()


def validate_files(paths: Iterable[str | Path], *, with_reference: bool = False) -> FileValidation:
    """What ``osce-kg validate`` checks: the given files, or the reference graph by default,
    always with the SKOS vocabularies (values must be their concepts).

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
        data += _reference_graph()
    data += load_vocabularies()
    report = validate_graph(data)
    assignment = assign_results_to_graphs(dataset, report.results) if dataset else None
    return FileValidation(report, data, assignment, tuple(errors))


def _load_usable_files(paths: list[Path]) -> tuple[Dataset, list[InputError]]:
    dataset = Dataset(default_union=True)
    errors: list[InputError] = []
    for path in paths:
        try:
            add_rdf_file(dataset, path)
        except InputError as error:
            log.debug("skipping %s: %s", path, error)
            errors.append(error)
    return dataset, errors


def _reference_graph() -> Graph:
    from kg.reference import reference_graph

    return reference_graph()
