"""Reads newsroom listing pages: one release per item (title, publishing date, fields, lead)."""

from __future__ import annotations

import re
from pathlib import Path

from kg.errors import InputError
from kg.ingest.raw import RawRelease, split_list_value, truncation_problem
from kg.lexicon.datelines import parse_dateline

_PUBLISHING_RE = re.compile(r"^\s*(?:-\s*)?Publishing date\s*:\s*(?P<value>.*)$", re.IGNORECASE)
_FIELD_RE = re.compile(
    r"^\s*(?:-\s*)?(?P<label>Content type|Where we are|What we do)\s*:\s*(?P<value>.*)$",
    re.IGNORECASE,
)
_PAGE_LABEL_RE = re.compile(r"^\s*-\s*(?:Date|Place|Source|Fields of work)\s*:", re.IGNORECASE)


def looks_like_listing(text: str) -> bool:
    """A listing has `Publishing date:` item lines and none of a release page's metadata labels."""
    lines = text.splitlines()
    has_items = any(_PUBLISHING_RE.match(line) for line in lines)
    return has_items and not any(_PAGE_LABEL_RE.match(line) for line in lines)


def read_listing(text: str, path: str | Path) -> list[RawRelease]:
    """One raw release per listing item, in page order."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    starts = [i for i, line in enumerate(lines) if _PUBLISHING_RE.match(line)]
    titles = [
        _title_index(lines, start, starts[n - 1] if n else -1) for n, start in enumerate(starts)
    ]
    releases: list[RawRelease] = []
    for number, start in enumerate(starts):
        stop = len(lines)
        if number + 1 < len(starts):
            next_title = titles[number + 1]
            stop = next_title if next_title is not None else starts[number + 1]
        title_at = titles[number]
        title = lines[title_at].strip().removeprefix("- ").strip() if title_at is not None else None
        releases.append(_read_item(lines, start, stop, title or None, path, number))
    return releases


def _read_item(
    lines: list[str], start: int, stop: int, title: str | None, path: str | Path, number: int
) -> RawRelease:
    date_text = _PUBLISHING_RE.match(lines[start])["value"].strip() or None  # type: ignore[index]
    content_type: str | None = None
    sources: list[str] = []
    fields: list[str] = []
    index = start + 1
    while index < stop:
        line = lines[index].strip()
        field = _FIELD_RE.match(line)
        if not line:
            index += 1
            continue
        if not field:
            break
        label, value = field["label"].lower(), field["value"].strip()
        if label == "content type":
            content_type = value or None
        elif label == "where we are":
            sources.extend(split_list_value(value))
        else:
            fields.extend(split_list_value(value))
        index += 1
    lead = _lead(lines, index, stop)
    where = f"{path} (item {number + 1}, line {start + 1})"
    error: InputError | None = None
    if title is None:
        error = InputError(
            where, "title", "the item has no title line before `Publishing date:`",
            hint="put the release title on the line before its publishing date",
        )  # fmt: skip
    elif problem := truncation_problem(lead):
        error = InputError(
            where, "body", f"the item is truncated: {problem}",
            hint="save the whole listing page again",
        )  # fmt: skip
    return RawRelease(
        source_file=str(path),
        reader="listing",
        item=number,
        content_type=content_type,
        title=title,
        date_text=date_text,
        sources=tuple(sources),
        fields_of_work=tuple(fields),
        paragraphs=tuple(lead),
        error=error,
        line=start + 1,
    )


def _title_index(lines: list[str], start: int, previous_start: int) -> int | None:
    """The line before a `Publishing date:` line, when it can be a title (not furniture or lead)."""
    index = start - 1
    while index > previous_start and not lines[index].strip():
        index -= 1
    if index <= previous_start:
        return None
    line = lines[index].strip()
    if _FIELD_RE.match(line) or _PUBLISHING_RE.match(line) or _looks_like_lead(line):
        return None
    return index


def _looks_like_lead(line: str) -> bool:
    """A lead opens with a dateline or is a long sentence; a title is neither."""
    return parse_dateline(line) is not None or (line.endswith(".") and len(line.split()) > 25)


def _lead(lines: list[str], index: int, stop: int) -> list[str]:
    """The lead paragraph: the lines from ``index`` up to a blank line or the next item's title."""
    while index < stop and not lines[index].strip():
        index += 1
    block: list[str] = []
    while index < stop and lines[index].strip():
        block.append(lines[index].strip())
        index += 1
    return [" ".join(" ".join(block).split())] if block else []
