"""Label search: the build's FTS5 index, /api/search, the /search page and the search box."""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from flask import Flask
from flask.testing import FlaskClient

from kg.publish.layout import BuildLayout
from kg.publish.search_index import (
    Lookup,
    SearchIndex,
    SearchIndexError,
    fold,
    match_expression,
    search_index_file,
    write_search_index,
)
from server.label_search import CACHE_MAX_AGE, prune_cache
from tests.sample_build import sample_app, sample_build


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_build(tmp_path_factory)


@pytest.fixture(scope="module")
def sample(built: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    yield from sample_app(built, tmp_path_factory.mktemp("search-cache"))


@pytest.fixture
def web(sample: Flask) -> FlaskClient:
    return sample.test_client()


def search(web: FlaskClient, **params: Any) -> list[dict[str, Any]]:
    response = web.get("/api/search", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    results: list[dict[str, Any]] = response.get_json()["results"]
    return results


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Österreich", "osterreich"),
        ("AZERBAÏDJAN", "azerbaidjan"),
        ("Ёлка", "елка"),  # ё has a decomposition, but FTS5's own folding leaves it
        ("Łódź", "lodz"),  # ł has none: folded by hand
        ("Bosnia-Herzegovina's", "bosnia herzegovina s"),
        ("  ", ""),
    ],
)
def test_fold_removes_case_accents_and_punctuation(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_match_expressions_quote_every_word_so_none_is_an_operator() -> None:
    assert match_expression('NOT "x" OR y*', prefix=True) == '"not" "x" "or" "y"*'
    assert match_expression("vienna wien", prefix=False, any_word=True) == '"vienna" OR "wien"'
    assert match_expression("?!", prefix=True) is None


def test_the_build_writes_the_search_index_next_to_the_store(built: Path) -> None:
    layout = BuildLayout((built / "current").resolve())
    path = search_index_file(layout)
    assert path.is_file()
    index = SearchIndex(path)
    assert index.source == layout.build_id
    with sqlite3.connect(path) as connection:
        languages = {lang for (lang,) in connection.execute("SELECT DISTINCT lang FROM names")}
    assert {"en", "fr", "de", "it", "ru", "es"} <= languages


@pytest.mark.parametrize(
    ("query", "expected", "matched"),
    [
        ("Austria", "state/at", "Austria"),
        ("osterreich", "state/at", "Österreich"),  # German, no umlaut typed
        ("AUTRICHE", "state/at", "Autriche"),  # French, any case
        ("австрия", "state/at", "Австрия"),  # Russian
        ("Azerbaiyan", "state/az", "Azerbaiyán"),  # Spanish, no accent typed
        ("Azerbaigian", "state/az", "Azerbaigian"),  # Italian
        ("azerb", "state/az", "Azerbaijan"),  # the start of a word, while typing
        ("CSCE", "organisation/osce", "CSCE"),  # a former name
        ("AUT", "state/at", "AUT"),  # an ISO code
    ],
)
def test_search_finds_labels_in_the_six_languages_whatever_the_case_and_accents(
    web: FlaskClient, query: str, expected: str, matched: str
) -> None:
    first = search(web, q=query)[0]
    assert first["id"] == expected
    assert first["matched"] == matched
    assert first["url"] == f"/id/{expected}"


def test_results_are_ranked_exact_label_first(web: FlaskClient) -> None:
    results = search(web, q="Vienna", limit=10)
    assert results[0]["id"] == "city/vienna"
    assert results[0]["score"] == 100.0
    assert len(results) > 1
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True)


def test_the_label_shown_follows_the_browser_language(web: FlaskClient) -> None:
    german = web.get("/api/search?q=austria", headers={"Accept-Language": "de"}).get_json()
    assert german["results"][0]["label"] == "Österreich"
    assert search(web, q="österreich")[0]["label"] == "Austria"  # English by default


def test_search_narrows_by_class_and_language(web: FlaskClient) -> None:
    cities = search(web, q="bishkek", type="City")
    assert [r["id"] for r in cities] == ["city/bishkek"]
    assert all(t["id"] == "City" for r in cities for t in r["types"])
    # superclasses count: a participating State is a State
    assert search(web, q="Austria", type="State")[0]["id"] == "state/at"
    assert search(web, q="Autriche", lang="fr")[0]["id"] == "state/at"
    assert search(web, q="Autriche", lang="de") == []


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("q=", "give the text"),
        ("q=" + "x" * 201, "at most 200"),
        ("q=a&limit=0", "limit"),
        ("q=a&limit=abc", "limit"),
        ("q=a&lang=<b>", "language tag"),
        ("q=a&type=nope:Thing", "class name"),
    ],
)
def test_bad_search_parameters_are_400_saying_what_to_do(
    web: FlaskClient, query: str, message: str
) -> None:
    response = web.get(f"/api/search?{query}", headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert message in response.get_json()["message"]


def test_the_search_page_works_as_a_plain_form(web: FlaskClient) -> None:
    html = web.get("/search?q=osterreich").get_data(as_text=True)
    assert '<label for="search-q">' in html and 'id="search-q" name="q"' in html
    assert '<a href="/id/state/at">Austria</a>' in html
    assert 'matched “<span lang="de">Österreich</span>”' in html
    empty = web.get("/search?q=zzzzqqq").get_data(as_text=True)
    assert "Nothing has a label matching “zzzzqqq”" in empty
    assert web.get("/search").status_code == 200


def test_the_search_page_pages_its_results(web: FlaskClient) -> None:
    first = web.get("/search?q=osce").get_data(as_text=True)
    assert 'rel="next"' in first
    second = web.get("/search?q=osce&page=2").get_data(as_text=True)
    assert 'rel="prev"' in second and '<ol class="results" start="21">' in second


@pytest.mark.parametrize("path", ["/", "/search", "/browse/", "/page/state/at", "/sparql"])
def test_every_page_has_the_search_box_and_its_script(web: FlaskClient, path: str) -> None:
    html = web.get(path, headers={"Accept": "text/html"}).get_data(as_text=True)
    assert '<form class="site-search" action="/search" method="get" role="search"' in html
    assert '<label for="site-search-q"' in html
    assert 'data-suggest="/api/search"' in html
    assert '<script src="/static/autocomplete.js" defer></script>' in html


def test_the_autocomplete_script_is_served_and_uses_the_combobox_pattern(
    web: FlaskClient,
) -> None:
    response = web.get("/static/autocomplete.js")
    script = response.get_data(as_text=True)
    response.close()
    assert response.status_code == 200
    assert "javascript" in response.content_type
    for needed in ('"combobox"', '"listbox"', "aria-activedescendant", "ArrowDown", "Escape"):
        assert needed in script


# --- a build made before builds had a search index ----------------------------------------


@pytest.fixture
def old_app(build_dir: Path, tmp_path: Path) -> Iterator[Flask]:
    """The server over conftest's test build, which has no search index."""
    yield from sample_app(build_dir, tmp_path / "cache")


def test_the_server_makes_an_index_for_a_build_without_one(
    old_app: Flask, build_dir: Path, tmp_path: Path
) -> None:
    layout = BuildLayout((build_dir / "current").resolve())
    assert not search_index_file(layout).exists()
    results = old_app.test_client().get("/api/search?q=Osterreich").get_json()["results"]
    assert results[0]["id"] == "state/at"
    made = list((tmp_path / "cache").iterdir())
    assert len(made) == 1 and made[0].name.startswith(layout.build_id)  # no temporary left
    assert not search_index_file(layout).exists()  # the build folder is never written


def test_an_index_of_another_format_is_replaced_by_the_servers_own(
    tmp_path: Path, build_dir: Path
) -> None:
    copy = tmp_path / "build"
    shutil.copytree(build_dir, copy, symlinks=True)
    stale = search_index_file(BuildLayout((copy / "current").resolve()))
    stale.parent.mkdir()
    connection = sqlite3.connect(stale)
    with connection:
        connection.execute("CREATE TABLE meta(key TEXT, value TEXT)")
        connection.execute("INSERT INTO meta VALUES ('format', '0')")
    connection.close()
    with pytest.raises(SearchIndexError, match="format '0'"):
        SearchIndex(stale)
    apps = sample_app(copy, tmp_path / "cache")
    app = next(apps)
    results = app.test_client().get("/api/search?q=tajikistan").get_json()["results"]
    apps.close()
    assert results[0]["id"] == "state/tj"
    assert len(list((tmp_path / "cache").iterdir())) == 1


def test_writing_an_index_is_atomic(tmp_path: Path) -> None:
    store = ox.Store()
    label = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
    thing = ox.NamedNode("https://w3id.org/osce-kg/id/city/graz")
    store.add(ox.Quad(thing, label, ox.Literal("Graz", language="de")))
    target = tmp_path / "labels.sqlite"
    target.write_text("the old index stays readable until the new one replaces it")
    # Graz's label, and rdfs:label itself (named "label" so property suggestions offer it)
    assert write_search_index(store, target, source="t") == 2
    assert [p.name for p in tmp_path.iterdir()] == ["labels.sqlite"]
    hits = SearchIndex(target).search(Lookup("graz"))
    assert [(h.iri, h.matched.lang, h.exact) for h in hits] == [(thing.value, "de", True)]


def test_the_server_prunes_indexes_no_server_opened_for_a_week(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    old, recent, current = (cache / f"{name}.sqlite" for name in ("old", "recent", "current"))
    for path in (old, recent, current):
        path.write_bytes(b"")
    week_ago = time.time() - CACHE_MAX_AGE - 60
    os.utime(old, (week_ago, week_ago))
    os.utime(current, (week_ago, week_ago))
    assert prune_cache(cache, keep=current) == [old]
    assert sorted(p.name for p in cache.iterdir()) == ["current.sqlite", "recent.sqlite"]
