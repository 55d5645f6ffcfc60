"""Finds people named together: lists after one title, couples, and heads of State by surname."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from kg.extraction.gazetteer import Form, Found, Gazetteer, Kind
from kg.extraction.roles import ROLE_WORDS, Title
from kg.lexicon.patterns import UPPER
from kg.lexicon.wordlists import word_list, word_set

_NAME_WORD = rf"[{UPPER}][\w’'-]+(?![\w’'-])"
#: A person's name in a list: two to four capitalised words ("Jean-Jacques Gaillarde").
_LIST_NAME = rf"{_NAME_WORD}(?:\s+{_NAME_WORD}){{1,3}}"
#: What may follow a name in a list: "of the United States", "of France".
_QUALIFIER = rf"(?:\s+of\s+(?:the\s+)?{_NAME_WORD}(?:\s+{_NAME_WORD})*)?"
_LIST = (
    rf"(?P<names>{_LIST_NAME}{_QUALIFIER}(?:\s*,\s*{_LIST_NAME}{_QUALIFIER})*"
    rf"\s*,?\s+and\s+{_LIST_NAME}{_QUALIFIER})"
)
#: A plural title, its organisation and the names it introduces: "the Co-Chairs of the OSCE
#: Minsk Group, A, B and C", "Presidency members A, B and C", "Participants A and B".
_PLURAL_TITLE_RE = re.compile(
    rf"(?P<title>(?:{_NAME_WORD}\s+)?(?:[{UPPER}][\w-]*|[a-z][\w-]*)s)"
    rf"(?:\s+of\s+(?P<organisation>(?:the\s+)?{_NAME_WORD}(?:\s+{_NAME_WORD})*))?"
    rf"\s*,?\s+(?:(?P<honorific>Ambassadors|Messrs\.?)\s+)?{_LIST}"
)
_PERSON_NOUNS = frozenset(word_list("person_nouns"))
#: "Milovan and Ljiljana Petrović": two given names sharing one surname, then a verb.
_COUPLE_RE = re.compile(
    rf"(?<![\w’'-])(?P<first>{_NAME_WORD})\s+and\s+(?P<second>{_NAME_WORD})\s+"
    rf"(?P<surname>{_NAME_WORD})(?=\s+(?:[a-z]+ed|{'|'.join(word_list('couple_verbs'))})\b)"
)
#: Titles of heads of State or government that releases give with a surname alone.
_HEAD_TITLES = ("President", "Prime Minister", "Chancellor", "King", "Queen")
_SURNAME_RE = re.compile(
    rf"\b(?P<title>{'|'.join(_HEAD_TITLES)})\s+(?P<surname>{_NAME_WORD})"
    rf"(?!\s+[{UPPER}])(?:\s+of\s+(?:the\s+)?(?P<state>{_NAME_WORD}(?:\s+{_NAME_WORD})*))?"
)
_NOT_NAME_WORDS = word_set("not_name_words")
#: What every list and couple holds: white space, "and", white space and a capital. A paragraph
#: without it is not scanned for them (the scans try every position and cannot match there).
_AND_NAME_RE = re.compile(rf"\sand\s+[{UPPER}]")


@dataclass(frozen=True)
class GroupMember:
    """A person named in a group: the name as written, where it stands, its title if any."""

    name: str
    start: int
    end: int
    title: Title | None


def people_in_groups(text: str, gazetteer: Gazetteer, finds: Sequence[Found]) -> list[GroupMember]:
    """Lists after one title, couples and heads of State by surname in one paragraph."""
    joined = _AND_NAME_RE.search(text) is not None  # lists and couples need "and Name"
    members = _listed(text, gazetteer, finds) if joined else []
    taken = [(m.start, m.end) for m in members]
    couples = _couples(text, finds) if joined else []
    for member in [*couples, *_heads_by_surname(text, gazetteer, finds)]:
        if not any(a < member.end and member.start < b for a, b in taken):
            members.append(member)
            taken.append((member.start, member.end))
    return sorted(members, key=lambda m: m.start)


def _listed(text: str, gazetteer: Gazetteer, finds: Sequence[Found]) -> list[GroupMember]:
    members: list[GroupMember] = []
    for match in _PLURAL_TITLE_RE.finditer(text):
        words = match["title"].split()
        singular = re.sub(r"s$", "", words[-1])
        if singular.lower() in _PERSON_NOUNS:
            title = None
        elif singular.lower() in ROLE_WORDS or match["honorific"]:
            kept = [w for w in words[:-1] if w not in ("The", "the", "Its", "its")]
            role = " ".join([*kept, singular]) if singular.lower() in ROLE_WORDS else None
            title = Title(role, _organisation(match["organisation"], gazetteer)) if role else None
        else:
            continue
        offset = match.start("names")
        for name in re.finditer(_LIST_NAME, match["names"]):
            start, end = offset + name.start(), offset + name.end()
            if _known_thing(start, end, finds) or text[start - 4 : start] == "the ":
                continue
            if re.search(r"\bof\s+(?:the\s+)?$", text[max(0, start - 8) : start]):
                continue  # "of the United States" qualifies the name before it
            members.append(GroupMember(name.group(), start, end, title))
    return members if len(members) >= 2 else []


def _organisation(written: str | None, gazetteer: Gazetteer) -> str | None:
    if not written:
        return None
    entry = gazetteer.lookup(re.sub(r"^the\s+", "", written), [Kind.STRUCTURE, Kind.ORGANISATION])
    return entry.label if entry else written


def _couples(text: str, finds: Sequence[Found]) -> list[GroupMember]:
    members: list[GroupMember] = []
    for match in _COUPLE_RE.finditer(text):
        if _known_thing(match.start(), match.end(), finds):
            continue
        if re.search(rf"[{UPPER}][\w’'-]*\s+$", text[: match.start()]):
            continue  # "Small Arms and Light Weapons": part of a longer name
        words = (match["first"], match["second"], match["surname"])
        if any(w.lower() in _NOT_NAME_WORDS or w.lower() in ROLE_WORDS for w in words):
            continue
        surname = match["surname"]
        first_end = match.end("first")
        members.append(GroupMember(f"{match['first']} {surname}", match.start(), first_end, None))
        members.append(
            GroupMember(f"{match['second']} {surname}", match.start("second"), match.end(), None)
        )
    return members


def _heads_by_surname(text: str, gazetteer: Gazetteer, finds: Sequence[Found]) -> list[GroupMember]:
    """ "President Aliyev of Azerbaijan", "Macedonian President Gligorov": the State from the
    adjective before the title, "of X" after the name, or the one State of the sentence."""
    members: list[GroupMember] = []
    if not any(title in text for title in _HEAD_TITLES):
        return members  # the titles are written as listed: no need to scan
    for match in _SURNAME_RE.finditer(text):
        start, end = match.start("surname"), match.end("surname")
        surname = match["surname"]
        if _known_thing(start, end, finds) or surname.lower() in _NOT_NAME_WORDS:
            continue
        state = _state_of(text, match, gazetteer, finds)
        if state is None:
            continue
        members.append(GroupMember(surname, start, end, Title(match["title"], state)))
    return members


def _state_of(
    text: str, match: re.Match[str], gazetteer: Gazetteer, finds: Sequence[Found]
) -> str | None:
    states = [f for f in finds if f.entry.category == Kind.STATE]
    adjective = [f for f in states if f.form == Form.ADJECTIVE and f.end == match.start() - 1]
    if adjective:
        return adjective[0].entry.label
    if match["state"]:
        entry = gazetteer.lookup(match["state"], [Kind.STATE])
        if entry is not None:
            return entry.label
    sentence_start = max(text.rfind(". ", 0, match.start()) + 1, 0)
    stop = text.find(". ", match.end())
    sentence_end = stop if stop >= 0 else len(text)
    named = {f.entry.label for f in states if sentence_start <= f.start < sentence_end}
    return named.pop() if len(named) == 1 else None


def _known_thing(start: int, end: int, finds: Sequence[Found]) -> bool:
    """True when the words are (part of) a known name other than a person's."""
    return any(f.start < end and start < f.end and f.entry.category != Kind.PERSON for f in finds)
