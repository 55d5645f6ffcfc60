"""Maps one release record to the RDF graph of that release (its own named graph).

Representation choices, kept stable because queries depend on them:

- the release is typed ``osce:PressRelease`` and, when the content type has one, its
  subclass (``osce:News``, ``osce:Statement``, ...), and links to the content-type concept;
- the body is ``schema:articleBody``: the paragraphs in order, joined by one blank line;
- the place as written is ``osce:placeName``; each known city in it is ``schema:locationCreated``;
- linked mentions point to the reference graph's IRIs; an unlinked one is a node of the right
  class minted under the release (``id/mention/{release-key}-{slug}``) with its label as written;
- labels no vocabulary knows (an unknown field of work, event type or content type) are kept
  as ``schema:keywords`` and reported as warnings;
- provenance: ``prov:wasDerivedFrom`` the source file node (name relative to the input root,
  ``osce:sha256``, ``osce:reader``). The build time is stated once per build in the VoID, not
  here, so an unchanged release graph stays byte-identical across builds.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from rdflib import Graph, Literal, URIRef

from kg.extraction.records import EventMention, Mention, PersonMention, ReleaseRecord
from kg.rdf.label_index import LabelIndex, normalise_label
from kg.rdf.uris import (
    DEFAULT_BASE,
    entity_iri,
    graph_iri,
    release_key,
    short_hash,
    slugify,
    source_file_iri,
)
from kg.rdf.vocab import DCTERMS, ORG, OSCE, PROV, RDF, RDFS, SCHEMA, XSD, bind_prefixes

#: content-type labels (normalised) -> the release subclass the ontology gives them
CONTENT_TYPE_CLASSES = {
    "press release": OSCE.PressRelease,
    "news": OSCE.News,
    "statement": OSCE.Statement,
    "daily report": OSCE.DailyReport,
    "weekly report": OSCE.WeeklyReport,
    "spot report": OSCE.SpotReport,
}

#: classes a linked organisation (organiser, role organisation) may have
_ORGANISATION_CLASSES = (
    ORG.Organization,
    ORG.FormalOrganization,
    SCHEMA.Organization,
    OSCE.Structure,
    OSCE.State,
)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PLACE_SEPARATORS = re.compile(r"\s*[/,;]\s*|\s+and\s+")


@dataclass(frozen=True)
class SourceFile:
    """The saved file a release came from."""

    name: str  # relative to the input root, with forward slashes
    sha256: str
    reader: str


Triple = tuple[URIRef, URIRef, URIRef | Literal]


@dataclass(frozen=True)
class MappedRelease:
    """The triples of one release, its key and named-graph IRI, and what could not be linked."""

    key: str
    release_iri: URIRef
    graph_iri: URIRef
    #: each statement once, in the order they were made (the build writes their N-Triples)
    triples: tuple[Triple, ...]
    warnings: tuple[str, ...] = ()

    @functools.cached_property
    def graph(self) -> Graph:
        """The triples as an rdflib graph with the project's prefixes (made when asked for)."""
        graph = bind_prefixes(Graph(bind_namespaces="none"))
        for triple in self.triples:
            graph.add(triple)
        return graph


def map_release(
    record: ReleaseRecord, source: SourceFile, labels: LabelIndex, *, base: str = DEFAULT_BASE
) -> MappedRelease:
    """The RDF graph of one usable release (``record.error`` is None and it has a title)."""
    if record.error is not None or not record.title:
        raise ValueError(f"{record.source_file}: an unusable record cannot be mapped")
    iso_date = record.date if record.date and _ISO_DATE.match(record.date) else None
    key = release_key(iso_date, record.title)
    mapper = _ReleaseMapper(record, key, labels, base)
    mapper.add_release(source)
    return MappedRelease(
        key=key,
        release_iri=mapper.release,
        graph_iri=graph_iri("release", key, base=base),
        triples=tuple(mapper.triples),
        warnings=tuple(mapper.warnings),
    )


@dataclass
class _ReleaseMapper:
    """Adds the triples of one release to a fresh graph; collects warnings as it goes."""

    record: ReleaseRecord
    key: str
    labels: LabelIndex
    base: str
    #: the statements so far, each once (a dict keeps their order)
    triples: dict[Triple, None] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    _mentioned: dict[str, URIRef] = field(default_factory=dict)
    _persons: dict[str, URIRef] = field(default_factory=dict)

    @property
    def release(self) -> URIRef:
        return entity_iri("release", self.key, base=self.base)

    def add_release(self, source: SourceFile) -> None:
        self._add_type_and_metadata()
        self._add_mentions()
        self._add_persons(self.record.persons)
        self._add_quotes()
        if self.record.event is not None:
            self._add_event(self.record.event)
        if self.record.paragraphs:
            self._add(
                self.release, SCHEMA.articleBody, Literal("\n\n".join(self.record.paragraphs))
            )
        self._add_source_file(source)

    def _add(self, s: URIRef, p: URIRef, o: URIRef | Literal) -> None:
        self.triples[(s, p, o)] = None

    def _add_type_and_metadata(self) -> None:
        record, release = self.record, self.release
        self._add(release, RDF.type, OSCE.PressRelease)
        if record.content_type:
            subclass = CONTENT_TYPE_CLASSES.get(normalise_label(record.content_type))
            if subclass is not None:
                self._add(release, RDF.type, subclass)
            concept = self.labels.find(record.content_type, OSCE.ContentType)
            if concept is not None:
                self._add(release, OSCE.contentType, concept)
            else:
                self._keep_unknown(release, "content type", record.content_type)
        self._add(release, SCHEMA.headline, Literal(record.title))
        self._add_date(release, SCHEMA.datePublished, record.date)
        if record.dateline:
            self._add(release, OSCE.dateline, Literal(record.dateline))
        if record.place:
            self._add_place(release, SCHEMA.locationCreated, record.place)
        for source in record.sources:
            iri = self._mention(source, OSCE.Structure, "source")
            self._add(release, OSCE.source, iri)
        for subject in record.fields_of_work:
            concept = self._linked(subject) or self.labels.find(subject.label, OSCE.FieldOfWork)
            if concept is not None:
                self._add(release, DCTERMS.subject, concept)
            else:
                self._keep_unknown(release, "field of work", subject.label)

    def _add_date(self, node: URIRef, prop: URIRef, value: str | None) -> None:
        if value is None:
            return
        if _ISO_DATE.match(value):
            self._add(node, prop, Literal(value, datatype=XSD.date))
        else:
            self.warnings.append(f"{prop}: {value!r} is not an ISO date; kept as text")
            self._add(node, prop, Literal(value))

    def _add_place(self, node: URIRef, prop: URIRef, place: str) -> None:
        """The place as written, plus a link to each known city among its parts."""
        self._add(node, OSCE.placeName, Literal(place))
        for part in _PLACE_SEPARATORS.split(place):
            city = self.labels.find(part, OSCE.City) if part else None
            if city is not None:
                self._add(node, prop, city)

    def _add_mentions(self) -> None:
        groups: tuple[tuple[Iterable[Mention], URIRef, URIRef, str], ...] = (
            (self.record.states_mentioned, OSCE.mentionsState, OSCE.State, "state"),
            (
                self.record.osce_structures_mentioned,
                OSCE.mentionsStructure,
                OSCE.Structure,
                "structure",
            ),
            (
                self.record.other_organisations,
                OSCE.mentionsOrganisation,
                ORG.Organization,
                "organisation",
            ),
        )
        for mentions, prop, cls, what in groups:
            for mention in mentions:
                self._add(self.release, prop, self._mention(mention, cls, what))

    def _mention(self, mention: Mention, cls: URIRef, what: str) -> URIRef:
        """The linked IRI of a mention, or a labelled node of class ``cls`` minted for it."""
        iri = self._linked(mention) or self._unlinked_node(mention.label, cls, what)
        self._mentioned.setdefault(normalise_label(mention.label), iri)
        return iri

    def _linked(self, mention: Mention) -> URIRef | None:
        return URIRef(mention.linked_iri) if mention.linked_iri else None

    def _unlinked_node(self, label: str, cls: URIRef, what: str) -> URIRef:
        node = entity_iri(
            "mention", f"{self.key}-{slugify(label) or short_hash(label)}", base=self.base
        )
        if (node, RDF.type, cls) not in self.triples:
            self.warnings.append(
                f"{what} {label!r} is not in the reference data; kept as a labelled node"
            )
            self._add(node, RDF.type, cls)
            self._add(node, RDFS.label, Literal(label))
        return node

    def _organisation(self, label: str) -> URIRef:
        """An organisation a role or event names: a mentioned one, a known one, or a new node."""
        known = self._mentioned.get(normalise_label(label)) or self.labels.find(
            label, *_ORGANISATION_CLASSES
        )
        return known or self._unlinked_node(label, ORG.Organization, "organisation")

    def _add_persons(self, persons: Iterable[PersonMention]) -> None:
        for number, person in enumerate(persons, start=1):
            iri = (
                URIRef(person.linked_iri)
                if person.linked_iri
                else self._unlinked_node(person.name, OSCE.Person, "person")
            )
            self._persons.setdefault(normalise_label(person.name), iri)
            self._add(self.release, OSCE.mentionsPerson, iri)
            if person.role or person.organisation:
                self._add_role(number, person, iri)

    def _add_role(self, number: int, person: PersonMention, iri: URIRef) -> None:
        role = entity_iri("role", f"{self.key}-{number}", base=self.base)
        self._add(self.release, OSCE.roleMention, role)
        self._add(role, RDF.type, OSCE.RoleMention)
        self._add(role, OSCE.person, iri)
        if person.role:
            self._add(role, OSCE.roleTitle, Literal(person.role))
        if person.organisation:
            self._add(role, OSCE.roleOrganisation, self._organisation(person.organisation))
        label = ", ".join(x for x in (person.name, person.role, person.organisation) if x)
        self._add(role, RDFS.label, Literal(label))

    def _speaker(self, name: str) -> URIRef | None:
        """The person node of a speaker, by full name or by surname alone ("Greminger said")."""
        wanted = normalise_label(name)
        if wanted in self._persons:
            return self._persons[wanted]
        by_surname = [
            iri for full, iri in self._persons.items() if full.split()[-1:] == wanted.split()[-1:]
        ]
        return by_surname[0] if len(set(by_surname)) == 1 else None

    def _add_quotes(self) -> None:
        for number, quote in enumerate(self.record.quotes, start=1):
            node = entity_iri("quote", f"{self.key}-{number}", base=self.base)
            self._add(self.release, OSCE.quotation, node)
            self._add(node, RDF.type, OSCE.Quotation)
            self._add(node, SCHEMA.text, Literal(quote.text))
            if quote.speaker:
                speaker = self._speaker(quote.speaker)
                if speaker is None:
                    self.warnings.append(
                        f"speaker {quote.speaker!r} of a quote is not among the persons"
                    )
                    speaker = self._unlinked_node(quote.speaker, OSCE.Person, "person")
                self._add(node, OSCE.speaker, speaker)

    def _add_event(self, event: EventMention) -> None:
        node = entity_iri("event", self.key, base=self.base)
        self._add(self.release, OSCE.reportsEvent, node)
        self._add(node, RDF.type, OSCE.Event)
        if event.name:
            self._add(node, SCHEMA.name, Literal(event.name))
        if event.type:
            concept = self.labels.find(event.type, OSCE.EventType)
            if concept is not None:
                self._add(node, OSCE.eventType, concept)
            else:
                self._keep_unknown(node, "event type", event.type)
        self._add_date(node, SCHEMA.startDate, event.start_date)
        self._add_date(node, SCHEMA.endDate, event.end_date)
        if event.place:
            self._add_place(node, SCHEMA.location, event.place)
        for organiser in event.organisers:
            self._add(node, SCHEMA.organizer, self._organisation(organiser))
        for partner in event.partners:
            self._add(node, OSCE.inCooperationWith, self._organisation(partner))

    def _keep_unknown(self, node: URIRef, what: str, label: str) -> None:
        self.warnings.append(
            f"{what} {label!r} is not in the vocabularies; kept as schema:keywords"
        )
        self._add(node, SCHEMA.keywords, Literal(label))

    def _add_source_file(self, source: SourceFile) -> None:
        node = source_file_iri(source.name, base=self.base)
        self._add(self.release, PROV.wasDerivedFrom, node)
        self._add(node, RDF.type, OSCE.SourceFile)
        self._add(node, RDFS.label, Literal(source.name))
        self._add(node, OSCE.sha256, Literal(source.sha256))
        self._add(node, OSCE.reader, Literal(source.reader))
