"""Tests of kg.publish.report: quarantined releases keep their SHACL results, paths as in SPARQL."""

from __future__ import annotations

import json
from pathlib import Path

from rdflib import Graph, Literal, URIRef

from kg.publish.layout import BuildLayout
from kg.publish.report import Quarantine, write_report
from kg.publish.summary import BuildSummary
from kg.validation.shacl import ValidationResult

OSCE = "https://w3id.org/osce-kg/ontology#"
QUOTE = URIRef("https://w3id.org/osce-kg/id/quote/q1")
RELEASE = URIRef("https://w3id.org/osce-kg/id/release/r1")


def result(path: str, *, inverse: bool, message: str) -> ValidationResult:
    return ValidationResult(
        focus_node=QUOTE,
        severity="Violation",
        source_shape=URIRef("https://w3id.org/osce-kg/shapes#Shape"),
        message=message,
        path=URIRef(OSCE + path),
        inverse=inverse,
        value=RELEASE if inverse else Literal("x"),
    )


def test_an_inverse_path_keeps_its_caret_in_the_quarantine() -> None:
    quarantine = Quarantine()
    results = [
        result("quotation", inverse=True, message="A quotation needs a release."),
        result("speaker", inverse=False, message="At most one speaker."),
    ]
    quarantine.add_violations("a.html", 0, "r1", results, {"title": "T"})

    [entry] = quarantine.entries()
    paths = [r["path"] for r in entry["shacl_results"]]
    assert paths == [f"^{OSCE}quotation", f"{OSCE}speaker"]
    assert entry["field"] == f"^{OSCE}quotation"
    assert entry["reason"] == "A quotation needs a release.; At most one speaker."
    assert entry["shacl_results"][0]["value"] == str(RELEASE)


def test_a_node_level_result_has_no_path() -> None:
    quarantine = Quarantine()
    node_level = ValidationResult(QUOTE, "Violation", URIRef(OSCE + "S"), "Give it a title.")
    quarantine.add_violations("b.html", 3, "r2", [node_level], {})
    [entry] = quarantine.entries()
    assert entry["shacl_results"][0]["path"] is None
    assert (entry["field"], entry["stage"], entry["item"]) == (None, "validate", 3)


def test_write_report_writes_the_three_files(tmp_path: Path) -> None:
    quarantine = Quarantine()
    quarantine.add("z.html", 1, {"stage": "parse", "reason": "no title"}, {"title": None})
    quarantine.add_violations(
        "a.html", 0, "r1", [result("quotation", inverse=True, message="m")], {}
    )
    validation = Graph()
    validation.add((QUOTE, URIRef(OSCE + "note"), Literal("n")))

    layout = BuildLayout(tmp_path)
    write_report(layout, validation, quarantine, BuildSummary(build_id="b", releases=2))

    assert len(Graph().parse(layout.validation_file)) == 1
    entries = json.loads(layout.quarantine_file.read_text(encoding="utf-8"))
    found = [(e["file"], e["stage"]) for e in entries]
    assert found == [("a.html", "validate"), ("z.html", "parse")]
    assert BuildSummary.read(layout.summary_file) == BuildSummary(build_id="b", releases=2)
