"""What the report pages show: the SHACL results grouped by shape and node, and the quarantine."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from server import urls
from server.labels import Labeller, Link, prefixed_name, short_name
from server.prefixes import with_prefixes
from server.shapes_view import shape_anchors, shipped_shapes

log = logging.getLogger(__name__)

_RESULTS_QUERY = with_prefixes("""
SELECT ?result ?focus ?path ?severity ?shape ?component ?message ?value WHERE {
  ?result a sh:ValidationResult ; sh:focusNode ?focus .
  OPTIONAL { ?result sh:resultPath ?path . FILTER(isIRI(?path)) }
  OPTIONAL { ?result sh:resultSeverity ?severity }
  OPTIONAL { ?result sh:sourceShape ?shape }
  OPTIONAL { ?result sh:sourceConstraintComponent ?component }
  OPTIONAL { ?result sh:resultMessage ?message }
  OPTIONAL { ?result sh:value ?value }
}""")

#: Severities in the order a reader acts on them.
SEVERITY_ORDER = ("Violation", "Warning", "Info")


class ReportFileError(ValueError):
    """A report file of the build cannot be read; the message names the file and what to do."""


@dataclass(frozen=True)
class Problem:
    """One SHACL result as a reader sees it."""

    severity: str
    focus: Link
    path: Link | None
    shape: Link
    constraint: str
    message: str
    value: str


@dataclass(frozen=True)
class ProblemGroup:
    """Problems that share a shape (or a focus node), most severe first."""

    anchor: str
    title: Link
    severity: str
    problems: tuple[Problem, ...]


@dataclass(frozen=True)
class ValidationView:
    """The validation report page: counts per severity, then the problems grouped two ways."""

    conforms: bool
    counts: tuple[tuple[str, int], ...]
    by_shape: tuple[ProblemGroup, ...]
    by_node: tuple[ProblemGroup, ...]


def read_report(path: Path) -> ox.Store:
    """The report file in a store of its own (it is small: one result per problem)."""
    store = ox.Store()
    try:
        store.load(path=str(path), format=ox.RdfFormat.TURTLE)
    except SyntaxError as error:
        raise ReportFileError(f"{path} is not valid Turtle ({error}); rebuild") from error
    return store


def validation_view(path: Path, labeller: Labeller) -> ValidationView:
    """Every result of the build's SHACL report, grouped by shape and by focus node."""
    store = read_report(path)
    conforms = store.query(with_prefixes("ASK { ?r sh:conforms false }"))
    assert isinstance(conforms, ox.QueryBoolean)
    rows = store.query(_RESULTS_QUERY)
    assert isinstance(rows, ox.QuerySolutions)
    anchors = shape_anchors(shipped_shapes())
    problems = [problem_of(row, labeller, anchors) for row in rows]
    problems.sort(key=lambda p: (severity_rank(p.severity), p.shape.text, p.focus.text, p.message))
    counts = {severity: 0 for severity in SEVERITY_ORDER}
    for problem in problems:
        counts[problem.severity] = counts.get(problem.severity, 0) + 1
    return ValidationView(
        conforms=not bool(conforms),
        counts=tuple((severity, n) for severity, n in counts.items() if n),
        by_shape=group(problems, lambda p: p.shape, "shape"),
        by_node=group(problems, lambda p: p.focus, "node"),
    )


def severity_rank(severity: str) -> int:
    return SEVERITY_ORDER.index(severity) if severity in SEVERITY_ORDER else len(SEVERITY_ORDER)


def problem_of(row: ox.QuerySolution, labeller: Labeller, anchors: Mapping[str, str]) -> Problem:
    """A result row as links and texts: the focus node by its label, the shape by its name."""
    focus = row["focus"]
    shape = row["shape"]
    path = row["path"]
    value = row["value"]
    message = row["message"]
    return Problem(
        severity=short_name(row["severity"]) if row["severity"] is not None else "Violation",
        focus=node_link(focus, labeller),
        path=Link(prefixed_name(path.value) or path.value, urls.iri_link(path.value))
        if isinstance(path, ox.NamedNode)
        else None,
        shape=shape_link(shape, anchors),
        constraint=short_name(row["component"]).removesuffix("ConstraintComponent")
        if isinstance(row["component"], ox.NamedNode)
        else "",
        message=message.value if isinstance(message, ox.Literal) else "",
        value=""
        if value is None or value == focus
        else (value.value if isinstance(value, ox.Literal) else str(value)),
    )


def node_link(node: object, labeller: Labeller) -> Link:
    """A focus node: its label and page when it is an IRI, else its text."""
    if isinstance(node, ox.NamedNode):
        return Link(labeller.label(node), urls.iri_link(node.value))
    if isinstance(node, ox.Literal):
        return Link(node.value, None)
    return Link(str(node), None)


def shape_link(shape: object, anchors: Mapping[str, str]) -> Link:
    """A shape: its name, linked to its entry on the shapes page when it is a shipped one."""
    if not isinstance(shape, ox.NamedNode):
        return Link("(an unnamed shape)", None)
    anchor = anchors.get(shape.value)
    return Link(short_name(shape), f"{urls.shapes_url()}#{anchor}" if anchor else None)


def group(problems: Iterable[Problem], key: Any, kind: str) -> tuple[ProblemGroup, ...]:
    """Problems grouped under the link ``key`` gives, groups by severity then name."""
    grouped: dict[Link, list[Problem]] = {}
    for problem in problems:
        grouped.setdefault(key(problem), []).append(problem)
    groups = [
        ProblemGroup(
            anchor=f"{kind}-{index}",
            title=title,
            severity=min((p.severity for p in found), key=severity_rank),
            problems=tuple(found),
        )
        for index, (title, found) in enumerate(grouped.items(), start=1)
    ]
    groups.sort(key=lambda g: (severity_rank(g.severity), -len(g.problems), g.title.text))
    return tuple(groups)


@dataclass(frozen=True)
class QuarantinedRelease:
    """One input the build did not publish, and why."""

    file: str
    item: int
    stage: str
    field: str | None
    reason: str
    title: str | None
    date: str | None
    release_key: str | None
    problems: tuple[Mapping[str, Any], ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "item": self.item,
            "stage": self.stage,
            "field": self.field,
            "reason": self.reason,
            "title": self.title,
            "date": self.date,
            "release_key": self.release_key,
            "shacl_results": [dict(p) for p in self.problems],
        }


def read_quarantine(path: Path) -> tuple[QuarantinedRelease, ...]:
    """The build's ``quarantine.json`` as records; a missing file is an empty quarantine."""
    if not path.is_file():
        return ()
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ReportFileError(f"{path} cannot be read as JSON ({error}); rebuild") from error
    if not isinstance(entries, list):
        raise ReportFileError(f"{path} holds a JSON {type(entries).__name__}, not a list; rebuild")
    return tuple(quarantined(entry, path) for entry in entries)


def quarantined(entry: object, path: Path) -> QuarantinedRelease:
    """One entry of ``quarantine.json``, its reason without the folder the build read it from.

    The server publishes the reason, not the operator's folders: the file is named as the
    build names it (relative to the input folder).
    """
    if not isinstance(entry, dict):
        raise ReportFileError(f"{path}: an entry is a JSON {type(entry).__name__}, not an object")
    found = entry.get("record")
    record: dict[str, Any] = found if isinstance(found, dict) else {}
    file = str(entry.get("file", ""))
    reason = str(entry.get("reason") or "unknown problem")
    source = record.get("source_file")
    if isinstance(source, str) and source:
        reason = reason.replace(source, file)
    results = entry.get("shacl_results")
    problems = tuple(r for r in results if isinstance(r, dict)) if isinstance(results, list) else ()
    item = entry.get("item")
    return QuarantinedRelease(
        file=file,
        item=item if isinstance(item, int) and not isinstance(item, bool) else 0,
        stage=str(entry.get("stage") or "read"),
        field=_text_or_none(entry.get("field")),
        reason=reason,
        title=_text_or_none(record.get("title")),
        date=_text_or_none(record.get("date")),
        release_key=_text_or_none(entry.get("release_key")),
        problems=problems,
    )


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
