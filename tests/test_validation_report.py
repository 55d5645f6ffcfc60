"""Tests of kg.validation.text_report: a SHACL report as text a data editor can act on."""

from __future__ import annotations

from rdflib import Dataset, Graph, Literal, URIRef

from kg.rdf.vocab import OSCE
from kg.validation.shacl import (
    ValidationReport,
    ValidationResult,
    assign_results_to_graphs,
    validate_graph,
)
from kg.validation.text_report import render_report
from tests.conftest import ID, OSCESH, SHAPES_DATA


def test_text_report_groups_results_by_node_with_labels(
    shapes: Graph, ontology: Graph, context: Graph
) -> None:
    data = Graph()
    data += context
    data.parse(SHAPES_DATA / "structures" / "invalid-field-operation-no-kind.ttl")
    data.remove((URIRef(f"{ID}field-operation/mission-to-skopje"), OSCE.seatCity, None))
    report = validate_graph(data, shapes=shapes, ontology=ontology)

    text = render_report(report, data)

    assert text.startswith("Does NOT conform: 1 violation, 1 warning, 0 infos on 1 node(s)")
    assert text.count("fo:mission-to-skopje  (OSCE Mission to Skopje)") == 1  # its prefix
    assert text.index("Violation: osce:fieldOperationKind") < text.index("Warning: osce:seatCity")
    assert "shape: oscesh:FieldOperation-kind" in text


def test_an_inverse_path_is_shown_with_a_caret_and_the_files_to_edit() -> None:
    quote = URIRef(f"{ID}quote/q1")
    release = URIRef(f"{ID}release/r1")
    inverse = ValidationResult(
        focus_node=quote,
        severity="Violation",
        source_shape=OSCESH["Quotation-release"],
        message="A quotation needs the release that quotes it.",
        path=OSCE.quotation,
        inverse=True,
        value=release,
    )
    report = ValidationReport(conforms=False, results=(inverse,), report_graph=Graph())
    dataset = Dataset()
    graph = URIRef("https://w3id.org/osce-kg/graph/release/r1")
    dataset.graph(graph).add((release, OSCE.quotation, quote))
    data = Graph()
    data.bind("osce", OSCE)
    data.add((quote, URIRef("http://www.w3.org/2000/01/rdf-schema#label"), Literal("Q1")))

    text = render_report(report, data, assignment=assign_results_to_graphs(dataset, [inverse]))

    lines = text.splitlines()
    assert lines[0] == "Does NOT conform: 1 violation, 0 warnings, 0 infos on 1 node(s) (0.0 s)."
    assert lines[2].endswith("  (Q1)")
    assert lines[3] == f"  in <{graph}>"
    assert lines[4] == f"  Violation: ^osce:quotation = <{release}>"
    assert lines[5] == "    A quotation needs the release that quotes it."
