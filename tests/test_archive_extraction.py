"""Extraction of what real archive releases say (issue 9): bodies, organisations, events, people."""

from __future__ import annotations

import csv
from importlib import resources

import pytest

from kg.extraction.extract import extract_release
from kg.extraction.gazetteer import Gazetteer
from kg.extraction.linking import default_gazetteer
from kg.extraction.records import ReleaseRecord
from kg.ingest.raw import RawRelease, truncation_problem
from kg.lexicon.datelines import parse_dateline


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return default_gazetteer()


def extract(
    gazetteer: Gazetteer, *paragraphs: str, date: str = "4 May 2018", sources: tuple[str, ...] = ()
) -> ReleaseRecord:
    raw = RawRelease(
        source_file="made-up.txt",
        reader="text",
        content_type="News",
        title="A release",
        date_text=date,
        place_text=None,
        sources=sources,
        fields_of_work=(),
        paragraphs=paragraphs,
    )
    return extract_release(raw, gazetteer)


def people(record: ReleaseRecord) -> list[tuple[str, str | None, str | None]]:
    return [(p.name, p.role, p.organisation) for p in record.persons]


def event(record: ReleaseRecord) -> tuple[str | None, ...] | None:
    e = record.event
    return None if e is None else (e.type, e.start_date, e.end_date, e.place)


# -- datelines and teasers --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("paragraph", "place", "date", "rest"),
    [
        ("MINSK, 10 September 2001 (OSCE) - The Office", "Minsk", (2001, 9, 10), "The Office"),
        ("NEW YORK CITY, 28 September 2015 A meeting", "New York City", (2015, 9, 28), "A meeting"),
        ("ROME, 14 March 1994 (CSCE) – The", "Rome", (1994, 3, 14), "The"),
    ],
)
def test_datelines_with_an_agency_mark_or_without_a_dash(paragraph, place, date, rest):
    dateline = parse_dateline(paragraph)
    assert dateline is not None
    assert (dateline.place, (dateline.year, dateline.month, dateline.day)) == (place, date)
    assert dateline.rest == rest


def test_no_dash_needs_a_year_so_a_sentence_is_not_a_dateline():
    assert parse_dateline("VIENNA, 4 May The meeting") is None


def test_a_teaser_the_site_cut_is_kept_but_a_cut_body_is_still_truncated():
    assert truncation_problem(['He said: "The emergency services are...']) is None
    assert truncation_problem(["The emergency services are"]) is not None


def test_location_line_and_press_contacts_are_not_release_text(gazetteer):
    record = extract(
        gazetteer,
        "Location: Belgrade",
        "BELGRADE, 19 March 2001 (OSCE) - The Mission met the Government of Serbia today.",
        "For further information contact: Jens Eschenbaecher, Spokesperson, OSCE Secretariat, "
        "Vienna, Austria.",
        date="19 March 2001",
    )
    assert (record.place, record.dateline) == ("Belgrade", "BELGRADE, 19 March 2001")
    assert [m.label for m in record.states_mentioned] == ["Serbia"]
    assert record.osce_structures_mentioned == ()
    assert record.persons == ()


# -- bodies and the Chairpersonship -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "date", "structure"),
    [
        ("The Slovak OSCE Chairpersonship hosted it.", "10 May 2019", "2019 (Slovakia)"),
        ("The OSCE Chairmanship welcomed it.", "3 March 1997", "1997 (Denmark)"),
        ("The Portuguese Chairmanship takes over.", "4 December 2001", "2002 (Portugal)"),
        ("It prepares its own Chairmanship in 2015.", "11 February 2013", "2015 (Serbia)"),
    ],
)
def test_the_chairmanship_links_to_one_years_chairpersonship(gazetteer, text, date, structure):
    record = extract(gazetteer, text, date=date)
    assert [m.label for m in record.osce_structures_mentioned] == [
        f"OSCE Chairpersonship {structure}"
    ]


def test_decision_making_bodies_summits_and_variant_mission_names(gazetteer):
    record = extract(
        gazetteer,
        "The FSC and the Ministerial Council met after the Istanbul Summit. The OSCE Belgrade "
        "Mission and the OSCE Assistance Group in Grozny reported to the OSCE Troika.",
    )
    assert [m.label for m in record.osce_structures_mentioned] == [
        "OSCE Forum for Security Co-operation",
        "OSCE Ministerial Council",
        "OSCE Mission to Serbia",
        "OSCE Assistance Group to Chechnya",
        "OSCE Troika",
        "OSCE Summit",
    ]


def test_a_sub_body_does_not_collapse_into_its_parent(gazetteer):
    record = extract(
        gazetteer,
        "Observers of the Parliamentary Assembly of the Council of Europe and the NATO "
        "Parliamentary Assembly met the EUMM, EULEX and EUFOR.",
    )
    assert [m.label for m in record.other_organisations] == [
        "Parliamentary Assembly of the Council of Europe",
        "NATO Parliamentary Assembly",
        "European Union Monitoring Mission in Georgia",
        "European Union Rule of Law Mission in Kosovo",
        "European Union Force in Bosnia and Herzegovina",
    ]


def test_an_edition_of_a_forum_is_an_event_not_an_organisation(gazetteer):
    record = extract(gazetteer, "The OSCE hosted the 2018 Central Asian Youth Forum today.")
    assert record.other_organisations == ()
    assert event(record) == ("forum", "2018-05-04", "2018-05-04", None)


# -- the organisations table --------------------------------------------------------------------


def organisation_rows() -> list[dict[str, str]]:
    text = resources.files("kg.data").joinpath("organisations.tsv").read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE))


def test_the_organisations_table_is_curated_typed_and_sourced():
    rows = organisation_rows()
    keys = {row["key"] for row in rows}
    assert len(rows) >= 300
    assert all(row["source"].startswith("https://") for row in rows)
    assert all(row["type"] for row in rows)
    assert {row["parent"] for row in rows if row["parent"]} <= keys
    abbreviations = [a.strip() for row in rows for a in row["abbreviations"].split("|") if a]
    assert len(abbreviations) == len(set(abbreviations)), "an abbreviation names two rows"


# -- events --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("paragraph", "expected"),
    [
        (
            "VIENNA, 4 May 2018 – The Mission and UNDP signed a memorandum today.",
            ("signing", "2018-05-04", "2018-05-04", "Vienna"),
        ),
        (
            "PRIZREN, 4 May 2018 – The Task Force handed over its centre in Prizren to the "
            "Mission at a short ceremony on Thursday.",
            ("hand-over", "2018-05-03", "2018-05-03", "Prizren"),
        ),
        (
            "SKOPJE, 4 May 2018 – A network was launched today by the Mission.",
            ("launch", "2018-05-04", "2018-05-04", "Skopje"),
        ),
        (
            "BAKU, 4 May 2018 – The Co-Chairs met the President in Baku today.",
            ("meeting", "2018-05-04", "2018-05-04", "Baku"),
        ),
        (
            "OSH, 4 May 2018 – Officers completed an 18-week course on Saturday.",
            ("training", "2017-12-24", "2018-04-28", "Osh"),  # 18 weeks: 126 days
        ),
    ],
)
def test_events_told_by_new_nouns_verbs_and_durations(gazetteer, paragraph, expected):
    assert event(extract(gazetteer, paragraph)) == expected


@pytest.mark.parametrize(
    "paragraph",
    [
        "The Final Act was signed in Helsinki in 1975.",  # history, not news
        "The agreement signed by both Presidents holds.",
        "The Troika reviewed the situation; the next meeting will follow.",
        "Experts of the Global Counterterrorism Forum compared notes.",
    ],
)
def test_what_is_not_the_reported_event(gazetteer, paragraph):
    assert extract(gazetteer, paragraph).event is None


def test_the_new_event_words_count_only_in_the_lead(gazetteer):
    record = extract(
        gazetteer,
        "VIENNA, 4 May 2018 – The Chairperson issued a statement.",
        "She will attend the anniversary ceremony in August.",
    )
    assert record.event is None


def test_met_yields_to_the_event_noun_of_its_sentence(gazetteer):
    record = extract(gazetteer, "Experts met in Almaty for a seminar on 2 and 3 May.")
    assert event(record) == ("seminar", "2018-05-02", "2018-05-03", "Almaty")


# -- people --------------------------------------------------------------------------------------


def test_names_listed_after_one_plural_title(gazetteer):
    record = extract(
        gazetteer,
        "The Co-Chairs of the OSCE Minsk Group, Ann Berg of Norway, Igor Petrov and Jean "
        "Dupont, arrived. Presidency members Ana Kovač and Ivo Marić spoke.",
    )
    assert people(record) == [
        ("Ann Berg", "Co-Chair", "OSCE Minsk Group"),
        ("Igor Petrov", "Co-Chair", "OSCE Minsk Group"),
        ("Jean Dupont", "Co-Chair", "OSCE Minsk Group"),
        ("Ana Kovač", "Presidency member", None),
        ("Ivo Marić", "Presidency member", None),
    ]


def test_couples_and_heads_of_state_by_surname(gazetteer):
    record = extract(
        gazetteer,
        "Milovan and Ljiljana Petrović returned home. They met President Aliyev of Azerbaijan "
        "and Macedonian President Gligorov. Small Arms and Light Weapons were destroyed.",
    )
    assert people(record) == [
        ("Milovan Petrović", None, None),
        ("Ljiljana Petrović", None, None),
        ("Aliyev", "President", "Azerbaijan"),
        ("Gligorov", "President", "North Macedonia"),
    ]


def test_a_surname_without_a_known_state_is_not_a_person(gazetteer):
    assert extract(gazetteer, "President Smith spoke.").persons == ()


def test_led_by_lower_case_descriptions_and_the_chairperson_in_office(gazetteer):
    record = extract(
        gazetteer,
        "A team led by Heinz Langer arrived. Law professor Elmira Aliyeva said it would help. "
        "The Swiss Chairperson-in-Office, Didier Burkhalter, welcomed it.",
    )
    assert people(record) == [
        ("Heinz Langer", None, None),
        ("Elmira Aliyeva", None, None),
        ("Didier Burkhalter", "Chairperson-in-Office", "OSCE"),
    ]


def test_titles_given_with_as_in_an_appointment(gazetteer):
    record = extract(
        gazetteer,
        "The Council appointed Maria Telalian as ODIHR Director, together with Christophe Kamp "
        "as High Commissioner on National Minorities.",
    )
    assert people(record) == [
        ("Maria Telalian", "Director", "Office for Democratic Institutions and Human Rights"),
        ("Christophe Kamp", "High Commissioner on National Minorities", "OSCE"),
    ]


def test_a_quotation_the_site_cut_still_quotes_its_speaker(gazetteer):
    record = extract(gazetteer, 'Lawyer Vesna Trajkovska said: "We start with twelve members...')
    assert [(p.name, p.quoted) for p in record.persons] == [("Vesna Trajkovska", True)]
