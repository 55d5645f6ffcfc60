"""The fast path: a repeat is sent from the cache before Flask, with exactly the status, headers
and bytes the Flask path answers it with; anything it cannot answer goes to Flask unchanged."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
from flask import Flask
from werkzeug.test import Client, TestResponse

from kg.rdf.uris import DEFAULT_BASE
from server.fastpath import FastPath, document_media_type
from server.query import QueryTimeoutError

JSON = "application/sparql-results+json"


class CountingFlask:
    """The Flask app behind the fast path, counting the requests that reach it."""

    def __init__(self, app: Flask) -> None:
        fast = app.wsgi_app
        assert isinstance(fast, FastPath)
        self.fast = fast
        self.flask = fast.wsgi_app
        self.calls = 0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        self.calls += 1
        return self.flask(environ, start_response)


@pytest.fixture
def counted(app: Flask) -> Iterator[CountingFlask]:
    counting = CountingFlask(app)
    counting.fast.wsgi_app = counting
    yield counting
    counting.fast.wsgi_app = counting.flask


def both_ways(app: Flask, counted: CountingFlask, path: str, **kwargs: Any) -> list[TestResponse]:
    """The same request answered by the fast path and by Flask alone (no fast path)."""
    fast = Client(app).get(path, **kwargs)
    flask = Client(counted.flask).get(path, **kwargs)
    return [fast, flask]


def same_answer(fast: TestResponse, flask: TestResponse) -> None:
    assert fast.status == flask.status
    assert fast.headers.to_wsgi_list() == flask.headers.to_wsgi_list()
    assert fast.data == flask.data


DOCUMENTS = [
    ("/data/state/at.ttl", {}),
    ("/data/state/at.jsonld", {}),
    ("/data/state/at.rdf", {}),
    ("/data/state/at.nt?page=2", {}),
    ("/page/state/at", {}),
    ("/page/state/at", {"Accept-Language": "de-AT, de;q=0.9, en;q=0.5"}),
    ("/", {"Accept-Language": "fr"}),
]


@pytest.mark.parametrize(("path", "headers"), DOCUMENTS)
def test_a_repeated_document_is_sent_without_flask_exactly_as_flask_sends_it(
    app: Flask, counted: CountingFlask, path: str, headers: dict[str, str]
) -> None:
    first = Client(app).get(path, headers=headers)
    assert (first.status_code, first.headers["X-Cache"]) == (200, "miss")
    before = counted.calls
    fast, flask = both_ways(app, counted, path, headers=headers)
    assert counted.calls == before  # the repeat never reached Flask
    assert fast.headers["X-Cache"] == "hit"
    same_answer(fast, flask)
    assert fast.data == first.data


@pytest.mark.parametrize(
    "conditions",
    [
        lambda etag, modified: {"If-None-Match": etag},
        lambda etag, modified: {"If-None-Match": '"another"'},
        lambda etag, modified: {"If-Modified-Since": modified},
        lambda etag, modified: {"If-Modified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"},
        lambda etag, modified: {"If-Match": '"another"'},
        lambda etag, modified: {"Range": "bytes=0-9"},
    ],
    ids=["etag", "other etag", "not modified", "modified", "if-match", "range"],
)
def test_conditional_repeats_get_the_answers_flask_gives(
    app: Flask, counted: CountingFlask, conditions: Callable[[str, str], dict[str, str]]
) -> None:
    path = "/data/state/at.ttl"
    first = Client(app).get(path)
    headers = conditions(first.headers["ETag"], first.headers["Last-Modified"])
    fast, flask = both_ways(app, counted, path, headers=headers)
    same_answer(fast, flask)


def test_a_head_request_gets_the_headers_of_the_get(app: Flask, counted: CountingFlask) -> None:
    get = Client(app).get("/data/state/at.ttl")
    fast = Client(app).head("/data/state/at.ttl")
    flask = Client(counted.flask).head("/data/state/at.ttl")
    same_answer(fast, flask)
    assert fast.data == b""
    assert fast.headers["Content-Length"] == str(len(get.data))


def test_errors_and_unknown_paths_go_to_flask_every_time(
    app: Flask, counted: CountingFlask
) -> None:
    for path in ("/data/state/zz.ttl", "/data/state/at.xyz", "/page/state/at/x", "/healthz"):
        before = counted.calls
        Client(app).get(path)
        Client(app).get(path)
        assert counted.calls == before + 2, path


@pytest.mark.parametrize(
    "accept",
    ["text/turtle", "text/html,application/xhtml+xml,*/*;q=0.8", "", "application/ld+json"],
)
def test_a_repeated_entity_uri_gets_its_303_without_flask(
    app: Flask, counted: CountingFlask, accept: str
) -> None:
    headers = {"Accept": accept} if accept else {}
    first = Client(app).get("/id/state/at", headers=headers)
    assert (first.status_code, first.headers["X-Cache"]) == (303, "miss")
    before = counted.calls
    fast, flask = both_ways(app, counted, "/id/state/at", headers=headers)
    assert counted.calls == before  # the repeat never reached Flask
    assert fast.headers["X-Cache"] == "hit"
    same_answer(fast, flask)
    assert fast.headers["Location"] == first.headers["Location"]
    head = Client(app).head("/id/state/at", headers=headers)
    assert (head.status_code, head.headers["Location"]) == (303, first.headers["Location"])


def test_each_accept_header_gets_its_own_303(app: Flask) -> None:
    turtle = Client(app).get("/id/state/at", headers={"Accept": "text/turtle"})
    Client(app).get("/id/state/at", headers={"Accept": "text/turtle"})
    page = Client(app).get("/id/state/at", headers={"Accept": "text/html"})
    assert turtle.headers["Location"].endswith("/data/state/at.ttl")
    assert page.headers["Location"].endswith("/page/state/at")
    assert page.headers["X-Cache"] == "miss"


def test_an_unknown_entity_uri_goes_to_flask_every_time(app: Flask, counted: CountingFlask) -> None:
    before = counted.calls
    for _ in range(2):
        assert Client(app).get("/id/state/zz").status_code == 404
    assert counted.calls == before + 2


def test_the_paths_a_kept_document_can_answer() -> None:
    assert document_media_type("/data/state/at.ttl") == "text/turtle"
    assert document_media_type("/data/state/at.jsonld") == "application/ld+json"
    assert document_media_type("/page/state/at") == "text/html"
    assert document_media_type("/") == "text/html"
    for path in ("/data/state/at", "/data/state/.ttl", "/data/state/at.ttl/", "/id/state/at"):
        assert document_media_type(path) is None, path


# -- SPARQL answers ------------------------------------------------------------------------------


@pytest.fixture
def counted_sparql(sparql_app: Flask) -> Iterator[CountingFlask]:
    counting = CountingFlask(sparql_app)
    counting.fast.wsgi_app = counting
    yield counting
    counting.fast.wsgi_app = counting.flask


def ask(app: Any, query: str, accept: str = JSON, **params: str) -> TestResponse:
    return Client(app).get(
        "/sparql", query_string={"query": query, **params}, headers={"Accept": accept}
    )


def without_timing(response: TestResponse) -> list[tuple[str, str]]:
    return [(name, "" if name == "Server-Timing" else value) for name, value in response.headers]


@pytest.mark.parametrize(
    ("accept", "params"),
    [
        (JSON, {}),
        ("text/csv", {}),
        ("*/*", {"format": "xml"}),
        (JSON, {"default-graph-uri": f"{DEFAULT_BASE}graph/reference"}),
    ],
)
def test_a_repeated_query_is_sent_without_flask_as_flask_sends_it(
    sparql_app: Flask, counted_sparql: CountingFlask, accept: str, params: dict[str, str]
) -> None:
    query = f"SELECT ?s WHERE {{ ?s a ?t }} ORDER BY ?s LIMIT 3 # fast {accept} {params}"
    first = ask(sparql_app, query, accept, **params)
    assert (first.status_code, first.headers["X-Cache"]) == (200, "miss")
    before = counted_sparql.calls
    fast = ask(sparql_app, query, accept, **params)
    assert counted_sparql.calls == before
    flask = ask(counted_sparql.flask, query, accept, **params)
    assert (fast.status, fast.data) == (flask.status, flask.data) == ("200 OK", first.data)
    assert without_timing(fast) == without_timing(flask)
    assert fast.headers["X-Cache"] == "hit"
    assert float(fast.headers["Server-Timing"].removeprefix("app;dur=")) >= 0


@pytest.mark.parametrize(
    ("query", "accept"),
    [
        ("SELECT ?s WHERE {{ ?s a ?t }} ORDER BY ?s LIMIT 3 # new {}", JSON),
        ("SELECT ?s WHERE {{ ?s ?p ?o }} # new {}", "text/csv"),  # cut at the row limit
        ("CONSTRUCT WHERE {{ ?s a ?t }} # new {}", "text/turtle"),
    ],
)
def test_a_new_query_is_answered_without_flask_as_flask_answers_it(
    sparql_app: Flask,
    counted_sparql: CountingFlask,
    sparql_limits: Callable[..., None],
    query: str,
    accept: str,
) -> None:
    sparql_limits(max_rows=3)
    assert ask(sparql_app, query.format("first"), accept).headers["X-Cache"] == "miss"
    before = counted_sparql.calls
    fast = ask(sparql_app, query.format("second"), accept)
    assert counted_sparql.calls == before  # Flask answered the first one only
    flask = ask(counted_sparql.flask, query.format("third"), accept)
    assert (fast.status, fast.data) == (flask.status, flask.data)
    assert without_timing(fast) == without_timing(flask)
    assert fast.headers["X-Cache"] == "miss"
    assert fast.headers["X-SPARQL-Max-Rows"] == "3"
    again = ask(sparql_app, query.format("second"), accept)
    kept = fast.headers["X-SPARQL-Truncated"] == "false"  # a cut answer is never kept
    assert (again.headers["X-Cache"], again.data) == ("hit" if kept else "miss", fast.data)


def test_an_error_of_a_query_the_fast_path_ran_is_answered_by_flask_once(
    sparql_app: Flask, counted_sparql: CountingFlask, monkeypatch: pytest.MonkeyPatch
) -> None:
    import server.fastpath

    runs: list[object] = []

    def failing(*args: object, **kwargs: object) -> object:
        runs.append(args)
        raise QueryTimeoutError("the query ran longer than the 1 s limit and was stopped")

    monkeypatch.setattr(server.fastpath, "run_job", failing)
    response = ask(sparql_app, "SELECT * WHERE { ?s ?p ?o } # runs once")
    assert response.status_code == 503
    assert "limit" in response.get_data(as_text=True)
    assert len(runs) == 1  # Flask answered the error without running the query again


def test_a_query_page_and_requests_the_endpoint_refuses_go_to_flask(
    sparql_app: Flask, counted_sparql: CountingFlask
) -> None:
    query = "ASK { ?s ?p ?o } # html"
    cases: list[tuple[str, dict[str, str]]] = [
        ("text/html", {}),  # the query page is made each time
        (JSON, {"update": "x"}),  # refused (403)
        (JSON, {"default-graph-uri": "not an iri"}),  # refused (400)
        (JSON, {"timeout": "5"}),  # a parameter the fast path does not know
    ]
    for accept, params in cases:
        for _ in range(2):
            before = counted_sparql.calls
            ask(sparql_app, query, accept, **params)
            assert counted_sparql.calls == before + 1, (accept, params)


def test_a_kept_answer_is_not_sent_under_other_limits(
    sparql_app: Flask, sparql_limits: Callable[..., None]
) -> None:
    query = "SELECT ?s WHERE { ?s ?p ?o } # limits"
    assert ask(sparql_app, query).headers["X-SPARQL-Max-Rows"] == "10000"
    assert ask(sparql_app, query).headers["X-Cache"] == "hit"
    sparql_limits(max_rows=1)
    cut = ask(sparql_app, query)
    assert (cut.headers["X-SPARQL-Max-Rows"], cut.headers["X-SPARQL-Truncated"]) == ("1", "true")
    sparql_limits(max_query_bytes=10)
    assert ask(sparql_app, query).status_code == 413  # the text is checked again


def test_a_kept_answer_is_never_sent_for_a_post(
    sparql_app: Flask, counted_sparql: CountingFlask
) -> None:
    query = "ASK { ?s ?p ?o } # post"
    ask(sparql_app, query)
    before = counted_sparql.calls
    posted = Client(sparql_app).post("/sparql", data={"query": query}, headers={"Accept": JSON})
    assert posted.status_code == 200
    assert counted_sparql.calls == before + 1  # Flask answers it (from the answer cache)


def test_the_fast_path_leaves_the_body_of_a_streamed_answer_alone(app: Flask) -> None:
    response = Client(app).get("/dumps/")
    body: Iterable[bytes] = response.response
    assert b"".join(body)
