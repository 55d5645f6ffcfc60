"""The raw release a reader hands to extraction: metadata as written, body as paragraphs."""

from __future__ import annotations

import re
from dataclasses import dataclass

from kg.errors import InputError


@dataclass(frozen=True)
class RawRelease:
    """One release as a reader found it, before dates, mentions and people are extracted."""

    source_file: str
    reader: str  # "text", "html", "listing" or "jsonl"
    item: int = 0
    content_type: str | None = None
    title: str | None = None
    date_text: str | None = None  # the Date / Publishing date value as written
    place_text: str | None = None  # the Place value as written
    sources: tuple[str, ...] = ()
    fields_of_work: tuple[str, ...] = ()
    paragraphs: tuple[str, ...] = ()
    error: InputError | None = None
    line: int | None = None  # line of the file where the release starts (listing, JSON Lines)


#: The last character of a body that was cut off mid-sentence: a lowercase letter (the end
#: of a lowercase word), a comma, colon, semicolon or dash. One character, not a word: a
#: pattern for the whole last word, searched from every letter of it, took quadratic time
#: (18 s for one 50,000-letter word).
_CUT_END_RE = re.compile(r"[a-zà-ÿ,:;–—-]")


def split_list_value(value: str) -> list[str]:
    """'OSCE Secretariat, OSCE Programme Office in Dushanbe' -> the two names."""
    return [part.strip(" -\t.;") for part in value.split(",") if part.strip(" -\t.;")]


def truncation_problem(paragraphs: tuple[str, ...] | list[str]) -> str | None:
    """Why a body looks cut off (empty, mid-sentence, an open quotation), or None."""
    if not paragraphs:
        return "there is no body text after the title and metadata"
    last = paragraphs[-1].rstrip()
    if last.startswith("- "):  # a list item ends without a full stop
        return None
    if last.endswith(("...", "…")):
        return None  # a teaser the site itself cut: kept as given
    words = last.split()
    final_word = words[-1] if words else ""
    if "@" in final_word or "://" in final_word or final_word.startswith("www."):
        return None  # a contact line
    if _CUT_END_RE.fullmatch(last[-1:]):
        return f"the body stops mid-sentence at {_tail(last)!r}"
    if _has_open_quote(last):
        return f"the body stops inside a quotation at {_tail(last)!r}"
    return None


def _has_open_quote(text: str) -> bool:
    opened = sum(text.count(c) for c in "“«„")
    closed = sum(text.count(c) for c in "”»")
    if opened or closed:
        return opened > closed
    return text.count('"') % 2 == 1


def _tail(text: str, size: int = 40) -> str:
    return text if len(text) <= size else "..." + text[-size:]
