"""Safety of /sparql: SERVICE allowlist, hard timeout, announced row cap, size limits, CORS."""

from __future__ import annotations

import logging
import os
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from flask import Flask
from flask.testing import FlaskClient

import server.fastpath
import server.sparql
from kg.rdf.uris import DEFAULT_BASE
from server import create_app
from server.checks import nesting_depth
from server.pool import FULL_PRIORITY_SECONDS, close_query_pool, query_pool
from server.query import QueryAnswer, QueryFailedError, QueryFailure, QueryJob
from server.worker import execute_job
from tests.conftest import SPARQL_DATA, make_test_build

SetLimits = Callable[..., None]


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A TCP socket listening on 127.0.0.1 that records whether anyone connected."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    yield server
    server.close()


def was_contacted(server: socket.socket, wait: float) -> bool:
    """True when a connection is waiting on the listening socket within ``wait`` seconds."""
    readable, _, _ = select.select([server], [], [], wait)
    return bool(readable)


def service_url(server: socket.socket) -> str:
    host, port = server.getsockname()
    return f"http://{host}:{port}/sparql"


# Each way a SERVICE call can hide in a query; {url} is the listener's endpoint.
SERVICE_QUERIES = {
    "plain": "SELECT * WHERE { SERVICE <{url}> { ?s ?p ?o } }",
    "silent": "SELECT * WHERE { SERVICE SILENT <{url}> { ?s ?p ?o } }",
    "prefixed": "PREFIX remote: <{base}> SELECT * WHERE { SERVICE remote:sparql { ?s ?p ?o } }",
    "subquery": "SELECT * WHERE { { SELECT ?s WHERE { SERVICE <{url}> { ?s ?p ?o } } } }",
    "exists": "ASK { FILTER NOT EXISTS { SERVICE <{url}> { ?s ?p ?o } } }",
    "optional": "SELECT * WHERE { ?a ?b ?c OPTIONAL { SERVICE <{url}> { ?c ?p ?o } } }",
    "construct": "CONSTRUCT { ?s ?p ?o } WHERE { SERVICE <{url}> { ?s ?p ?o } }",
    "lowercase": "select * where { service <{url}> { ?s ?p ?o } }",
    "variable": "SELECT * WHERE { VALUES ?e { <{url}> } SERVICE ?e { ?s ?p ?o } }",
}


@pytest.mark.parametrize("name", list(SERVICE_QUERIES))
def test_service_is_refused_and_never_called(
    sparql_client: FlaskClient, listener: socket.socket, name: str
) -> None:
    url = service_url(listener)
    query = (
        SERVICE_QUERIES[name].replace("{url}", url).replace("{base}", url.rsplit("/", 1)[0] + "/")
    )
    response = sparql_client.get(
        "/sparql", query_string={"query": query}, headers={"Accept": "text/plain"}
    )
    assert response.status_code == 403
    assert "SERVICE" in response.get_data(as_text=True)
    assert not was_contacted(listener, 0.15), "a refused SERVICE must make no connection"


def test_allowlisted_service_is_called(tmp_path: Path, listener: socket.socket) -> None:
    """The other side of the refusal test: the listener does notice a real SERVICE call.

    Workers keep their network only in an app that has an allowlist when it starts.
    """
    url = service_url(listener)
    folder = make_test_build(tmp_path, SPARQL_DATA / "fixture.trig")
    app = create_app(
        {
            "TESTING": True,
            "BUILD_DIR": str(folder),
            "BASE": DEFAULT_BASE,
            "SPARQL_SERVICE_ALLOWLIST": [url],
            "SPARQL_WORKERS": 1,
        }
    )
    query = f"SELECT * WHERE {{ SERVICE SILENT <{url}> {{ ?s ?p ?o }} }}"
    result: dict[str, int] = {}

    def ask() -> None:
        result["status"] = (
            app.test_client().get("/sparql", query_string={"query": query}).status_code
        )

    thread = threading.Thread(target=ask)
    try:
        thread.start()
        assert was_contacted(listener, 10)
        connection, _ = listener.accept()
        connection.close()  # SILENT: the failed call gives an empty result
        thread.join(20)
    finally:
        close_query_pool(app)
    assert result["status"] == 200


def test_service_description_names_the_allowlist(
    sparql_app: Flask, sparql_limits: SetLimits
) -> None:
    sparql_limits(service_allowlist=("http://example.org/sparql",))
    text = sparql_app.test_client().get("/sparql?format=ttl").get_data(as_text=True)
    assert "<http://example.org/sparql>" in text
    assert "sd:BasicFederatedQuery" in text


# Six copies of every triple joined with each other: far more work than a 1.5 s budget allows.
RUNAWAY = (
    "SELECT (COUNT(*) AS ?n) WHERE "
    "{ ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n0 ?o . ?p ?q ?r }"
)


def test_runaway_query_is_stopped_while_others_are_served(
    sparql_app: Flask, sparql_limits: SetLimits
) -> None:
    sparql_limits(timeout=1.5)
    client = sparql_app.test_client()
    assert client.get("/sparql", query_string={"query": "ASK {}"}).status_code == 200
    pool = query_pool(sparql_app)
    before = set(pool.worker_pids())
    outcome: dict[str, object] = {}

    def run_runaway() -> None:
        started = time.monotonic()
        response = sparql_app.test_client().get(
            "/sparql", query_string={"query": RUNAWAY}, headers={"Accept": "text/plain"}
        )
        outcome.update(
            status=response.status_code,
            text=response.get_data(as_text=True),
            seconds=time.monotonic() - started,
            retry=response.headers.get("Retry-After"),
        )

    thread = threading.Thread(target=run_runaway)
    thread.start()
    time.sleep(0.3)
    started = time.monotonic()
    simple = client.get("/sparql", query_string={"query": "SELECT * { ?s a ?t } LIMIT 1"})
    assert simple.status_code == 200
    assert time.monotonic() - started < 1.0, "a simple query must not wait for the runaway one"
    thread.join(30)
    assert outcome["status"] == 503
    assert "limit" in str(outcome["text"])
    assert float(str(outcome["seconds"])) < 6
    assert outcome["retry"]
    killed = before - set(pool.worker_pids())
    assert len(killed) == 1
    pid = killed.pop()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # the work really stopped: its process is gone
    assert len(pool.worker_pids()) == len(before)
    assert client.get("/sparql", query_string={"query": "ASK {}"}).status_code == 200


def test_only_a_long_query_loses_cpu_priority(sparql_app: Flask, sparql_limits: SetLimits) -> None:
    """Queries run at the web process's priority (a niced worker made every query lose the CPU
    on a loaded machine); one still running after FULL_PRIORITY_SECONDS is niced."""
    sparql_limits(timeout=FULL_PRIORITY_SECONDS + 2)
    client = sparql_app.test_client()
    assert client.get("/sparql", query_string={"query": "ASK {}"}).status_code == 200
    pool = query_pool(sparql_app)
    own = os.getpriority(os.PRIO_PROCESS, 0)
    assert {os.getpriority(os.PRIO_PROCESS, pid) for pid in pool.worker_pids()} == {own}
    done: dict[str, int] = {}
    thread = threading.Thread(
        target=lambda: done.update(
            status=sparql_app.test_client()
            .get("/sparql", query_string={"query": RUNAWAY})
            .status_code
        )
    )
    thread.start()
    time.sleep(FULL_PRIORITY_SECONDS + 0.7)
    priorities = sorted(os.getpriority(os.PRIO_PROCESS, pid) for pid in pool.worker_pids())
    thread.join(30)
    assert done["status"] == 503  # it ran into its time limit
    assert priorities == [own] * (len(priorities) - 1) + [min(19, own + pool.plan.nice)]
    assert {os.getpriority(os.PRIO_PROCESS, pid) for pid in pool.worker_pids()} == {own}


def test_a_niced_worker_does_not_keep_its_low_priority(sparql_app: Flask) -> None:
    """After a long query the worker gets the web process's priority back (or, where the system
    does not allow raising it, is replaced), so the next query runs at full speed."""
    pool = query_pool(sparql_app)
    own = os.getpriority(os.PRIO_PROCESS, 0)
    worker = pool._idle[-1]  # the one the next query takes
    worker.wait_ready(60)
    worker.demote(pool.plan.nice)
    pid = worker.process.pid
    assert pid is not None
    assert os.getpriority(os.PRIO_PROCESS, pid) == min(19, own + pool.plan.nice)
    job = QueryJob("ASK {}", None, "application/sparql-results+json", None, max_rows=10)
    assert isinstance(pool.run(job, timeout=30), QueryAnswer)
    assert {os.getpriority(os.PRIO_PROCESS, p) for p in pool.worker_pids()} == {own}


@pytest.mark.parametrize(
    ("query", "accept", "rows", "truncated"),
    [
        ("SELECT * WHERE { ?s ?p ?o }", "application/sparql-results+json", 3, "true"),
        ("SELECT * WHERE { ?s ?p ?o }", "text/csv", 3, "true"),
        ("CONSTRUCT WHERE { ?s ?p ?o }", "application/n-triples", 3, "true"),
        (
            "SELECT * WHERE { ?s a <https://w3id.org/osce-kg/ontology#PressRelease> }",
            "text/tab-separated-values",
            2,
            "false",
        ),
    ],
)
def test_row_cap_is_announced_never_silent(
    sparql_app: Flask,
    sparql_limits: SetLimits,
    query: str,
    accept: str,
    rows: int,
    truncated: str,
) -> None:
    sparql_limits(max_rows=3)
    response = sparql_app.test_client().get(
        "/sparql", query_string={"query": query}, headers={"Accept": accept}
    )
    assert response.status_code == 200
    assert response.headers["X-SPARQL-Max-Rows"] == "3"
    assert response.headers["X-SPARQL-Truncated"] == truncated
    lines = [line for line in response.get_data(as_text=True).splitlines() if line.strip()]
    if accept == "application/sparql-results+json":
        assert len(response.json["results"]["bindings"]) == rows  # type: ignore[index]
    elif accept == "application/n-triples":
        assert len(lines) == rows
    else:
        assert len(lines) == rows + 1  # header line


def test_row_cap_is_in_the_service_description(sparql_app: Flask, sparql_limits: SetLimits) -> None:
    sparql_limits(max_rows=3)
    text = sparql_app.test_client().get("/sparql?format=ttl").get_data(as_text=True)
    assert "endpoint:maxResultRows 3 ;" in text


@pytest.mark.parametrize("how", ["get", "form", "direct"])
def test_oversized_query_is_refused(sparql_app: Flask, sparql_limits: SetLimits, how: str) -> None:
    sparql_limits(max_query_bytes=200)
    query = "SELECT * WHERE { ?s ?p ?o } # " + "x" * 400
    client = sparql_app.test_client()
    if how == "get":
        response = client.get("/sparql", query_string={"query": query})
    elif how == "form":
        response = client.post("/sparql", data={"query": query})
    else:
        response = client.post(
            "/sparql", data=query, headers={"Content-Type": "application/sparql-query"}
        )
    assert response.status_code == 413
    small = client.get("/sparql", query_string={"query": "ASK {}"})
    assert small.status_code == 200


def test_cors_lets_browser_scripts_read_the_row_headers(sparql_client: FlaskClient) -> None:
    response = sparql_client.get(
        "/sparql", query_string={"query": "ASK {}"}, headers={"Origin": "https://example.org"}
    )
    assert response.headers["Access-Control-Allow-Origin"] in ("*", "https://example.org")
    exposed = response.headers["Access-Control-Expose-Headers"]
    assert "X-SPARQL-Truncated" in exposed
    preflight = sparql_client.options(
        "/sparql",
        headers={
            "Origin": "https://example.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Content-Type",
        },
    )
    assert preflight.status_code == 200
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]


TRICKY_LITERALS = [
    ox.Literal("two\nlines\tand a tab"),
    ox.Literal('quotes " and \\ backslash'),
    ox.Literal("Österreich", language="de"),
    ox.Literal("42", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")),
    ox.Literal("ünïcödé ✓ 𝄞"),
    ox.Literal(""),
]


@pytest.mark.parametrize("media_type", ["application/sparql-results+json", "text/csv"])
def test_capped_results_keep_every_term_intact(media_type: str) -> None:
    """The row cap goes through TSV and back: no term may change on the way."""
    store = ox.Store()
    p = ox.NamedNode("http://example.org/p")
    for i, literal in enumerate(TRICKY_LITERALS * 3):
        store.add(ox.Quad(ox.NamedNode(f"http://example.org/s{i}"), p, literal))
    store.add(ox.Quad(ox.BlankNode("b1"), p, ox.NamedNode("http://example.org/o")))
    query = "SELECT ?s ?o ?unbound WHERE { ?s ?p ?o } ORDER BY ?s"
    job = QueryJob(query, "application/sparql-results+json", None, None, max_rows=100)
    answer = execute_job(store, job)
    assert isinstance(answer, QueryAnswer)
    assert not answer.truncated
    parsed = ox.parse_query_results(answer.body, ox.QueryResultsFormat.JSON)
    direct = store.query(query)
    assert isinstance(parsed, ox.QuerySolutions) and isinstance(direct, ox.QuerySolutions)
    got = [(s["s"], s["o"], s["unbound"]) for s in parsed]
    want = [(s["s"], s["o"], s["unbound"]) for s in direct]
    # blank node labels may differ; everything else must be identical
    assert [g[1:] for g in got] == [w[1:] for w in want]
    assert [g[0] for g in got if not isinstance(g[0], ox.BlankNode)] == [
        w[0] for w in want if not isinstance(w[0], ox.BlankNode)
    ]
    capped = execute_job(store, QueryJob(query, media_type, None, None, max_rows=4))
    assert isinstance(capped, QueryAnswer)
    assert (capped.rows, capped.truncated) == (4, True)


def test_row_cap_stops_a_big_result_early() -> None:
    store = ox.Store()
    p = ox.NamedNode("http://example.org/p")
    store.extend(
        ox.Quad(ox.NamedNode(f"http://example.org/s{i}"), p, ox.Literal("x" * 50))
        for i in range(50_000)
    )
    for query, fmt in [
        ("SELECT * WHERE { ?s ?p ?o }", "text/tab-separated-values"),
        ("CONSTRUCT WHERE { ?s ?p ?o }", "text/turtle"),
    ]:
        answer = execute_job(store, QueryJob(query, fmt, None, fmt, max_rows=10))
        assert isinstance(answer, QueryAnswer)
        assert (answer.rows, answer.truncated) == (10, True)
        assert len(answer.body) < 5_000


def test_html_results_say_when_rows_were_cut(sparql_app: Flask, sparql_limits: SetLimits) -> None:
    sparql_limits(max_rows=2)
    client = sparql_app.test_client()
    cut = client.get("/sparql", query_string={"query": "SELECT * { ?s ?p ?o }", "format": "html"})
    assert cut.headers["X-SPARQL-Truncated"] == "true"
    assert "Only the first 2 rows are shown" in cut.get_data(as_text=True)
    whole = client.get("/sparql", query_string={"query": "ASK {}", "format": "html"})
    assert "Only the first" not in whole.get_data(as_text=True)
    assert "Answer: <strong>yes</strong>" in whole.get_data(as_text=True)


SECRET = "/srv/osce-kg/.builds/x/store: IO error"


@pytest.mark.parametrize(
    "error",
    [RuntimeError(SECRET), QueryFailedError("the query failed while running", SECRET)],
    ids=["unexpected", "worker failure"],
)
def test_error_text_is_logged_never_sent(
    sparql_client: FlaskClient,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    error: Exception,
) -> None:
    def failing(*args: object, **kwargs: object) -> QueryAnswer:
        raise error

    # a GET is run by the fast path, which leaves the error to the endpoint; a POST by the endpoint
    monkeypatch.setattr(server.sparql, "run_job", failing)
    monkeypatch.setattr(server.fastpath, "run_job", failing)
    with caplog.at_level(logging.ERROR, logger="server.sparql"):
        response = sparql_client.get(
            "/sparql", query_string={"query": "ASK {}"}, headers={"Accept": "text/plain"}
        )
    assert response.status_code == 500
    assert SECRET not in response.get_data(as_text=True)
    assert "log" in response.get_data(as_text=True)  # says where the reason is
    assert SECRET in caplog.text


def test_a_worker_keeps_an_unexpected_errors_text_out_of_its_message() -> None:
    job = QueryJob("ASK {}", None, "text/csv", None, ("http://[not an iri",), max_rows=10)
    failure = execute_job(ox.Store(), job)
    assert isinstance(failure, QueryFailure)
    assert failure.kind == "failed"
    assert "Invalid character" not in failure.message
    assert "Invalid character" in failure.detail  # pyoxigraph's own text, for the log


@pytest.mark.parametrize(
    ("query", "depth"),
    [
        ("SELECT * WHERE { ?s ?p ?o }", 1),
        ("SELECT * WHERE { OPTIONAL { ?s ?p ?o FILTER(?o > (1 + (2))) } }", 5),
        ('SELECT * WHERE { ?s ?p "{{{((([[[" } # {{{{{{\n', 1),
        ("SELECT * WHERE { ?s ?p '''}}} {{{''' FILTER(?s = <http://x/(((>) }", 2),
        ("SELECT * WHERE { ?s ?p [ ?q [ ?r ?o ] ] }", 3),
    ],
)
def test_nesting_counts_brackets_outside_strings_iris_and_comments(query: str, depth: int) -> None:
    assert nesting_depth(query) == depth


@pytest.mark.parametrize("opening", ["{", "(", "{ OPTIONAL {"])
def test_deep_nesting_is_refused_with_400_before_any_parser(
    sparql_client: FlaskClient, caplog: pytest.LogCaptureFixture, opening: str
) -> None:
    """4,000 levels crash pyoxigraph's parser; the endpoint refuses them with a clear 400, and
    the workers are not touched (no worker dies)."""
    levels = 4000 // opening.count("{" if "{" in opening else "(")
    closing = "".join(reversed(opening.replace("OPTIONAL", "").replace(" ", ""))).translate(
        str.maketrans("{(", "})")
    )
    body = "?s ?p ?o" if "{" in opening else "1"
    where = f"{opening * levels} {body} {closing * levels}"
    query = f"SELECT * WHERE {where}" if "{" in opening else f"SELECT ({where} AS ?x) {{}}"
    with caplog.at_level(logging.ERROR):
        response = sparql_client.post("/sparql", data={"query": query})
    assert response.status_code == 400
    assert "levels are accepted" in response.get_data(as_text=True)
    assert not [r for r in caplog.records if "died" in r.getMessage()]


def test_nesting_within_the_limit_is_answered(sparql_client: FlaskClient) -> None:
    query = "SELECT * WHERE " + "{ " * 60 + "?s ?p ?o" + " }" * 60 + " LIMIT 1"
    response = sparql_client.post(
        "/sparql", data={"query": query}, headers={"Accept": "application/sparql-results+json"}
    )
    assert response.status_code == 200
