"""Reads tab-separated facts tables row by row; row errors name the file, line and field."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from typing import TypeVar

from kg.errors import InputError
from kg.reference.cells import PartialDate, parse_partial_date, split_list

_KEY_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")

T = TypeVar("T")


@dataclass(frozen=True)
class Origin:
    """Where a row came from: its source URLs, the curators' notes, its table and line."""

    source_urls: tuple[str, ...]
    notes: str
    table: str
    line: int


def is_slug_key(text: str) -> bool:
    """True for a stable row key: lowercase letters, digits and hyphens, not starting with '-'."""
    return bool(_KEY_RE.match(text))


class TableRow:
    """One row of a table being read, with errors that name its file, line and field."""

    def __init__(self, table: str, line: int, cells: dict[str, str], errors: list[InputError]):
        self.table, self.line, self.cells, self.errors = table, line, cells, errors

    def text(self, column: str) -> str:
        return self.cells.get(column, "").strip()

    def date(self, column: str) -> PartialDate | None:
        text = self.text(column)
        if not text:
            return None
        parsed = parse_partial_date(text)
        if parsed is None:
            self.fail(column, f"{text!r} is not a date", "write YYYY-MM-DD, YYYY-MM or YYYY")
        return parsed

    def fail(self, column: str, problem: str, hint: str) -> None:
        self.errors.append(InputError(self.table, column, problem, hint=hint, line=self.line))

    def origin(self) -> Origin:
        return Origin(
            source_urls=split_list(self.text("source_urls") or self.text("source_url")),
            notes=self.text("notes") or self.text("status_note"),
            table=self.table,
            line=self.line,
        )


def read_rows(
    folder: Traversable, name: str, columns: tuple[str, ...], errors: list[InputError]
) -> Iterator[TableRow]:
    """The rows of one table; raises InputError when a required column is missing."""
    text = folder.joinpath(name).read_text(encoding="utf-8")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t", quoting=csv.QUOTE_NONE)
    header = next(reader, [])
    missing = [c for c in columns if c not in header]
    if missing:
        raise InputError(
            name,
            missing[0],
            "required column is missing",
            hint=f"the header must name {', '.join(columns)}",
            line=1,
        )
    for line, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            errors.append(
                InputError(
                    name,
                    None,
                    f"row has {len(cells)} fields, the header {len(header)}",
                    hint="separate fields with exactly one tab",
                    line=line,
                )
            )
            continue
        yield TableRow(name, line, dict(zip(header, cells, strict=True)), errors)


def load_table(
    folder: Traversable,
    name: str,
    columns: tuple[str, ...],
    make: Callable[[TableRow], T],
    errors: list[InputError],
    *,
    unique: bool = True,
) -> tuple[T, ...]:
    """Reads one table into records, skipping (and recording) rows with a bad key.

    ``unique=False`` lets rows share a key (rows of heads.tsv that attest one appointment).
    """
    records: list[T] = []
    seen: set[str] = set()
    for row in read_rows(folder, name, ("key", *columns), errors):
        key = row.text("key")
        if not is_slug_key(key) or (unique and key in seen):
            problem = "is not a lowercase slug" if not is_slug_key(key) else "is a duplicate"
            row.fail("key", f"{key!r} {problem}", "give each row its own slug key")
            continue
        seen.add(key)
        records.append(make(row))
    return tuple(records)
