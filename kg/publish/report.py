"""Keeps the releases a build rejects and writes the report (validation, quarantine, summary)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from rdflib import Graph

from kg.publish.layout import BuildLayout
from kg.publish.summary import BuildSummary
from kg.rdf.vocab import bind_prefixes
from kg.validation.shacl import ValidationResult


class Quarantine:
    """The rejected releases of one build, each with file, item, stage, field and reason.

    Nothing is lost: each entry keeps the release record and, for a shape violation, the
    SHACL results.
    """

    def __init__(self) -> None:
        self._entries: list[dict[str, Any]] = []

    def __len__(self) -> int:
        return len(self._entries)

    def add(
        self,
        file_name: str,
        item: int,
        problem: Mapping[str, str | None],
        record: Mapping[str, Any],
    ) -> None:
        """A release that could not be read, parsed or mapped."""
        self._entries.append(
            {
                "file": file_name,
                "item": item,
                "stage": problem.get("stage") or "read",
                "field": problem.get("field"),
                "reason": problem.get("reason") or "unknown problem",
                "release_key": None,
                "shacl_results": [],
                "record": dict(record),
            }
        )

    def add_violations(
        self,
        file_name: str,
        item: int,
        release_key: str,
        results: Iterable[ValidationResult],
        record: Mapping[str, Any],
    ) -> None:
        """A release whose graph violates a shape, with every violation."""
        found = [_result_json(r) for r in results]
        first = found[0] if found else {"path": None, "message": "violates a shape"}
        self._entries.append(
            {
                "file": file_name,
                "item": item,
                "stage": "validate",
                "field": first["path"],
                "reason": "; ".join(sorted({r["message"] for r in found})) or first["message"],
                "release_key": release_key,
                "shacl_results": found,
                "record": dict(record),
            }
        )

    def entries(self) -> tuple[dict[str, Any], ...]:
        """The entries sorted by file and item."""
        return tuple(sorted(self._entries, key=lambda e: (e["file"], e["item"])))


def _result_json(result: ValidationResult) -> dict[str, Any]:
    return {
        "severity": result.severity,
        "focus_node": str(result.focus_node),
        "path": _path_text(result),
        "value": str(result.value) if result.value is not None else None,
        "source_shape": str(result.source_shape),
        "message": result.message,
    }


def _path_text(result: ValidationResult) -> str | None:
    """The property at fault as its IRI, with SPARQL's ``^`` when the path is inverse."""
    if result.path is None:
        return None
    return ("^" if result.inverse else "") + str(result.path)


def write_report(
    layout: BuildLayout, validation: Graph, quarantine: Quarantine, summary: BuildSummary
) -> None:
    """Writes the build's ``validation.ttl``, ``quarantine.json`` and ``summary.json``."""
    layout.report.mkdir(parents=True, exist_ok=True)
    report = bind_prefixes(Graph(bind_namespaces="none"))
    for triple in validation:
        report.add(triple)
    report.serialize(destination=layout.validation_file, format="turtle")
    text = json.dumps(list(quarantine.entries()), indent=2, ensure_ascii=False, default=str)
    layout.quarantine_file.write_text(text + "\n", "utf-8")
    summary.write(layout.summary_file)
