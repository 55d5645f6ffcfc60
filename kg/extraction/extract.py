"""Turns a raw release into a release record: dates, place, links, mentions, people, event."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from kg.errors import InputError
from kg.extraction.events import find_event
from kg.extraction.gazetteer import Gazetteer, Kind
from kg.extraction.mentions import find_mentions
from kg.extraction.people import find_people, structure_in
from kg.extraction.records import Mention, ReleaseRecord
from kg.ingest.raw import RawRelease
from kg.lexicon.datelines import (
    Dateline,
    DateValueError,
    make_date,
    parse_dateline,
    parse_written_date,
    title_case_place,
)

log = logging.getLogger(__name__)


@dataclass
class _Problems:
    """The first error that makes a release unusable, and the warnings about the rest."""

    raw: RawRelease
    error: InputError | None = None
    warnings: list[str] = field(default_factory=list)

    def fail(self, field_name: str, problem: str, hint: str) -> None:
        if self.error is None:
            self.error = InputError(
                self.raw.source_file, field_name, problem, hint=hint, line=self.raw.line
            )

    def warn(self, message: str) -> None:
        self.warnings.append(message)


def extract_release(raw: RawRelease, gazetteer: Gazetteer) -> ReleaseRecord:
    """Everything the release says, linked; ``error`` set when it is unusable."""
    problems = _Problems(raw, error=raw.error)
    body = release_text(raw.paragraphs)
    dateline = parse_dateline(body[0]) if body else None
    date = _release_date(raw, dateline, problems)
    place = (
        title_case_place(raw.place_text)
        if raw.place_text
        else (dateline.place if dateline else None)
    )
    sources = _link_all(raw.sources, gazetteer, Kind.STRUCTURE, "source", problems)
    fields_of_work = _link_all(
        raw.fields_of_work, gazetteer, Kind.FIELD_OF_WORK, "field of work", problems
    )
    texts = [raw.title] if raw.title else []
    mentions = find_mentions([*texts, *body], gazetteer, date.year if date else None)
    people = find_people(body, gazetteer, own_structure=structure_in(raw.sources, gazetteer))
    for warning in people.warnings:
        problems.warn(warning)
    event = find_event(raw.title, body, date, place, gazetteer)
    return ReleaseRecord(
        source_file=raw.source_file,
        reader=raw.reader,
        item=raw.item,
        content_type=raw.content_type,
        title=raw.title,
        date=date.isoformat() if date else None,
        dateline=dateline.text if dateline else None,
        place=place,
        sources=sources,
        fields_of_work=fields_of_work,
        states_mentioned=mentions.states,
        osce_structures_mentioned=mentions.structures,
        other_organisations=mentions.organisations,
        persons=tuple(people.persons),
        quotes=tuple(people.quotes),
        event=event,
        paragraphs=raw.paragraphs,
        error=problems.error.describe() if problems.error else None,
        warnings=tuple(problems.warnings),
    )


#: A paragraph that opens the press contacts: it and what follows are not release text.
_CONTACTS_RE = re.compile(
    r"^\s*(?:For (?:further|more) information|For media enquiries|Media enquiries|"
    r"Press contacts?|Contacts?\s*:)",
    re.IGNORECASE,
)
_LOCATION_RE = re.compile(r"^\s*Location\s*:")


def release_text(paragraphs: Sequence[str]) -> list[str]:
    """The paragraphs that are the release: no `Location:` line, nothing from the press contacts."""
    body: list[str] = []
    for paragraph in paragraphs:
        if _CONTACTS_RE.match(paragraph):
            break
        if not _LOCATION_RE.match(paragraph):
            body.append(paragraph)
    return body


def _release_date(
    raw: RawRelease, dateline: Dateline | None, problems: _Problems
) -> dt.date | None:
    """The Date value, else the dateline's date (its year from the Date value when it has none)."""
    value: dt.date | None = None
    if raw.date_text:
        try:
            value = parse_written_date(raw.date_text)
        except DateValueError as error:
            problems.fail("date", str(error), "correct the date, e.g. '4 May 2018'")
            return None  # the release's date is unknown; the dateline does not overrule it
    if dateline is None:
        if value is None and raw.date_text is None:
            problems.warn("the release has neither a Date value nor a dateline: no date")
        return value
    year = dateline.year or (value.year if value else None)
    if year is None:
        problems.warn(f"the dateline {dateline.text!r} has no year and there is no Date value")
        return value
    try:
        from_dateline = make_date(year, dateline.month, dateline.day)
    except DateValueError as error:
        problems.fail("dateline", str(error), "correct the date in the dateline")
        return value
    if value is not None and value != from_dateline:
        problems.warn(
            f"the Date value {value} and the dateline {dateline.text!r} differ; "
            "the Date value is kept"
        )
    return value or from_dateline


def _link_all(
    names: tuple[str, ...], gazetteer: Gazetteer, category: Kind, what: str, problems: _Problems
) -> tuple[Mention, ...]:
    """Each name as its reference label and IRI, or as written with a warning."""
    mentions: list[Mention] = []
    for name in names:
        entry = gazetteer.lookup(name, [category])
        mention = Mention(entry.label, entry.iri) if entry else Mention(name)
        if entry is None:
            problems.warn(f"{what} {name!r} is not in the reference data; kept as written")
        if mention not in mentions:
            mentions.append(mention)
    return tuple(mentions)
