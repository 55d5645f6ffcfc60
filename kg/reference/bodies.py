"""Reads bodies.tsv: standing OSCE bodies that are not institutions, units or field operations."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from importlib import resources

from kg.errors import InputError
from kg.reference.cells import split_list
from kg.reference.tsv import TableRow, load_table

log = logging.getLogger(__name__)

BODIES_TABLE = "bodies.tsv"
_COLUMNS = ("label", "kind", "other_names", "abbreviations", "parent", "source")


@dataclass(frozen=True)
class Body:
    """One standing body: key, English label, kind, other names, parent field operation, source."""

    key: str
    label: str
    kind: str
    other_names: tuple[str, ...] = ()
    abbreviations: tuple[str, ...] = ()
    parent: str = ""  # key of a field operation in field_operations.tsv, or empty
    source: str = ""  # the facts-table row or the OSCE's published structure it comes from


@functools.cache
def load_bodies() -> tuple[Body, ...]:
    """Every body of the shipped table, in table order; a bad row is logged and left out."""
    errors: list[InputError] = []
    bodies = load_table(resources.files("kg.data.reference"), BODIES_TABLE, _COLUMNS, _body, errors)
    for error in errors:
        log.warning("bodies table: %s", error.describe())
    return bodies


def _body(row: TableRow) -> Body:
    return Body(
        key=row.text("key"),
        label=row.text("label"),
        kind=row.text("kind"),
        other_names=split_list(row.text("other_names"), "|"),
        abbreviations=split_list(row.text("abbreviations"), "|"),
        parent=row.text("parent"),
        source=row.text("source"),
    )
