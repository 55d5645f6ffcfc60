"""Finds the States, OSCE structures and other organisations named in a release's title and body."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from kg.extraction.gazetteer import Form, Found, Gazetteer, Kind
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


def find_mentions(texts: Sequence[str], gazetteer: Gazetteer) -> Mentions:
    """States, structures and non-OSCE organisations named in the texts (title, paragraphs)."""
    lists: dict[Kind, list[Mention]] = {Kind.STATE: [], Kind.STRUCTURE: [], Kind.ORGANISATION: []}
    for text in texts:
        for found in gazetteer.find(text):
            category = found.entry.category
            if category not in lists or names_language(found, text):
                continue
            mention = Mention(found.entry.label, found.entry.iri)
            if mention not in lists[category]:
                lists[category].append(mention)
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
