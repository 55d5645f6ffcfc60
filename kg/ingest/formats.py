"""Readers that turn saved release files of each format into release records."""

from __future__ import annotations

import codecs
import logging
import re
from pathlib import Path

from kg.errors import InputError
from kg.extraction.records import ReleaseRecord
from kg.ingest.raw import RawRelease
from kg.ingest.readers.html import read_html
from kg.ingest.readers.jsonl import read_jsonl
from kg.ingest.readers.listing import looks_like_listing, read_listing
from kg.ingest.readers.text import read_page_text

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
    data = path.read_bytes()
    try:
        text = decode_text(path, data)
    except InputError as error:
        return [_unreadable(path, error)]
    if not text.strip():
        problem = "the file is empty" + ("" if not data else " (only white space)")
        hint = "save the release page again, or remove the file"
        return [_unreadable(path, InputError(path, None, problem, hint=hint))]
    name = reader_name(path, text)
    if name == "html":
        return [read_html(text, path)]
    if name == "jsonl":
        return read_jsonl(text, path)
    if name == "listing":
        return read_listing(text, path)
    return [read_page_text(text, path)]


def decode_text(path: Path, data: bytes) -> str:
    """The text of a saved file: UTF-8 (with or without BOM), or the charset an HTML page
    declares; InputError naming the line and column of the first byte that is not UTF-8."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        declared = declared_charset(data) if reader_name(path, "") == "html" else None
        if declared is not None:
            return data.decode(declared, errors="replace")
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        raise InputError(
            path,
            None,
            f"the file is not UTF-8 text: byte 0x{data[error.start]:02x} cannot be read",
            hint="it was saved in another encoding, often Windows-1252; save it again as "
            "UTF-8, e.g. iconv -f WINDOWS-1252 -t UTF-8 FILE > FILE.utf8",
            line=line,
            column=column,
        ) from error


_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def declared_charset(data: bytes) -> str | None:
    """The Python codec of the charset an HTML page declares in a meta tag, if it has one."""
    match = _CHARSET_RE.search(data[:4096])
    if match is None:
        return None
    try:
        return codecs.lookup(match.group(1).decode("ascii")).name
    except LookupError:
        return None


def _unreadable(path: Path, error: InputError) -> RawRelease:
    return RawRelease(source_file=str(path), reader=reader_name(path, ""), error=error)


def read_path(path: Path) -> list[ReleaseRecord]:
    """Every release in one saved file, extracted and linked, in file order.

    Raises OSError when the file cannot be opened; a release that cannot be used has
    ``error`` set and the others still come back.
    """
    from kg.extraction.extract import extract_release
    from kg.extraction.linking import default_gazetteer

    gazetteer = default_gazetteer()
    records = [extract_release(raw, gazetteer) for raw in read_raw(Path(path))]
    for record in records:
        if record.error:
            log.info("%s", record.error)
    return records
