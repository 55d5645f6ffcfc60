"""Reads JSON Lines files from scrapers: one release object per line."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from kg.errors import InputError
from kg.ingest.raw import RawRelease, split_list_value, truncation_problem
from kg.ingest.readers.text import split_paragraphs

#: The keys a JSON Lines release may have; others are ignored.
JSONL_KEYS = (
    "content_type", "title", "date", "place", "sources", "fields_of_work", "body", "paragraphs",
    "url",
)  # fmt: skip
_LINE_END = re.compile(r"\r\n?|\n")


class _FieldTypeError(Exception):
    def __init__(self, field: str, expected: str) -> None:
        super().__init__(field)
        self.field = field
        self.expected = expected


def read_jsonl(text: str, path: str | Path) -> list[RawRelease]:
    """One raw release per non-blank line; a bad line gives one release with an error."""
    releases: list[RawRelease] = []
    # JSON strings may hold U+2028, U+2029 or U+0085 unescaped; str.splitlines() would cut
    # those lines in two, so only CR and LF end a line
    for number, line in enumerate(_LINE_END.split(text), start=1):
        if not line.strip():
            continue
        releases.append(read_json_line(line, path, line_number=number, item=len(releases)))
    return releases


def read_json_line(line: str, path: str | Path, *, line_number: int, item: int) -> RawRelease:
    """One raw release from one JSON line."""
    base = RawRelease(source_file=str(path), reader="jsonl", item=item, line=line_number)
    try:
        data = json.loads(line)
    except json.JSONDecodeError as error:
        problem = f"the line is not a complete JSON object ({error.msg} at column {error.colno})"
        if error.msg.startswith("Unterminated") or error.pos >= len(line.rstrip()) - 1:
            problem = f"the line is truncated: {problem}"
        return _failed(
            base,
            InputError(
                path,
                None,
                problem,
                hint="write one whole JSON object per line",
                line=line_number,
                column=error.colno,
            ),
        )
    if not isinstance(data, dict):
        problem = f"the line holds a JSON {type(data).__name__}, not an object"
        return _failed(
            base,
            InputError(path, None, problem, hint="write one object per release", line=line_number),
        )
    try:
        raw = _raw_from_object(data, base)
    except _FieldTypeError as error:
        problem = f"the value has the wrong type (expected {error.expected})"
        return _failed(
            base,
            InputError(path, error.field, problem, hint="see docs/extraction.md", line=line_number),
        )
    if not raw.title:
        problem = "the release has no title"
        return _failed(
            raw,
            InputError(path, "title", problem, hint="give a non-empty `title`", line=line_number),
        )
    if truncated := truncation_problem(raw.paragraphs):
        cut = InputError(
            path,
            "body",
            f"the release is truncated: {truncated}",
            hint="give the whole body",
            line=line_number,
        )
        return _failed(raw, cut)
    return raw


def _failed(raw: RawRelease, error: InputError) -> RawRelease:
    return replace(raw, error=error)


def _raw_from_object(data: dict[str, Any], base: RawRelease) -> RawRelease:
    return replace(
        base,
        content_type=_text(data, "content_type"),
        title=_text(data, "title"),
        date_text=_text(data, "date"),
        place_text=_text(data, "place"),
        sources=tuple(_names(data, "sources")),
        fields_of_work=tuple(_names(data, "fields_of_work")),
        paragraphs=tuple(_paragraphs(data)),
    )


def _text(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _FieldTypeError(key, "a string")
    return " ".join(value.split()) or None


def _names(data: dict[str, Any], key: str) -> list[str]:
    value = data.get(key)
    if value is None:
        return []
    if isinstance(value, str):
        return split_list_value(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [" ".join(v.split()) for v in value if v.strip()]
    raise _FieldTypeError(key, "a list of strings or a comma-separated string")


def _paragraphs(data: dict[str, Any]) -> list[str]:
    paragraphs = data.get("paragraphs")
    if paragraphs is not None:
        if not isinstance(paragraphs, list) or not all(isinstance(p, str) for p in paragraphs):
            raise _FieldTypeError("paragraphs", "a list of strings")
        return [" ".join(p.split()) for p in paragraphs if p.strip()]
    body = data.get("body")
    if body is None:
        return []
    if not isinstance(body, str):
        raise _FieldTypeError("body", "a string")
    return split_paragraphs(body.split("\n"))
