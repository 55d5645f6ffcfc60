"""The registry of input formats: which reader a release file needs, and its raw releases."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kg.errors import InputError
from kg.ingest.raw import RawRelease
from kg.ingest.readers.html import declared_charset, looks_like_html, read_html
from kg.ingest.readers.jsonl import read_jsonl
from kg.ingest.readers.listing import looks_like_listing, read_listing
from kg.ingest.readers.text import read_page_text

__all__ = [
    "FORMATS",
    "RELEASE_SUFFIXES",
    "InputFormat",
    "RawRelease",
    "choose_format",
    "decode_text",
    "is_release_file",
    "read_raw",
    "reader_name",
]

ReadText = Callable[[str, Path], list[RawRelease]]


@dataclass(frozen=True)
class InputFormat:
    """One row of the registry: a format's reader name, file name endings, sniff and reader."""

    name: str  # the reader's name, kept in RawRelease.reader
    suffixes: tuple[str, ...]  # lower-case file name endings, found in folders
    #: whether a file's text is in this format, asked when its ending does not decide
    sniff: Callable[[str], bool]
    read: ReadText
    #: the codec a file that is not UTF-8 declares it is in (HTML's meta tag), if it can
    declared_charset: Callable[[bytes], str | None] | None = None


def _one_release(read: Callable[[str, Path], RawRelease]) -> ReadText:
    """A reader of one release per file, as a reader of a list of releases."""

    def read_list(text: str, path: Path) -> list[RawRelease]:
        return [read(text, path)]

    return read_list


def _suffix_only(text: str) -> bool:
    """JSON Lines is known by its ending alone: a .txt file of JSON objects is page text."""
    return False


def _anything(text: str) -> bool:
    """Page text is what a file is read as when no other format fits."""
    return True


#: Every input format, in the order a file's text is sniffed. Adding a format is a module in
#: kg/ingest/readers/ and one row here.
FORMATS = (
    InputFormat(
        "html",
        (".html", ".htm", ".xhtml"),
        looks_like_html,
        _one_release(read_html),
        declared_charset=declared_charset,
    ),
    InputFormat("jsonl", (".jsonl", ".ndjson"), _suffix_only, read_jsonl),
    InputFormat("listing", (".txt", ".text"), looks_like_listing, read_listing),
    InputFormat("text", (".txt", ".text"), _anything, _one_release(read_page_text)),
)
_FALLBACK = FORMATS[-1]
#: a file without an ending is plain text: a listing or a page's text, never sniffed as HTML
_NO_SUFFIX = ".txt"

#: File name endings of release files, for finding them in a folder.
RELEASE_SUFFIXES = tuple(dict.fromkeys(suffix for row in FORMATS for suffix in row.suffixes))


def is_release_file(name: str) -> bool:
    """Whether a file of this name in an input folder is a release file (README files are not)."""
    return name.lower().endswith(RELEASE_SUFFIXES) and not name.upper().startswith("README")


def choose_format(path: Path, text: str | None = None) -> InputFormat:
    """The format of a file: the one its ending names, else the first whose sniff takes its text.

    The text is read from ``path`` when it is needed and not given; with ``text=""`` the
    choice is by the ending alone.
    """
    suffix = path.suffix.lower() or _NO_SUFFIX
    claiming = [row for row in FORMATS if suffix in row.suffixes]
    if len(claiming) == 1:
        return claiming[0]
    if text is None:
        text = path.read_text(encoding="utf-8", errors="replace")
    return next((row for row in claiming or FORMATS if row.sniff(text)), _FALLBACK)


def reader_name(path: Path, text: str | None = None) -> str:
    """Which reader a file needs: "html", "jsonl", "listing" or "text" (ending, then content)."""
    return choose_format(path, text).name


def read_raw(path: Path) -> list[RawRelease]:
    """The raw releases of one file; an unreadable file gives one release with an error.

    Raises OSError when the file cannot be opened.
    """
    data = path.read_bytes()
    try:
        text = decode_text(path, data)
    except InputError as error:
        return [_unreadable(path, error)]
    if not text.strip():
        problem = "the file is empty" + ("" if not data else " (only white space)")
        hint = "save the release page again, or remove the file"
        return [_unreadable(path, InputError(path, None, problem, hint=hint))]
    return choose_format(path, text).read(text, path)


def decode_text(path: Path, data: bytes) -> str:
    """The text of a saved file: UTF-8 (with or without BOM), or the charset its format lets it
    declare; InputError naming the line and column of the first byte that is not UTF-8."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        find_charset = choose_format(path, "").declared_charset
        declared = find_charset(data) if find_charset is not None else None
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


def _unreadable(path: Path, error: InputError) -> RawRelease:
    return RawRelease(source_file=str(path), reader=reader_name(path, ""), error=error)
