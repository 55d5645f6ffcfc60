"""Loads the curated facts tables (kg/data/reference/*.tsv) into frozen records."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from importlib.resources.abc import Traversable
from typing import ClassVar, TypeVar

from rdflib import URIRef

from kg.errors import InputError
from kg.rdf.uris import entity_iri, slugify
from kg.reference.cells import (
    PartialDate,
    normalise_name,
    parse_dates_seen,
    parse_kind,
    parse_other_names,
    parse_places,
    parse_seat,
    split_list,
    split_qualifier,
)
from kg.reference.tsv import Origin, TableRow, is_slug_key, load_table
from kg.resources import reference_dir

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sourced:
    """What every record has: its stable key and its origin."""

    #: the kind of thing the record is (its IRI is ``{base}id/{KIND}/{key}``)
    KIND: ClassVar[str] = ""

    key: str
    origin: Origin

    def iri(self, base: str) -> URIRef:
        """The IRI of the thing the row describes, under ``base``."""
        return entity_iri(self.KIND, self.key, base=base)


@dataclass(frozen=True)
class NamedState(Sourced):
    """A State (or territory) row: its English name and the other names it goes by."""

    KIND = "state"

    label: str = ""
    other_names: tuple[str, ...] = ()

    def names(self) -> tuple[str, ...]:
        return (self.label, *self.other_names)


@dataclass(frozen=True)
class ParticipatingState(NamedState):
    joined: PartialDate | None = None
    name_change_note: str = ""

    @property
    def alpha2(self) -> str:
        return self.key.upper()


@dataclass(frozen=True)
class Partner(NamedState):
    group: str = ""
    since: PartialDate | None = None
    former: bool = False

    @property
    def group_key(self) -> str:
        return slugify(self.group)

    def group_iri(self, base: str) -> URIRef:
        return entity_iri("partner-group", self.group_key, base=base)


@dataclass(frozen=True)
class OtherState(NamedState):
    """A historical State or a territory the tables name but do not list (from other_states.tsv)."""

    kind: str = "historical-state"
    iso_code: str = ""

    def iri(self, base: str) -> URIRef:
        return entity_iri("territory" if self.kind == "territory" else "state", self.key, base=base)


@dataclass(frozen=True)
class Institution(Sourced):
    KIND = "institution"

    label: str = ""
    abbreviation: str = ""
    seat_city: str = ""
    seat_state: str = ""
    established: PartialDate | None = None

    def names(self) -> tuple[str, ...]:
        return tuple(n for n in (self.label, self.abbreviation) if n)


@dataclass(frozen=True)
class SecretariatUnit(Sourced):
    label: str = ""
    abbreviation: str = ""
    established: PartialDate | None = None
    other_names: tuple[str, ...] = ()
    unit_of: str = ""  # key of the parent unit; empty: a unit of the Secretariat itself
    institution_key: str = ""  # set when the unit is also a row of institutions.tsv

    def iri(self, base: str) -> URIRef:
        if self.institution_key:
            return entity_iri("institution", self.institution_key, base=base)
        return entity_iri("unit", self.key, base=base)

    def names(self) -> tuple[str, ...]:
        return tuple(n for n in (self.label, self.abbreviation, *self.other_names) if n)


@dataclass(frozen=True)
class FieldOperation(Sourced):
    KIND = "field-operation"

    label: str = ""
    former_names: tuple[str, ...] = ()
    abbreviations: tuple[str, ...] = ()
    predecessors: tuple[str, ...] = ()  # names of predecessors, as written
    kind: str = ""
    former_kinds: tuple[str, ...] = ()
    host_states: tuple[str, ...] = ()  # names as written
    seat_city: str = ""
    seat_city_other_names: tuple[str, ...] = ()
    office_cities: tuple[str, ...] = ()
    established: PartialDate | None = None
    closed: PartialDate | None = None
    active: bool = True

    def names(self) -> tuple[str, ...]:
        return (self.label, *self.former_names, *self.abbreviations)


@dataclass(frozen=True)
class PersonName:
    """A person as a table names them, with any qualifier the cell adds ('from 18 Dec 2017')."""

    name: str
    qualifier: str = ""

    @property
    def key(self) -> str:
        return slugify(self.name)

    def iri(self, base: str) -> URIRef:
        return entity_iri("person", self.key, base=base)


@dataclass(frozen=True)
class Chairpersonship(Sourced):
    KIND = "chairpersonship"

    year: PartialDate | None = None
    state: str = ""  # the chairing State as written
    chairpersons: tuple[PersonName, ...] = ()


@dataclass(frozen=True)
class SecretaryGeneral(Sourced):
    person: PersonName = PersonName("")
    term_start: PartialDate | None = None
    term_end: PartialDate | None = None
    nationality: str = ""  # a State name as written, qualifier removed

    def iri(self, base: str) -> URIRef:
        return entity_iri("appointment", f"secretary-general-{self.key}", base=base)


@dataclass(frozen=True)
class HeadSighting(Sourced):
    """One row of heads.tsv: a person seen in a post on a date (not a term start)."""

    person: PersonName = PersonName("")
    post_as_written: str = ""
    post_title: str = ""
    organisation: str = ""  # as written
    organisation_kind: str = ""
    organisation_key: str = ""
    dates_seen: tuple[PartialDate, ...] = ()
    date_seen_text: str = ""  # the cell as written, kept whenever it is more than one clean date

    def iri(self, base: str) -> URIRef:
        """The appointment the sighting attests (rows of one person and post share it)."""
        return entity_iri("appointment", self.key, base=base)

    def post_key(self) -> str:
        return f"{self.organisation_key}-{slugify(self.post_title)}"

    def post_iri(self, base: str) -> URIRef:
        return entity_iri("post", self.post_key(), base=base)

    def organisation_iri(self, base: str) -> URIRef:
        return entity_iri(self.organisation_kind, self.organisation_key, base=base)


@dataclass(frozen=True)
class GeneralFact(Sourced):
    fact: str = ""
    value: str = ""


@dataclass(frozen=True)
class ReferenceTables:
    """Every facts table, loaded; ``errors`` lists the rows that could not be used."""

    participating_states: tuple[ParticipatingState, ...]
    partners: tuple[Partner, ...]
    other_states: tuple[OtherState, ...]
    institutions: tuple[Institution, ...]
    secretariat_units: tuple[SecretariatUnit, ...]
    field_operations: tuple[FieldOperation, ...]
    chairpersonships: tuple[Chairpersonship, ...]
    secretaries_general: tuple[SecretaryGeneral, ...]
    heads: tuple[HeadSighting, ...]
    general: tuple[GeneralFact, ...]
    errors: tuple[InputError, ...] = field(default=())

    def states(self) -> Iterator[ParticipatingState | Partner | OtherState]:
        yield from self.participating_states
        yield from self.partners
        yield from self.other_states

    def structures(self) -> Iterator[Institution | SecretariatUnit | FieldOperation]:
        yield from self.institutions
        yield from self.secretariat_units
        yield from self.field_operations


R = TypeVar("R", bound=Sourced)


def make_participating_state(row: TableRow) -> ParticipatingState:
    return ParticipatingState(
        key=row.text("key"),
        origin=row.origin(),
        label=row.text("name"),
        joined=row.date("joined"),
        name_change_note=row.text("name_change_note"),
        other_names=split_list(row.text("other_names")),
    )


def make_partner(row: TableRow) -> Partner:
    label, qualifier = split_qualifier(row.text("partner_state"))
    since = row.date("since")
    return Partner(
        key=row.text("key"),
        origin=row.origin(),
        label=label,
        group=row.text("group"),
        since=since,
        former=qualifier == "former partner",
        other_names=split_list(row.text("other_names")),
    )


def make_other_state(row: TableRow) -> OtherState:
    kind = row.text("kind")
    if kind not in {"historical-state", "territory"}:
        row.fail("kind", f"{kind!r} is unknown", "write historical-state or territory")
    return OtherState(
        key=row.text("key"),
        origin=row.origin(),
        label=row.text("name"),
        other_names=split_list(row.text("other_names")),
        kind=kind,
        iso_code=row.text("iso_code"),
    )


def make_institution(row: TableRow) -> Institution:
    return Institution(
        key=row.text("key"),
        origin=row.origin(),
        label=row.text("name"),
        abbreviation=row.text("abbreviation"),
        seat_city=row.text("seat_city"),
        seat_state=row.text("seat_state"),
        established=row.date("established"),
    )


def make_secretariat_unit(row: TableRow) -> SecretariatUnit:
    return SecretariatUnit(
        key=row.text("key"),
        origin=row.origin(),
        label=row.text("label") or row.text("name"),
        abbreviation=row.text("abbreviation"),
        established=row.date("established"),
        other_names=split_list(row.text("other_names")),
        unit_of=row.text("unit_of"),
        institution_key=row.text("institution_key"),
    )


def make_field_operation(row: TableRow) -> FieldOperation:
    former, abbreviations, predecessors = parse_other_names(row.text("other_names"))
    kind, former_kinds = parse_kind(row.text("type"))
    seat, spellings, offices = parse_seat(row.text("seat_city"))
    status = row.text("status")
    if status not in {"active", "closed"}:
        row.fail("status", f"{status!r} is neither active nor closed", "write active or closed")
    return FieldOperation(
        key=row.text("key"),
        origin=row.origin(),
        label=row.text("name"),
        former_names=tuple(former),
        abbreviations=tuple(abbreviations),
        predecessors=tuple(predecessors),
        kind=kind,
        former_kinds=former_kinds,
        host_states=parse_places(row.text("host_state")),
        seat_city=seat,
        seat_city_other_names=spellings,
        office_cities=offices,
        established=row.date("established"),
        closed=row.date("closed"),
        active=status != "closed",
    )


def parse_person_names(text: str) -> tuple[PersonName, ...]:
    """'Sebastian Kurz; Karin Kneissl (from 18 Dec 2017)' -> two names, the second qualified."""
    return tuple(PersonName(*split_qualifier(part)) for part in split_list(text, ";"))


def make_chairpersonship(row: TableRow) -> Chairpersonship:
    return Chairpersonship(
        key=row.text("key"),
        origin=row.origin(),
        year=row.date("year"),
        state=row.text("state"),
        chairpersons=parse_person_names(row.text("chairperson_in_office")),
    )


def make_secretary_general(row: TableRow) -> SecretaryGeneral:
    return SecretaryGeneral(
        key=row.text("key"),
        origin=row.origin(),
        person=PersonName(row.text("name")),
        term_start=row.date("term_start"),
        term_end=row.date("term_end"),
        nationality=split_qualifier(row.text("nationality"))[0],
    )


def make_head_sighting(row: TableRow) -> HeadSighting:
    kind, _, key = row.text("organisation_key").partition(":")
    if not kind or not is_slug_key(key):
        row.fail("organisation_key", "is not kind:key", "write e.g. institution:odihr")
    text = row.text("date_seen")
    dates = parse_dates_seen(text)
    clean = len(dates) == 1 and dates[0].value == text
    return HeadSighting(
        key=row.text("key"),
        origin=row.origin(),
        person=PersonName(row.text("person")),
        post_as_written=row.text("post"),
        post_title=row.text("post_title") or split_qualifier(row.text("post"))[0],
        organisation=row.text("organisation"),
        organisation_kind=kind,
        organisation_key=key,
        dates_seen=dates,
        date_seen_text="" if clean else text,
    )


def make_general_fact(row: TableRow) -> GeneralFact:
    return GeneralFact(
        key=row.text("key"),
        origin=row.origin(),
        fact=row.text("fact"),
        value=row.text("value"),
    )


def load_tables(folder: Traversable | None = None) -> ReferenceTables:
    """Loads every facts table; rows that cannot be used are left out and listed in ``errors``."""
    folder = folder or reference_dir()
    errors: list[InputError] = []

    def load(name: str, columns: tuple[str, ...], make: Callable[[TableRow], R]) -> tuple[R, ...]:
        return load_table(folder, name, columns, make, errors, unique=name != "heads.tsv")

    tables = ReferenceTables(
        participating_states=load(
            "participating_states.tsv", ("name", "joined", "source_urls"), make_participating_state
        ),
        partners=load("partners.tsv", ("partner_state", "group", "since"), make_partner),
        other_states=load("other_states.tsv", ("name", "kind", "source_urls"), make_other_state),
        institutions=load(
            "institutions.tsv", ("name", "seat_city", "seat_state"), make_institution
        ),
        secretariat_units=load(
            "secretariat_units.tsv", ("name", "unit_of", "institution_key"), make_secretariat_unit
        ),
        field_operations=load(
            "field_operations.tsv", ("name", "type", "host_state", "status"), make_field_operation
        ),
        chairpersonships=load(
            "chairpersonships.tsv", ("year", "state", "chairperson_in_office"), make_chairpersonship
        ),
        secretaries_general=load(
            "secretaries_general.tsv", ("name", "term_start", "term_end"), make_secretary_general
        ),
        heads=load("heads.tsv", ("person", "post", "organisation_key"), make_head_sighting),
        general=load("general.tsv", ("fact", "value"), make_general_fact),
    )
    for error in errors:
        log.warning("%s", error)
    return replace(tables, errors=tuple(errors))


def name_index(tables: ReferenceTables, base: str) -> dict[str, URIRef]:
    """Every label, other name and abbreviation of a State or structure -> its IRI.

    A name shared by two different things is left out (it cannot be linked safely).
    """
    found: dict[str, set[URIRef]] = {}
    things: list[
        ParticipatingState | Partner | OtherState | Institution | SecretariatUnit | FieldOperation
    ] = [*tables.states(), *tables.structures()]
    for thing in things:
        for name in thing.names():
            found.setdefault(normalise_name(name), set()).add(thing.iri(base))
    index = {name: next(iter(iris)) for name, iris in found.items() if len(iris) == 1}
    for name, iris in sorted(found.items()):
        if len(iris) > 1:
            log.info("name %r is shared by %s; not indexed", name, sorted(iris))
    return index
