"""Browsing by class: /browse/ and /browse/{class}, paged, sorted, faceted; HTML, JSON and CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from flask import Flask
from flask.testing import FlaskClient

from kg.publish.search_index import fold
from server.browse_lists import ListCache
from tests.conftest import make_test_build, write_utf8
from tests.sample_build import sample_app, sample_build

OSCE = "https://w3id.org/osce-kg/ontology#"
ID = "https://w3id.org/osce-kg/id/"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_build(tmp_path_factory)


@pytest.fixture(scope="module")
def sample(built: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    yield from sample_app(built, tmp_path_factory.mktemp("browse-cache"))


@pytest.fixture
def web(sample: Flask) -> FlaskClient:
    return sample.test_client()


@pytest.fixture(scope="module")
def store(built: Path) -> ox.Store:
    return ox.Store.read_only(str(built / "store"))


def listing(web: FlaskClient, path: str, **params: Any) -> dict[str, Any]:
    response = web.get(path, query_string=params, headers={"Accept": "application/json"})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    body: dict[str, Any] = response.get_json()
    return body


def releases_where(store: ox.Store, pattern: str) -> set[str]:
    """The releases the store says match a pattern on ?s (what a facet must agree with)."""
    query = f"SELECT DISTINCT ?s WHERE {{ ?s a <{OSCE}PressRelease> . {pattern} }}"
    rows = store.query(query, use_default_graph_as_union=True)
    assert isinstance(rows, ox.QuerySolutions)
    return {row["s"].value for row in rows}


def all_items(web: FlaskClient, path: str, **params: Any) -> list[dict[str, Any]]:
    items = listing(web, path, size=1000, **params)["items"]
    assert isinstance(items, list)
    return items


def test_browse_lists_every_class_with_its_count_and_list(web: FlaskClient) -> None:
    classes = listing(web, "/browse/")["classes"]
    by_id = {c["id"]: c for c in classes}
    assert by_id["PressRelease"]["url"] == "/browse/PressRelease"
    assert by_id["org:Organization"]["url"] == "/browse/org:Organization"
    assert not any(c["iri"].startswith("http://www.w3.org/2002/07/owl#") for c in classes)
    releases = listing(web, "/browse/PressRelease")
    assert releases["total"] == by_id["PressRelease"]["count"]
    html = web.get("/browse/").get_data(as_text=True)
    assert '<a href="/browse/PressRelease">' in html


def test_the_home_page_links_each_class_to_its_list(web: FlaskClient) -> None:
    html = web.get("/").get_data(as_text=True)
    assert '<a href="/browse/PressRelease">' in html
    assert '<a href="/browse/ParticipatingState">' in html


def test_releases_come_newest_first_and_page_without_overlap(
    web: FlaskClient, store: ox.Store
) -> None:
    everything = all_items(web, "/browse/PressRelease")
    assert len(everything) == len(releases_where(store, ""))
    dates = [item["date"] for item in everything]
    assert dates == sorted(dates, reverse=True)
    first = listing(web, "/browse/PressRelease", size=7)
    second = listing(web, "/browse/PressRelease", size=7, page=2)
    assert [i["id"] for i in first["items"] + second["items"]] == [i["id"] for i in everything[:14]]
    assert first["next"] == "/browse/PressRelease.json?sort=-date&size=7&page=2"
    assert first["previous"] is None and second["previous"] is not None


def test_the_html_list_links_its_pages_and_forms(web: FlaskClient) -> None:
    response = web.get("/browse/PressRelease?size=7&page=2")
    html = response.get_data(as_text=True)
    assert '<link rel="alternate" type="text/csv"' in html
    assert 'rel="next"' in response.headers["Link"] and 'rel="prev"' in response.headers["Link"]
    assert '<nav class="pages" aria-label="Pages of the list">' in html
    assert 'aria-sort="descending"' in html  # by date, newest first
    assert '<nav class="facets" aria-labelledby="facets-heading">' in html


@pytest.mark.parametrize("sort", ["label", "-label"])
def test_lists_sort_by_label(web: FlaskClient, sort: str) -> None:
    labels = [
        fold(item["label"]) for item in all_items(web, "/browse/ParticipatingState", sort=sort)
    ]
    assert len(labels) > 50
    assert labels == sorted(labels, reverse=sort == "-label")


def test_a_list_follows_the_browser_language(web: FlaskClient) -> None:
    response = web.get(
        "/browse/ParticipatingState.json?size=200", headers={"Accept-Language": "de"}
    )
    labels = {item["id"]: item["label"] for item in response.get_json()["items"]}
    assert labels["state/at"] == "Österreich"


@pytest.mark.parametrize(
    ("facet", "value", "pattern"),
    [
        ("state", "state/kg", f"?s <{OSCE}mentionsState> <{ID}state/kg>"),
        (
            "structure",
            "field-operation/programme-office-in-bishkek",
            f"?s <{OSCE}mentionsStructure> <{ID}field-operation/programme-office-in-bishkek>",
        ),
        ("year", "2024", "?s <https://schema.org/datePublished> ?d FILTER(YEAR(?d) = 2024)"),
    ],
)
def test_a_facet_narrows_releases_as_the_store_says(
    web: FlaskClient, store: ox.Store, facet: str, value: str, pattern: str
) -> None:
    expected = releases_where(store, pattern)
    assert expected
    narrowed = listing(web, "/browse/PressRelease", **{facet: value})
    assert {item["iri"] for item in narrowed["items"]} == expected
    assert narrowed["total"] == len(expected)
    chosen = [v for v in narrowed["facets"][facet] if v["selected"]]
    assert [v["value"] for v in chosen] == [value]
    assert chosen[0]["count"] == len(expected)


def test_facet_counts_agree_with_the_lists_they_link_to(web: FlaskClient) -> None:
    releases = listing(web, "/browse/PressRelease")
    assert set(releases["facets"]) == {"year", "content_type", "field", "state", "structure"}
    for value in releases["facets"]["field"][:3]:
        assert value["selected"] is False
        narrowed = web.get(value["url"], headers={"Accept": "application/json"}).get_json()
        assert narrowed["total"] == value["count"]
    years = releases["facets"]["year"]
    assert sum(v["count"] for v in years) == releases["total"]  # one year per release


def test_two_facets_together_keep_releases_with_both(web: FlaskClient, store: ox.Store) -> None:
    both = listing(web, "/browse/PressRelease", state="state/kg", content_type="content-type/news")
    expected = releases_where(
        store,
        f"?s <{OSCE}mentionsState> <{ID}state/kg> ; <{OSCE}contentType> <{ID}content-type/news>",
    )
    assert {item["iri"] for item in both["items"]} == expected
    assert both["filters"] == {"state": ["state/kg"], "content_type": ["content-type/news"]}


def test_other_classes_have_no_facets(web: FlaskClient) -> None:
    people = listing(web, "/browse/Person")
    assert people["facets"] == {}
    assert people["sort"] == "label"


@pytest.mark.parametrize(
    ("path", "accept", "media_type"),
    [
        ("/browse/PressRelease.json", None, "application/json"),
        ("/browse/PressRelease.csv", None, "text/csv"),
        ("/browse/PressRelease?format=csv", None, "text/csv"),
        ("/browse/PressRelease?format=json", None, "application/json"),
        ("/browse/PressRelease", "text/csv", "text/csv"),
        ("/browse/PressRelease", "application/json", "application/json"),
        ("/browse/PressRelease", "text/html,*/*;q=0.8", "text/html"),
        ("/browse/PressRelease", None, "text/html"),
    ],
)
def test_each_list_is_html_json_or_csv(
    web: FlaskClient, path: str, accept: str | None, media_type: str
) -> None:
    response = web.get(path, headers={"Accept": accept} if accept else {})
    assert response.status_code == 200
    assert response.mimetype == media_type
    assert "Accept" in response.headers["Vary"]


def test_the_csv_has_a_header_and_the_rows_of_the_page(web: FlaskClient) -> None:
    response = web.get("/browse/PressRelease.csv?state=state/kg")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["id", "iri", "label", "date"]
    items = listing(web, "/browse/PressRelease", state="state/kg")["items"]
    assert [row[1] for row in rows[1:]] == [item["iri"] for item in items]
    assert 'filename="PressRelease.csv"' in response.headers["Content-Disposition"]


def test_csv_cells_a_spreadsheet_would_run_are_defused(tmp_path: Path) -> None:
    trig = write_utf8(
        tmp_path / "formula.trig",
        f"""<{ID}city/x> a <{OSCE}City> ;
             <http://www.w3.org/2000/01/rdf-schema#label> "=HYPERLINK(\\"http://x\\")"@en .""",
    )
    build = make_test_build(tmp_path / "build", trig)
    apps = sample_app(build, tmp_path / "cache")
    app = next(apps)
    text = app.test_client().get("/browse/City.csv").get_data(as_text=True)
    apps.close()
    assert "'=HYPERLINK" in text


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/browse/NoSuchClass", 404, "no class 'NoSuchClass'"),
        ("/browse/nope:Thing", 404, "no class"),
        ("/browse/a%20%3Cb%3E", 404, "no class"),  # not even an IRI
        ("/browse/PressRelease?state=a%20b", 400, "not the id of a thing"),
        ("/browse/PressRelease?page=0", 400, "page"),
        ("/browse/PressRelease?page=999", 404, "past the last page"),
        ("/browse/PressRelease?size=5000", 400, "size"),
        ("/browse/PressRelease?sort=random", 400, "sort"),
        ("/browse/PressRelease?year=20x4", 400, "not a year"),
        ("/browse/PressRelease?format=xml", 406, "format"),
    ],
)
def test_bad_list_requests_say_what_is_wrong(
    web: FlaskClient, path: str, status: int, message: str
) -> None:
    response = web.get(path, headers={"Accept": "application/json"})
    assert response.status_code == status
    assert message in response.get_json()["message"]


def test_a_list_of_things_without_labels_shows_their_fallback_labels(web: FlaskClient) -> None:
    quotes = listing(web, "/browse/Quotation", size=5)["items"]
    assert all(item["label"].startswith("“") for item in quotes)


@pytest.mark.parametrize(
    "path",
    [
        "/browse/",
        "/browse/PressRelease?state=state/kg",
        "/browse/PressRelease.csv",
        "/search?q=vienna",
        "/api/search?q=vienna",
        "/reconcile/suggest/entity?prefix=vie",
        "/reconcile/preview?id=city/vienna",
        "/reconcile",
    ],
)
def test_answers_carry_validators_and_a_repeat_is_304(web: FlaskClient, path: str) -> None:
    first = web.get(path)
    assert first.status_code == 200 and first.headers["ETag"] and first.headers["Last-Modified"]
    again = web.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    german = web.get(path, headers={"Accept-Language": "de"})
    assert german.headers["ETag"] != first.headers["ETag"]  # labels follow the language


def test_lists_are_made_once_per_build_and_the_cache_stays_bounded(sample: Flask) -> None:
    made: list[int] = []

    def make(n: int) -> list[int]:
        made.append(n)
        return [n] * 10

    cache = ListCache(max_entries=3, max_rows=25)
    with sample.test_request_context("/"):
        assert cache.get(("a",), lambda: make(1)) == [1] * 10
        assert cache.get(("a",), lambda: make(2)) == [1] * 10  # kept: not made again
        cache.get(("b",), lambda: make(3))
        cache.get(("c",), lambda: make(4))  # 30 rows > 25: the oldest ("a") goes
        assert list(cache.entries) == [("b",), ("c",)] and cache.rows == 20
        cache.build = Path("/another/build")  # as if a new build were served
        cache.get(("b",), lambda: make(5))
    assert made == [1, 3, 4, 5]
