"""Loads the curated facts tables (kg/data/reference/*.tsv) into frozen records."""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from importlib.resources.abc import Traversable
from typing import Literal, TypeVar

from rdflib import URIRef

from kg.errors import InputError
from kg.resources import reference_dir
from kg.uris import entity_iri, slugify

log = logging.getLogger(__name__)

Precision = Literal["day", "month", "year"]

_DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR_RE = re.compile(r"^\d{4}$")
_KEY_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_PAREN_RE = re.compile(r"^(?P<head>.*?)\s*\((?P<inner>[^()]*)\)\s*$")
_ABBREVIATION_RE = re.compile(r"^(?=(?:.*[A-Z]){2})[A-Za-z]{2,7}$")


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


@dataclass(frozen=True)
class Origin:
    """Where a row came from: its source URLs, the curators' notes, its table and line."""

    source_urls: tuple[str, ...]
    notes: str
    table: str
    line: int


@dataclass(frozen=True)
class Sourced:
    """What every record has: its stable key and its origin."""

    key: str
    origin: Origin


@dataclass(frozen=True)
class ParticipatingState(Sourced):
    label: str = ""
    joined: PartialDate | None = None
    name_change_note: str = ""
    other_names: tuple[str, ...] = ()

    @property
    def alpha2(self) -> str:
        return self.key.upper()

    def iri(self) -> URIRef:
        return entity_iri("state", self.key)

    def names(self) -> tuple[str, ...]:
        return (self.label, *self.other_names)


@dataclass(frozen=True)
class Partner(Sourced):
    label: str = ""
    group: str = ""
    since: PartialDate | None = None
    former: bool = False
    other_names: tuple[str, ...] = ()

    @property
    def group_key(self) -> str:
        return slugify(self.group)

    def iri(self) -> URIRef:
        return entity_iri("state", self.key)

    def group_iri(self) -> URIRef:
        return entity_iri("partner-group", self.group_key)

    def names(self) -> tuple[str, ...]:
        return (self.label, *self.other_names)


@dataclass(frozen=True)
class OtherState(Sourced):
    """A historical State or a territory the tables name but do not list (from other_states.tsv)."""

    label: str = ""
    other_names: tuple[str, ...] = ()
    kind: str = "historical-state"
    iso_code: str = ""

    def iri(self) -> URIRef:
        return entity_iri("territory" if self.kind == "territory" else "state", self.key)

    def names(self) -> tuple[str, ...]:
        return (self.label, *self.other_names)


@dataclass(frozen=True)
class Institution(Sourced):
    label: str = ""
    abbreviation: str = ""
    seat_city: str = ""
    seat_state: str = ""
    established: PartialDate | None = None

    def iri(self) -> URIRef:
        return entity_iri("institution", self.key)

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

    def iri(self) -> URIRef:
        if self.institution_key:
            return entity_iri("institution", self.institution_key)
        return entity_iri("unit", self.key)

    def names(self) -> tuple[str, ...]:
        return tuple(n for n in (self.label, self.abbreviation, *self.other_names) if n)


@dataclass(frozen=True)
class FieldOperation(Sourced):
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

    def iri(self) -> URIRef:
        return entity_iri("field-operation", self.key)

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

    def iri(self) -> URIRef:
        return entity_iri("person", self.key)


@dataclass(frozen=True)
class Chairpersonship(Sourced):
    year: PartialDate | None = None
    state: str = ""  # the chairing State as written
    chairpersons: tuple[PersonName, ...] = ()

    def iri(self) -> URIRef:
        return entity_iri("chairpersonship", self.key)


@dataclass(frozen=True)
class SecretaryGeneral(Sourced):
    person: PersonName = PersonName("")
    term_start: PartialDate | None = None
    term_end: PartialDate | None = None
    nationality: str = ""  # a State name as written, qualifier removed

    def iri(self) -> URIRef:
        return entity_iri("appointment", f"secretary-general-{self.key}")


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

    def iri(self) -> URIRef:
        """The appointment the sighting attests (rows of one person and post share it)."""
        return entity_iri("appointment", self.key)

    def post_key(self) -> str:
        return f"{self.organisation_key}-{slugify(self.post_title)}"

    def post_iri(self) -> URIRef:
        return entity_iri("post", self.post_key())

    def organisation_iri(self) -> URIRef:
        return entity_iri(self.organisation_kind, self.organisation_key)


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


class _Row:
    """One row of a table being read, with errors that name its file, line and field."""

    def __init__(self, table: str, line: int, cells: dict[str, str], errors: list[InputError]):
        self.table, self.line, self.cells, self.errors = table, line, cells, errors

    def text(self, column: str) -> str:
        return self.cells.get(column, "").strip()

    def date(self, column: str) -> PartialDate | None:
        text = self.text(column)
        if not text:
            return None
        parsed = parse_partial_date(text)
        if parsed is None:
            self.fail(column, f"{text!r} is not a date", "write YYYY-MM-DD, YYYY-MM or YYYY")
        return parsed

    def fail(self, column: str, problem: str, hint: str) -> None:
        self.errors.append(InputError(self.table, column, problem, hint=hint, line=self.line))

    def origin(self) -> Origin:
        return Origin(
            source_urls=split_list(self.text("source_urls") or self.text("source_url")),
            notes=self.text("notes") or self.text("status_note"),
            table=self.table,
            line=self.line,
        )


R = TypeVar("R", bound=Sourced)


def read_rows(
    folder: Traversable, name: str, columns: tuple[str, ...], errors: list[InputError]
) -> Iterator[_Row]:
    """The rows of one table; raises InputError when a required column is missing."""
    text = folder.joinpath(name).read_text(encoding="utf-8")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t", quoting=csv.QUOTE_NONE)
    header = next(reader, [])
    missing = [c for c in columns if c not in header]
    if missing:
        raise InputError(
            name,
            missing[0],
            "required column is missing",
            hint=f"the header must name {', '.join(columns)}",
            line=1,
        )
    for line, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            errors.append(
                InputError(
                    name,
                    None,
                    f"row has {len(cells)} fields, the header {len(header)}",
                    hint="separate fields with exactly one tab",
                    line=line,
                )
            )
            continue
        yield _Row(name, line, dict(zip(header, cells, strict=True)), errors)


def load_table(
    folder: Traversable,
    name: str,
    columns: tuple[str, ...],
    make: Callable[[_Row], R],
    errors: list[InputError],
    *,
    unique: bool = True,
) -> tuple[R, ...]:
    """Reads one table into records, skipping (and recording) rows with a bad key.

    ``unique=False`` lets rows share a key (rows of heads.tsv that attest one appointment).
    """
    records: list[R] = []
    seen: set[str] = set()
    for row in read_rows(folder, name, ("key", *columns), errors):
        key = row.text("key")
        if not _KEY_RE.match(key) or (unique and key in seen):
            problem = "is not a lowercase slug" if not _KEY_RE.match(key) else "is a duplicate"
            row.fail("key", f"{key!r} {problem}", "give each row its own slug key")
            continue
        seen.add(key)
        records.append(make(row))
    return tuple(records)


def make_participating_state(row: _Row) -> ParticipatingState:
    return ParticipatingState(
        key=row.text("key"),
        origin=row.origin(),
        label=row.text("name"),
        joined=row.date("joined"),
        name_change_note=row.text("name_change_note"),
        other_names=split_list(row.text("other_names")),
    )


def make_partner(row: _Row) -> Partner:
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


def make_other_state(row: _Row) -> OtherState:
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


def make_institution(row: _Row) -> Institution:
    return Institution(
        key=row.text("key"),
        origin=row.origin(),
        label=row.text("name"),
        abbreviation=row.text("abbreviation"),
        seat_city=row.text("seat_city"),
        seat_state=row.text("seat_state"),
        established=row.date("established"),
    )


def make_secretariat_unit(row: _Row) -> SecretariatUnit:
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
    switch = re.match(r"^(?P<old>[^;]+);\s*from \d{4} (?P<new>.+)$", text)
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


def make_field_operation(row: _Row) -> FieldOperation:
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


def make_chairpersonship(row: _Row) -> Chairpersonship:
    return Chairpersonship(
        key=row.text("key"),
        origin=row.origin(),
        year=row.date("year"),
        state=row.text("state"),
        chairpersons=parse_person_names(row.text("chairperson_in_office")),
    )


def make_secretary_general(row: _Row) -> SecretaryGeneral:
    return SecretaryGeneral(
        key=row.text("key"),
        origin=row.origin(),
        person=PersonName(row.text("name")),
        term_start=row.date("term_start"),
        term_end=row.date("term_end"),
        nationality=split_qualifier(row.text("nationality"))[0],
    )


def parse_dates_seen(text: str) -> tuple[PartialDate, ...]:
    """The clean dates of a date_seen cell: each ';'-separated part that is a date, optionally
    followed by a bracketed remark. 'c.2023', '2014/2015', 'undated' give nothing."""
    dates: list[PartialDate] = []
    for part in split_list(text, ";"):
        parsed = parse_partial_date(split_qualifier(part)[0])
        if parsed is not None:
            dates.append(parsed)
    return tuple(dates)


def make_head_sighting(row: _Row) -> HeadSighting:
    kind, _, key = row.text("organisation_key").partition(":")
    if not kind or not _KEY_RE.match(key):
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


def make_general_fact(row: _Row) -> GeneralFact:
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

    def load(name: str, columns: tuple[str, ...], make: Callable[[_Row], R]) -> tuple[R, ...]:
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


def normalise_name(name: str) -> str:
    """The form names are compared in: case-folded, single spaces, no leading 'the '."""
    text = re.sub(r"\s+", " ", name).strip().casefold()
    return text.removeprefix("the ")


def name_index(tables: ReferenceTables) -> dict[str, URIRef]:
    """Every label, other name and abbreviation of a State or structure -> its IRI.

    A name shared by two different things is left out (it cannot be linked safely).
    """
    found: dict[str, set[URIRef]] = {}
    things: list[
        ParticipatingState | Partner | OtherState | Institution | SecretariatUnit | FieldOperation
    ] = [*tables.states(), *tables.structures()]
    for thing in things:
        for name in thing.names():
            found.setdefault(normalise_name(name), set()).add(thing.iri())
    index = {name: next(iter(iris)) for name, iris in found.items() if len(iris) == 1}
    for name, iris in sorted(found.items()):
        if len(iris) > 1:
            log.info("name %r is shared by %s; not indexed", name, sorted(iris))
    return index
