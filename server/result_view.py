"""What the query page shows for a SELECT result: each cell as text, IRIs by label and linked."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox

from server import urls
from server.labels import Labeller, is_external, readable_iri, short_name

#: Distinct IRIs of one result shown by their labels; the rest (a huge result) by their IRIs,
#: so a page of many rows is not many thousand label look-ups.
MAX_LABELLED = 500


@dataclass(frozen=True)
class Cell:
    """One value of a result row as shown: its text, its link, a note, the full IRI as a title."""

    text: str
    url: str | None = None
    note: str = ""
    title: str = ""
    external: bool = False


@dataclass
class ResultLabels:
    """Labels for the IRIs of one result, looked up once each, at most ``MAX_LABELLED``."""

    labeller: Labeller
    looked_up: int = 0

    def iri_cell(self, iri: str) -> Cell:
        node = ox.NamedNode(iri)
        if str(node) in self.labeller.cache or self.looked_up < MAX_LABELLED:
            if str(node) not in self.labeller.cache:
                self.looked_up += 1
            text = self.labeller.label(node)
        else:
            text = readable_iri(node)
        return Cell(text, urls.iri_link(iri), title=iri, external=is_external(node))

    def cell(self, binding: Mapping[str, Any] | None) -> Cell | None:
        """A SPARQL JSON binding (``{"type": ..., "value": ...}``) as a cell; None when unbound."""
        if binding is None:
            return None
        kind, value = binding.get("type"), str(binding.get("value", ""))
        if kind == "uri":
            return self.iri_cell(value)
        if kind == "bnode":
            return Cell("_:" + value)
        language = binding.get("xml:lang")
        datatype = binding.get("datatype")
        note = language or (short_name(ox.NamedNode(datatype)) if datatype else "")
        return Cell(value, note="" if note == "string" else str(note))


def result_rows(table: Mapping[str, Any]) -> list[list[Cell | None]]:
    """The rows of a SPARQL JSON SELECT result as cells, in the order of its variables."""
    variables: Sequence[str] = table.get("head", {}).get("vars", [])
    labels = ResultLabels(Labeller.for_request())
    return [
        [labels.cell(binding.get(variable)) for variable in variables]
        for binding in table.get("results", {}).get("bindings", [])
    ]
