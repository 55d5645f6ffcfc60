"""Reads organisations.tsv, the non-OSCE organisations releases name, for linking and publishing."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable

from kg.errors import InputError
from kg.reference.cells import split_list
from kg.reference.tsv import TableRow, load_table

log = logging.getLogger(__name__)

ORGANISATIONS_TABLE = "organisations.tsv"
_COLUMNS = ("label", "abbreviations", "other_names", "type", "parent", "source")


@dataclass(frozen=True)
class Organisation:
    """One row of the table: its key (the IRI's last segment), English label and other names,
    the kind of organisation, the key of the organisation it is part of, and its source."""

    key: str
    label: str
    abbreviations: tuple[str, ...] = ()
    other_names: tuple[str, ...] = ()
    kind: str = ""  # "UN agency", "EU mission", "non-governmental organisation", ...
    parent: str = ""  # key of another row ("pace" -> "council-of-europe"); never merged into it
    source: str = ""  # the organisation's own site


def organisations_file() -> Traversable:
    """The shipped table (``kg/data/organisations.tsv``)."""
    return resources.files("kg.data").joinpath(ORGANISATIONS_TABLE)


@functools.cache
def load_organisations() -> tuple[Organisation, ...]:
    """Every organisation of the table, in table order; a bad row is logged and left out.

    A cell that lists several names separates them with ``|``.
    """
    errors: list[InputError] = []
    folder = resources.files("kg.data")
    organisations = load_table(folder, ORGANISATIONS_TABLE, _COLUMNS, _organisation, errors)
    for error in errors:
        log.warning("organisations table: %s", error.describe())
    return organisations


def _organisation(row: TableRow) -> Organisation:
    return Organisation(
        key=row.text("key"),
        label=row.text("label"),
        abbreviations=split_list(row.text("abbreviations"), "|"),
        other_names=split_list(row.text("other_names"), "|"),
        kind=row.text("type"),
        parent=row.text("parent"),
        source=row.text("source"),
    )
