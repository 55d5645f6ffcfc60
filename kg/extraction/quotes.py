"""Finds quotations in release paragraphs and the person each is attributed to."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from kg.lexicon.patterns import DOTTED_HONORIFICS, alternatives
from kg.lexicon.wordlists import table_column, word_list

#: Verbs that attribute a quotation to a speaker, as alternatives.
SPEECH_VERBS = alternatives(word_list("speech_verbs"))
_VERB_RE = re.compile(rf"\b(?:{SPEECH_VERBS})\b")
#: Double curly, straight and angle quotes, and single curly quotes; a single closing quote
#: followed by a letter is an apostrophe ("women’s"), not the end of the quotation.
_QUOTE_RE = re.compile(
    r"“(?P<curly>[^”]{2,})”|\"(?P<straight>[^\"]{2,})\"|«(?P<angle>[^»]{2,})»"
    r"|(?<!\w)‘(?P<single>[^‘]{2,}?)’(?!\w)"
)
#: Marks that open a quotation.
OPENING_QUOTES = ("“", '"', "«", "‘")
_TITLE_CUE_RE = re.compile(
    r"\b(?:entitled|titled|called|named|theme|motto|slogan|headlined|dubbed|known as|the)\s*,?\s*$",
    re.IGNORECASE,
)
_PRONOUN_SUBJECT_RE = re.compile(
    rf"\b(?P<pronoun>[Hh]e|[Ss]he)\s+(?:also\s+|further\s+)?(?:{SPEECH_VERBS})\b"
)
_AFTER_QUOTE_SPEAKER_RE = re.compile(
    rf"^\s*,?\s*(?:(?P<pronoun>he|she)\s+(?:also\s+)?(?:{SPEECH_VERBS})\b|(?:{SPEECH_VERBS}|according\s+to)\s+(?P<after>.*))",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class NameSpan:
    """Where a person's name stands in a paragraph."""

    person: int  # index into the people found
    start: int
    end: int


def quotes_in(text: str) -> list[tuple[str, int, int]]:
    """Quoted passages of a paragraph that are not titles.

    A paragraph that opens a quotation and does not close it is one paragraph of a quotation
    that goes on in the next (the typographic convention); it is a quote too.
    """
    quotes: list[tuple[str, int, int]] = []
    for match in _QUOTE_RE.finditer(text):
        inner = next((g for g in match.groups() if g), "")
        if _TITLE_CUE_RE.search(text[: match.start()]):
            continue
        quotes.append((inner.strip(" ,"), match.start(), match.end()))
    if not quotes and _opens_unclosed_quote(text):
        quotes.append((text[1:].strip(), 0, len(text)))
    elif text.rstrip().endswith(("...", "…")):
        # a teaser the site cut inside a quotation: what is left of it is still a quote
        opened = max((text.rfind(q) for q in ("“", "«", '"')), default=-1)
        if opened >= 0 and all(opened >= end for _, _, end in quotes):
            quotes.append((text[opened + 1 :].strip(), opened, len(text)))
    return quotes


def _opens_unclosed_quote(text: str) -> bool:
    """True when a paragraph opens a quotation that it does not close."""
    for opening, closing in (("“", "”"), ("«", "»")):
        if text.startswith(opening):
            return text.count(opening) > text.count(closing)
    if text.startswith('"'):
        return text.count('"') % 2 == 1
    if text.startswith("‘"):
        return _QUOTE_RE.match(text) is None
    return False


def introduces_quote(text: str) -> bool:
    """True when a paragraph ends by announcing a quotation ("... issued this statement:")."""
    return text.rstrip().endswith(":")


def speaker_of(
    text: str,
    start: int,
    end: int,
    spans: list[NameSpan],
    last_speaker: int | None,
    last_named: int | None,
) -> int | None:
    """Who a quote is attributed to in its sentence, or None when no speech verb attributes it."""
    sentence_end = _sentence_end(text, end)
    after = text[end:sentence_end]
    match = _AFTER_QUOTE_SPEAKER_RE.match(after)
    if match:
        if match.group("pronoun"):
            return _pronoun_referent(spans, start, last_speaker, last_named)
        following = [s for s in spans if end <= s.start < sentence_end]
        if following:
            return following[0].person
    following = [s for s in spans if end <= s.start < sentence_end]
    # "“...,” Peter Hansen[, Head of ...,] said."
    if (
        following
        and _HONORIFIC_GAP_RE.match(text[end : following[0].start])
        and _VERB_RE.search(text[following[0].end : sentence_end])
    ):
        return following[0].person
    sentence_start = _sentence_start(text, start)
    before = text[sentence_start:start]
    verbs = list(_VERB_RE.finditer(before))
    if not verbs:
        return _according_to(text, sentence_start, start, spans)
    verb_at = sentence_start + verbs[-1].start()
    pronoun = _PRONOUN_SUBJECT_RE.search(before)
    in_sentence = [s for s in spans if sentence_start <= s.start < verb_at]
    if in_sentence:
        return in_sentence[-1].person
    if pronoun:
        return _pronoun_referent(spans, start, last_speaker, last_named)
    return None


#: Verbs of reported speech: "Participant X said the sessions were useful" makes X the
#: latest speaker even without a quotation, so a following "he explained" is X.
_REPORTED_VERBS = alternatives(word_list("reported_verbs"))
_REPORTED_RE = re.compile(
    rf"^(?:\s*,[^,.;“”\"«»]{{1,120}},)?\s+(?:also\s+|further\s+|today\s+)?(?:{_REPORTED_VERBS})\b"
)


def reported_speakers(text: str, spans: list[NameSpan]) -> list[tuple[int, int]]:
    """(offset, person) for each name that a verb of speech follows ("X said the ...",
    "X, a judge from Kharkiv, noted that ...")."""
    return [(s.start, s.person) for s in spans if _REPORTED_RE.match(text[s.end :])]


_ACCORDING_TO_RE = re.compile(r"\b[Aa]ccording\s+to\s+")


def _according_to(text: str, sentence_start: int, start: int, spans: list[NameSpan]) -> int | None:
    """The person a quote is attributed to by "according to X" earlier in its sentence."""
    for match in _ACCORDING_TO_RE.finditer(text, sentence_start, start):
        named = [s for s in spans if s.start == match.end()]
        if named:
            return named[0].person
    return None


_TITLE_WORDS = r"[A-Z][\w-]*(?:\s+(?:of|on|for|the|[A-Z][\w-]*))*?"
_TITLE_AFTER_QUOTE_RE = re.compile(
    rf"^\s*,?\s*(?:the\s+(?P<t1>{_TITLE_WORDS})\s+(?:also\s+)?(?:{SPEECH_VERBS})\b"
    rf"|(?:{SPEECH_VERBS})\s+the\s+(?P<t2>{_TITLE_WORDS})\s*(?:[.,;]|$))",
    re.IGNORECASE,
)
_TITLE_BEFORE_QUOTE_RE = re.compile(
    rf"\bthe\s+(?P<t1>{_TITLE_WORDS})\s+(?:also\s+)?(?:{SPEECH_VERBS})\b(?:\s+that)?\s*:?\s*$",
    re.IGNORECASE,
)


def speaker_title(text: str, start: int, end: int) -> str | None:
    """The title a quote is attributed to instead of a name: "“...,” the High Commissioner
    said", "said the Head of Mission", "The Secretary General added: “...”"."""
    match = _TITLE_AFTER_QUOTE_RE.match(text[end : _sentence_end(text, end)])
    if match is None:
        match = _TITLE_BEFORE_QUOTE_RE.search(text[_sentence_start(text, start) : start])
    if match is None:
        return None
    title = match.groupdict().get("t1") or match.groupdict().get("t2")
    return title if title and title[0].isupper() else None


def _pronoun_referent(
    spans: list[NameSpan], offset: int, last_speaker: int | None, last_named: int | None
) -> int | None:
    """Who "he"/"she" is: the last person quoted, else the last person named before."""
    if last_speaker is not None:
        return last_speaker
    before = _last_before(spans, offset)
    return before if before is not None else last_named


def _last_before(spans: list[NameSpan], offset: int) -> int | None:
    before = [s for s in spans if s.start < offset]
    return before[-1].person if before else None


#: Words whose dot ends no sentence: "Mr.", "St.", "Sept." (and initials, below).
_DOTTED_WORDS = f"{DOTTED_HONORIFICS}|{alternatives(word_list('dotted_abbreviations'))}"
_ABBREVIATION_DOT_RE = re.compile(rf"\b({_DOTTED_WORDS}|[A-Z])\.")
_SURNAME_PARTICLES = alternatives(table_column("name_particles", "particle", where="after_quotes"))
#: What may stand between a quotation and its speaker's name: honorifics and titles
#: ("“...,” OSCE Secretary General X told participants"), and the lower-case particles that open
#: a surname ("“...,” von Arx said").
_HONORIFIC_GAP_RE = re.compile(
    r"^\s*,?\s*(?:(?:[A-Z][\w’'-]*\.?|of|the|on|for|in|to|and)\s+)*"
    rf"(?:(?:{_SURNAME_PARTICLES})\s+)*$"
)


@functools.lru_cache(maxsize=1024)
def mask_abbreviations(text: str) -> str:
    """The text with the dots of "Mr.", "Sept." and initials hidden (same length), so that
    they do not end sentences."""
    return _ABBREVIATION_DOT_RE.sub(lambda m: m.group(1) + "_", text)


@functools.lru_cache(maxsize=1024)
def _masked(text: str) -> str:
    """The text with quoted passages blanked and abbreviation dots hidden, so that neither
    ends a sentence."""
    quoted = _QUOTE_RE.sub(lambda m: "“" + "x" * (len(m.group()) - 2) + "”", text)
    return mask_abbreviations(quoted)


def _sentence_start(text: str, offset: int) -> int:
    masked = _masked(text)[:offset]
    ends = [m.end() for m in re.finditer(r"[.!?](?:[”\"’)]*)\s+(?=[A-Z“\"])", masked)]
    return ends[-1] if ends else 0


def _sentence_end(text: str, offset: int) -> int:
    masked = _masked(text)
    match = re.search(r"[.!?](?=\s+[A-Z“\"]|\s*$)", masked[offset:])
    return offset + match.end() if match else len(text)
