"""Tests of the release readers: datelines, page text, HTML, listing pages and JSON Lines."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kg.extraction.evaluate import find_release_files
from kg.extraction.pipeline import read_releases
from kg.ingest.formats import read_raw, reader_name
from kg.ingest.inputs import collect_release_files
from kg.ingest.raw import truncation_problem
from kg.ingest.readers.html import read_html
from kg.ingest.readers.jsonl import read_jsonl
from kg.ingest.readers.listing import looks_like_listing, read_listing
from kg.ingest.readers.text import read_page_text
from kg.lexicon.datelines import (
    DateValueError,
    parse_dateline,
    parse_written_date,
    title_case_place,
)
from tests.conftest import write_utf8

RELEASES = Path(__file__).parent / "data" / "releases"
SEED = RELEASES / "seed-dushanbe-2018.txt"

NAVIGATION = "-\nOur work\n-\nFields of work\n- Arms control\n- Countering terrorism\n-\nCountries\n- Serbia\n- Tajikistan\n- About us\n"  # noqa: E501


@pytest.mark.parametrize(
    ("paragraph", "text", "place", "day", "month", "year", "rest"),
    [
        ("DUSHANBE, 4 May 2018 – The", "DUSHANBE, 4 May 2018", "Dushanbe", 4, 5, 2018, "The"),
        (
            "OSH, Kyrgyzstan, 14 March 2006- The",
            "OSH, Kyrgyzstan, 14 March 2006",
            "Osh, Kyrgyzstan",
            14,
            3,
            2006,
            "The",
        ),
        (
            "WARSAW/VIENNA, 3 Sept. 2019 -- A",
            "WARSAW/VIENNA, 3 Sept. 2019",
            "Warsaw/Vienna",
            3,
            9,
            2019,
            "A",
        ),
        (
            "WARSAW / VIENNA, 3 Sept 2019 - A",
            "WARSAW / VIENNA, 3 Sept 2019",
            "Warsaw / Vienna",
            3,
            9,
            2019,
            "A",
        ),
        (
            "VIENNA, BRUSSELS, GENEVA, 12 Jan — Talks",
            "VIENNA, BRUSSELS, GENEVA, 12 Jan",
            "Vienna, Brussels, Geneva",
            12,
            1,
            None,
            "Talks",
        ),
        ("THE HAGUE,5 Dec 2020–The", "THE HAGUE,5 Dec 2020", "The Hague", 5, 12, 2020, "The"),
        (
            "NUR-SULTAN, 30 November 2019 — Police",
            "NUR-SULTAN, 30 November 2019",
            "Nur-Sultan",
            30,
            11,
            2019,
            "Police",
        ),
        (
            "SARAJEVO, BOSNIA AND HERZEGOVINA, 1 June 2001 - x",
            "SARAJEVO, BOSNIA AND HERZEGOVINA, 1 June 2001",
            "Sarajevo, Bosnia and Herzegovina",
            1,
            6,
            2001,
            "x",
        ),
        ("Vienna, May 4, 2018 - x", "Vienna, May 4, 2018", "Vienna", 4, 5, 2018, "x"),
        ("CHIŞINĂU, 2 Feb. 2010 – x", "CHIŞINĂU, 2 Feb. 2010", "Chişinău", 2, 2, 2010, "x"),
        ("SKOPJE, 21st April 2005 – x", "SKOPJE, 21st April 2005", "Skopje", 21, 4, 2005, "x"),
        ("4 May 2018 – The", "4 May 2018", None, 4, 5, 2018, "The"),
        # a month in capitals, a country in brackets, a numeric date
        ("WARSAW, 5 JUNE 2018 – x", "WARSAW, 5 JUNE 2018", "Warsaw", 5, 6, 2018, "x"),
        (
            "ALMATY (Kazakhstan), 5 June 2018 – x",
            "ALMATY (Kazakhstan), 5 June 2018",
            "Almaty (Kazakhstan)",
            5,
            6,
            2018,
            "x",
        ),
        ("BISHKEK, 05.06.2018 – x", "BISHKEK, 05.06.2018", "Bishkek", 5, 6, 2018, "x"),
    ],
)
def test_datelines_in_all_variants_are_read(
    paragraph: str, text: str, place: str | None, day: int, month: int, year: int | None, rest: str
) -> None:
    dateline = parse_dateline(paragraph)
    assert dateline is not None
    assert (dateline.text, dateline.place, dateline.day, dateline.month, dateline.year) == (
        text,
        place,
        day,
        month,
        year,
    )
    assert dateline.rest == rest


@pytest.mark.parametrize(
    "paragraph",
    [
        "The conference, 4 May 2018 - was a success.",
        "In Vienna today, the OSCE opened a seminar.",
        "On 4 May the Mission opened an office.",
        "",
    ],
)
def test_paragraphs_without_a_dateline_give_none(paragraph: str) -> None:
    assert parse_dateline(paragraph) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4 May 2018", dt.date(2018, 5, 4)),
        ("04 May 2018", dt.date(2018, 5, 4)),
        ("4 Sept. 2018", dt.date(2018, 9, 4)),
        ("4 Jan 2018", dt.date(2018, 1, 4)),
        ("May 4, 2018", dt.date(2018, 5, 4)),
        ("2018-05-04", dt.date(2018, 5, 4)),
        ("04.05.2018", dt.date(2018, 5, 4)),
        ("29 February 2024", dt.date(2024, 2, 29)),
    ],
)
def test_written_dates_are_read(text: str, expected: dt.date) -> None:
    assert parse_written_date(text) == expected


@pytest.mark.parametrize(
    "text", ["31 February 2019", "29 February 2023", "2018-13-01", "4 Mai 2018", "soon"]
)
def test_impossible_or_unreadable_dates_raise(text: str) -> None:
    with pytest.raises(DateValueError):
        parse_written_date(text)


@pytest.mark.parametrize(
    ("written", "title_case"),
    [
        ("DUSHANBE", "Dushanbe"),
        ("WARSAW/VIENNA", "Warsaw/Vienna"),
        ("OSH, Kyrgyzstan", "Osh, Kyrgyzstan"),
        ("THE HAGUE", "The Hague"),
        ("BOSNIA AND HERZEGOVINA", "Bosnia and Herzegovina"),
        ("Vienna", "Vienna"),
    ],
)
def test_places_are_title_cased_with_separators_kept(written: str, title_case: str) -> None:
    assert title_case_place(written) == title_case


def test_the_seed_page_gives_its_metadata_and_skips_the_navigation() -> None:
    raw = read_page_text(SEED.read_text(encoding="utf-8"), SEED)
    assert raw.error is None
    assert raw.content_type == "Press release"
    assert raw.title is not None and raw.title.startswith("Need for strong co-operation")
    assert raw.date_text is None
    assert raw.place_text == "DUSHANBE"
    assert raw.sources == ("OSCE Secretariat", "OSCE Programme Office in Dushanbe")
    assert raw.fields_of_work == ("Countering terrorism",)
    assert len(raw.paragraphs) == 8
    assert raw.paragraphs[0].startswith("DUSHANBE, 4 May 2018 –")
    assert not any(p.startswith("- ") for p in raw.paragraphs)


@pytest.mark.parametrize(
    ("metadata", "date", "place", "sources", "fields"),
    [
        ("- Date: 4 May 2018\n- Place: Vienna\n", "4 May 2018", "Vienna", (), ()),
        (
            "- Date:\n- 4 May 2018\n- Source:\n- OSCE Secretariat\n- OSCE Mission to Serbia\n",
            "4 May 2018",
            None,
            ("OSCE Secretariat", "OSCE Mission to Serbia"),
            (),
        ),
        (
            "- Date:\n- Place:\n- Source: ODIHR, HCNM\n- Fields of work:\n- Elections, Human rights\n",  # noqa: E501
            None,
            None,
            ("ODIHR", "HCNM"),
            ("Elections", "Human rights"),
        ),
        ("Date: May 4, 2018\nPlace: Osh, Kyrgyzstan\n", "May 4, 2018", "Osh, Kyrgyzstan", (), ()),
    ],
)
def test_metadata_values_on_the_label_line_or_following_lines(
    metadata: str,
    date: str | None,
    place: str | None,
    sources: tuple[str, ...],
    fields: tuple[str, ...],
) -> None:
    text = f"{NAVIGATION}News\nA title\n{metadata}VIENNA, 4 May 2018 – The body.\n"
    raw = read_page_text(text, "page.txt")
    assert raw.error is None
    assert (raw.content_type, raw.title) == ("News", "A title")
    assert (raw.date_text, raw.place_text, raw.sources, raw.fields_of_work) == (
        date,
        place,
        sources,
        fields,
    )
    assert raw.paragraphs == ("VIENNA, 4 May 2018 – The body.",)


def test_a_page_without_metadata_reads_content_type_title_and_body() -> None:
    text = f"{NAVIGATION}Statement\nThe title\nVIENNA, 4 May 2018 – First.\nSecond paragraph.\n"
    raw = read_page_text(text, "page.txt")
    assert (raw.content_type, raw.title, raw.paragraphs) == (
        "Statement",
        "The title",
        ("VIENNA, 4 May 2018 – First.", "Second paragraph."),
    )


def test_page_furniture_above_the_content_type_is_not_the_title() -> None:
    page = [
        "Menu",
        "- Home",
        "- About",
        "Newsroom",
        "Press release",
        "The title",
        "- Date: 4 May 2018",
    ]
    text = "\n".join([*page, "VIENNA – Body."])
    raw = read_page_text(text, "page.txt")
    assert (raw.content_type, raw.title, raw.date_text) == (
        "Press release",
        "The title",
        "4 May 2018",
    )


def test_blank_line_separated_blocks_are_joined_into_paragraphs() -> None:
    text = "News\nTitle\n- Date: 4 May 2018\n\nFirst line\nwrapped here.\n\nSecond block.\n"
    assert read_page_text(text, "p.txt").paragraphs == ("First line wrapped here.", "Second block.")


@pytest.mark.parametrize(
    ("text", "field", "words"),
    [
        (f"{NAVIGATION}Press release\n- Date: 4 May 2018\nVIENNA – Body.\n", "title", "no title"),
        (NAVIGATION, "title", "truncated"),
        (
            f"{NAVIGATION}Press release\nTitle\n- Date: 4 May 2018\n- Place: Vienna\n",
            "body",
            "no body",
        ),
        (
            f"{NAVIGATION}News\nTitle\n- Date: 4 May 2018\nVIENNA – The Mission and the",
            "body",
            "mid-sentence",
        ),
        (
            f"{NAVIGATION}News\nTitle\n- Date: 4 May 2018\nVIENNA – He said: “We will,",
            "body",
            "mid-sentence",
        ),
        (
            f"{NAVIGATION}News\nTitle\n- Date: 4 May 2018\nVIENNA – He said: “We will go.",
            "body",
            "quotation",
        ),
    ],
)
def test_unusable_pages_get_an_error_naming_file_and_field(
    text: str, field: str, words: str
) -> None:
    raw = read_page_text(text, "broken.txt")
    assert raw.error is not None
    message = raw.error.describe()
    assert message.startswith("broken.txt: ")
    assert f"field {field!r}" in message
    assert words in message


@pytest.mark.parametrize(
    ("paragraphs", "cut"),
    [
        (["It ended."], False),
        (["“We are ready,” she said."], False),
        (["- a list item"], False),
        (["Contact: press@osce.org"], False),
        (["See the report at 2018"], False),
        (["It ended with the"], True),
        (["Participants discussed,"], True),
        (["The Head said:"], True),
        ([], True),
    ],
)
def test_truncation_is_told_from_a_complete_ending(paragraphs: list[str], cut: bool) -> None:
    assert (truncation_problem(paragraphs) is not None) is cut


def test_html_is_reduced_to_text_without_navigation_and_read_like_a_page() -> None:
    path = RELEASES / "bishkek-workshop.html"
    raw = read_html(path.read_text(encoding="utf-8"), path)
    assert raw.error is None
    assert raw.reader == "html"
    assert (raw.content_type, raw.title) == (
        "Press release",
        "Police and communities meet in Osh to plan joint crime prevention",
    )
    assert (raw.date_text, raw.place_text) == ("12 October 2019", "Osh, Kyrgyzstan")
    assert raw.sources == ("OSCE Programme Office in Bishkek",)
    assert raw.fields_of_work == ("Policing", "Youth")
    assert len(raw.paragraphs) == 3
    assert raw.paragraphs[0].startswith("OSH, Kyrgyzstan, 12 Oct. 2019 – A two-day workshop")
    body = " ".join(raw.paragraphs)
    for dropped in ("Mission to Moldova", "Conflict Prevention Centre", "tracking", "social media"):
        assert dropped not in body


def test_html_without_closing_tags_is_truncated() -> None:
    text = (RELEASES / "bishkek-workshop.html").read_text(encoding="utf-8")
    cut = text[: text.index("</article>")]
    raw = read_html(cut, "cut.html")
    assert raw.error is not None and "closing" in raw.error.describe()


def test_html_title_falls_back_to_the_h1() -> None:
    html = "<html><body><h1>Only a heading</h1><ul><li>Date: 1 June 2020</li></ul><p>VIENNA – Body.</p></body></html>"  # noqa: E501
    raw = read_html(html, "x.html")
    assert raw.title == "Only a heading"


@pytest.mark.parametrize("colon", [":", ""])
def test_html_definition_list_metadata_with_or_without_colons(colon: str) -> None:
    html = (
        "<html><body><p>News</p><h1>A title</h1><dl>"
        f"<dt>Date{colon}</dt><dd>15 November 2017</dd><dt>Place{colon}</dt><dd>TIRANA</dd>"
        f"<dt>Source{colon}</dt><dd>OSCE Presence in Albania</dd>"
        f"<dt>Fields of work{colon}</dt><dd>Policing</dd><dd>Rule of law</dd></dl>"
        "<p>TIRANA, 15 November 2017 – The body.</p></body></html>"
    )
    raw = read_html(html, "dl.html")
    assert (raw.content_type, raw.title, raw.date_text, raw.place_text) == (
        "News",
        "A title",
        "15 November 2017",
        "TIRANA",
    )
    assert raw.sources == ("OSCE Presence in Albania",)
    assert raw.fields_of_work == ("Policing", "Rule of law")
    assert raw.paragraphs == ("TIRANA, 15 November 2017 – The body.",)


def test_listing_items_become_releases_and_a_bad_item_does_not_stop_the_rest() -> None:
    path = RELEASES / "newsroom-listing.txt"
    items = read_listing(path.read_text(encoding="utf-8"), path)
    assert [i.title for i in items] == [
        "Young lawyers from Moldova trained on fair trial standards",
        "ODIHR Director opens election observation mission in Georgia",
        None,
        "Border officers from Tajikistan and Afghanistan study risk analysis",
    ]
    assert [i.error is None for i in items] == [True, True, False, True]
    first = items[0]
    assert (first.content_type, first.date_text) == ("Press release", "21 November 2012")
    assert first.sources == ("OSCE Mission to Moldova",)
    assert first.fields_of_work == ("Rule of law", "Human rights")
    assert len(first.paragraphs) == 1 and first.paragraphs[0].startswith("CHISINAU, 21 Nov. 2012")
    assert items[3].paragraphs[0].endswith("with the support of the European Union.")
    assert "item 3" in str(items[2].error) and "line 18" in str(items[2].error)


def test_a_listing_item_without_a_lead_is_truncated() -> None:
    text = "First title\nPublishing date: 1 May 2015\nContent type: News\n"
    [item] = read_listing(text, "l.txt")
    assert item.error is not None and "truncated" in item.error.describe()


def test_json_lines_with_a_bad_line_give_an_error_record_and_the_rest() -> None:
    path = RELEASES / "scraped.jsonl"
    items = read_jsonl(path.read_text(encoding="utf-8"), path)
    assert [i.error is None for i in items] == [True, False, True]
    assert "scraped.jsonl:2:" in str(items[1].error)
    assert items[0].paragraphs[1].startswith("“This is a step")
    assert items[2].sources == ("High Commissioner on National Minorities",)
    assert items[2].fields_of_work == ("National minority issues", "Education")
    assert len(items[2].paragraphs) == 2


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ('["not", "an", "object"]', "not an object"),
        ('{"title": 5, "body": "VIENNA – x."}', "'title'"),
        ('{"title": "T", "sources": [1, 2], "body": "VIENNA – x."}', "'sources'"),
        ('{"title": "", "body": "VIENNA – x."}', "no title"),
        ('{"title": "T", "body": ""}', "no body"),
    ],
)
def test_bad_json_objects_are_errors(line: str, words: str) -> None:
    [item] = read_jsonl(line + "\n", "x.jsonl")
    assert item.error is not None and words in item.error.describe()


LISTING = "Title\nPublishing date: 1 May 2015\nContent type: News\nLead."


@pytest.mark.parametrize(
    ("name", "content", "reader"),
    [
        ("a.html", "<p>x</p>", "html"),
        ("a.HTM", "<p>x</p>", "html"),
        ("a.xhtml", "<p>x</p>", "html"),
        ("a.jsonl", "{}", "jsonl"),
        ("a.ndjson", "{}", "jsonl"),
        ("a.txt", LISTING, "listing"),
        ("a.text", LISTING, "listing"),
        (
            "a.txt",
            "News\nTitle\n- Date: 1 May 2015\n- Source: X\nPublishing date: 1 May\nBody.",
            "text",
        ),
        ("a.txt", "News\nTitle\nBody.", "text"),
        # no ending: plain text, never taken for HTML; an unknown ending: sniffed
        ("a", "<p>x</p>", "text"),
        ("a", LISTING, "listing"),
        ("a.dat", "<p>x</p>", "html"),
        ("a.dat", '{"title": "T"}', "text"),  # JSON Lines is known by its ending only
        ("a.txt", "<p>x</p>", "text"),
    ],
)
def test_the_reader_is_chosen_by_extension_then_content(
    tmp_path: Path, name: str, content: str, reader: str
) -> None:
    path = write_utf8(tmp_path / name, content)
    assert reader_name(path) == reader
    assert reader_name(path, content) == reader


def test_every_ending_a_reader_takes_is_found_in_a_folder_and_read(tmp_path: Path) -> None:
    folder = tmp_path / "saved"
    html, jsonl = (RELEASES / name for name in ("bishkek-workshop.html", "scraped.jsonl"))
    page = write_utf8(folder / "html" / "page.xhtml", html.read_text(encoding="utf-8"))
    feed = write_utf8(folder / "feed.ndjson", jsonl.read_text(encoding="utf-8"))
    write_utf8(folder / "notes.md", "not a release")
    write_utf8(folder / "README.txt", "about these files")
    assert [f.name for f in collect_release_files([folder])] == ["feed.ndjson", "html/page.xhtml"]
    assert find_release_files(folder) == [feed, page]
    assert [raw.reader for raw in read_raw(page)] == ["html"]
    assert [raw.reader for raw in read_raw(feed)] == ["jsonl"] * 3
    [as_html] = read_releases(html)
    assert [r.to_json() for r in read_releases(page)] == [as_html.to_json()]


def test_listing_detection_needs_publishing_dates_and_no_page_labels() -> None:
    assert looks_like_listing("T\nPublishing date: 1 May 2015\nLead.")
    assert not looks_like_listing("T\n- Date: 1 May 2015\nPublishing date: 1 May 2015")
    assert not looks_like_listing("T\nBody.")


def test_a_file_that_is_not_utf8_is_one_error_record(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("News\nTitre\nVIENNE - Café.".encode("latin-1"))
    [raw] = read_raw(path)
    assert raw.error is not None and "UTF-8" in raw.error.describe()


def test_read_releases_gives_records_for_every_release_of_every_format() -> None:
    counts = {name: len(read_releases(RELEASES / name)) for name in (
        "seed-dushanbe-2018.txt", "bishkek-workshop.html", "newsroom-listing.txt", "scraped.jsonl",
    )}  # fmt: skip
    assert counts == {
        "seed-dushanbe-2018.txt": 1,
        "bishkek-workshop.html": 1,
        "newsroom-listing.txt": 4,
        "scraped.jsonl": 3,
    }
