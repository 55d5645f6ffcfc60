"""Readers that turn saved release files of each format into release records."""

from __future__ import annotations

import logging
from pathlib import Path

from kg.errors import InputError
from kg.readers.html import read_html
from kg.readers.jsonl import read_jsonl
from kg.readers.listing import looks_like_listing, read_listing
from kg.readers.raw import RawRelease
from kg.readers.text import read_page_text
from kg.records import ReleaseRecord

log = logging.getLogger(__name__)

#: File name endings of release files, for finding them in a folder.
RELEASE_SUFFIXES = (".txt", ".html", ".htm", ".jsonl")

__all__ = ["RELEASE_SUFFIXES", "RawRelease", "read_path", "read_raw", "reader_name"]


def reader_name(path: Path, text: str | None = None) -> str:
    """Which reader a file needs: "html", "jsonl", "listing" or "text" (extension, then content)."""
    suffix = path.suffix.lower()
    if suffix in {".html", ".htm", ".xhtml"}:
        return "html"
    if suffix in {".jsonl", ".ndjson"}:
        return "jsonl"
    if text is None:
        text = path.read_text(encoding="utf-8", errors="replace")
    if suffix not in {".txt", ".text", ""} and text.lstrip().startswith("<"):
        return "html"
    return "listing" if looks_like_listing(text) else "text"


def read_raw(path: Path) -> list[RawRelease]:
    """The raw releases of one file; an unreadable file gives one release with an error."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        problem = f"the file is not UTF-8 text (byte {error.start})"
        return [_unreadable(path, InputError(path, None, problem, hint="save the file as UTF-8"))]
    name = reader_name(path, text)
    if name == "html":
        return [read_html(text, path)]
    if name == "jsonl":
        return read_jsonl(text, path)
    if name == "listing":
        return read_listing(text, path)
    return [read_page_text(text, path)]


def _unreadable(path: Path, error: InputError) -> RawRelease:
    return RawRelease(source_file=str(path), reader=reader_name(path, ""), error=error)


def read_path(path: Path) -> list[ReleaseRecord]:
    """Every release in one saved file, extracted and linked, in file order.

    Raises OSError when the file cannot be opened; a release that cannot be used has
    ``error`` set and the others still come back.
    """
    from kg.extract import extract_release
    from kg.linking import default_gazetteer

    gazetteer = default_gazetteer()
    records = [extract_release(raw, gazetteer) for raw in read_raw(Path(path))]
    for record in records:
        if record.error:
            log.info("%s", record.error)
    return records
