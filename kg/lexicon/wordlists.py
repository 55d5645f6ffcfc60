"""Loads the word lists and word tables of kg/lexicon/data, each once."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from importlib import resources

from kg.errors import InputError

_PACKAGE = "kg.lexicon"
_FOLDER = "data"
_COMMENT = "#"


def word_list(name: str) -> tuple[str, ...]:
    """The entries of ``data/{name}.txt``, one a line, in file order."""
    return tuple(entry.strip() for _, entry in _lines(f"{name}.txt"))


def word_set(name: str) -> frozenset[str]:
    """The entries of ``data/{name}.txt`` as a set (for membership tests)."""
    return frozenset(word_list(name))


def word_table(name: str) -> tuple[Mapping[str, str], ...]:
    """The rows of ``data/{name}.tsv`` by column; its first entry line names the columns."""
    return _table(f"{name}.tsv")


def table_column(
    name: str, column: str, *, where: str | None = None, equals: str = "yes"
) -> tuple[str, ...]:
    """A column of ``data/{name}.tsv`` in file order, of the rows whose ``where`` is ``equals``."""
    rows = word_table(name)
    for wanted in (column, where):
        if wanted is not None and rows and wanted not in rows[0]:
            raise InputError(
                _path(f"{name}.tsv"), wanted, "no such column", hint="name a column of its header"
            )
    return tuple(row[column] for row in rows if where is None or row[where] == equals)


@functools.cache
def _table(file_name: str) -> tuple[Mapping[str, str], ...]:
    lines = iter(_lines(file_name))
    header_line = next(lines, None)
    if header_line is None:
        return ()
    header = header_line[1].split("\t")
    rows: list[Mapping[str, str]] = []
    for number, line in lines:
        cells = line.split("\t")
        if len(cells) != len(header):
            raise InputError(
                _path(file_name),
                None,
                f"row has {len(cells)} fields, the header {len(header)}",
                hint="separate fields with exactly one tab",
                line=number,
            )
        rows.append(dict(zip(header, cells, strict=True)))
    return tuple(rows)


@functools.cache
def _lines(file_name: str) -> tuple[tuple[int, str], ...]:
    """(line number, text) of each line that is neither blank nor a comment."""
    folder = resources.files(_PACKAGE).joinpath(_FOLDER)
    text = folder.joinpath(file_name).read_text(encoding="utf-8")
    return tuple(
        (number, line)
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.startswith(_COMMENT)
    )


def _path(file_name: str) -> str:
    return f"kg/lexicon/{_FOLDER}/{file_name}"
