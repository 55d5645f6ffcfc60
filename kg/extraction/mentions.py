"""Finds the States, OSCE structures and other organisations named in a release's title and body."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from kg.extraction.gazetteer import Entry, Form, Found, Gazetteer, Kind
from kg.extraction.records import Mention
from kg.lexicon.patterns import alternatives
from kg.lexicon.wordlists import word_list

_LANGUAGE_AFTER_RE = re.compile(
    r"^(?:-speaking|-language|\s+languages?\b|\s+speakers?\b)", re.IGNORECASE
)
_LANGUAGE_BEFORE_RE = re.compile(
    r"\b(?:in|into|speak|speaks|spoke|speaking)\s+(?:[A-Z]\w+(?:,\s*|\s+and\s+|\s+or\s+))*$"
)
#: Words that cannot be the noun an adjective qualifies.
_AFTER_LANGUAGE_WORDS = alternatives(word_list("after_language_words"), any_space=True)
#: What may follow a list of languages ("in Macedonian and Albanian that ..."): punctuation,
#: the end, "languages", or one of those words.
_AFTER_LANGUAGE = rf"(?:[.,;:)]|$|languages?\b|(?:{_AFTER_LANGUAGE_WORDS})\b)"
_LIST_END_RE = re.compile(
    rf"^(?:\s*{_AFTER_LANGUAGE}|\s+(?:and|or)\s+[A-Z]\w+\s*{_AFTER_LANGUAGE})"
)


@dataclass(frozen=True)
class Mentions:
    """The things a release names, each once, in order of first appearance."""

    states: tuple[Mention, ...] = ()
    structures: tuple[Mention, ...] = ()
    organisations: tuple[Mention, ...] = ()


#: Head words that make a capitalised name an organisation's ("... Helsinki Committee").
_ORG_HEADS = (
    "Organization|Organisation|Agency|Commission|Committee|Association|Foundation|Foundations|"
    "Forum|Institute|Fund|Network|Federation|Alliance|Society|Union"
)
_CAP = r"(?:[A-Z][\w’'.-]*|[A-Z]{2,})"
_JOIN = r"(?:,\s*|\s+and\s+|\s+)(?:of\s+|for\s+|against\s+)?"
_TAIL = rf"(?:\s+(?:of|for|on|to|against)\s+(?:the\s+)?{_CAP}(?:{_JOIN}{_CAP})*)"
_RULE_ORG_RE = re.compile(rf"\b(?:{_CAP}\s+)*?(?:{_CAP}\s+)?(?:{_ORG_HEADS})\b{_TAIL}?")
#: A head word alone: a text without one holds no name ``_RULE_ORG_RE`` finds.
_ORG_HEAD_RE = re.compile(rf"\b(?:{_ORG_HEADS})\b")
_NON_GOVERNMENTAL_RE = re.compile(
    rf"\bthe\s+non-governmental\s+(?:organi[sz]ation\s+)?({_CAP}(?:\s+{_CAP})*)"
)
_SUMMIT_RE = re.compile(r"\b(?:OSCE|CSCE|[A-Z][a-z]+)\s+(?:[A-Z][a-z]+\s+)?Summit\b")
_LEADING_WORDS = frozenset({"The", "A", "An", "Its", "This", "Both", "Representatives", "Experts"})
#: A year, an ordinal or "annual" before a name makes it an edition of an event ("the 2018
#: Central Asian Youth Forum"), not an organisation.
_EDITION_BEFORE_RE = re.compile(
    r"(?:\b\d{4}|\b\d{1,3}(?:st|nd|rd|th)|\b(?:first|second|third|fourth|fifth|sixth|seventh|"
    r"eighth|ninth|tenth|annual)|-(?:day|week))\s+$",
    re.IGNORECASE,
)
_YEAR_AFTER_RE = re.compile(r"^\s+(?:in|for)\s+(\d{4})\b")


def find_mentions(
    texts: Sequence[str], gazetteer: Gazetteer, release_year: int | None = None
) -> Mentions:
    """States, structures and non-OSCE organisations named in the texts (title, paragraphs).

    The Chairpersonship resolves to one year's (see docs/extraction.md); an organisation that is
    not in the table is recognised by its head word and kept without an IRI.
    """
    lists: dict[Kind, list[Mention]] = {Kind.STATE: [], Kind.STRUCTURE: [], Kind.ORGANISATION: []}

    def add(category: Kind, mention: Mention) -> None:
        if mention not in lists[category]:
            lists[category].append(mention)

    summit = gazetteer.lookup("OSCE Summit", [Kind.STRUCTURE])
    for text in texts:
        founds = gazetteer.find(text)
        organisations = rule_organisations(text, founds)
        for index, found in enumerate(founds):
            category = found.entry.category
            if category not in lists or names_language(found, text):
                continue
            if category == Kind.STATE and any(a <= found.start < b for a, b, _ in organisations):
                continue  # "Croatian Helsinki Committee": the State is part of a name
            entry = found.entry
            if entry == gazetteer.standing_chairpersonship:
                entry = _chairpersonship(gazetteer, founds[:index], text, found, release_year)
            add(category, Mention(entry.label, entry.iri))
        for _start, _end, name in organisations:
            add(Kind.ORGANISATION, Mention(name, None))
        if summit is not None and "Summit" in text and _SUMMIT_RE.search(text):
            add(Kind.STRUCTURE, Mention(summit.label, summit.iri))
    return Mentions(
        tuple(lists[Kind.STATE]), tuple(lists[Kind.STRUCTURE]), tuple(lists[Kind.ORGANISATION])
    )


def names_language(found: Found, text: str) -> bool:
    """True when a State adjective names a language ("in Russian", "Russian-speaking")."""
    if found.form != Form.ADJECTIVE:
        return False
    after = text[found.end :]
    if _LANGUAGE_AFTER_RE.match(after):
        return True
    return bool(_LANGUAGE_BEFORE_RE.search(text[: found.start]) and _LIST_END_RE.match(after))


def _chairpersonship(
    gazetteer: Gazetteer, before: Sequence[Found], text: str, found: Found, year: int | None
) -> Entry:
    """One year's Chairpersonship for "the (Slovak) (OSCE) Chairmanship (in 2015)"."""
    standing = found.entry
    written = _YEAR_AFTER_RE.match(text[found.end :])
    if written and int(written[1]) in gazetteer.chairpersonships:
        return gazetteer.chairpersonships[int(written[1])][1]
    state = None
    if before and before[-1].entry.category == Kind.STATE:
        gap = text[before[-1].end : found.start]
        if re.fullmatch(r"\s*(?:OSCE\s+|CSCE\s+)?", gap):
            state = before[-1].entry.label
    if state is not None:
        years = sorted(y for y, (s, _) in gazetteer.chairpersonships.items() if s == state)
        if years:
            now = year or years[-1]
            later = [y for y in years if y >= now]
            chosen = later[0] if later else years[-1]
            return gazetteer.chairpersonships[chosen][1]
    if year is not None and year in gazetteer.chairpersonships:
        return gazetteer.chairpersonships[year][1]
    return standing


def rule_organisations(text: str, founds: Sequence[Found]) -> list[tuple[int, int, str]]:
    """Organisations not in the table, by head word or "the non-governmental X", as written.

    A name that overlaps a known structure, organisation or the OSCE is left to the table.
    """
    known = [
        (f.start, f.end)
        for f in founds
        if f.entry.category in (Kind.STRUCTURE, Kind.ORGANISATION, Kind.OSCE)
    ]
    states = [(f.start, f.end) for f in founds if f.entry.category == Kind.STATE]
    spans: list[tuple[int, int, str]] = []
    for start, end, explicit in _candidate_organisations(text):
        words = text[start:end].split()
        while words and words[0] in _LEADING_WORDS:
            start += len(words.pop(0)) + 1
            start = text.index(words[0], start) if words else end
        name = text[start:end].strip(" ,").rstrip(".")
        if len(name.split()) < 2 or any(a < end and start < b for a, b in known):
            continue
        if not explicit and any(a <= start + len(name) - 1 < b for a, b in states):
            continue  # "the Russian Federation" is a State
        if any(a <= start < b for a, b, _ in spans) or _EDITION_BEFORE_RE.search(text[:start]):
            continue
        spans.append((start, start + len(name), name))
    return spans


@functools.lru_cache(maxsize=4096)
def _candidate_organisations(text: str) -> tuple[tuple[int, int, bool], ...]:
    """(start, end, introduced) of each "the non-governmental X", then of each capitalised name
    with an organisation's head word: what ``rule_organisations`` chooses from.

    Mentions and events look at the same paragraphs, so each text is scanned once; a text
    without "non-governmental" or a head word is not scanned for what cannot match there.
    """
    introduced: list[tuple[int, int, bool]] = []
    if "non-governmental" in text:
        introduced = [(m.start(1), m.end(1), True) for m in _NON_GOVERNMENTAL_RE.finditer(text)]
    if _ORG_HEAD_RE.search(text) is None:
        return tuple(introduced)
    headed = [(m.start(), m.end(), False) for m in _RULE_ORG_RE.finditer(text)]
    return (*introduced, *headed)
