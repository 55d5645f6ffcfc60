"""Finds the people a release names, with the titles the text gives them, and who is quoted."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from kg.extraction.gazetteer import Form, Found, Gazetteer, Kind, fold_token
from kg.extraction.groups import people_in_groups
from kg.extraction.quotes import (
    OPENING_QUOTES,
    SPEECH_VERBS,
    NameSpan,
    introduces_quote,
    quotes_in,
    reported_speakers,
    speaker_of,
    speaker_title,
)
from kg.extraction.records import PersonMention, Quote
from kg.extraction.roles import (
    HONORIFICS,
    ROLE_MODIFIERS,
    ROLE_WORDS,
    TITLE_HONORIFICS,
    Title,
    has_role_word,
    read_title,
)
from kg.lexicon.patterns import (
    DOTTED_HONORIFICS,
    MONTH_NAMES,
    UPPER,
    WEEKDAYS,
    alternatives,
)
from kg.lexicon.wordlists import table_column, word_list, word_set

_PARTICLE_WORDS = table_column("name_particles", "particle")
_PARTICLES = rf"(?:{alternatives(_PARTICLE_WORDS)})"
_PARTICLES_SET = frozenset(_PARTICLE_WORDS)
_CAP = rf"(?:[{UPPER}]\.(?=\s)|[{UPPER}][\w'’]*(?:-[\w'’]+)*)"
_RUN_RE = re.compile(rf"(?<![\w’'-]){_CAP}(?:\s+(?:{_PARTICLES}\s+)*{_CAP})*")
_DOTTED_HONORIFIC_RE = re.compile(rf"\b(?P<honorific>{DOTTED_HONORIFICS})\.\s+$")
_VERB_AFTER_RE = re.compile(rf"^\s*,?\s*(?:also\s+|further\s+|then\s+)?(?:{SPEECH_VERBS})\b")
#: A lower-case description set off by commas after a name: "X, a journalist from Kareli,",
#: "X, 34, a teacher from Naryn,", "X, who runs a small NGO in Kharkiv,".
_DESCRIPTION = (
    r"\s*,\s*(?:\d{1,3}\s*,\s*)?(?:(?:a|an|the)\s+(?=[a-z0-9])|(?:who|from|one\s+of)\s+)"
    r"[^,.;:“”\"«»()]{1,80}?"
)
_DESCRIBED_SPEAKER_RE = re.compile(
    rf"^{_DESCRIPTION}\s*,\s*"
    # "X, a journalist, and Y, a lawyer, both said"
    r"(?:and\s+[^.;:“”\"«»]{1,120}?,\s*(?:both\s+|all\s+)?)?"
    rf"(?:also\s+|further\s+)?(?:{SPEECH_VERBS})\b"
)
#: Nouns that describe a private person: "X, a journalist from Kareli", "X, a 23-year-old law
#: student".
_PERSON_NOUNS = alternatives(word_list("person_nouns"), any_space=True)
_PERSON_NOUN_WORDS = frozenset(word_list("person_nouns")) | {"chief", "leader"}
_DESCRIBED_PERSON_RE = re.compile(
    rf"^\s*,\s*(?:\d{{1,3}}\s*,\s*)?(?:a|an)\s+"
    # up to three words before the noun, no preposition among them ("a city of young students")
    rf"(?:(?!(?:of|for|in|from|with|at|on|to)\b)[\w’'-]+\s+){{0,3}}?(?:{_PERSON_NOUNS})s?\b"
)
#: After "according to X": a description, or the end of the sentence ("..., according to X.").
_DESCRIBED_RE = re.compile(rf"^(?:{_DESCRIPTION}\s*[,.;]|\s*(?:[.;]|$))")
_ACCORDING_TO_RE = re.compile(r"\baccording\s+to\s+$", re.IGNORECASE)
#: Words inside a description, before its closing comma: "Kareli" in ", a journalist from Kareli,".
_INSIDE_DESCRIPTION_RE = re.compile(rf"{_DESCRIPTION}$")
_VERB_BEFORE_RE = re.compile(
    rf"\b(?:(?:{SPEECH_VERBS})\s*:?|led\s+by)\s*"
    # "said one participant, X", "said a teacher from Osh, X"
    r"(?:(?:one|a|an|the)\s+[a-z][^,.;:“”\"«»]{0,60},\s*)?"
    # "said reporter X", "said cadet X"
    rf"(?:(?:[a-z]+\s+)?(?:{_PERSON_NOUNS})\s+)?"
    rf"(?:(?:{DOTTED_HONORIFICS})\.?\s+)?$"
)
#: Words that are never part of a person's name.
_NOT_NAME_WORDS = word_set("not_name_words") | set(MONTH_NAMES) | set(WEEKDAYS)
_MAX_NAME_WORDS = 4
_RANK_WORDS = frozenset(w for title in TITLE_HONORIFICS for w in title.split())


@dataclass
class _Person:
    name: str
    title: Title | None
    linked_iri: str | None
    quoted: bool = False
    honorific_title: str | None = None

    @property
    def surname(self) -> str:
        return self.name.split()[-1]


@dataclass
class People:
    """The people of a release, in order of first mention, and its quotes."""

    persons: list[PersonMention] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def find_people(
    paragraphs: Sequence[str], gazetteer: Gazetteer, *, own_structure: Found | None = None
) -> People:
    """People named in the body with their titles, whether they are quoted, and the quotes."""
    people: list[_Person] = []
    last_speaker: int | None = None
    last_named: int | None = None
    quotes: list[Quote] = []
    announcer: int | None = None  # who announced a quotation at the end of the last paragraph
    for paragraph in paragraphs:
        spans = _find_people_in(paragraph, gazetteer, people, own_structure)
        opens_with_quote = paragraph.startswith(OPENING_QUOTES)
        spoke = reported_speakers(paragraph, spans)  # (offset, person): who spoke, and where
        for quote_text, start, end in quotes_in(paragraph):
            recent = _latest_speaker(spoke, start, last_speaker)
            speaker = speaker_of(paragraph, start, end, spans, recent, last_named)
            if speaker is None:
                speaker = _holder_of(speaker_title(paragraph, start, end), people)
            if speaker is None and start == 0 and announcer is not None:
                speaker = announcer  # "X issued the following statement:" then the quotation
            if speaker is None:
                continue
            people[speaker].quoted = True
            spoke.append((start, speaker))
            quotes.append(Quote(quote_text, people[speaker].name))
        last_speaker = _latest_speaker(spoke, len(paragraph) + 1, last_speaker)
        if spans:
            last_named = spans[-1].person
        if introduces_quote(paragraph):
            announcer = spans[-1].person if spans else last_named
        elif not opens_with_quote:
            announcer = None
    result = People(quotes=quotes)
    for person in people:
        title = person.title
        if title is None and person.honorific_title:
            title = Title(person.honorific_title, None)
        role, organisation = _written_role(title)
        result.persons.append(
            PersonMention(person.name, role, organisation, person.quoted, person.linked_iri)
        )
        if person.linked_iri is None:
            result.warnings.append(
                f"person {person.name!r} is not in the reference data; kept unlinked"
            )
    return result


_CHAIR_IN_OFFICE_RE = re.compile(r"^Chair(?:man|person|woman)?-in-Office$", re.IGNORECASE)


def _written_role(title: Title | None) -> tuple[str | None, str | None]:
    """The role and organisation a title gives: a lower-case description is no role ("law
    professor X" has none), and the Chairperson-in-Office is always the OSCE's."""
    if title is None or title.role is None:
        return None, title.organisation if title else None
    role = title.role
    head = role.split()[-1]
    if not head[:1].isupper() and head in _PERSON_NOUN_WORDS:
        return None, None  # "law professor X", "police chief X": a description
    if _CHAIR_IN_OFFICE_RE.match(role):
        return role, "OSCE"
    return role, title.organisation


def _holder_of(title: str | None, people: list[_Person]) -> int | None:
    """The person last named who holds a title the text uses instead of their name
    ("the High Commissioner" for the High Commissioner on National Minorities)."""
    if title is None:
        return None
    wanted = " ".join(title.lower().split())
    for index in range(len(people) - 1, -1, -1):
        person = people[index]
        role = person.title.role if person.title else person.honorific_title
        if role is None:
            continue
        role = role.lower()
        if role == wanted or role.startswith(wanted + " ") or wanted.startswith(role + " of "):
            return index
    return None


def _find_people_in(
    text: str, gazetteer: Gazetteer, people: list[_Person], own_structure: Found | None
) -> list[NameSpan]:
    """Records the people named in one paragraph; returns where each mention stands."""
    finds = gazetteer.find(text)
    spans: list[NameSpan] = []
    grouped = people_in_groups(text, gazetteer, finds)
    for member in grouped:
        index = _match_known(member.name, people)
        if index is None:
            entry = gazetteer.lookup(member.name, [Kind.PERSON])
            people.append(_Person(member.name, member.title, entry.iri if entry else None))
            index = len(people) - 1
        spans.append(NameSpan(index, member.start, member.end))
    persons = [f for f in finds if f.entry.category == Kind.PERSON]
    others = [(f.start, f.end) for f in finds if f.entry.category != Kind.PERSON]
    for run in _RUN_RE.finditer(text):
        candidate = _name_in_run(text, run.start(), run.end(), persons, others)
        if candidate is None:
            continue
        start, end, prefix_words = candidate
        if any(m.start < end and start < m.end for m in grouped):
            continue
        dotted = _DOTTED_HONORIFIC_RE.search(text[:start])
        if dotted and not prefix_words:
            # "Dr. Anna Svensson": the dot ends the run of capitalised words before the name
            prefix_words = [dotted["honorific"]]
        name = _strip_possessive(text[start:end])
        end = start + len(name)
        index = _match_known(name, people)
        if index is not None:
            known = people[index]
            if known.title is None:
                known.title = _title_around(text, (start, end), spans, gazetteer, own_structure)
            spans.append(NameSpan(index, start, end))
            continue
        if len(name.split()) < 2:
            continue
        person_entry = gazetteer.lookup(name, [Kind.PERSON])
        title = _title_around(text, (start, end), spans, gazetteer, own_structure)
        honorific = _honorific_title(prefix_words)
        said = _introduces_person(text, start, end)
        if person_entry is None and title is None and not prefix_words and not said:
            continue
        if (
            person_entry is None
            and title is None
            and not said
            and not any(w in HONORIFICS for w in prefix_words)
        ):
            continue
        people.append(
            _Person(
                name, title, person_entry.iri if person_entry else None, honorific_title=honorific
            )
        )
        spans.append(NameSpan(len(people) - 1, start, end))
    return spans


def _introduces_person(text: str, start: int, end: int) -> bool:
    """True when the words at start:end are a person without a title: a speaker ("X said",
    "said X", "X, a journalist from Kareli, said", "according to X, a local councillor,") or
    someone described as a person ("X, a 23-year-old law student")."""
    after = text[end:]
    if _INSIDE_DESCRIPTION_RE.search(text[:start]) and after.lstrip().startswith(","):
        return False  # the place in "X, a student from Novi Sad, said" is not the speaker
    if _VERB_AFTER_RE.match(after) or _DESCRIBED_SPEAKER_RE.match(after):
        return True
    if _DESCRIBED_PERSON_RE.match(after):  # "X, a journalist from Kareli" is a person
        return True
    before = text[:start]
    if _VERB_BEFORE_RE.search(before):
        return True
    return bool(_ACCORDING_TO_RE.search(before) and _DESCRIBED_RE.match(after))


def _honorific_title(prefix_words: list[str]) -> str | None:
    """'Lieutenant Colonel' or 'Ambassador' when the words before a name end with one."""
    for size in (2, 1):
        words = " ".join(prefix_words[-size:])
        if len(prefix_words) >= size and words in TITLE_HONORIFICS:
            return words
    return None


def _name_in_run(
    text: str,
    start: int,
    end: int,
    persons: Sequence[Found],
    others: Sequence[tuple[int, int]],
) -> tuple[int, int, list[str]] | None:
    """The person's name at the end of a run of capitalised words, after any title words in it.

    ``persons`` are the known people found in the text, ``others`` where the other known names
    stand. Returns the name's offsets and the honorific/title words before it in the run.
    """
    words = list(_WORD_RE.finditer(text[start:end]))
    known_person = [f for f in persons if f.start >= start and f.end <= end]
    if known_person:
        found = known_person[-1]
        prefix = [w.group() for w in words if start + w.end() <= found.start]
        return found.start, found.end, [p.rstrip(".") for p in prefix]
    name_words: list[re.Match[str]] = []
    for word in reversed(words):
        absolute = start + word.start()
        clean = _strip_possessive(word.group()).rstrip(".")
        if not _can_be_name_word(clean, absolute, others, start + word.end()):
            break
        name_words.insert(0, word)
    if not name_words:
        return None
    while name_words and name_words[0].group().lower() in _PARTICLES_SET:
        name_words.pop(0)
    if not name_words or len(name_words) > _MAX_NAME_WORDS:
        name_words = name_words[-_MAX_NAME_WORDS:]
    first = name_words[0]
    prefix = [w.group().rstrip(".") for w in words if w.start() < first.start()]
    return start + first.start(), start + name_words[-1].end(), prefix


def _can_be_name_word(word: str, start: int, others: Sequence[tuple[int, int]], end: int) -> bool:
    """True when a word at start:end may be part of a person's name: it is no title, honorific
    or abbreviation, and no other known name (``others``) covers it."""
    if not _name_word_shape(word):
        return False
    return not any(a < end and start < b for a, b in others)


@functools.lru_cache(maxsize=1 << 14)
def _name_word_shape(word: str) -> bool:
    """True when a word, by itself, may be part of a person's name."""
    lower = word.lower()
    if not word or lower in _NOT_NAME_WORDS or lower in ROLE_WORDS or lower in ROLE_MODIFIERS:
        return False
    if word in HONORIFICS or word.rstrip(".") in HONORIFICS or word in _RANK_WORDS:
        return False
    letters = [c for c in word if c.isalpha()]
    if len(letters) > 1 and all(c.isupper() for c in letters):
        return False  # an abbreviation: "OSCE", "UNDP"
    return not (len(word) == 2 and word.endswith(".") is False and word.isupper())


def _latest_speaker(spoke: list[tuple[int, int]], offset: int, earlier: int | None) -> int | None:
    """Who spoke last before ``offset`` in the paragraph, else the last speaker before it."""
    before = [(at, person) for at, person in spoke if at < offset]
    return max(before)[1] if before else earlier


_POSSESSIVE_RE = re.compile(r"['’]s?$")
_WORD_RE = re.compile(r"\S+")


def _strip_possessive(text: str) -> str:
    return _POSSESSIVE_RE.sub("", text)


def _match_known(name: str, people: list[_Person]) -> int | None:
    """The person already found that a name stands for: the same name, or their surname."""
    folded = [fold_token(w) for w in name.split()]
    for index, person in enumerate(people):
        known = [fold_token(w) for w in person.name.split()]
        if folded == known or (len(folded) < len(known) and known[-len(folded) :] == folded):
            return index  # the same name, or its last words ("Greminger", "Pons Sampietro")
    return None


def _title_around(
    text: str,
    name: tuple[int, int],
    spans: list[NameSpan],
    gazetteer: Gazetteer,
    own_structure: Found | None,
) -> Title | None:
    """The title the text gives a name: just before it ("OSCE Secretary General X"), after a
    comma ("X, Head of ..."), or in an appointment ("X took up his duties as Head of ...")."""
    start, end = name
    masked = _mask_names(text, gazetteer, spans)
    before = _phrase_before(text, masked, start)
    if before and re.search(r"\bas\s+$", text[: text.rfind(before, 0, start)]):
        before = None  # "B as ODIHR Director, C as ...": the title of the name before
    if before:
        # "the Head of the Mission, Ambassador X", "The OSCE Chairperson-in-Office, Italian
        # Foreign Minister X": the first title, set off by a comma, comes before the second
        earlier = _apposed_title(text, masked, text.rfind(before, 0, start))
        before = earlier or before
    if before:
        title = read_title(before, gazetteer, own_structure=own_structure)
        if title is not None and title.role not in TITLE_HONORIFICS:
            return title
    for after in (
        _phrase_after(text, masked, end),
        _verb_title(text, masked, end),
        _appointment_phrase(text, masked, end),
    ):
        if after:
            title = read_title(after, gazetteer, own_structure=own_structure)
            if title is not None:
                return title
    return None


def _apposed_title(text: str, masked: str, start: int) -> str | None:
    """A title phrase that ends with a comma right before ``start`` and opens its sentence or
    follows "the" ("The OSCE Chairperson-in-Office, ...")."""
    head = text[:start].rstrip()
    if not head.endswith(","):
        return None
    earlier = _phrase_before(text, masked, len(head) - 1)
    if earlier is None:
        return None
    # "the visit of the Chairman-in-Office, Polish Foreign Minister X": the title starts at "the"
    earlier = re.sub(r"^(?:(?:of|to|for|by|with|on|at)\s+)+(?=the\s)", "", earlier)
    opening = text[: len(head) - 1 - len(earlier)].rstrip()
    opens_sentence = not opening or opening.endswith((".", ":", ";", "–", "—", " the"))
    if not opens_sentence and not earlier.lower().startswith("the "):
        return None
    return earlier


_APPOINTMENT_RE = re.compile(
    r"^\s+(?:(?:today|has|have|was|is|formally|officially|also|recently)\s+)*"
    r"(?:(?:took|takes|take|taking)\s+up|assumed|assumes|began|begins|started|starts)\s+"
    r"(?:(?:his|her|their|the|new)\s+)*(?:duties|post|position|office|role|function|functions|job)\s+(?:as|of)\s+"
    r"|^\s+(?:(?:today|has|have|was|is|been|formally|officially|also|recently)\s+)*"
    r"(?:appointed|named|elected|re-elected|nominated)\s+(?:as\s+)?",
    re.IGNORECASE,
)


_APPOINTED_BEFORE_RE = re.compile(
    r"\b(?:appointed|named|elected|re-elected|nominated)\b[^.;:]*$", re.IGNORECASE
)
#: The subject a possessive "its" stands for: the first capitalised name of the sentence.
_SUBJECT_RE = re.compile(
    r"(?:The|the)\s+(?:[A-Z][\w-]*(?:\s+(?:of|and|within|the)\s+|\s+))*[A-Z][\w-]*"
)
_AS_AFTER_RE = re.compile(r"^\s+as\s+(?:its\s+|their\s+)?")


def _appointment_phrase(text: str, masked: str, end: int) -> str | None:
    """The title in "X took up his duties as Head of ..." / "X was appointed Director of ...",
    or in "appointed X as Secretary General, together with Y as ODIHR Director"."""
    match = _APPOINTMENT_RE.match(text[end:])
    if not match:
        match = _AS_AFTER_RE.match(text[end:])
        sentence_start = max(text.rfind(". ", 0, end), 0)
        if not match or not _APPOINTED_BEFORE_RE.search(text[sentence_start:end]):
            return None
        if re.search(r"\b(?:its|their)\s+$", match.group()):
            # "the Court ... elected X as its President": "its" is the sentence's subject
            subject = _SUBJECT_RE.search(masked[sentence_start:end])
            title = _walk_forward(text, masked, end + match.end())
            if subject and title:
                named = text[sentence_start + subject.start() : sentence_start + subject.end()]
                return f"{title} of {named}"
    start = end + match.end()
    start += len(re.match(r"(?:(?:the|a|an|new)\s+)*", text[start:], re.IGNORECASE).group())  # type: ignore[union-attr]
    return _walk_forward(text, masked, start)


def _mask_names(text: str, gazetteer: Gazetteer, spans: list[NameSpan]) -> str:
    """The text with every known name made one word, so "Bosnia and Herzegovina" does not end a
    title phrase at its "and"; people's names become lower case, so a title never runs into them."""
    marks = [(f.start, f.end, f.entry.category != Kind.PERSON) for f in gazetteer.find(text)]
    marks += [(span.start, span.end, False) for span in spans]
    masked = list(text)
    for start, end, capital in marks:
        masked[start:end] = ("X" if capital else "x") * (end - start)
    return "".join(masked)


_PHRASE_WORD_RE = re.compile(r"[\w'’.-]+|[,/]")
_PHRASE_CONNECTORS = frozenset(
    {"of", "to", "in", "on", "for", "at", "the", "within", "'s", "’s", "s"}
)


def _phrase_before(text: str, masked: str, start: int) -> str | None:
    """The title phrase that ends right before a name (an optional comma between)."""
    window = max(0, start - 200)
    left = masked[window:start].rstrip()
    if left.endswith(","):
        left = left[:-1].rstrip()
    keep_from: int | None = None
    tokens = list(_PHRASE_WORD_RE.finditer(left))
    for index in range(len(tokens) - 1, -1, -1):
        word = tokens[index].group()
        if word == "and" and _joins_names(tokens, index):
            continue  # "Minister of Education and Science"
        if word == "," and _in_portfolio_list(left[: tokens[index].start()], tokens, index):
            continue  # "Minister of Education, Science, Culture and Sport"
        if not _phrase_word(word) or _ends_sentence(word):
            break
        keep_from = tokens[index].start()
    if keep_from is None:
        return None
    phrase = text[window + keep_from : window + len(left)]
    if phrase.split()[-1].lower() in _PHRASE_CONNECTORS:
        return None  # "Co-ordinator for Combating Trafficking": a title's object, not a name
    # only known names ("HCNM X") may still be a title: an institution whose name is one
    names_only = re.fullmatch(r"[X\s]+", left[keep_from:]) is not None
    return phrase if has_role_word(phrase) or names_only else None


def _ends_sentence(word: str) -> bool:
    """True for a word with the full stop of a sentence ("Oslo."), not an abbreviation ("Dr.")."""
    if not word.endswith(".") or len(word) <= 2:
        return False
    bare = word.rstrip(".")
    return bare not in HONORIFICS and "." not in bare and not bare.isupper() and len(bare) > 3


def _phrase_after(text: str, masked: str, end: int) -> str | None:
    """The title phrase after a name and a comma or an opening bracket ("X, Head of the OSCE
    Mission to Y, said", "X (Head of the OSCE Mission to Y) said")."""
    match = re.match(r"^\s*[,(]\s*(?:(?:who|which)\s+is\s+)?", text[end:])
    if not match:
        return None
    return _walk_forward(text, masked, end + match.end())


#: "X, who heads the OSCE Centre in Y,": the verb names the role, in the present or the
#: perfect ("who has led ... since 2022", "who has been heading"); "who took over as Head of Y"
#: and "who has served as Head of Y" give the title itself.
_WHO_HEADS_RE = re.compile(
    r"^\s*,?\s*who\s+(?:currently\s+|now\s+|also\s+)?"
    r"(?:(?:has\s+(?:(?:since|now|also)\s+)?(?:been\s+)?)?"
    r"(?P<verb>heads|leads|directs|chairs|headed|led|directed|chaired|heading|leading|directing|chairing)"
    r"|(?P<became>took\s+over\s+as|has\s+(?:been\s+)?serv(?:ed|ing)\s+as))\s+",
    re.IGNORECASE,
)
_ROLE_OF_VERB = {"head": "Head", "lead": "Head", "led": "Head", "dire": "Director", "chai": "Chair"}


def _verb_title(text: str, masked: str, end: int) -> str | None:
    """The title in "X, who heads the OSCE Mission to Y," as a title phrase ("Head of ...")."""
    match = _WHO_HEADS_RE.match(text[end:])
    if not match:
        return None
    verb = match["verb"]
    past = verb is not None and verb.lower() in {"headed", "led", "directed", "chaired"}
    if past and not re.search(r"\bhas\b", match.group(), re.IGNORECASE):
        return None  # "who led the Mission until 2020" held the post before
    start = end + match.end()
    if verb is None:
        return _walk_forward(text, masked, start)
    organisation = _walk_forward(text, masked, start, need_role=False)
    if not organisation:
        return None
    return f"{_ROLE_OF_VERB[verb.lower()[:4]]} of {organisation}"


def _walk_forward(text: str, masked: str, start: int, *, need_role: bool = True) -> str | None:
    """The title phrase that starts at ``start``: title words, names and connectors."""
    right = masked[start : start + 200]
    stop = 0
    tokens = list(_PHRASE_WORD_RE.finditer(right))
    for index, token in enumerate(tokens):
        word = token.group()
        if right[tokens[index - 1].end() if index else 0 : token.start()].strip():
            break  # a title never crosses a quotation mark or a bracket
        if word == "and" and _joins_names(tokens, index):
            continue
        if word in {",", "/"} or not _phrase_word(word):
            break
        stop = token.end()
        if word.endswith("."):
            break  # nor a sentence end ("..., the Centre’s Head. “The ...")
    phrase = text[start : start + stop].rstrip(". ")
    return phrase if phrase and (has_role_word(phrase) or not need_role) else None


#: The left part of an office with a list of portfolios: "Minister of Education, Science".
_PORTFOLIO_LIST_RE = re.compile(
    r"\b(?:Minister|Ministry|Secretary|Committee|Commissioner)\s+(?:of|for)\s+(?:the\s+)?"
    r"[A-Z][\w'’-]*(?:(?:\s*,\s*|\s+and\s+|\s+)[A-Z][\w'’-]*)*$"
)


def _in_portfolio_list(left: str, tokens: list[re.Match[str]], index: int) -> bool:
    """True when the comma at ``index`` separates two portfolios of one office."""
    return _joins_names(tokens, index) and _PORTFOLIO_LIST_RE.search(left) is not None


def _joins_names(tokens: list[re.Match[str]], index: int) -> bool:
    """True when the "and" at ``index`` stands between two capitalised words."""
    if index == 0 or index + 1 >= len(tokens):
        return False
    return tokens[index - 1].group()[:1].isupper() and tokens[index + 1].group()[:1].isupper()


def _phrase_word(word: str) -> bool:
    """A word that can be part of a title phrase: capitalised, a title word or a connector."""
    bare = word.strip(".")
    if not bare:
        return False
    return bare[0].isupper() or bare.lower() in ROLE_WORDS or bare.lower() in _PHRASE_CONNECTORS


def structure_in(sources: Sequence[str], gazetteer: Gazetteer) -> Found | None:
    """The release's own structure, for "the Mission" in titles: a field operation first."""
    found = [
        Found(entry, 0, len(source), source, Form.NAME)
        for source in sources
        if (entry := gazetteer.lookup(source, [Kind.STRUCTURE])) is not None
    ]
    operations = [f for f in found if f.entry.iri and "/field-operation/" in f.entry.iri]
    chosen = operations or found
    return chosen[0] if chosen else None
