"""Tests of kg.reference.cells: facts-table cells parse into dates, lists, names and kinds."""

from __future__ import annotations

import pytest

from kg.reference.cells import (
    PartialDate,
    normalise_name,
    parse_dates_seen,
    parse_kind,
    parse_other_names,
    parse_partial_date,
    parse_places,
    parse_seat,
    split_list,
    split_qualifier,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1995-12-08", PartialDate("1995-12-08", "day")),
        ("1996-06", PartialDate("1996-06", "month")),
        ("1998", PartialDate("1998", "year")),
        (" 2001-01-11 ", PartialDate("2001-01-11", "day")),
        ("1996-13", None),
        ("2023-02-30", None),
        ("c.2023", None),
        ("2014/2015", None),
        ("", None),
    ],
)
def test_parse_partial_date_keeps_the_precision_and_never_guesses(text, expected):
    assert parse_partial_date(text) == expected


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("2024-02-27", ["2024-02-27"]),
        ("2020-12-04; 2023-10-24", ["2020-12-04", "2023-10-24"]),
        ("2021-03-24 (retrospective)", ["2021-03-24"]),
        ("2015; listed as former HC 2023", ["2015"]),
        ("c.2023 (new premises opened with SG Helga Maria Schmid)", []),
        ("3 April (year not shown; c.2024)", []),
        ("2006-2010", []),
        ("undated (Moldovan MFA page)", []),
    ],
)
def test_dates_seen_take_only_clean_dates(text, values):
    assert [d.value for d in parse_dates_seen(text)] == values


@pytest.mark.parametrize(
    ("text", "separator", "parts"),
    [
        ("Turkey | Republic of Turkey", " | ", ("Turkey", "Republic of Turkey")),
        (" a |  | b ", " | ", ("a", "b")),
        ("Sebastian Kurz; Karin Kneissl", ";", ("Sebastian Kurz", "Karin Kneissl")),
        ("", " | ", ()),
    ],
)
def test_split_list_keeps_only_the_non_empty_parts(text, separator, parts):
    assert split_list(text, separator) == parts


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mongolia (former partner)", ("Mongolia", "former partner")),
        ("Mongolia", ("Mongolia", "")),
        ("(only a remark)", ("(only a remark)", "")),
        ("Pristina (Prishtinë/Priština) ", ("Pristina", "Prishtinë/Priština")),
    ],
)
def test_split_qualifier_separates_a_trailing_bracket(text, expected):
    assert split_qualifier(text) == expected


def test_normalise_name_folds_case_spaces_and_a_leading_the():
    assert normalise_name("The  Holy\tSee ") == "holy see"
    assert normalise_name("Netherlands") == normalise_name("the NETHERLANDS")


def test_other_names_are_sorted_into_former_names_abbreviations_and_predecessors():
    text = (
        "KVM | OSCE Liaison Office in Central Asia (CALO)"
        " | OSCE Centre in Tashkent (predecessor) | OSCE Centre in Almaty"
    )
    former, abbreviations, predecessors = parse_other_names(text)
    assert former == ["OSCE Liaison Office in Central Asia", "OSCE Centre in Almaty"]
    assert abbreviations == ["KVM", "CALO"]
    assert predecessors == ["OSCE Centre in Tashkent"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Centre (earlier Liaison Office)", ("Centre", ("Liaison Office",))),
        ("Office; from 2014 Project Co-ordinator", ("Project Co-ordinator", ("Office",))),
        ("Mission", ("Mission", ())),
    ],
)
def test_parse_kind_finds_the_current_and_earlier_kinds(text, expected):
    assert parse_kind(text) == expected


def test_parse_places_keeps_a_capitalised_qualifier_as_a_place():
    assert parse_places("Azerbaijan / Armenia (conflict)") == ("Azerbaijan", "Armenia")
    assert parse_places("Federal Republic of Yugoslavia (Kosovo)") == (
        "Federal Republic of Yugoslavia",
        "Kosovo",
    )


def test_parse_seat_splits_spellings_and_office_cities():
    assert parse_seat("Pristina (Prishtinë/Priština)") == (
        "Pristina",
        ("Prishtinë", "Priština"),
        (),
    )
    assert parse_seat("Belgrade (common office); Pristina, Novi Pazar, Subotica") == (
        "Belgrade",
        (),
        ("Pristina", "Novi Pazar", "Subotica"),
    )
