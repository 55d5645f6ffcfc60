"""Tests of kg.reference.tables: facts tables load into clean records; bad rows are reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.errors import InputError
from kg.rdf.uris import DEFAULT_BASE, entity_iri
from kg.reference.cells import PartialDate
from kg.reference.tables import load_tables, name_index
from kg.resources import reference_dir


@pytest.fixture(scope="module")
def tables():
    return load_tables()


@pytest.fixture
def table_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped tables, to break on purpose."""
    folder = tmp_path / "reference"
    folder.mkdir()
    for entry in reference_dir().iterdir():
        if entry.name.endswith(".tsv"):
            (folder / entry.name).write_bytes(entry.read_bytes())
    return folder


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_every_table_loads_with_the_documented_row_counts(tables):
    assert tables.errors == ()
    assert len(tables.participating_states) == 57
    assert len(tables.partners) == 12
    assert len(tables.institutions) == 7
    assert len(tables.secretariat_units) == 16
    assert len(tables.field_operations) == 31
    assert sum(op.active for op in tables.field_operations) == 12
    assert len(tables.chairpersonships) == 36
    assert len(tables.secretaries_general) == 8
    assert len(tables.heads) == 86
    assert len(tables.general) == 7


def test_unclear_date_seen_is_kept_as_written(tables):
    ashgabat = [h for h in tables.heads if h.person.name == "John McGregor"]
    assert ashgabat[0].dates_seen == ()
    assert ashgabat[0].date_seen_text.startswith("c.2023")
    clean = [h for h in tables.heads if h.person.name == "William Leaf"]
    assert clean[0].date_seen_text == ""
    assert clean[0].dates_seen == (PartialDate("2025-08-04", "day"),)


def test_states_keep_the_site_names_and_list_earlier_names(tables):
    states = {s.key: s for s in tables.participating_states}
    assert states["tr"].label == "Türkiye"
    assert "Turkey" in states["tr"].other_names
    assert states["mk"].label == "North Macedonia"
    assert states["cz"].label == "Czechia"
    assert states["de"].joined == PartialDate("1973-06-25", "day")
    assert states["ru"].joined is None
    assert states["al"].origin.source_urls[0] == "https://www.osce.org/node/46370"


def test_former_partner_label_is_cleaned_into_a_flag(tables):
    partners = {p.key: p for p in tables.partners}
    assert partners["mn"].label == "Mongolia"
    assert partners["mn"].former is True
    assert [p.key for p in tables.partners if p.former] == ["mn"]
    assert partners["kr"].label == "Republic of Korea"
    assert partners["jp"].since == PartialDate("1992", "year")
    assert partners["mn"].iri(DEFAULT_BASE) == next(
        s for s in tables.participating_states if s.key == "mn"
    ).iri(DEFAULT_BASE)


def test_field_operation_cells_are_split_into_names_kinds_and_places(tables):
    ops = {op.key: op for op in tables.field_operations}
    astana = ops["programme-office-in-astana"]
    assert astana.label == "OSCE Programme Office in Astana"
    assert "OSCE Centre in Almaty" in astana.former_names
    assert ops["kosovo-verification-mission"].abbreviations == ("KVM",)
    assert ops["kosovo-verification-mission"].former_names == ()
    tashkent = ops["centre-in-tashkent"]
    assert (tashkent.kind, tashkent.former_kinds) == ("Centre", ("Liaison Office",))
    assert tashkent.abbreviations == ("CALO",)
    assert ops["project-co-ordinator-in-baku"].former_kinds == ("Office",)
    assert ops["project-co-ordinator-in-uzbekistan"].predecessors == (
        "OSCE Liaison Office in Central Asia",
        "OSCE Centre in Tashkent",
    )
    kosovo = ops["mission-in-kosovo"]
    assert (kosovo.seat_city, kosovo.seat_city_other_names) == (
        "Pristina",
        ("Prishtinë", "Priština"),
    )
    long_duration = ops["missions-of-long-duration-in-kosovo-sandjak-and-vojvodina"]
    assert long_duration.seat_city == "Belgrade"
    assert long_duration.office_cities == ("Pristina", "Novi Pazar", "Subotica")
    assert ops["personal-representative-of-the-cio-minsk-conference"].host_states == (
        "Azerbaijan",
        "Armenia",
    )
    assert ops["task-force-for-kosovo"].host_states == ("Federal Republic of Yugoslavia", "Kosovo")
    assert ops["centre-in-tashkent"].active is False
    assert ops["centre-in-tashkent"].closed is None


def test_chairpersons_are_split_with_their_remarks(tables):
    chairs = {c.key: c for c in tables.chairpersonships}
    assert [p.name for p in chairs["2002"].chairpersons] == [
        "Jaime Gama",
        "António Martins da Cruz",
    ]
    kneissl = chairs["2017"].chairpersons[1]
    assert (kneissl.name, kneissl.qualifier) == ("Karin Kneissl", "from 18 Dec 2017")
    assert chairs["1994"].chairpersons == ()


def test_name_index_links_earlier_names_and_abbreviations(tables):
    index = name_index(tables, DEFAULT_BASE)
    astana = entity_iri("field-operation", "programme-office-in-astana", base=DEFAULT_BASE)
    assert index["osce centre in almaty"] == astana
    assert index["osce programme office in nur-sultan"] == astana
    assert index["netherlands"] == entity_iri("state", "nl", base=DEFAULT_BASE)
    assert index["turkey"] == entity_iri("state", "tr", base=DEFAULT_BASE)
    assert index["odihr"] == entity_iri("institution", "odihr", base=DEFAULT_BASE)
    assert index["tntd"] == entity_iri("unit", "tntd", base=DEFAULT_BASE)
    assert index["documentation centre in prague"] == entity_iri(
        "institution", "documentation-centre-in-prague", base=DEFAULT_BASE
    )


def test_a_bad_date_is_reported_with_file_field_and_line_and_the_rest_loads(table_copy):
    replace_in(table_copy / "participating_states.tsv", "1991-06-19", "1991-06-31")
    tables = load_tables(table_copy)
    assert len(tables.participating_states) == 57
    albania = next(s for s in tables.participating_states if s.key == "al")
    assert albania.joined is None
    [error] = tables.errors
    assert (error.path, error.field, error.line) == ("participating_states.tsv", "joined", 2)
    assert "'1991-06-31' is not a date" in str(error)
    assert "YYYY-MM-DD" in str(error)


def test_a_row_with_a_wrong_field_count_is_skipped_and_reported(table_copy):
    path = table_copy / "partners.tsv"
    path.write_text(path.read_text(encoding="utf-8") + "xx\tNowhere\n", encoding="utf-8")
    tables = load_tables(table_copy)
    assert len(tables.partners) == 12
    [error] = tables.errors
    assert error.path == "partners.tsv"
    assert error.line == 14
    assert "fields" in error.problem


def test_a_duplicate_key_is_reported(table_copy):
    replace_in(table_copy / "institutions.tsv", "hcnm\t", "odihr\t")
    tables = load_tables(table_copy)
    assert len(tables.institutions) == 6
    assert [(e.path, e.field) for e in tables.errors] == [("institutions.tsv", "key")]
    assert "duplicate" in tables.errors[0].problem


def test_a_missing_column_stops_with_a_clear_error(table_copy):
    replace_in(table_copy / "chairpersonships.tsv", "chairperson_in_office", "cio")
    with pytest.raises(InputError) as raised:
        load_tables(table_copy)
    assert raised.value.path == "chairpersonships.tsv"
    assert raised.value.field == "chairperson_in_office"
    assert "missing" in str(raised.value)
