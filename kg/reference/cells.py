"""Parses the cells of the facts tables: partial dates, separated lists, qualifiers and names."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

Precision = Literal["day", "month", "year"]

_DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR_RE = re.compile(r"^\d{4}$")
_PAREN_RE = re.compile(r"^(?P<head>.*?)\s*\((?P<inner>[^()]*)\)\s*$")
_ABBREVIATION_RE = re.compile(r"^(?=(?:.*[A-Z]){2})[A-Za-z]{2,7}$")
_KIND_SWITCH_RE = re.compile(r"^(?P<old>[^;]+);\s*from \d{4} (?P<new>.+)$")


@dataclass(frozen=True)
class PartialDate:
    """A date known to the day (xsd:date), the month (xsd:gYearMonth) or the year (xsd:gYear)."""

    value: str
    precision: Precision


def parse_partial_date(text: str) -> PartialDate | None:
    """'1996-06-01', '1996-06' or '1996' as a PartialDate; None for anything less clear."""
    text = text.strip()
    if _DAY_RE.match(text):
        try:
            dt.date.fromisoformat(text)
        except ValueError:
            return None
        return PartialDate(text, "day")
    month = _MONTH_RE.match(text)
    if month and 1 <= int(month.group(2)) <= 12:
        return PartialDate(text, "month")
    if _YEAR_RE.match(text):
        return PartialDate(text, "year")
    return None


def parse_dates_seen(text: str) -> tuple[PartialDate, ...]:
    """The clean dates of a date_seen cell: each ';'-separated part that is a date, optionally
    followed by a bracketed remark. 'c.2023', '2014/2015', 'undated' give nothing."""
    dates: list[PartialDate] = []
    for part in split_list(text, ";"):
        parsed = parse_partial_date(split_qualifier(part)[0])
        if parsed is not None:
            dates.append(parsed)
    return tuple(dates)


def split_list(text: str, separator: str = " | ") -> tuple[str, ...]:
    """The non-empty, stripped parts of a separated cell."""
    return tuple(part.strip() for part in text.split(separator.strip()) if part.strip())


def split_qualifier(text: str) -> tuple[str, str]:
    """'Mongolia (former partner)' -> ('Mongolia', 'former partner'); no brackets -> (text, '')."""
    match = _PAREN_RE.match(text.strip())
    if not match or not match.group("head"):
        return text.strip(), ""
    return match.group("head").strip(), match.group("inner").strip()


def looks_like_abbreviation(text: str) -> bool:
    """True for short capitalised tokens such as 'KVM', 'SMM' or 'PRCiO'."""
    return bool(_ABBREVIATION_RE.match(text))


def normalise_name(name: str) -> str:
    """The form names are compared in: case-folded, single spaces, no leading 'the '."""
    text = re.sub(r"\s+", " ", name).strip().casefold()
    return text.removeprefix("the ")


def parse_other_names(text: str) -> tuple[list[str], list[str], list[str]]:
    """A field operation's other_names cell -> (former names, abbreviations, predecessors).

    'KVM' is an abbreviation; 'OSCE Centre in Tashkent (predecessor)' a predecessor, which
    is another thing; 'OSCE Liaison Office in Central Asia (CALO)' a former name and its
    abbreviation; anything else a former name of this same operation.
    """
    former: list[str] = []
    abbreviations: list[str] = []
    predecessors: list[str] = []
    for part in split_list(text):
        name, qualifier = split_qualifier(part)
        if looks_like_abbreviation(part):
            abbreviations.append(part)
        elif qualifier.startswith("predecessor"):
            predecessors.append(name)
        elif looks_like_abbreviation(qualifier):
            former.append(name)
            abbreviations.append(qualifier)
        else:
            former.append(name)
    return former, abbreviations, predecessors


def parse_kind(text: str) -> tuple[str, tuple[str, ...]]:
    """'Centre (earlier Liaison Office)' -> ('Centre', ('Liaison Office',));
    'Office; from 2014 Project Co-ordinator' -> ('Project Co-ordinator', ('Office',))."""
    switch = _KIND_SWITCH_RE.match(text)
    if switch:
        return switch.group("new").strip(), (switch.group("old").strip(),)
    kind, qualifier = split_qualifier(text)
    if qualifier.startswith("earlier "):
        return kind, (qualifier.removeprefix("earlier ").strip(),)
    return kind, ()


def parse_places(text: str) -> tuple[str, ...]:
    """'Azerbaijan / Armenia (conflict)' -> both States; 'Federal Republic of Yugoslavia
    (Kosovo)' -> the State and the territory. A lower-case qualifier is a remark, dropped."""
    places: list[str] = []
    for part in split_list(text, " / "):
        name, qualifier = split_qualifier(part)
        places.append(name)
        if qualifier[:1].isupper():
            places.append(qualifier)
    return tuple(places)


def parse_seat(text: str) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """A seat_city cell -> (seat, other names of the seat, further office cities).

    'Pristina (Prishtinë/Priština)' gives the other spellings; 'Belgrade (common office);
    Pristina, Novi Pazar, Subotica' gives Belgrade and three office cities.
    """
    first, _, rest = text.partition(";")
    seat, qualifier = split_qualifier(first)
    spellings = split_list(qualifier, "/") if "/" in qualifier else ()
    offices = tuple(c.strip() for c in rest.split(",") if c.strip())
    return seat, spellings, offices
