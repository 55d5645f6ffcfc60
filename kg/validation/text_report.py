"""Renders a SHACL validation report as text a data editor can act on."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from kg.validation.shacl import SEVERITY_ORDER, GraphAssignment, ValidationReport

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
