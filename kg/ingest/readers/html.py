"""Reads a release page saved as HTML: reduces it to page text, then reads that text."""

from __future__ import annotations

import codecs
import re
from dataclasses import replace
from pathlib import Path

from bs4 import BeautifulSoup
from bs4.element import NavigableString, Tag

from kg.errors import InputError
from kg.ingest.raw import RawRelease
from kg.ingest.readers.text import read_page_text

#: Elements that hold navigation, page furniture or code, never release text.
DROPPED_TAGS = (
    "head",
    "nav",
    "header",
    "footer",
    "aside",
    "script",
    "style",
    "noscript",
    "form",
    "template",
)
#: Elements that stand on their own line(s) in the text.
BLOCK_TAGS = frozenset(
    {
        "address", "article", "blockquote", "body", "br", "caption", "dd", "div", "dl", "dt",
        "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "li", "main", "ol",
        "p", "pre", "section", "table", "td", "th", "tr", "ul",
    }
)  # fmt: skip
_CLOSING_RE = re.compile(r"</\s*(?:html|body)\s*>", re.IGNORECASE)
_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def looks_like_html(text: str) -> bool:
    """A file whose name does not say its format is HTML when its text opens with a tag."""
    return text.lstrip().startswith("<")


def declared_charset(data: bytes) -> str | None:
    """The Python codec of the charset an HTML page declares in a meta tag, if it has one."""
    match = _CHARSET_RE.search(data[:4096])
    if match is None:
        return None
    try:
        return codecs.lookup(match.group(1).decode("ascii")).name
    except LookupError:
        return None


def read_html(text: str, path: str | Path) -> RawRelease:
    """One release from a saved HTML page."""
    soup = BeautifulSoup(text, "html.parser")
    fallback_title = _fallback_title(soup)
    page_text = html_to_text(soup)
    raw = read_page_text(page_text, path, reader="html", fallback_title=fallback_title)
    if raw.error is None and not _CLOSING_RE.search(text):
        error = InputError(
            path,
            "body",
            "the file is truncated: the HTML has no closing </body> or </html> tag",
            hint="save the whole page again",
        )
        raw = replace(raw, error=error)
    return raw


def _fallback_title(soup: BeautifulSoup) -> str | None:
    for name in ("h1", "title"):
        tag = soup.find(name)
        if isinstance(tag, Tag):
            title = " ".join(tag.get_text(" ").split())
            if title:
                return title
    return None


def html_to_text(soup: BeautifulSoup) -> str:
    """The page as text: one line per block, list items as `- ` lines, navigation dropped."""
    for tag in soup.find_all([*DROPPED_TAGS]):
        tag.decompose()
    for tag in soup.find_all(_is_navigation):
        tag.decompose()
    pieces: list[str] = []
    _walk(soup, pieces)
    text = "".join(pieces)
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return "\n".join(line for line in lines if line)


def _is_navigation(tag: Tag) -> bool:
    return tag.get("role") == "navigation"


def _walk(node: Tag, pieces: list[str]) -> None:
    for child in node.children:
        if isinstance(child, NavigableString):
            if type(child) is NavigableString:  # not a comment, doctype or CDATA
                pieces.append(re.sub(r"\s+", " ", str(child)))
            continue
        if not isinstance(child, Tag):
            continue
        name = child.name.lower()
        if name not in BLOCK_TAGS:
            _walk(child, pieces)
            continue
        pieces.append("\n")
        if name == "li" or name == "dd" or name == "dt":
            pieces.append("- ")
        mark = len(pieces)
        _walk(child, pieces)
        if name == "dt" and not "".join(pieces[mark:]).rstrip().endswith(":"):
            pieces.append(":")  # a term is a label, with or without its colon ("Date", "Date:")
        pieces.append("\n")
