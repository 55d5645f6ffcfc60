"""Builds the default name index from the facts tables, organisations.tsv and the vocabularies."""

from __future__ import annotations

import csv
import functools
import io
import logging
import re
from collections.abc import Iterator
from importlib import resources

from rdflib import Graph, URIRef
from rdflib.namespace import SKOS

from kg.extraction.gazetteer import Entry, Form, Gazetteer, Kind, add_names, structure_variants
from kg.rdf.uris import DEFAULT_BASE, concept_iri, entity_iri
from kg.reference.bodies import load_bodies
from kg.reference.cells import split_list, split_qualifier
from kg.reference.organisations import load_organisations
from kg.reference.tables import ParticipatingState, Partner, ReferenceTables, load_tables
from kg.resources import ontology_dir

log = logging.getLogger(__name__)

#: The names of the OSCE itself (it is not one of its structures).
OSCE_NAMES = (
    "OSCE",
    "Organization for Security and Co-operation in Europe",
    "CSCE",
    "Conference on Security and Co-operation in Europe",
)


def read_tsv(package: str, name: str) -> Iterator[dict[str, str]]:
    """The rows of a tab-separated table shipped in a package."""
    text = resources.files(package).joinpath(name).read_text(encoding="utf-8")
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter="\t", quoting=csv.QUOTE_NONE)
    for row in reader:
        yield {k: (v or "").strip() for k, v in row.items() if k}


@functools.lru_cache(maxsize=4)
def default_gazetteer(base: str = DEFAULT_BASE) -> Gazetteer:
    """The index of every known name with IRIs under ``base``, built once per base."""
    gazetteer = Gazetteer()
    tables = load_tables()
    add_osce(gazetteer, base)
    add_states(gazetteer, tables, base)
    add_structures(gazetteer, tables, base)
    add_bodies(gazetteer, tables, base)
    add_organisations(gazetteer, base)
    add_persons(gazetteer, tables, base)
    add_fields_of_work(gazetteer)
    log.debug("name index of %d things", len(gazetteer.entries))
    return gazetteer


def add_osce(gazetteer: Gazetteer, base: str) -> None:
    entry = Entry(Kind.OSCE, "OSCE", str(entity_iri("organisation", "osce", base=base)))
    add_names(gazetteer, entry, OSCE_NAMES)


def add_states(gazetteer: Gazetteer, tables: ReferenceTables, base: str) -> None:
    """Participating States and Partners with their earlier names and adjectives."""
    extra = {row["key"]: row for row in read_tsv("kg.data", "state_names.tsv")}
    states: list[ParticipatingState | Partner] = [*tables.participating_states, *tables.partners]
    for state in states:
        entry = Entry(Kind.STATE, state.label, str(entity_iri("state", state.key, base=base)))
        row = extra.get(state.key, {})
        add_names(gazetteer, entry, [*state.names(), *split_list(row.get("other_names", ""), "|")])
        gazetteer.add(entry, split_list(row.get("adjectives", ""), "|"), form=Form.ADJECTIVE)
    for other in tables.other_states:
        add_names(
            gazetteer, Entry(Kind.OTHER_STATE, other.label, str(other.iri(base))), other.names()
        )


def add_short_names(gazetteer: Gazetteer, entry: Entry, name: str) -> None:
    """'Secretariat' for 'OSCE Secretariat': looked up as a source, never searched for in text."""
    for prefix in ("OSCE ", "CSCE "):
        if name.startswith(prefix) and len(name.split()) == 2:
            gazetteer.add(entry, [name.removeprefix(prefix)], searchable=False)


def add_structures(gazetteer: Gazetteer, tables: ReferenceTables, base: str) -> None:
    """Institutions, Secretariat units and field operations, with and without the 'OSCE' prefix."""
    institutions = {i.key: i for i in tables.institutions}
    for institution in tables.institutions:
        entry = Entry(Kind.STRUCTURE, institution.label, str(institution.iri(base)))
        add_names(gazetteer, entry, structure_variants(institution.label))
        add_short_names(gazetteer, entry, institution.label)
        add_names(gazetteer, entry, [institution.abbreviation])
    for unit in tables.secretariat_units:
        if unit.institution_key in institutions:
            label = institutions[unit.institution_key].label
        else:
            label = unit.label
        entry = Entry(Kind.STRUCTURE, label, str(unit.iri(base)))
        for name in (unit.label, *unit.other_names):
            add_names(gazetteer, entry, structure_variants(name))
        add_names(gazetteer, entry, [unit.abbreviation])
    for operation in tables.field_operations:
        entry = Entry(Kind.STRUCTURE, operation.label, str(operation.iri(base)))
        for name in (operation.label, *operation.former_names):
            add_names(gazetteer, entry, structure_variants(name))
        add_names(gazetteer, entry, operation.abbreviations)
        for name in seat_variants(operation.label, operation.kind, operation.seat_city):
            add_names(gazetteer, entry, structure_variants(name))


def seat_variants(label: str, kind: str, seat: str) -> list[str]:
    """Names releases give a field operation by its seat or without an inner "the": "the OSCE
    Belgrade Mission", "the OSCE Assistance Group in Grozny", "Observer Mission at Russian
    Checkpoints ..."."""
    variants = [label.replace(" the ", " ")] if " the " in label else []
    kind = re.split(r"[(;]", kind)[0].strip()
    seat = re.split(r"[(;]", seat)[0].strip()
    if kind and seat and label.startswith(f"OSCE {kind} ") and seat not in label:
        variants += [f"OSCE {seat} {kind}", f"OSCE {kind} in {seat}"]
    return variants


def add_bodies(gazetteer: Gazetteer, tables: ReferenceTables, base: str) -> None:
    """Standing bodies (bodies.tsv) and each year's Chairpersonship, linked by year or State."""
    for body in load_bodies():
        entry = Entry(Kind.STRUCTURE, body.label, str(entity_iri("body", body.key, base=base)))
        for name in (body.label, *body.other_names):
            add_names(gazetteer, entry, structure_variants(name))
        gazetteer.add(entry, body.abbreviations, form=Form.ABBREVIATION)
        if body.key == "chairpersonship":
            gazetteer.standing_chairpersonship = entry
            add_names(gazetteer, entry, ["Chairpersonship", "Chairmanship"])
    for chair in tables.chairpersonships:
        state_name = split_qualifier(chair.state)[0]
        state = gazetteer.lookup(state_name, [Kind.STATE])
        label = f"OSCE Chairpersonship {chair.key} ({state_name})"
        entry = Entry(Kind.STRUCTURE, label, str(chair.iri(base)))
        if chair.key.isdigit():
            gazetteer.chairpersonships[int(chair.key)] = (
                state.label if state else state_name,
                entry,
            )


def add_organisations(gazetteer: Gazetteer, base: str) -> None:
    """Non-OSCE organisations from kg/data/organisations.tsv."""
    for organisation in load_organisations():
        iri = entity_iri("organisation", organisation.key, base=base)
        entry = Entry(Kind.ORGANISATION, organisation.label, str(iri))
        add_names(gazetteer, entry, [organisation.label, *organisation.other_names])
        add_names(gazetteer, entry, organisation.abbreviations)


def add_persons(gazetteer: Gazetteer, tables: ReferenceTables, base: str) -> None:
    """Secretaries General, heads and Chairpersons-in-Office by name."""
    people = [sg.person for sg in tables.secretaries_general]
    people += [head.person for head in tables.heads]
    people += [p for c in tables.chairpersonships for p in c.chairpersons]
    for person in people:
        if person.name and person.key:
            entry = Entry(
                Kind.PERSON, person.name, str(entity_iri("person", person.key, base=base))
            )
            add_names(gazetteer, entry, [person.name])


def add_fields_of_work(gazetteer: Gazetteer) -> None:
    """The fields-of-work concepts of the shipped SKOS vocabularies."""
    folder = ontology_dir()
    graph = Graph()
    vocabularies = folder.joinpath("vocabularies.ttl")
    if not vocabularies.is_file():
        log.warning("no vocabularies.ttl in %s: fields of work stay unlinked", folder)
        return
    graph.parse(data=vocabularies.read_text(encoding="utf-8"), format="turtle")
    concepts: list[tuple[str, str]] = []
    for subject, label in graph.subject_objects(SKOS.prefLabel):
        is_field = isinstance(subject, URIRef) and "/id/field-of-work/" in str(subject)
        if is_field and getattr(label, "language", None) in (None, "en"):
            concepts.append((str(subject).rsplit("/", 1)[1], str(label)))
    for key, text in sorted(concepts):
        # concepts keep the default base: the vocabularies are published under it
        entry = Entry(Kind.FIELD_OF_WORK, text, str(concept_iri("field-of-work", key)))
        gazetteer.add(entry, [text], searchable=False)
