"""Tests of kg.reference.tsv: facts tables are read row by row; bad rows are named, not fatal."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.errors import InputError
from kg.reference.cells import PartialDate
from kg.reference.tsv import TableRow, is_slug_key, load_table, read_rows


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "things.tsv").write_text(
        "key\tname\tsince\tsource_urls\n"
        "alpha\tAlpha\t1995-12\thttps://example.org/a | https://example.org/b\n"
        "\n"
        "beta\tBeta\tsoon\t\n"
        "Bad Key\tGamma\t2001\t\n"
        "alpha\tAlpha again\t2002\t\n"
        "short\tonly two\n",
        encoding="utf-8",
    )
    return tmp_path


def make_pair(row: TableRow) -> tuple[str, PartialDate | None]:
    return row.text("name"), row.date("since")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("odihr", True), ("2017", True), ("mission-in-kosovo", True), ("-x", False), ("A", False)],
)
def test_is_slug_key(text: str, expected: bool) -> None:
    assert is_slug_key(text) is expected


def test_rows_carry_their_origin_and_blank_lines_are_skipped(folder: Path) -> None:
    errors: list[InputError] = []
    rows = list(read_rows(folder, "things.tsv", ("key", "name"), errors))
    assert [row.line for row in rows] == [2, 4, 5, 6]
    origin = rows[0].origin()
    assert origin.source_urls == ("https://example.org/a", "https://example.org/b")
    assert (origin.table, origin.line) == ("things.tsv", 2)
    assert [(e.line, e.field) for e in errors] == [(7, None)]


def test_load_table_reports_bad_cells_and_keys_and_keeps_the_rest(folder: Path) -> None:
    errors: list[InputError] = []
    records = load_table(folder, "things.tsv", ("name", "since"), make_pair, errors)
    assert records == (("Alpha", PartialDate("1995-12", "month")), ("Beta", None))
    found = sorted((e.line or 0, e.field or "", e.problem) for e in errors)
    assert found == [
        (4, "since", "'soon' is not a date"),
        (5, "key", "'Bad Key' is not a lowercase slug"),
        (6, "key", "'alpha' is a duplicate"),
        (7, "", "row has 2 fields, the header 4"),
    ]


def test_a_missing_column_names_the_file_and_column(folder: Path) -> None:
    with pytest.raises(InputError) as raised:
        list(read_rows(folder, "things.tsv", ("key", "label"), []))
    assert (raised.value.path, raised.value.field, raised.value.line) == ("things.tsv", "label", 1)
