"""The name index that links names in release text to States, structures, organisations, people."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from kg.lexicon.wordlists import table_column, word_table


class Kind(StrEnum):
    """The categories of things the index knows."""

    STATE = "state"
    #: States and territories the tables name that are neither participating States nor
    #: Partners (Czechoslovakia, FRY): known, so their names are not misread, but not listed.
    OTHER_STATE = "other-state"
    STRUCTURE = "structure"  # OSCE institutions, Secretariat units, field operations
    ORGANISATION = "organisation"  # non-OSCE organisations
    OSCE = "osce"  # the OSCE itself
    PERSON = "person"
    FIELD_OF_WORK = "field-of-work"


class Form(StrEnum):
    """How a name was written, which decides how strictly it must match."""

    NAME = "name"  # matched whatever its case; a single word must start with a capital
    ABBREVIATION = "abbreviation"  # matched exactly as written ("EU", "RFoM")
    ADJECTIVE = "adjective"  # exactly as written ("Tajik")


_TOKEN_RE = re.compile(r"\w+(?:-\w+)*|[^\w\s]")
#: Spellings that name the same thing: compared after these are folded.
_SPELLING_FOLDS = tuple((row["british"], row["american"]) for row in word_table("spelling_folds"))
_MAX_TOKENS = 16
_FOUND_CACHE_SIZE = 4096  # paragraphs whose names are kept; cleared whole when full
_LOOKUP_CACHE_SIZE = 4096  # names looked up whose answers are kept; cleared whole when full


@dataclass(frozen=True)
class Entry:
    """A thing that can be named: its category, English label and IRI (None when not linkable)."""

    category: Kind
    label: str
    iri: str | None = None


@dataclass(frozen=True)
class Found:
    """A name found in a text: the thing, where it stands and how it was written."""

    entry: Entry
    start: int
    end: int
    text: str
    form: Form


@functools.lru_cache(maxsize=1 << 16)
def fold_token(token: str) -> str:
    """The form a word is compared in: no case, accents, inner hyphens or British spelling."""
    decomposed = unicodedata.normalize("NFKD", token.casefold().replace("’", "'"))
    folded = "".join(c for c in decomposed if not unicodedata.combining(c)).replace("-", "")
    for british, american in _SPELLING_FOLDS:
        folded = folded.replace(british, american)
    return folded


def tokenise(text: str) -> list[str]:
    """Words (hyphenated words whole) and punctuation marks, in order."""
    return _TOKEN_RE.findall(text)


def _exact_forms(words: list[str]) -> list[str]:
    """The words as exact names are compared: a curly apostrophe made straight."""
    return [word.replace("’", "'") for word in words]


class Gazetteer:
    """Finds known names in text, longest name first, and looks single names up."""

    def __init__(self) -> None:
        self._folded: dict[tuple[str, ...], Entry] = {}
        self._exact: dict[tuple[str, ...], tuple[Entry, Form]] = {}
        self._entries: list[Entry] = []
        self._lookup_only: dict[tuple[str, ...], Entry] = {}
        #: the lengths (longest first) of the names each first word opens, exact and folded:
        #: a text's word that opens no name is passed over without trying every length
        self._exact_lengths: dict[str, tuple[int, ...]] = {}
        self._folded_lengths: dict[str, tuple[int, ...]] = {}
        #: the first two words of every name of two words or more, exact and folded: where a
        #: text's two words open no such name, only one-word names are tried
        self._exact_pairs: set[tuple[str, ...]] = set()
        self._folded_pairs: set[tuple[str, ...]] = set()
        #: year -> (chairing State's label, that year's Chairpersonship)
        self.chairpersonships: dict[int, tuple[str, Entry]] = {}
        #: the standing Chairpersonship, which a dated mention resolves to one year's
        self.standing_chairpersonship: Entry | None = None
        # mentions, people and events search the same paragraphs: each is searched once, and
        # each name (a source, a person's name) is looked up once; adding names clears both
        self._found: dict[str, list[Found]] = {}
        self._looked_up: dict[tuple[str, tuple[Kind, ...] | None], Entry | None] = {}

    @property
    def entries(self) -> Sequence[Entry]:
        """Every thing the index knows, in the order they were added."""
        return tuple(self._entries)

    def add(
        self, entry: Entry, names: Iterable[str], *, form: Form = Form.NAME, searchable: bool = True
    ) -> None:
        """Adds names of a thing; the first thing given a name keeps it.

        Names that are not ``searchable`` are only looked up whole (fields of work, which
        would otherwise be found in ordinary words of the body).
        """
        self._found.clear()
        self._looked_up.clear()
        if entry not in self._entries:
            self._entries.append(entry)
        for name in names:
            tokens = tuple(tokenise(name))
            if not tokens or len(tokens) > _MAX_TOKENS:
                continue
            if not searchable:
                self._lookup_only.setdefault(tuple(fold_token(t) for t in tokens), entry)
            elif form == Form.NAME:
                folded = tuple(fold_token(t) for t in tokens)
                self._folded.setdefault(folded, entry)
                _add_length(self._folded_lengths, folded)
                if len(folded) > 1:
                    self._folded_pairs.add(folded[:2])
            else:
                exact = tuple(t.replace("’", "'") for t in tokens)
                self._exact.setdefault(exact, (entry, form))
                _add_length(self._exact_lengths, exact)
                if len(exact) > 1:
                    self._exact_pairs.add(exact[:2])

    def find(self, text: str, categories: Iterable[Kind] | None = None) -> list[Found]:
        """Every known name in ``text``, left to right; a longer name wins over one inside it."""
        found = self._found.get(text)
        if found is None:
            if len(self._found) >= _FOUND_CACHE_SIZE:
                self._found.clear()
            found = self._found[text] = self._find_all(text)
        if categories is None:
            return list(found)
        wanted = set(categories)
        return [f for f in found if f.entry.category in wanted]

    def _find_all(self, text: str) -> list[Found]:
        matches = list(_TOKEN_RE.finditer(text))
        words = [m.group() for m in matches]
        exact = _exact_forms(words) if "’" in text else words
        folded = list(map(fold_token, words))
        exact_lengths, folded_lengths = self._exact_lengths, self._folded_lengths
        # the words a name may stand at: those that open a name, and hyphenated words
        openers = [
            index
            for index, word in enumerate(words)
            if exact[index] in exact_lengths or folded[index] in folded_lengths or "-" in word
        ]
        found: list[Found] = []
        free = 0  # the first word not inside a name already found
        for index in openers:
            if index < free:
                continue
            hit = self._longest_at(words, exact, folded, index)
            if hit is None:
                if "-" in words[index]:
                    found.extend(self._find_in_compound(words[index], matches[index].start()))
                continue
            entry, form, length = hit
            start, end = matches[index].start(), matches[index + length - 1].end()
            found.append(Found(entry, start, end, text[start:end], form))
            free = index + length
        return found

    def _find_in_compound(self, word: str, offset: int) -> list[Found]:
        """Names inside a hyphenated word: 'EU-funded', 'Tajik-Afghan', 'OSCE-supported'."""
        found: list[Found] = []
        for part in word.split("-"):
            hit = self._longest_at([part], [part.replace("’", "'")], [fold_token(part)], 0)
            if hit is not None:
                found.append(Found(hit[0], offset, offset + len(part), part, hit[1]))
            offset += len(part) + 1
        return found

    def lookup(self, name: str, categories: Iterable[Kind] | None = None) -> Entry | None:
        """The thing a whole name stands for ("OSCE Centre in Almaty", "ODIHR"), or None."""
        key = (name, tuple(categories) if categories is not None else None)
        if key in self._looked_up:
            return self._looked_up[key]
        if len(self._looked_up) >= _LOOKUP_CACHE_SIZE:
            self._looked_up.clear()
        entry = self._looked_up[key] = self._lookup(name, key[1])
        return entry

    def _lookup(self, name: str, categories: tuple[Kind, ...] | None) -> Entry | None:
        words = tokenise(name.strip())
        exact = _exact_forms(words)
        folded = [fold_token(word) for word in words]
        wanted = set(categories) if categories is not None else None
        only = self._lookup_only.get(tuple(folded))
        if only is not None and (wanted is None or only.category in wanted):
            return only
        hit = self._longest_at(words, exact, folded, 0) if words else None
        if hit is None or hit[2] != len(words):
            return None
        if wanted is not None and hit[0].category not in wanted:
            return None
        return hit[0]

    def _longest_at(
        self, words: list[str], exact: list[str], folded: list[str], index: int
    ) -> tuple[Entry, Form, int] | None:
        exact_lengths = self._exact_lengths.get(exact[index], ())
        folded_lengths = self._folded_lengths.get(folded[index], ())
        if not exact_lengths and not folded_lengths:
            return None  # no name opens with this word
        limit = min(_MAX_TOKENS, len(words) - index)
        pair = slice(index, index + 2)
        exact_pair = limit > 1 and tuple(exact[pair]) in self._exact_pairs
        folded_pair = limit > 1 and tuple(folded[pair]) in self._folded_pairs
        for length in _longest_first(exact_lengths, folded_lengths):
            if length > limit:
                continue
            stop = index + length
            if length > 1 and not exact_pair and not folded_pair:
                continue  # no longer name opens with these two words
            if length in exact_lengths and (length == 1 or exact_pair):
                exact_hit = self._exact.get(tuple(exact[index:stop]))
                if exact_hit is not None:
                    return exact_hit[0], exact_hit[1], length
            if length in folded_lengths and (length == 1 or folded_pair):
                entry = self._folded.get(tuple(folded[index:stop]))
                if entry is not None and _capitalised_enough(words[index], length):
                    return entry, Form.NAME, length
        return None


@functools.lru_cache(maxsize=1024)
def _longest_first(exact: tuple[int, ...], folded: tuple[int, ...]) -> tuple[int, ...]:
    """The lengths of two length lists, each once, longest first."""
    return tuple(sorted({*exact, *folded}, reverse=True))


def _add_length(lengths: dict[str, tuple[int, ...]], name: tuple[str, ...]) -> None:
    """Records that a name of ``len(name)`` words opens with ``name[0]``."""
    known = lengths.get(name[0], ())
    if len(name) not in known:
        lengths[name[0]] = tuple(sorted({*known, len(name)}, reverse=True))


#: Lower-case words that may open a name ("von Arx", "de Brichambaut").
_NAME_PARTICLES = frozenset(table_column("name_particles", "particle", where="known_names"))


def _capitalised_enough(first: str, length: int) -> bool:
    """A name of ``length`` words opening with ``first`` must open with a capital in the text
    ("Turkey", not "turkey"; "its office in Minsk" is premises, "the Office in Minsk" the
    structure), or with a name particle."""
    if first[:1].isupper() or not first[:1].isalpha():
        return True
    return length > 1 and first in _NAME_PARTICLES


def _is_abbreviation(name: str) -> bool:
    """'UK', 'BiH', 'FYROM', 'OSCE PA': short names with several capitals, matched exactly."""
    tokens = tokenise(name)
    return all(sum(c.isupper() for c in t) >= 2 and len(t) <= 8 for t in tokens if t.isalpha())


def add_names(gazetteer: Gazetteer, entry: Entry, names: Iterable[str]) -> None:
    """Adds names, each as an abbreviation or a name by how it is written."""
    for name in names:
        if not name.strip():
            continue
        form = Form.ABBREVIATION if _is_abbreviation(name) else Form.NAME
        gazetteer.add(entry, [name], form=form)


def structure_variants(name: str) -> list[str]:
    """A structure's name as releases also write it: without or with the 'OSCE ' prefix."""
    variants = [name]
    for prefix in ("OSCE ", "CSCE "):
        if name.startswith(prefix):
            rest = name.removeprefix(prefix)
            if len(rest.split()) >= 2:  # "Secretariat" alone is too generic to search for
                variants.append(rest)
            break
    else:
        if not _is_abbreviation(name):
            variants.append(f"OSCE {name}")
    return variants
