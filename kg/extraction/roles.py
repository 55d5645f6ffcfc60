"""Reads a title phrase ("Head of the OSCE Mission to Serbia") into role and organisation."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from kg.extraction.gazetteer import Found, Gazetteer, Kind
from kg.lexicon.wordlists import table_column, word_set

#: Words that make a phrase a title ("Secretary General", "Head", "Minister", ...).
ROLE_WORDS = word_set("role_words")
#: Words that can stand before the role word in a title.
ROLE_MODIFIERS = word_set("role_modifiers")
#: Honorifics that introduce a name; these are also titles when the text gives no other.
TITLE_HONORIFICS = table_column("honorifics", "honorific", where="title")
HONORIFICS = frozenset(table_column("honorifics", "honorific"))
#: Words that, without a structure's name, point back to the release's own field operation.
BACK_REFERENCES = word_set("back_references")
#: Titles that exist only in the OSCE: without an organisation named, they are the OSCE's.
OSCE_ONLY_ROLES = word_set("osce_only_roles")
_CONNECTORS = frozenset({"of", "to", "in", "on", "for", "at", "the", "within", "'", "’", "s"})
_PORTFOLIO_HEADS = frozenset({"minister", "ministers", "ministry", "secretary"})


@dataclass(frozen=True)
class Title:
    """A person's title as the text gives it."""

    role: str | None
    organisation: str | None
    organisation_iri: str | None = None


def has_role_word(phrase: str) -> bool:
    """True when a phrase holds a title word ("Head", "Secretary General", "Minister")."""
    return any(word.lower() in ROLE_WORDS for word in re.findall(r"[\w-]+", phrase))


def read_title(
    phrase: str, gazetteer: Gazetteer, *, own_structure: Found | None = None
) -> Title | None:
    """Role and organisation from a title phrase, or None when it names no title."""
    phrase = " ".join(phrase.split()).strip(" ,")
    phrase = re.sub(r"^(?:the|a|an)\s+", "", phrase, flags=re.IGNORECASE)
    if not has_role_word(phrase):
        return _institution_title(phrase, gazetteer)
    phrase = _drop_leading_conjunct(phrase, gazetteer)
    office = _office_title(phrase, gazetteer)
    if office is not None:
        return office
    phrase = _first_of_two_titles(phrase, gazetteer)
    finds = [
        f
        for f in gazetteer.find(phrase)
        if f.entry.category in {Kind.STRUCTURE, Kind.ORGANISATION, Kind.STATE, Kind.OSCE}
    ]
    role = _role_text(phrase, finds)
    organisation = _pick_organisation(finds)
    if not role:
        institution = next(
            (
                f
                for f in finds
                if f.entry.category == Kind.STRUCTURE and has_role_word(f.entry.label)
            ),
            None,
        )
        if institution is None:
            return None
        # "OSCE High Commissioner on National Minorities": the institution is the title
        return Title(institution.entry.label, "OSCE", None)
    role = role[0].upper() + role[1:]  # "the head of the Mission" -> "Head"
    if organisation is None and role.lower() in OSCE_ONLY_ROLES:
        osce = gazetteer.lookup("OSCE", [Kind.OSCE])
        return Title(role, "OSCE", osce.iri if osce else None)
    if organisation is None:
        role, written = _split_written_organisation(role)
        if written and written.lower() in BACK_REFERENCES:
            # "the Head of the Mission", "the Centre’s Head": the release's own field operation
            if own_structure is None:
                return Title(role, None, None)
            return Title(role, own_structure.entry.label, own_structure.entry.iri)
        if written:
            return Title(role, written, None)
        if role.lower() in BACK_REFERENCES and own_structure is not None:
            # "Project Co-ordinator X": a title that is the release's own field operation's
            return Title(role, own_structure.entry.label, own_structure.entry.iri)
        return Title(role, None, None)
    if organisation.entry.category == Kind.OSCE:
        return Title(role, "OSCE", organisation.entry.iri)
    return Title(role, organisation.entry.label, organisation.entry.iri)


def _drop_leading_conjunct(phrase: str, gazetteer: Gazetteer) -> str:
    """'Kazakhstan and OSCE Secretary General' -> 'OSCE Secretary General': what comes before an
    "and" belongs to the title only when it holds a title word ("Minister of Education and ...").
    An "and" inside a known name ("Bosnia and Herzegovina") does not count."""
    names = gazetteer.find(phrase)
    for match in re.finditer(r"\s+and\s+", phrase):
        if any(f.start <= match.start() < f.end for f in names):
            continue
        if has_role_word(phrase[: match.start()]):
            return phrase
        return _drop_leading_conjunct(phrase[match.end() :], gazetteer)
    return phrase


def _office_title(phrase: str, gazetteer: Gazetteer) -> Title | None:
    """'OSCE Special Representative and Co-ordinator for Combating Trafficking in Human Beings':
    the title of who leads an "Office of the ..." of the OSCE is the role, in the OSCE."""
    title = re.sub(r"^(?:the\s+)?OSCE(?:['’]s)?\s+", "", phrase)
    entry = gazetteer.lookup(f"Office of the {title}", [Kind.STRUCTURE])
    if entry is None:
        return None
    osce = gazetteer.lookup("OSCE", [Kind.OSCE])
    return Title(title, "OSCE", osce.iri if osce else None)


def _institution_title(phrase: str, gazetteer: Gazetteer) -> Title | None:
    """'HCNM' or 'OSCE RFoM' before a name: an institution whose name is a title ("High
    Commissioner on National Minorities") is the person's role, in the OSCE."""
    finds = gazetteer.find(phrase)
    institutions = [
        f for f in finds if f.entry.category == Kind.STRUCTURE and has_role_word(f.entry.label)
    ]
    if len(institutions) != 1:
        return None
    rest = phrase
    for found in sorted(finds, key=lambda f: -f.start):
        if found.entry.category in {Kind.STRUCTURE, Kind.OSCE}:
            rest = rest[: found.start] + rest[found.end :]
    if not re.fullmatch(r"[\s,]*(?:['’]s)?[\s,]*", rest):
        return None  # more than the institution's name: not a bare title
    return Title(institutions[0].entry.label, "OSCE", None)


def _first_of_two_titles(phrase: str, gazetteer: Gazetteer) -> str:
    """'Chairperson-in-Office and Minister of Foreign Affairs of Italy' -> the first title:
    an "and" with a title word on both sides joins two titles, and the first one is kept.
    ("Minister of Education and Science" is one title: nothing after its "and" is a title word.)"""
    names = gazetteer.find(phrase)
    for match in re.finditer(r"\s+and\s+", phrase):
        if any(f.start <= match.start() < f.end for f in names):
            continue
        if has_role_word(phrase[: match.start()]) and has_role_word(phrase[match.end() :]):
            return phrase[: match.start()]
    return phrase


def _role_text(phrase: str, finds: Sequence[Found]) -> str:
    """The phrase without the organisations in it and the words that tied them to the role."""
    pieces: list[str] = []
    cursor = 0
    for found in finds:
        pieces.append(phrase[cursor : found.start])
        pieces.append("\x00")
        cursor = found.end
    pieces.append(phrase[cursor:])
    text = "".join(pieces)
    # keep the part that holds the role word: "\0 Secretary General", "Head of the \0"
    parts = [p for p in text.split("\x00") if has_role_word(p)]
    if not parts:
        return ""
    role = parts[0]
    role = re.sub(r"^[\s'’]*s\b", "", role)  # a possessive left by "Kazakhstan's"
    words = role.split()
    while words and words[-1].lower().strip("'’") in _CONNECTORS | {"and", ""}:
        words.pop()
    while words and words[0].lower().strip("'’") in _CONNECTORS | {"and", ""}:
        words.pop(0)
    return " ".join(words).strip(" ,'’")


def _pick_organisation(finds: Sequence[Found]) -> Found | None:
    """The organisation a title is in: a structure, else another organisation, a State, the OSCE."""
    for category in (Kind.STRUCTURE, Kind.ORGANISATION, Kind.STATE, Kind.OSCE):
        matching = [f for f in finds if f.entry.category == category]
        if matching:
            return matching[-1]
    return None


def _split_written_organisation(role: str) -> tuple[str, str | None]:
    """'Chairman of the Election Commission' -> ('Chairman', 'Election Commission');
    'Centre’s Head' -> ('Head', 'Centre')."""
    possessive = re.match(r"^(?P<org>[A-Z][\w -]*?)['’]s\s+(?P<role>[A-Z].*)$", role)
    if possessive and has_role_word(possessive["role"]):
        return possessive["role"], possessive["org"]
    match = re.match(r"^(?P<role>.+?)\s+(?:of|at|to|in)\s+(?:the\s+)?(?P<org>[A-Z].*)$", role)
    if not match:
        return role, None
    head = match["role"].split()[-1].lower()
    if head in _PORTFOLIO_HEADS:
        # "Minister of Foreign Affairs [of X]": the portfolio belongs to the role
        rest = re.match(r"^(?P<portfolio>.+?)\s+of\s+(?:the\s+)?(?P<org>[A-Z].*)$", match["org"])
        if not rest:
            return role, None
        return f"{match['role']} of {rest['portfolio']}", rest["org"]
    if match["org"].split()[0].lower() in {"freedom", "national"}:
        return role, None  # part of an institution title ("Representative on Freedom of the Media")
    return match["role"], match["org"]
