"""Finds the event a release reports: its type, name, dates, place, organisers and partners."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kg.extraction.gazetteer import Gazetteer, Kind
from kg.extraction.mentions import rule_organisations
from kg.extraction.quotes import mask_abbreviations
from kg.extraction.records import EventMention
from kg.lexicon.datelines import DateValueError, make_date, month_number, title_case_place
from kg.lexicon.patterns import (
    DASH,
    MONTH_NAMES,
    MONTH_RE,
    ORDINAL_SUFFIX,
    UPPER,
    WEEKDAY_RE,
    WEEKDAYS,
    alternatives,
)
from kg.lexicon.wordlists import table_column, word_list, word_table

#: Event-type words and the event-type concept label each gives; earlier patterns win at a position.
EVENT_TYPES: tuple[tuple[str, str], ...] = tuple(
    (row["pattern"], row["type"]) for row in word_table("event_types")
)
#: Which event words are verbs: in a sentence with an event noun, the noun names the event.
_VERB_TYPES = frozenset(
    index for index, row in enumerate(word_table("event_types")) if row["form"] == "verb"
)
#: Which event words name the reported event only in the lead paragraph.
_LEAD_ONLY = frozenset(
    index for index, row in enumerate(word_table("event_types")) if row["where"] == "lead"
)
#: Types that last a moment: when only a start or only an end is known, it is both.
_ONE_OFF_TYPES = frozenset({"signing", "ceremony", "hand-over", "launch", "opening"})
_PASSIVE_BEFORE_RE = re.compile(r"\b(?:was|were|is|are|been|be|being)\s+$", re.IGNORECASE)
_BY_AFTER_RE = re.compile(r"^\s+by\b")
#: A time of the release's days later in the verb's sentence: a passive told with it is news
#: ("was launched today", "were handed over ... on Thursday"), not history ("was signed in 1975").
_RECENT_TIME_RE = re.compile(
    rf"^[^.;:!?]*?\b(?:today|yesterday|on\s+{WEEKDAY_RE})\b", re.IGNORECASE
)
#: "today" right before or after the event word: the event is that day ("today visited").
_TODAY_NEXT_RE = re.compile(r"\btoday\s+(?:[a-z]+ly\s+)?$")
#: What an "in X" after these words names is a topic, not the event's place ("talks on the
#: situation in South Ossetia").
_TOPIC_IN_RE = re.compile(
    r"\b(?:situation|conflict|crisis|developments|events|war|elections?|reforms?)\s+$"
)
#: Words that make an event word name another occasion than the one reported ("the next meeting").
_OTHER_OCCASION_RE = re.compile(
    r"\b(?:next|previous|upcoming|forthcoming|future|subsequent|preceding|following)\s+"
    r"(?:[\w-]+\s+)?$",
    re.IGNORECASE,
)


def _branches(pattern: str) -> list[str]:
    """The top-level alternatives of a regular expression ("a|(?:b|c)d" -> "a", "(?:b|c)d")."""
    branches: list[str] = []
    depth, start, index = 0, 0, 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 1  # an escaped character
        elif char == "[":
            index = pattern.index(
                "]", index + 2 if pattern[index + 1 : index + 2] == "]" else index + 1
            )
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            branches.append(pattern[start:index])
            start = index + 1
        index += 1
    return [*branches, pattern[start:]]


def opens_with_letter(pattern: str) -> bool:
    """True when every match of the pattern surely opens with a letter; False when unsure.

    Only plain forms are recognised: each alternative opens with a letter that is not optional,
    or with a "(?:...)" group whose alternatives do (and, when the group is optional, what
    follows it does).
    """
    return all(_branch_opens_with_letter(branch) for branch in _branches(pattern))


def _branch_opens_with_letter(branch: str) -> bool:
    if branch[:1].isalpha():
        return branch[1:2] not in {"?", "*", "{"}
    if not branch.startswith("(?:"):
        return False
    depth, index = 0, 0
    for index, char in enumerate(branch):  # the group's closing bracket
        depth += {"(": 1, ")": -1}.get(char, 0) if branch[index - 1 : index] != "\\" else 0
        if depth == 0:
            break
    if depth != 0 or "[" in branch[: index + 1] or not opens_with_letter(branch[3:index]):
        return False
    rest = branch[index + 1 :]
    if rest[:1] in {"?", "*"} or rest.startswith("{0"):
        return _branch_opens_with_letter(rest[1:].lstrip("?+") if rest[:1] != "{" else "")
    return True


#: Each alternative opens at a word boundary; that one boundary is tested once, before the
#: alternatives, so that the many positions inside words are passed over without trying every
#: row. When every row surely opens with a letter, the positions after a word (a boundary too)
#: are passed over as well.
_WORD_START = r"\b(?=\w)" if all(opens_with_letter(p) for p, _ in EVENT_TYPES) else r"\b"
#: Every event word, as the alternative t<row> of its row.
_TYPE_RE = re.compile(
    _WORD_START
    + "(?:"
    + "|".join(f"(?P<t{i}>(?:{p})\\b)" for i, (p, _) in enumerate(EVENT_TYPES))
    + ")",
    re.IGNORECASE,
)


def _qualified_before(event_type: str) -> re.Pattern[str]:
    """The words that must end the text before a type word for it to name an event."""
    words = table_column("event_type_qualifiers", "word", where="type", equals=event_type)
    return re.compile(rf"(?:{alternatives(words)})\s+(?:[\w-]+\s+)?$", re.IGNORECASE)


#: What must stand before "course" and "exercise" for them to name an event
#: (not "in the course of", "exercise their rights").
_COURSE_BEFORE_RE = _qualified_before("course")
_EXERCISE_BEFORE_RE = _qualified_before("exercise")
_NOT_MEETING_BEFORE_RE = re.compile(
    r"\b(?:by|for|in|of|on|at|while|after|before|from|without|about|towards?)\s+$", re.IGNORECASE
)
_TITLE_QUOTE_RE = re.compile(
    r"\b(?:entitled|titled|called|named|under the (?:title|theme|motto)|on the theme|themed)"
    r"\s*,?\s*[“\"«‘](?P<name>[^”\"»’]{3,})[”\"»’]",
    re.IGNORECASE,
)
_NUMBERS = {row["word"]: int(row["number"]) for row in word_table("number_words")}
_DURATION_RE = re.compile(
    r"\b(?P<n>\d{1,2}|"
    + "|".join(_NUMBERS)
    + r")[- ](?P<unit>day|week)s?\b|\b(?P<weeklong>week-long|weeklong)\b",
    re.IGNORECASE,
)
_WHEN = (
    rf"(?:today|yesterday|tomorrow|this\s+week|on\s+{WEEKDAY_RE}"
    rf"|on\s+\d{{1,2}}\s+{MONTH_RE}(?:\s+\d{{4}})?)"
)
_END_VERBS = alternatives(table_column("event_verbs", "verb", where="marks", equals="end"))
_START_VERBS = alternatives(table_column("event_verbs", "verb", where="marks", equals="start"))


_OBJECT_COMMA = r"(?:,(?!\s+(?:and|but|while|which|who|where|when|as|after|before|with)\b))?"
#: Words that open a new clause inside the verb's object, whose time is not the verb's own
#: ("concluded a visit that began on Monday").
_OBJECT_WORD = r"(?!(?:that|which|who|whom|whose|where|while|after|before|since|until)\b)[\w’'-]+"


def _anchored(verbs: str) -> re.Pattern[str]:
    """A verb with its time: 'concluded today', 'today opened', 'started on 12 March'.

    Every branch opens a word, so one word boundary, tested first, passes over the positions
    inside words without trying the branches there.
    """
    return re.compile(
        # "today concluded"; not the time of an earlier verb ("on Monday and will end")
        rf"\b(?:\b(?P<before>{_WHEN})\s+(?:(?!and\b|but\b)\w+\s+)?"
        # a time that opens the sentence: "Yesterday, a two-day workshop ... came to an end"
        rf"|(?:^|(?<=[.–—]\s))(?P<opening>{_WHEN})\s*,\s+(?:{_OBJECT_WORD}{_OBJECT_COMMA}\s+)*?)?"
        # "the meeting concluded that ..." is a finding, not the event's end
        rf"\b(?P<verb>{verbs})\b(?!\s+that\b)"
        # the time may follow the verb's object, however long: "completed a three-day workshop on
        # local crime prevention councils in Ohrid today"; a comma may stand inside the object
        # ("on media, gender and security") but not before a new clause (", and today ...")
        rf"(?:\s+(?:{_OBJECT_WORD}{_OBJECT_COMMA}\s+)*?(?P<after>{_WHEN}))?",
        re.IGNORECASE,
    )


_END_RE = _anchored(_END_VERBS)
_START_RE = _anchored(_START_VERBS)
#: Any start or end verb: where neither stands, no verb dates the event.
_EVENT_VERB_RE = re.compile(rf"\b(?:{_END_VERBS}|{_START_VERBS})\b", re.IGNORECASE)


def _day(group: str) -> str:
    """A day of the month in digits, as the named group ``group``: '4', '4th'."""
    return rf"(?P<{group}>\d{{1,2}}){ORDINAL_SUFFIX}?"


_YEAR = r"(?:\s+(?P<y>\d{4}))?"
_M1, _M2 = rf"(?P<m1>{MONTH_RE})", rf"(?P<m2>{MONTH_RE})"
_D1, _D2 = _day("d1"), _day("d2")
_UNTIL = r"(?:to|and|until|till)"
_RANGE_RES = tuple(
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        # from 30 April to 2 May
        rf"\b(?:from|between)\s+{_D1}\s+{_M1}\s+{_UNTIL}\s+{_D2}\s+{_M2}{_YEAR}",
        # 30 April - 2 May, on 30 April and 1 May
        rf"\b{_D1}\s+{_M1}\s*(?:{DASH}|\s(?:and|to|until|till)\s)\s*{_D2}\s+{_M2}{_YEAR}",
        rf"\b(?:from|between)\s+{_D1}\s+{_UNTIL}\s+{_D2}\s+{_M2}{_YEAR}",  # from 3 to 5 May
        rf"\b{_D1}\s*(?:{DASH}|and)\s*{_D2}\s+{_M2}{_YEAR}",  # 3-5 May, 5 and 6 June
    )
)
_SINGLE_RE = re.compile(rf"\b(?:on|of)\s+(?:\w+,?\s+)?{_D1}\s+{_M1}{_YEAR}", re.IGNORECASE)
#: Two weekdays: "on Thursday and Friday", "on Monday to Wednesday".
_WEEKDAY_RANGE_RE = re.compile(
    rf"\bon\s+(?P<w1>{WEEKDAY_RE})\s*(?:and|to|until|till|{DASH})\s*(?P<w2>{WEEKDAY_RE})\b",
    re.IGNORECASE,
)
#: One weekday with no start or end verb: "a meeting in Bender on Tuesday".
_WEEKDAY_RE = re.compile(rf"\bon\s+(?P<w>{WEEKDAY_RE})\b", re.IGNORECASE)
#: A weekday an event verb takes ("held in Vienna on Friday"): the event's own day, even after
#: a "today" of the release ("announced today that a meeting held on Friday ...").
_HELD_ON_WEEKDAY_RE = re.compile(
    rf"\b(?:held|took\s+place|convened|met|gathered)\b[^,.;:]{{0,60}}?\bon\s+{WEEKDAY_RE}\b",
    re.IGNORECASE,
)
#: The end an event is announced to run until: "will run until 5 May", "lasts till Friday".
_UNTIL_RE = re.compile(
    rf"\b(?:until|till|through)\s+(?P<when>{WEEKDAY_RE}|{_D1}\s+{_M1}{_YEAR})\b", re.IGNORECASE
)
_TODAY_RE = re.compile(r"\b(?:today|yesterday)\b", re.IGNORECASE)
_PLACE_NAME = rf"[{UPPER}][\w'’-]+(?:\s+[{UPPER}][\w'’-]+){{0,2}}"
#: The words of a time between an event verb and its place: "held from 30 September to 2 October
#: in X", "drew to a close on 5 and 6 June in X".
_TIME_WORD = (
    rf"(?i:today|yesterday|this|week|on|from|to|and|between|until|till|{WEEKDAY_RE}"
    rf"|\d{{1,2}}{ORDINAL_SUFFIX}?|\d{{4}}|{MONTH_RE}|{DASH})"
)
_HELD_VERBS = alternatives(table_column("event_verbs", "verb", where="takes_place"))
_HELD_IN_RE = re.compile(
    rf"\b(?:{_HELD_VERBS})(?:\s+{_TIME_WORD},?){{0,8}}?\s+in\s+(?P<place>{_PLACE_NAME})"
)
_IN_PLACE_ANY_RE = re.compile(rf"\bin\s+(?P<place>{_PLACE_NAME})")
_IN_PLACE_REACH = 100  # characters between the type word and its "in X"
_VISIT_TO_RE = re.compile(rf"^\s+to\s+(?:the\s+)?(?P<place>{_PLACE_NAME})")
_NOT_PLACES = frozenset(
    {"OSCE", "co-operation", "Co-operation", *(month.capitalize() for month in MONTH_NAMES)}
)
_ORGANISED_RE = re.compile(
    r"\b(?:co-)?(?:organi[sz]ed|hosted|convened)\s+(?:jointly\s+)?by\s+(?P<organisers>.+?)"
    r"(?:\s*,?\s+(?:in\s+(?:co-?operation|partnership|collaboration)|together)\s+with\s+(?P<partners>.+?))?"
    r"(?=[.;]|,\s+(?:which|who|with|and\s+(?:was|is|brought|gathered))|\s+(?:and\s+)?(?:with\s+the\s+support|which\s+)|$)",
)
#: The verbs ``_ORGANISED_RE`` opens with.
_ORGANISED_VERBS = ("organised", "organized", "hosted", "convened")
_SUPPORT_RE = re.compile(
    r"\bwith\s+the\s+(?:financial\s+|generous\s+)?support\s+of\s+(?P<partners>.+?)(?=[.;]|,\s+(?:which|who|the)|\s+(?:to|for)\s|$)"
)
_NAME_RUN = (
    rf"(?:(?:[0-9]{{1,4}}{ORDINAL_SUFFIX}?|[A-Z][\w’'-]*)\s+(?:(?:and|of|on|for|the|in|to)\s+)*)+"
)

#: A year or an ordinal before an event's name is its edition, not part of the name:
#: "The 2019 Autumn Meeting", "the 25th Annual Security Review Conference", "the Third ...".
_ORDINAL_WORDS = alternatives(word_list("ordinal_words"))
_LEADING_COUNT_RE = re.compile(
    rf"^(?:(?:\d{{1,4}}{ORDINAL_SUFFIX}?|(?:(?:twenty|thirty|forty)-)?(?:{_ORDINAL_WORDS}))\s+)+",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _TypeHit:
    label: str
    paragraph: int
    start: int
    end: int
    text: str


def find_event(
    title: str | None,
    paragraphs: Sequence[str],
    release_date: dt.date | None,
    release_place: str | None,
    gazetteer: Gazetteer,
) -> EventMention | None:
    """The event the release reports, or None when it names no event."""
    hit = _first_type(paragraphs, gazetteer)
    if hit is None:
        return _event_from_title(title, release_date, release_place)
    text = paragraphs[hit.paragraph]
    sentence = _sentence_around(text, hit.start)
    start, end = _dates_of(hit, text, sentence, release_date)
    blocked = _name_spans(text, gazetteer)
    place = _place(sentence, hit, text, blocked) or release_place
    organisers, partners = find_organisers("\n".join(paragraphs), gazetteer)
    return EventMention(
        name=_event_name(paragraphs, hit),
        type=hit.label,
        start_date=start.isoformat() if start else None,
        end_date=end.isoformat() if end else None,
        place=place,
        organisers=tuple(organisers),
        partners=tuple(partners),
    )


def _dates_of(
    hit: _TypeHit, text: str, sentence: str, release_date: dt.date | None
) -> tuple[dt.date | None, dt.date | None]:
    """The event's dates: "today" next to its word, else its sentence's, else its paragraph's;
    a moment (a signing, a launch) starts and ends on the one day known."""
    if (
        release_date is not None
        and (
            _TODAY_NEXT_RE.search(text[max(0, hit.start - 30) : hit.start])
            or re.match(r"\s+today\b", text[hit.end :])
        )
        and not _duration_days(sentence)
    ):
        return release_date, release_date
    recent = _RECENT_TIME_RE.match(text[hit.end :])
    if release_date is not None and hit.label in _ONE_OFF_TYPES and recent:
        # a moment takes the time its sentence gives, whatever else lasts days around it
        day = resolve_dates(recent.group(), release_date)[1]
        if day is not None:
            return day, day
    start, end = resolve_dates(sentence, release_date)
    if start is None and end is None:
        start, end = resolve_dates(text, release_date)
    if hit.label in _ONE_OFF_TYPES and (start is None) != (end is None):
        start = end = start or end
    return start, end


def _name_spans(text: str, gazetteer: Gazetteer) -> list[tuple[int, int]]:
    """Where names of structures and organisations stand: "in X" inside one is not a place."""
    founds = gazetteer.find(text, [Kind.ORGANISATION, Kind.STRUCTURE])
    spans = [(f.start, f.end) for f in founds]
    return spans + [(start, end) for start, end, _ in rule_organisations(text, founds)]


def _event_from_title(
    title: str | None, release_date: dt.date | None, place: str | None
) -> EventMention | None:
    if not title:
        return None
    hit = _first_type([title], None)
    if hit is None:
        return None
    return EventMention(type=hit.label, place=place)


def _first_type(paragraphs: Sequence[str], gazetteer: Gazetteer | None) -> _TypeHit | None:
    """The first event word of the text; in its sentence, the first noun wins over a verb."""
    for index, text in enumerate(paragraphs):
        hits = [hit for hit in _type_hits(text, index) if not _other_occasion(text, hit)]
        if hits and gazetteer is not None:
            blocked = _organisation_spans(text, gazetteer)
            hits = [h for h in hits if not any(a <= h[0].start < b for a, b in blocked)]
        if not hits:
            continue
        sentence = _sentence_span(text, hits[0][0].start)
        in_sentence = [h for h in hits if sentence[0] <= h[0].start < sentence[1]]
        first = in_sentence[0]
        if first[1] and first[0].label == "meeting":
            nouns = [h for h in in_sentence if not h[1]]
            return (nouns or in_sentence)[0][0]
        return first[0]
    return None


def _type_hits(text: str, index: int) -> list[tuple[_TypeHit, bool]]:
    """Every event word of a paragraph that names an event, with whether it is a verb."""
    hits: list[tuple[_TypeHit, bool]] = []
    for match in _TYPE_RE.finditer(text):
        row = int(str(match.lastgroup)[1:])  # the one alternative t<row> that matched
        label = EVENT_TYPES[row][1]
        before = text[max(0, match.start() - 40) : match.start()]
        if label == "meeting" and row not in _VERB_TYPES and _NOT_MEETING_BEFORE_RE.search(before):
            continue
        word = match.group().lower()
        if word.startswith("course") and not _is_course(before, text[match.end() :]):
            continue
        if label == "exercise" and not _EXERCISE_BEFORE_RE.search(before):
            continue
        if row in _LEAD_ONLY and index > 0:
            continue
        verb = row in _VERB_TYPES
        after = text[match.end() :]
        recent = _RECENT_TIME_RE.match(after)
        passive = _PASSIVE_BEFORE_RE.search(before) and not word.startswith("was")
        if verb and not recent and (passive or _BY_AFTER_RE.match(after)):
            continue
        hit = _TypeHit(label, index, match.start(), match.end(), match.group())
        hits.append((hit, row in _VERB_TYPES))
    return hits


def _other_occasion(text: str, hit: tuple[_TypeHit, bool]) -> bool:
    """True for "the next meeting", "a forthcoming visit": not the event reported."""
    before = text[max(0, hit[0].start - 40) : hit[0].start]
    return not hit[1] and _OTHER_OCCASION_RE.search(before) is not None


def _organisation_spans(text: str, gazetteer: Gazetteer) -> list[tuple[int, int]]:
    """Where organisations' names stand ("Global Counterterrorism Forum"), and structures' names
    an event word does not end ("Forum for Security Co-operation", not "OSCE Summit")."""
    founds = gazetteer.find(text, [Kind.ORGANISATION, Kind.STRUCTURE])
    spans = [
        (f.start, f.end)
        for f in founds
        if f.entry.category == Kind.ORGANISATION or not _TYPE_RE.search(f.text.split()[-1])
    ]
    return spans + [(start, end) for start, end, _ in rule_organisations(text, founds)]


def _sentence_span(text: str, offset: int) -> tuple[int, int]:
    """Where the sentence of ``text`` that holds ``offset`` starts and ends."""
    masked = mask_abbreviations(text)
    starts = [m.end() for m in re.finditer(r"[.!?][”\"’]?\s+(?=[A-Z“\"])", masked[:offset])]
    start = starts[-1] if starts else 0
    end_match = re.search(r"[.!?](?=[”\"’]?\s+[A-Z“\"]|[”\"’]?\s*$)", masked[offset:])
    return start, offset + end_match.end() if end_match else len(text)


def _is_course(before: str, after: str) -> bool:
    """True when "course" names a course: after a kind of course ("training course",
    "a three-day course"), or after "the"/"a" and not in "in the course of", "of course"."""
    if _COURSE_BEFORE_RE.search(before):
        return True
    if re.match(r"\s+of\b", after) or re.search(r"\b(?:of|in\s+due)\s+$", before):
        return False
    return re.search(r"\b(?:the|a|this|that)\s+$", before, re.IGNORECASE) is not None


def _sentence_around(text: str, offset: int) -> str:
    """The sentence of ``text`` that holds ``offset``."""
    masked = mask_abbreviations(text)
    starts = [m.end() for m in re.finditer(r"[.!?][”\"’]?\s+(?=[A-Z“\"])", masked[:offset])]
    start = starts[-1] if starts else 0
    end_match = re.search(r"[.!?](?=[”\"’]?\s+[A-Z“\"]|[”\"’]?\s*$)", masked[offset:])
    end = offset + end_match.end() if end_match else len(text)
    return text[start:end]


#: A start and an end date, either unknown.
_Dates = tuple[dt.date | None, dt.date | None]


@dataclass(frozen=True)
class _DateClues:
    """What dates are resolved from: the text, the release date and the length the text gives."""

    text: str
    release_date: dt.date
    days: int | None  # "a three-day seminar" -> 3


#: Reads the dates of one kind of date phrase; None when the phrase found gives none.
_Resolver = Callable[[re.Match[str], _DateClues], _Dates | None]


def resolve_dates(text: str, release_date: dt.date | None) -> _Dates:
    """Start and end of an event from date phrases in ``text``, against the release date."""
    if release_date is None:
        return None, None
    clues = _DateClues(text, release_date, _duration_days(text))
    for pattern, resolve in _DATE_RULES:
        match = pattern.search(text)
        if match is not None and (dates := resolve(match, clues)) is not None:
            return dates
    return None, None


def _range_dates(match: re.Match[str], clues: _DateClues) -> _Dates:
    """'from 30 April to 2 May', '3-5 May': the days the range names."""
    groups = match.groupdict()
    release_date = clues.release_date
    end = _date_of(groups["d2"], groups["m2"], groups.get("y"), release_date)
    start = _date_of(groups["d1"], groups.get("m1") or groups["m2"], groups.get("y"), release_date)
    if start and end and start > end:  # "from 30 December to 2 January"
        start = start.replace(year=start.year - 1)
    return start, end


def _weekday_range(match: re.Match[str], clues: _DateClues) -> _Dates:
    """The days of "on Thursday and Friday": the last such days on or before the release date."""
    first, last = (WEEKDAYS.index(match[g].lower()) for g in ("w1", "w2"))
    end = _last_weekday(clues.release_date, last)
    return end - dt.timedelta(days=(last - first) % 7), end


def _verb_dates(match: re.Match[str], clues: _DateClues) -> _Dates | None:
    """The days a start or end verb gives with its time ("concluded today", "opened on Monday"),
    the other end from the length or "until"; None when no verb has a time."""
    text, release_date, days = clues.text, clues.release_date, clues.days
    end = _verb_anchor(_END_RE, text, release_date)
    start = _verb_anchor(_START_RE, text, release_date)
    if start is None and end is None:
        return None
    if start is None and end is not None and days:
        start = end - dt.timedelta(days=days - 1)
    if end is None and start is not None:
        end = _until(text, release_date, start)
    if end is None and start is not None and days:
        end = start + dt.timedelta(days=days - 1)
    return start, end


def _single_day(match: re.Match[str], clues: _DateClues) -> _Dates | None:
    """'on 2 May': that day, for as long as the text says; None when there is no such day."""
    day = _date_of(match["d1"], match["m1"], match["y"], clues.release_date)
    return _lasting(day, clues) if day is not None else None


def _bare_weekday(match: re.Match[str], clues: _DateClues) -> _Dates | None:
    """The last such day on or before the release date ("a meeting in Bender on Tuesday"),
    unless a "today" comes first and no event verb takes the weekday."""
    today = _TODAY_RE.search(clues.text)
    if today and match.start() >= today.start() and not _HELD_ON_WEEKDAY_RE.search(clues.text):
        return None
    return _lasting(_last_weekday(clues.release_date, WEEKDAYS.index(match["w"].lower())), clues)


def _today(match: re.Match[str], clues: _DateClues) -> _Dates:
    """'today' or 'yesterday', when the event lasts no longer than that day."""
    if clues.days and clues.days > 1:
        return None, None  # "a two-day seminar today" says too little
    shift = 1 if match.group().lower() == "yesterday" else 0
    day = clues.release_date - dt.timedelta(days=shift)
    return day, day


def _lasting(day: dt.date, clues: _DateClues) -> _Dates:
    """A first day and the last day of the length the text gives (one day when it gives none)."""
    return day, day + dt.timedelta(days=(clues.days or 1) - 1)


def _last_weekday(release_date: dt.date, weekday: int) -> dt.date:
    """The last day on or before the release date that is the weekday (0 Monday ... 6 Sunday)."""
    return release_date - dt.timedelta(days=(release_date.weekday() - weekday) % 7)


#: How date phrases are read, in order of precedence: the first row whose pattern is found in
#: the text and whose resolver gives dates (not None) wins.
_DATE_RULES: tuple[tuple[re.Pattern[str], _Resolver], ...] = (
    *((pattern, _range_dates) for pattern in _RANGE_RES),
    (_WEEKDAY_RANGE_RE, _weekday_range),
    (_EVENT_VERB_RE, _verb_dates),
    (_SINGLE_RE, _single_day),
    (_WEEKDAY_RE, _bare_weekday),
    (_TODAY_RE, _today),
)


def _verb_anchor(pattern: re.Pattern[str], text: str, release_date: dt.date) -> dt.date | None:
    """The date a start or end verb is tied to, or None."""
    for match in pattern.finditer(text):
        when = match["before"] or match["after"] or match["opening"]
        if when is None:
            continue
        verb = match["verb"].lower()
        past = not verb.startswith("will") and not verb.endswith("s")
        anchor = _anchor(when, release_date, past=past)
        if anchor is not None:
            return anchor
    return None


def _until(text: str, release_date: dt.date, start: dt.date) -> dt.date | None:
    """The last day of an event that "will run until 5 May" (or "until Friday"), on or after
    its start."""
    match = _UNTIL_RE.search(text)
    if match is None:
        return None
    if match["d1"]:
        end = _date_of(match["d1"], match["m1"], match["y"], release_date)
    else:
        end = _anchor(f"on {match['when']}", start, past=False)
    return end if end is not None and end >= start else None


def _duration_days(text: str) -> int | None:
    match = _DURATION_RE.search(text)
    if not match:
        return None
    if match["weeklong"]:
        return 7
    number = match["n"].lower()
    count = int(number) if number.isdigit() else _NUMBERS[number]
    return count * 7 if match["unit"].lower() == "week" else count


def _date_of(day: str, month: str, year: str | None, release_date: dt.date) -> dt.date | None:
    """A day and month in the year that puts it nearest the release date."""
    number = month_number(month)
    if number is None:
        return None
    try:
        if year:
            return make_date(int(year), number, int(day))
        candidates = [
            make_date(release_date.year + shift, number, int(day)) for shift in (-1, 0, 1)
        ]
    except DateValueError:
        return None
    return min(candidates, key=lambda d: abs((d - release_date).days))


def _anchor(when: str, release_date: dt.date, *, past: bool) -> dt.date | None:
    """'today', 'yesterday', 'on Monday', 'on 12 March' -> a date near the release date."""
    when = " ".join(when.lower().split())
    if when in {"today", "this week"}:
        return release_date
    if when == "yesterday":
        return release_date - dt.timedelta(days=1)
    if when == "tomorrow":
        return release_date + dt.timedelta(days=1)
    day_name = when.removeprefix("on ")
    if day_name in WEEKDAYS:
        shift = (release_date.weekday() - WEEKDAYS.index(day_name)) % 7
        return (
            release_date - dt.timedelta(days=shift)
            if past
            else release_date + dt.timedelta(days=(-shift) % 7)
        )
    match = re.match(rf"on (\d{{1,2}}) ({MONTH_RE})(?: (\d{{4}}))?", when, re.IGNORECASE)
    if match:
        return _date_of(match[1], match[2], match[3], release_date)
    return None


def _place(
    sentence: str, hit: _TypeHit, paragraph: str, names: Sequence[tuple[int, int]] = ()
) -> str | None:
    """Where the event is: 'held in X' in its sentence, else 'in X' after its type word; an
    "in X" inside a structure's or organisation's name ("the OSCE Presence in Albania") is not."""
    held = _HELD_IN_RE.search(sentence)
    if held:
        return title_case_place(held["place"])
    if hit.label == "visit":
        visit = _VISIT_TO_RE.match(paragraph[hit.end :])
        if visit and visit["place"].split()[0] not in _NOT_PLACES:
            return title_case_place(visit["place"])
    rest = paragraph[hit.end :]
    for after in _IN_PLACE_ANY_RE.finditer(rest):
        if after.start() > _IN_PLACE_REACH or re.search(r"[.;:]", rest[: after.start()]):
            break
        at = hit.end + after.start("place")
        if any(a <= at < b for a, b in names) or after["place"].split()[0] in _NOT_PLACES:
            continue
        if _TOPIC_IN_RE.search(rest[max(0, after.start() - 20) : after.start()]):
            continue
        return title_case_place(after["place"])
    return None


def _event_name(paragraphs: Sequence[str], hit: _TypeHit) -> str | None:
    """A quoted title given to the event, else a capitalised name ending in its type word."""
    for text in paragraphs:
        titled = _TITLE_QUOTE_RE.search(text)
        if titled:
            return titled["name"].strip(" ,.")
    text = paragraphs[hit.paragraph]
    quoted_before = re.search(r"[“\"«](?P<name>[^”\"»]{3,})[”\"»]\s*$", text[: hit.start])
    if quoted_before:
        return quoted_before["name"].strip(" ,.")
    if hit.text[:1].isupper():
        run = re.search(rf"(?:{_NAME_RUN})$", text[: hit.start])
        if run:
            name = re.sub(r"^(?:The|the|A|An)\s+", "", run.group() + hit.text)
            name = re.split(r"['’]s\s+", name)[-1]  # "the Assembly's Winter Meeting"
            name = _LEADING_COUNT_RE.sub("", name)  # "2019 Autumn Meeting" -> "Autumn Meeting"
            if len(name.split()) > 1:
                return name
    return None


def find_organisers(text: str, gazetteer: Gazetteer) -> tuple[list[str], list[str]]:
    """Organisers and partners named as 'organized by X in co-operation with Y, Z'."""
    organisers: list[str] = []
    partners: list[str] = []
    # the verbs are written in lower case: a text without one of them needs no search
    match = _ORGANISED_RE.search(text) if any(v in text for v in _ORGANISED_VERBS) else None
    if match:
        organisers = _labels(match["organisers"], gazetteer)
        if match["partners"]:
            partners = _labels(match["partners"], gazetteer)
    # support named with the organisers, else in the lead paragraph
    scope = _sentence_around(text, match.start()) if match else text.split("\n", 1)[0]
    support = _SUPPORT_RE.search(scope) if "support" in scope else None
    if support:
        for label in _labels(support["partners"], gazetteer):
            if label not in partners and label not in organisers:
                partners.append(label)
    return organisers, partners


def _labels(listing: str, gazetteer: Gazetteer) -> list[str]:
    """'the OSCE, the United Nations, and the European Union' -> their labels, in order.

    Known names give their labels (the OSCE itself gives `OSCE`); the parts between them
    that name something else are kept as written.
    """
    found = [
        f
        for f in gazetteer.find(listing)
        if f.entry.category in {Kind.STATE, Kind.STRUCTURE, Kind.ORGANISATION, Kind.OSCE}
    ]
    pieces: list[tuple[int, str]] = []
    cursor = 0
    for item in found:
        gap = listing[cursor : item.start]
        # "the Government of the Republic of Tajikistan": the descriptor goes with the name after it
        gap = re.sub(r"(?:^|,|\band\b)?[^,]*?\bof(?:\s+the)?(?:\s+Republic\s+of)?\s*$", "", gap)
        pieces.extend(_written_parts(gap, cursor))
        pieces.append((item.start, item.entry.label))
        cursor = item.end
    pieces.extend(_written_parts(listing[cursor:], cursor))
    labels: list[str] = []
    for _, label in sorted(pieces):
        if label not in labels:
            labels.append(label)
    return labels


def _written_parts(text: str, offset: int) -> list[tuple[int, str]]:
    """Names as written in the gaps between known names: capitalised list items."""
    parts: list[tuple[int, str]] = []
    for match in re.finditer(r"[^,]+", text):
        for piece in re.split(r"\s+and\s+", match.group()):
            part = re.sub(
                r"^(?:the|by|and|of|its|their)\s+", "", piece.strip(" ,.’'"), flags=re.IGNORECASE
            )
            part = re.sub(r"^(?:the|of)\s+", "", part)
            if (
                len(part) > 2
                and part[0].isupper()
                and part.lower() not in {"government", "republic"}
            ):
                parts.append((offset + match.start(), part))
    return parts
