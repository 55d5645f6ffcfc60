"""The per-build caches: entity documents and SPARQL answers kept, bounded, and dropped on a
new build; failures and cut answers never kept."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import Headers

from kg.rdf.uris import DEFAULT_BASE
from server.admission import admission_of, client_of
from server.cache import ENTRY_OVERHEAD, BuildCache, CachedDocument, caches_of
from tests.conftest import SERVER_DATA, SPARQL_DATA, TEST_BUILD_ID, make_test_build

NEXT_BUILD = "20240107T000000Z-cache"


def publish(trig: Path, out_dir: Path, build_id: str) -> None:
    """Builds ``trig`` as ``out_dir/.builds/build_id`` and swaps ``current`` to it, atomically."""
    other = make_test_build(out_dir.parent / f"{build_id}-scratch", trig)
    shutil.move(other / ".builds" / TEST_BUILD_ID, out_dir / ".builds" / build_id)
    os.symlink(Path(".builds") / build_id, out_dir / "current.new")
    os.replace(out_dir / "current.new", out_dir / "current")


@pytest.fixture
def swap_app(tmp_path: Path) -> Iterator[Flask]:
    """An app that looks for a new build on every request."""
    from server import create_app
    from server.pool import close_query_pool

    out = make_test_build(tmp_path / "build")
    app = create_app(
        {"TESTING": True, "BUILD_DIR": str(out), "BASE": DEFAULT_BASE, "BUILD_CHECK_INTERVAL": 0}
    )
    yield app
    close_query_pool(app)


# -- the cache itself --------------------------------------------------------------------------


def test_a_cache_keeps_answers_of_one_build_and_forgets_them_when_the_build_changes() -> None:
    cache: BuildCache[bytes] = BuildCache(100_000, len)
    assert cache.put("b1", "k", b"answer")
    assert cache.get("b1", "k") == b"answer"
    assert cache.get("b2", "k") is None  # another build: emptied
    assert cache.get("b1", "k") is None  # and not brought back
    assert cache.stats().entries == 0


def test_a_cache_stays_within_its_bytes_dropping_the_least_recently_used() -> None:
    cache: BuildCache[bytes] = BuildCache(10 * (1000 + ENTRY_OVERHEAD), len)
    for number in range(30):
        cache.put("b", number, bytes(1000))
        cache.get("b", 0)  # keeps 0 recently used
    stats = cache.stats()
    assert stats.bytes <= stats.max_bytes
    assert stats.entries == 10
    assert cache.get("b", 0) is not None
    assert cache.get("b", 1) is None


def test_an_answer_too_large_for_the_cache_is_not_kept() -> None:
    cache: BuildCache[bytes] = BuildCache(10_000, len)
    assert not cache.put("b", "big", bytes(5_000))
    assert cache.get("b", "big") is None


def test_a_cache_of_zero_bytes_keeps_nothing() -> None:
    cache: BuildCache[bytes] = BuildCache(0, len)
    assert not cache.put("b", "k", b"x")
    assert cache.get("b", "k") is None


# -- entity documents --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/data/state/at.ttl", "/data/state/at.jsonld", "/page/state/at", "/data/state/at.nt"]
)
def test_a_repeated_document_comes_from_the_cache_with_the_same_bytes_and_etag(
    client: FlaskClient, path: str
) -> None:
    first = client.get(path)
    second = client.get(path)
    assert first.status_code == second.status_code == 200
    assert (first.headers["X-Cache"], second.headers["X-Cache"]) == ("miss", "hit")
    assert first.data == second.data
    for header in ("ETag", "Last-Modified", "Content-Type", "Content-Location", "Link", "Vary"):
        assert first.headers[header] == second.headers[header], header
    assert second.headers["Access-Control-Allow-Origin"] == "*"  # the app's own headers too
    assert "Content-Security-Policy" in second.headers


def test_a_cached_document_answers_if_none_match_with_304(client: FlaskClient) -> None:
    etag = client.get("/data/state/at.ttl").headers["ETag"]
    assert client.get("/data/state/at.ttl").headers["X-Cache"] == "hit"
    again = client.get("/data/state/at.ttl", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""


def test_pages_in_other_languages_and_other_pages_of_links_are_kept_apart(
    client: FlaskClient,
) -> None:
    english = client.get("/page/state/at", headers={"Accept-Language": "en"})
    german = client.get("/page/state/at", headers={"Accept-Language": "de"})
    assert german.headers["X-Cache"] == "miss"
    assert english.headers["ETag"] != german.headers["ETag"]
    assert client.get("/data/state/at.ttl?page=1").headers["X-Cache"] == "miss"
    assert client.get("/data/state/at.ttl?page=2").headers["X-Cache"] == "miss"
    assert client.get("/data/state/at.ttl?page=2").headers["X-Cache"] == "hit"


def test_errors_are_not_kept(client: FlaskClient, app: Flask) -> None:
    for _ in range(2):
        assert client.get("/data/state/zz.ttl").status_code == 404
        assert client.get("/data/state/at.ttl?page=x").status_code == 400
    assert caches_of(app).documents.stats().entries == 0


def test_a_new_build_empties_the_document_cache(swap_app: Flask, tmp_path: Path) -> None:
    client = swap_app.test_client()
    path = "/data/state/at.ttl"
    before = client.get(path)
    assert client.get(path).headers["X-Cache"] == "hit"
    publish(SERVER_DATA / "sample.trig", tmp_path / "build", NEXT_BUILD)
    after = client.get(path)
    assert after.headers["X-Cache"] == "miss"
    assert after.headers["ETag"] != before.headers["ETag"]  # the validator names the new build


def test_a_304_is_not_kept_as_the_document(app: Flask, build_dir: Path) -> None:
    from server import create_app

    etag = app.test_client().get("/data/state/at.ttl").headers["ETag"]
    fresh = create_app({"TESTING": True, "BUILD_DIR": str(build_dir), "BASE": DEFAULT_BASE})
    client = fresh.test_client()
    assert client.get("/data/state/at.ttl", headers={"If-None-Match": etag}).status_code == 304
    assert caches_of(fresh).documents.stats().entries == 0
    whole = client.get("/data/state/at.ttl")
    assert (whole.status_code, whole.headers["X-Cache"]) == (200, "miss")
    assert whole.data
    assert isinstance(
        caches_of(fresh).documents.get(
            TEST_BUILD_ID, ("/data/state/at.ttl", b"", "text/turtle", "")
        ),
        CachedDocument,
    )


def test_the_document_cache_can_be_turned_off(build_dir: Path) -> None:
    from server import create_app

    app = create_app({"TESTING": True, "BUILD_DIR": str(build_dir), "DOCUMENT_CACHE_BYTES": 0})
    client = app.test_client()
    client.get("/data/state/at.ttl")
    assert client.get("/data/state/at.ttl").headers["X-Cache"] == "miss"


def test_a_cache_size_that_is_not_a_number_is_a_clear_error(build_dir: Path) -> None:
    from kg.errors import ConfigError
    from server import create_app

    with pytest.raises(ConfigError, match="SPARQL_CACHE_BYTES"):
        create_app({"TESTING": True, "BUILD_DIR": str(build_dir), "SPARQL_CACHE_BYTES": "lots"})


# -- SPARQL answers ----------------------------------------------------------------------------

ALL_TYPES = "SELECT ?s ?t WHERE { ?s a ?t } ORDER BY ?s ?t"
JSON = {"Accept": "application/sparql-results+json"}
RUNAWAY = (
    "SELECT (COUNT(*) AS ?n) WHERE "
    "{ ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n0 ?o . ?p ?q ?r }"
)


def ask(client: FlaskClient, query: str, **kwargs: object) -> tuple[int, str, bytes]:
    """Status, X-Cache and body of a GET query; the server time is announced."""
    headers = kwargs.pop("headers", JSON)
    response = client.get("/sparql", query_string={"query": query, **kwargs}, headers=headers)
    if response.status_code == 200:
        timing = response.headers["Server-Timing"]
        assert timing.startswith("app;dur=") and float(timing.split("=")[1]) >= 0
    return response.status_code, response.headers.get("X-Cache", ""), response.data


def results_kept(app: Flask) -> int:
    return caches_of(app).results.stats().entries


def test_a_repeated_query_is_answered_from_the_cache(sparql_app: Flask) -> None:
    client = sparql_app.test_client()
    query = ALL_TYPES + " # repeated"
    first = ask(client, query)
    second = ask(client, query)
    assert (first[0], first[1], second[0], second[1]) == (200, "miss", 200, "hit")
    assert first[2] == second[2]
    assert ask(client, query + " ")[1] == "miss"  # another text is another query


def test_another_format_or_dataset_is_another_entry(sparql_app: Flask) -> None:
    client = sparql_app.test_client()
    query = ALL_TYPES + " # formats"
    json_body = ask(client, query)[2]
    status, cached, csv_body = ask(client, query, headers={"Accept": "text/csv"})
    assert (status, cached) == (200, "miss")
    assert csv_body != json_body
    assert ask(client, query, headers={"Accept": "text/csv"})[1] == "hit"
    graph = f"{DEFAULT_BASE}graph/reference"
    status, cached, narrowed = ask(client, query, **{"default-graph-uri": graph})
    assert (status, cached) == (200, "miss")
    assert narrowed != json_body
    assert ask(client, query, **{"default-graph-uri": graph})[1] == "hit"


def test_a_cut_answer_is_never_kept(sparql_app: Flask, sparql_limits: Callable[..., None]) -> None:
    sparql_limits(max_rows=1)
    client = sparql_app.test_client()
    query = ALL_TYPES + " # cut"
    before = results_kept(sparql_app)
    for _ in range(2):
        response = client.get("/sparql", query_string={"query": query}, headers=JSON)
        assert response.headers["X-SPARQL-Truncated"] == "true"
        assert response.headers["X-Cache"] == "miss"
    assert results_kept(sparql_app) == before


def test_refused_failed_and_timed_out_queries_are_never_kept(
    sparql_app: Flask, sparql_limits: Callable[..., None]
) -> None:
    client = sparql_app.test_client()
    before = results_kept(sparql_app)
    for _ in range(2):
        assert ask(client, "SELECT * WHERE { ?s ?p }")[0] == 400  # syntax
        assert (
            ask(client, "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }")[0] == 403
        )
        assert ask(client, "SELECT * WHERE { ?s ?p ?o }", headers={"Accept": "image/png"})[0] == 406
    sparql_limits(timeout=0.5)
    for _ in range(2):
        assert ask(client, RUNAWAY)[0] == 503
    assert results_kept(sparql_app) == before


def test_a_new_build_empties_the_answer_cache(swap_app: Flask, tmp_path: Path) -> None:
    client = swap_app.test_client()
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    old = ask(client, query)
    assert ask(client, query)[1] == "hit"
    publish(SPARQL_DATA / "fixture.trig", tmp_path / "build", NEXT_BUILD)
    status, cached, new = ask(client, query)
    assert (status, cached) == (200, "miss")
    assert new != old[2]  # the new build's count, not the kept one


def test_a_client_over_its_limit_is_refused_even_for_a_kept_answer(sparql_app: Flask) -> None:
    client = sparql_app.test_client()
    query = ALL_TYPES + " # admission"
    agent = {**JSON, "User-Agent": "cache-test"}
    assert ask(client, query, headers=agent)[0] == 200
    admission = admission_of(sparql_app)
    who = client_of("127.0.0.1", Headers({"User-Agent": "cache-test"}), ())
    with contextlib.ExitStack() as running:
        for _ in range(admission.per_client):  # the client's queries running elsewhere
            running.enter_context(admission.admit(who))
        assert ask(client, query, headers=agent)[0] == 429
    assert ask(client, query, headers=agent)[1] == "hit"


def test_the_home_page_is_made_once_per_build_and_language(client: FlaskClient) -> None:
    first, second = client.get("/"), client.get("/")
    assert (first.headers["X-Cache"], second.headers["X-Cache"]) == ("miss", "hit")
    assert first.data == second.data
    assert client.get("/", headers={"Accept-Language": "fr"}).headers["X-Cache"] == "miss"
