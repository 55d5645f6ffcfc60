"""Reads a release page saved as text: skips the navigation, reads title, metadata and body."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from kg.errors import InputError
from kg.ingest.raw import RawRelease, split_list_value, truncation_problem

#: Content types the newsroom uses; a line naming one opens the release after the navigation.
CONTENT_TYPES = frozenset(
    {
        "press release",
        "news",
        "news item",
        "statement",
        "daily report",
        "weekly report",
        "spot report",
        "report",
        "feature",
        "story",
        "op-ed",
        "speech",
        "announcement",
        "media advisory",
        "interview",
        "blog",
        "event",
        "status report",
        "thematic report",
    }
)

#: The metadata labels of a release page and the field each fills.
METADATA_LABELS = {
    "date": "date",
    "publishing date": "date",
    "place": "place",
    "source": "sources",
    "sources": "sources",
    "where we are": "sources",
    "fields of work": "fields_of_work",
    "field of work": "fields_of_work",
    "what we do": "fields_of_work",
}
_LABEL_RE = re.compile(
    r"^(?:-\s*)?(?P<label>Date|Place|Sources?|Fields? of work|Where we are|What we do)"
    r"\s*:\s*(?P<value>.*)$",
    re.IGNORECASE,
)
_LIST_LINE_RE = re.compile(r"^-(?:\s+(?P<value>.*))?$")


@dataclass
class _Metadata:
    date: list[str] = field(default_factory=list)
    place: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    fields_of_work: list[str] = field(default_factory=list)


def is_content_type(line: str) -> bool:
    """True when a line names a newsroom content type ("Press release", "Daily report")."""
    return line.strip().rstrip(":").lower() in CONTENT_TYPES


def read_page_text(
    text: str, path: str | Path, *, reader: str = "text", fallback_title: str | None = None
) -> RawRelease:
    """One release from a saved page's text (navigation, content type, title, metadata, body)."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    start = _skip_navigation(lines)
    meta_at = _find_metadata(lines, start)
    heading_end = meta_at if meta_at is not None else len(lines)
    heading = [i for i in range(start, heading_end) if lines[i].strip()]
    content_type, title, body_from = _read_heading(lines, heading, meta_at)
    metadata = _Metadata()
    if meta_at is not None:
        body_from = _read_metadata(lines, meta_at, metadata)
    if title is None and fallback_title:
        title = fallback_title
    paragraphs = split_paragraphs(lines[body_from:])
    raw = RawRelease(
        source_file=str(path),
        reader=reader,
        content_type=content_type,
        title=title,
        date_text=" ".join(metadata.date) or None,  # a date never holds a list
        place_text=", ".join(metadata.place) or None,
        sources=tuple(metadata.sources),
        fields_of_work=tuple(metadata.fields_of_work),
        paragraphs=tuple(paragraphs),
    )
    return _with_structure_error(raw, path, lines, start)


def _with_structure_error(
    raw: RawRelease, path: str | Path, lines: list[str], start: int
) -> RawRelease:
    if start >= len(lines) or not any(line.strip() for line in lines[start:]):
        error = InputError(
            path,
            "title",
            "the file is truncated: it ends in the navigation menus, "
            "before the content type and title",
            hint="save the whole page again",
        )
        return replace(raw, error=error)
    if raw.title is None:
        error = InputError(
            path,
            "title",
            "the release has no title line after the content type",
            hint="add the title on the line after the content type, before the metadata",
        )
        return replace(raw, error=error)
    problem = truncation_problem(raw.paragraphs)
    if problem:
        error = InputError(
            path, "body", f"the file is truncated: {problem}", hint="save the whole page again"
        )
        return replace(raw, error=error)
    return raw


def _skip_navigation(lines: list[str]) -> int:
    """Index of the first line after the leading navigation menus.

    Menus are `- item` lines; a bare `-` line opens a sub-menu whose heading ("Our work",
    "Participating States") stands on the next line, so that line is navigation too.
    """
    index = 0
    after_bare_dash = False
    while index < len(lines):
        line = lines[index].strip()
        if line == "-":
            after_bare_dash = True
        elif line and not _LIST_LINE_RE.match(line):
            if not after_bare_dash:
                break
            after_bare_dash = False
        elif line:
            after_bare_dash = False
        index += 1
    return index


def _find_metadata(lines: list[str], start: int) -> int | None:
    """Index of the first metadata label line within the first lines after the navigation."""
    seen_text = 0
    for index in range(start, len(lines)):
        line = lines[index].strip()
        if not line:
            continue
        if _LABEL_RE.match(line):
            return index
        if not _LIST_LINE_RE.match(line):
            seen_text += 1
            if seen_text > 8:  # content type and title come first, after any page furniture
                return None
    return None


def _read_heading(
    lines: list[str], heading: list[int], meta_at: int | None
) -> tuple[str | None, str | None, int]:
    """Content type, title and where the body starts, from the lines before the metadata."""
    texts = [lines[i].strip() for i in heading if not _LIST_LINE_RE.match(lines[i].strip())]
    if meta_at is not None:
        if not texts:
            return None, None, meta_at
        # the title stands right above the metadata and the content type right above the title;
        # lines further up are page furniture the navigation left behind ("Menu", "Newsroom")
        if is_content_type(texts[-1]):
            return texts[-1], None, meta_at
        return (texts[-2] if len(texts) > 1 else None), texts[-1], meta_at
    if not heading:
        return None, None, len(lines)
    first = heading[0]
    if is_content_type(lines[first]) and len(heading) > 1:
        return lines[first].strip(), lines[heading[1]].strip(), heading[1] + 1
    if is_content_type(lines[first]):
        return lines[first].strip(), None, first + 1
    return None, lines[first].strip(), first + 1


def _read_metadata(lines: list[str], start: int, metadata: _Metadata) -> int:
    """Fills the metadata from the label lines at ``start``; returns where the body starts."""
    current: list[str] | None = None
    split = False
    index = start
    while index < len(lines):
        line = lines[index].strip()
        if not line:
            index += 1
            continue
        label = _LABEL_RE.match(line)
        if label:
            name = METADATA_LABELS[label["label"].lower()]
            current = getattr(metadata, name)
            split = name in {"sources", "fields_of_work"}
            _add_value(current, label["value"], split=split)
        elif (item := _LIST_LINE_RE.match(line)) and current is not None:
            _add_value(current, item["value"] or "", split=split)
        else:
            break
        index += 1
    return index


def _add_value(target: list[str], value: str, *, split: bool) -> None:
    value = value.strip()
    if value:
        target.extend(split_list_value(value) if split else [value])


def split_paragraphs(lines: list[str]) -> list[str]:
    """Body lines -> paragraphs: one per line, or one per block when blank lines separate blocks."""
    while lines and not lines[0].strip():
        lines = lines[1:]
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    if not any(not line.strip() for line in lines):
        return [" ".join(line.split()) for line in lines]
    paragraphs: list[str] = []
    block: list[str] = []
    for line in [*lines, ""]:
        stripped = line.strip()
        if stripped.startswith("- ") and block:
            paragraphs.append(" ".join(" ".join(block).split()))
            block = []
        if not stripped:
            if block:
                paragraphs.append(" ".join(" ".join(block).split()))
            block = []
        elif stripped.startswith("- "):
            paragraphs.append(" ".join(stripped.split()))
        else:
            block.append(stripped)
    return paragraphs
