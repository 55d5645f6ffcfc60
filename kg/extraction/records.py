"""Release records: what extraction finds in one saved release, and their JSON form."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from types import MappingProxyType
from typing import Any, get_type_hints

#: Field metadata of a field the record keeps but its JSON form (``to_json``) leaves out.
NOT_IN_JSON = MappingProxyType({"json": False})


def shown_as(label: str) -> MappingProxyType[str, str]:
    """Field metadata naming the field for people (``osce-kg parse``), when its name will not do."""
    return MappingProxyType({"label": label})


@dataclass(frozen=True)
class PersonMention:
    """A person a release names, with the role and organisation the text gives them."""

    name: str
    role: str | None = None
    organisation: str | None = None
    quoted: bool = False
    #: the reference-graph person this is linked to (an IRI), if any
    linked_iri: str | None = field(default=None, metadata=NOT_IN_JSON)


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
    organisers: tuple[str, ...] = field(default=(), metadata=NOT_IN_JSON)
    partners: tuple[str, ...] = field(default=(), metadata=NOT_IN_JSON)


@dataclass(frozen=True)
class Mention:
    """A named thing a release mentions: its label and, when linked, its IRI."""

    label: str
    linked_iri: str | None = None


@dataclass(frozen=True)
class ReleaseRecord:
    """Everything extracted from one release. ``error`` is set when the input is unusable."""

    source_file: str = field(metadata=NOT_IN_JSON)  # path of the saved file, as given
    reader: str = field(metadata=NOT_IN_JSON)  # "text", "html", "listing" or "jsonl"
    #: position of the release in a multi-release file (listing, JSON Lines)
    item: int = field(default=0, metadata=NOT_IN_JSON)
    content_type: str | None = None  # as the site names it: "Press release", "News", ...
    title: str | None = None
    date: str | None = None  # ISO 8601 date
    #: the dateline as written, e.g. "DUSHANBE, 4 May 2018"
    dateline: str | None = field(default=None, metadata=NOT_IN_JSON)
    place: str | None = None  # place(s) as written, title case, e.g. "Warsaw/Vienna"
    sources: tuple[Mention, ...] = ()  # OSCE structures given as the source
    fields_of_work: tuple[Mention, ...] = ()
    states_mentioned: tuple[Mention, ...] = field(default=(), metadata=shown_as("States"))
    osce_structures_mentioned: tuple[Mention, ...] = field(
        default=(), metadata=shown_as("OSCE structures")
    )
    other_organisations: tuple[Mention, ...] = ()
    persons: tuple[PersonMention, ...] = ()
    quotes: tuple[Quote, ...] = field(default=(), metadata=NOT_IN_JSON)
    event: EventMention | None = None
    paragraphs: tuple[str, ...] = field(default=(), metadata=NOT_IN_JSON)
    error: str | None = None
    warnings: tuple[str, ...] = field(default=(), metadata=NOT_IN_JSON)

    def to_json(self) -> dict[str, Any]:
        """The record as ``osce-kg parse --json`` prints it: exactly ``RECORD_KEYS``."""
        return _json_object(self)

    def to_dict(self) -> dict[str, Any]:
        """Every field, for debugging and caching."""
        return asdict(self)


JsonRecord = PersonMention | EventMention | ReleaseRecord


def json_keys(record_type: type[JsonRecord]) -> tuple[str, ...]:
    """The keys of a record's JSON form: its fields in order, less those marked NOT_IN_JSON."""
    return tuple(f.name for f in fields(record_type) if f.metadata.get("json", True))


def field_label(name: str) -> str:
    """A release record field's name for people: "fields of work", "States"."""
    by_name = {f.name: f for f in fields(ReleaseRecord)}
    return str(by_name[name].metadata.get("label", name.replace("_", " ")))


def _json_object(record: JsonRecord) -> dict[str, Any]:
    return {key: _json_value(getattr(record, key)) for key in json_keys(type(record))}


def _json_value(value: object) -> Any:
    if isinstance(value, tuple):
        return [_json_value(item) for item in value]
    if isinstance(value, Mention):
        return value.label  # a mention is written as its label, linked or not
    if isinstance(value, PersonMention | EventMention):
        return _json_object(value)
    return value


def _keys_typed(hint: object) -> tuple[str, ...]:
    types = get_type_hints(ReleaseRecord)
    return tuple(key for key in RECORD_KEYS if types[key] == hint)


#: The keys of ``osce-kg parse --json`` records and of gold files, in this order.
RECORD_KEYS = json_keys(ReleaseRecord)
#: The keys whose value is a text or null (``error`` among them).
TEXT_KEYS = _keys_typed(str | None)
#: The keys whose value is a list of mentions, written as their labels.
MENTION_KEYS = _keys_typed(tuple[Mention, ...])
