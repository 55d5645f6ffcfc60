"""The head of a release page: title, date, place, sources, body, what it names, its event."""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox

from kg.rdf.vocab import DCTERMS, OSCE, SCHEMA
from server.labels import Labeller, Link
from server.store import select

_FACTS_QUERY = "SELECT ?node ?p ?o WHERE { ?node ?p ?o }"

#: What the head of a release page lists, in this order: (heading, property).
NAMED = (
    ("People", OSCE.mentionsPerson),
    ("States", OSCE.mentionsState),
    ("OSCE structures", OSCE.mentionsStructure),
    ("Other organisations", OSCE.mentionsOrganisation),
    ("Fields of work", DCTERMS.subject),
)


@dataclass(frozen=True)
class EventSummary:
    """The event a release reports: its name or type, dates, place, organisers and partners."""

    link: Link
    kind: Link | None
    dates: str
    place: Link | None
    organisers: tuple[Link, ...]
    partners: tuple[Link, ...]


@dataclass(frozen=True)
class ReleaseSummary:
    """What a reader of a release page looks for first."""

    title: str
    date: str
    place: Link | None
    dateline: str
    content_type: Link | None
    sources: tuple[Link, ...]
    paragraphs: tuple[str, ...]
    named: tuple[tuple[str, tuple[Link, ...]], ...]
    events: tuple[EventSummary, ...]


Facts = dict[str, list[ox.NamedNode | ox.BlankNode | ox.Literal]]


def facts_of(node: ox.NamedNode | ox.BlankNode) -> Facts:
    """Every (property, values) of a node, across its named graphs, values in a stable order."""
    found: Facts = {}
    for row in select(_FACTS_QUERY, {"node": node}):
        values = found.setdefault(row["p"].value, [])
        if row["o"] not in values:
            values.append(row["o"])
    for values in found.values():
        values.sort(key=str)
    return found


def first_text(facts: Facts, prop: object) -> str:
    for value in facts.get(str(prop), []):
        if isinstance(value, ox.Literal):
            return value.value
    return ""


def links(facts: Facts, prop: object, labeller: Labeller) -> tuple[Link, ...]:
    """The IRIs a property names, as labelled links, sorted by label."""
    found = [labeller.link(v) for v in facts.get(str(prop), []) if isinstance(v, ox.NamedNode)]
    return tuple(sorted(found, key=lambda link: link.text.casefold()))


def first_link(facts: Facts, prop: object, labeller: Labeller) -> Link | None:
    found = links(facts, prop, labeller)
    return found[0] if found else None


def release_summary(node: ox.NamedNode, labeller: Labeller) -> ReleaseSummary:
    """The head of a release's page, from its statements and those of its event."""
    facts = facts_of(node)
    body = first_text(facts, SCHEMA.articleBody)
    place = first_link(facts, SCHEMA.locationCreated, labeller)
    place_name = first_text(facts, OSCE.placeName)
    named = tuple(
        (heading, found) for heading, prop in NAMED if (found := links(facts, prop, labeller))
    )
    events = tuple(
        event_summary(event, labeller)
        for event in facts.get(str(OSCE.reportsEvent), [])
        if isinstance(event, ox.NamedNode)
    )
    return ReleaseSummary(
        title=first_text(facts, SCHEMA.headline) or labeller.label(node),
        date=first_text(facts, SCHEMA.datePublished),
        place=place or (Link(place_name, None) if place_name else None),
        dateline=first_text(facts, OSCE.dateline),
        content_type=first_link(facts, OSCE.contentType, labeller),
        sources=links(facts, OSCE.source, labeller),
        paragraphs=tuple(p.strip() for p in body.split("\n") if p.strip()),
        named=named,
        events=events,
    )


def event_summary(event: ox.NamedNode, labeller: Labeller) -> EventSummary:
    facts = facts_of(event)
    start = first_text(facts, SCHEMA.startDate)
    end = first_text(facts, SCHEMA.endDate)
    dates = start if not end or end == start else f"{start} – {end}" if start else f"until {end}"
    place = first_link(facts, SCHEMA.location, labeller)
    place_name = first_text(facts, OSCE.placeName)
    return EventSummary(
        link=labeller.link(event),
        kind=first_link(facts, OSCE.eventType, labeller),
        dates=dates,
        place=place or (Link(place_name, None) if place_name else None),
        organisers=links(facts, SCHEMA.organizer, labeller),
        partners=links(facts, OSCE.inCooperationWith, labeller),
    )
