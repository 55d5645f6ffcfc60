"""Reads datelines ("DUSHANBE, 4 May 2018 –") and written dates into ISO dates."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from kg.lexicon.patterns import DASH, MONTH_RE, MONTHS, ORDINAL_SUFFIX, UPPER

_PLACE_WORD = rf"[{UPPER}][\w'’.\-]*"
#: One place of a dateline: capitalised words ("NEW YORK", "NUR-SULTAN", "THE HAGUE", "Kyrgyzstan",
#: "BOSNIA AND HERZEGOVINA").
_PLACE = rf"{_PLACE_WORD}(?:[ \t]+(?:{_PLACE_WORD}|and|of|the|on|upon|am)){{0,4}}"
#: A country in brackets after the city: "ALMATY (Kazakhstan)".
_BRACKETED = rf"(?:[ \t]*\([ \t]*{_PLACE}[ \t]*\))?"
_PLACES = (
    rf"(?P<place>{_PLACE}{_BRACKETED}(?:[ \t]*/[ \t]*{_PLACE})*"
    rf"(?:,[ \t]*{_PLACE}(?:[ \t]*/[ \t]*{_PLACE})*)*?)"
)
#: Month names in any case: datelines may write "5 JUNE 2018".
_ANY_CASE_MONTH = rf"(?i:{MONTH_RE})"
_DAY_MONTH = (
    rf"(?P<day>\d{{1,2}}){ORDINAL_SUFFIX}?[ \t]+(?P<month>{_ANY_CASE_MONTH})"
    rf"(?:[ \t]*,?[ \t]*(?P<year>\d{{4}}))?"
)
_MONTH_DAY = (
    rf"(?P<month2>{_ANY_CASE_MONTH})[ \t]+(?P<day2>\d{{1,2}})(?:[ \t]*,[ \t]*(?P<year2>\d{{4}}))?"
)
#: A numeric date, day first: "05.06.2018".
_NUMERIC_DATE = r"(?P<nday>\d{1,2})\.(?P<nmonth>\d{1,2})\.(?P<nyear>\d{4})"
_DASH = rf"(?P<dash>--|{DASH})"
_DATE = rf"(?:{_DAY_MONTH}|{_MONTH_DAY}|{_NUMERIC_DATE})"
#: The agency mark some datelines carry before the dash: "MINSK, 10 September 2001 (OSCE) -".
_AGENCY = r"(?:\((?:OSCE|CSCE)\)[ \t]*)?"
DATELINE_RE = re.compile(rf"^[ \t]*{_PLACES}[ \t]*,[ \t]*{_DATE}[ \t]*{_AGENCY}{_DASH}[ \t]*")
#: A dateline without a dash, told by its year and the capital that opens the sentence after it:
#: "NEW YORK CITY, 28 September 2015 A meeting ...".
_NO_DASH_DATELINE_RE = re.compile(
    rf"^[ \t]*{_PLACES}[ \t]*,[ \t]*(?:{_DAY_MONTH}|{_MONTH_DAY})[ \t]*{_AGENCY}[ \t]+(?=[A-Z])"
)
#: A dateline without a place: "4 May 2018 –".
_BARE_DATELINE_RE = re.compile(rf"^[ \t]*(?:{_DAY_MONTH})[ \t]*{_DASH}[ \t]*")

_ISO_RE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DMY_RE = re.compile(rf"^{_DAY_MONTH}$", re.IGNORECASE)
_MDY_RE = re.compile(rf"^{_MONTH_DAY}$", re.IGNORECASE)
_NUMERIC_RE = re.compile(r"^(\d{1,2})[./](\d{1,2})[./](\d{4})$")

_LOWER_WORDS = frozenset({"and", "of", "the", "on", "upon", "am", "an", "der", "de", "la"})


class DateValueError(ValueError):
    """A written date that names no real day (31 February) or cannot be read."""


@dataclass(frozen=True)
class Dateline:
    """The dateline that opens a release body, as written and parsed."""

    text: str  # as written, without the dash: "DUSHANBE, 4 May 2018"
    place: str | None  # title case: "Dushanbe", "Osh, Kyrgyzstan", "Warsaw/Vienna"
    day: int
    month: int
    year: int | None
    rest: str  # the paragraph after the dateline and its dash


def month_number(name: str) -> int | None:
    """1-12 for a month name or abbreviation ("Sept.", "jan"), else None."""
    return MONTHS.get(name.lower().rstrip("."))


def make_date(year: int, month: int, day: int) -> dt.date:
    """A date, or DateValueError naming the impossible day."""
    try:
        return dt.date(year, month, day)
    except ValueError as error:
        raise DateValueError(f"{day} {_month_name(month)} {year} is not a real date") from error


def _month_name(month: int) -> str:
    return dt.date(2000, month, 1).strftime("%B") if 1 <= month <= 12 else f"month {month}"


def parse_written_date(text: str) -> dt.date:
    """'4 May 2018', '4 Sept. 2018', 'May 4, 2018', '2018-05-04' or '04.05.2018' -> a date.

    Raises DateValueError when the text is not a date or names an impossible day.
    """
    value = " ".join(text.split()).strip(" .,")
    if match := _ISO_RE.match(value):
        return make_date(int(match[1]), int(match[2]), int(match[3]))
    if (match := _DMY_RE.match(value)) and match["year"]:
        month = month_number(match["month"])
        assert month is not None
        return make_date(int(match["year"]), month, int(match["day"]))
    if (match := _MDY_RE.match(value)) and match["year2"]:
        month = month_number(match["month2"])
        assert month is not None
        return make_date(int(match["year2"]), month, int(match["day2"]))
    if match := _NUMERIC_RE.match(value):
        return make_date(int(match[3]), int(match[2]), int(match[1]))
    raise DateValueError(f"{text!r} is not a date like '4 May 2018' or '2018-05-04'")


def parse_dateline(paragraph: str) -> Dateline | None:
    """The dateline at the start of a paragraph, or None when it has none."""
    match = DATELINE_RE.match(paragraph) or _NO_DASH_DATELINE_RE.match(paragraph)
    if match and not (match.groupdict().get("year") or match.groupdict().get("year2")):
        match = match if match.groupdict().get("dash") else None
    place: str | None = None
    if match:
        place = title_case_place(match["place"])
    else:
        match = _BARE_DATELINE_RE.match(paragraph)
        if not match:
            return None
    groups = match.groupdict()
    day = groups.get("day") or groups.get("day2") or groups.get("nday")
    month_text = groups.get("month") or groups.get("month2")
    year = groups.get("year") or groups.get("year2") or groups.get("nyear")
    month = int(groups["nmonth"]) if groups.get("nmonth") else month_number(month_text or "")
    if day is None or month is None:
        return None
    end = match.start("dash") if match.groupdict().get("dash") else match.end()
    text = re.sub(r"\((?:OSCE|CSCE)\)$", "", paragraph[:end].strip()).strip()
    return Dateline(
        text=text,
        place=place,
        day=int(day),
        month=month,
        year=int(year) if year else None,
        rest=paragraph[match.end() :].strip(),
    )


def title_case_place(text: str) -> str:
    """A place in title case, separators kept.

    'DUSHANBE' -> 'Dushanbe', 'WARSAW/VIENNA' -> 'Warsaw/Vienna',
    'OSH, Kyrgyzstan' -> 'Osh, Kyrgyzstan'.
    """
    text = " ".join(text.split())
    parts = re.split(r"(\s*/\s*|,\s*|\s+|-)", text)
    words: list[str] = []
    for index, part in enumerate(parts):
        if index % 2 == 1:  # a separator, kept as written
            words.append(part)
            continue
        words.append(_title_word(part, first=index == 0))
    return "".join(words)


def _title_word(word: str, *, first: bool) -> str:
    if not word or not word.isupper():
        return word  # already mixed case ("Kyrgyzstan") or empty
    lower = word.lower()
    if not first and lower in _LOWER_WORDS:
        return lower
    return lower[0].upper() + lower[1:]
