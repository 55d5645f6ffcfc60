"""Release records: what a reader extracts from one saved release, before it becomes RDF."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

#: The keys of ``osce-kg parse --json`` records and of gold files, in this order.
RECORD_KEYS = (
    "content_type",
    "title",
    "date",
    "place",
    "sources",
    "fields_of_work",
    "states_mentioned",
    "osce_structures_mentioned",
    "other_organisations",
    "persons",
    "event",
    "error",
)


@dataclass(frozen=True)
class PersonMention:
    """A person a release names, with the role and organisation the text gives them."""

    name: str
    role: str | None = None
    organisation: str | None = None
    quoted: bool = False
    #: the reference-graph person this is linked to (an IRI), if any
    linked_iri: str | None = None


@dataclass(frozen=True)
class Quote:
    """A quotation in a release and who said it (a name as in ``persons``)."""

    text: str
    speaker: str | None = None


@dataclass(frozen=True)
class EventMention:
    """The event a release reports."""

    name: str | None = None
    type: str | None = None  # an event-type label, e.g. "conference"
    start_date: str | None = None  # ISO date
    end_date: str | None = None  # ISO date
    place: str | None = None
    organisers: tuple[str, ...] = ()
    partners: tuple[str, ...] = ()


@dataclass(frozen=True)
class Mention:
    """A named thing a release mentions: its label and, when linked, its IRI."""

    label: str
    linked_iri: str | None = None


@dataclass(frozen=True)
class ReleaseRecord:
    """Everything extracted from one release. ``error`` is set when the input is unusable."""

    source_file: str  # path of the saved file, as given
    reader: str  # "text", "html", "listing" or "jsonl"
    item: int = 0  # position of the release in a multi-release file (listing, JSON Lines)
    content_type: str | None = None  # as the site names it: "Press release", "News", ...
    title: str | None = None
    date: str | None = None  # ISO 8601 date
    dateline: str | None = None  # the dateline as written, e.g. "DUSHANBE, 4 May 2018"
    place: str | None = None  # place(s) as written, title case, e.g. "Warsaw/Vienna"
    sources: tuple[Mention, ...] = ()  # OSCE structures given as the source
    fields_of_work: tuple[Mention, ...] = ()
    states_mentioned: tuple[Mention, ...] = ()
    osce_structures_mentioned: tuple[Mention, ...] = ()
    other_organisations: tuple[Mention, ...] = ()
    persons: tuple[PersonMention, ...] = ()
    quotes: tuple[Quote, ...] = ()
    event: EventMention | None = None
    paragraphs: tuple[str, ...] = ()
    error: str | None = None
    warnings: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        """The record as ``osce-kg parse --json`` prints it: exactly ``RECORD_KEYS``."""
        event = None
        if self.event is not None:
            event = {
                "name": self.event.name,
                "type": self.event.type,
                "start_date": self.event.start_date,
                "end_date": self.event.end_date,
                "place": self.event.place,
            }
        return {
            "content_type": self.content_type,
            "title": self.title,
            "date": self.date,
            "place": self.place,
            "sources": [m.label for m in self.sources],
            "fields_of_work": [m.label for m in self.fields_of_work],
            "states_mentioned": [m.label for m in self.states_mentioned],
            "osce_structures_mentioned": [m.label for m in self.osce_structures_mentioned],
            "other_organisations": [m.label for m in self.other_organisations],
            "persons": [
                {
                    "name": p.name,
                    "role": p.role,
                    "organisation": p.organisation,
                    "quoted": p.quoted,
                }
                for p in self.persons
            ],
            "event": event,
            "error": self.error,
        }

    def to_dict(self) -> dict[str, Any]:
        """Every field, for debugging and caching."""
        return asdict(self)
