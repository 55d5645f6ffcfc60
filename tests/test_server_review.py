"""Requests real clients and operators send that the server once got wrong (one test per bug)."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from server.cli import serve_command
from tests.conftest import SERVER_DATA, SPARQL_DATA, TEST_BUILD_ID, make_test_build

ASK = "ASK%20%7B%7D"


@pytest.mark.parametrize("query", ["", f"?query={ASK}"])
def test_head_on_the_endpoint_answers_like_get(sparql_client: FlaskClient, query: str) -> None:
    got = sparql_client.get(f"/sparql{query}")
    head = sparql_client.head(f"/sparql{query}")
    assert head.status_code == got.status_code == 200
    assert head.mimetype == got.mimetype
    assert head.data == b""


@pytest.mark.parametrize(
    ("method", "data"),
    [("GET", None), ("POST", b"query=ASK%20%7BFILTER(%22%E9%22)%7D")],
)
def test_query_not_percent_encoded_as_utf8_is_refused(
    sparql_client: FlaskClient, method: str, data: bytes | None
) -> None:
    # %E9 is "é" in Latin-1: decoding it leniently would run a different query than was sent.
    path = "/sparql?query=ASK%20%7BFILTER(%22%E9%22)%7D" if data is None else "/sparql"
    response = sparql_client.open(
        path, method=method, data=data, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
    assert b"UTF-8" in response.data


def test_utf8_query_parameters_still_work(sparql_client: FlaskClient) -> None:
    response = sparql_client.get(
        "/sparql?query=SELECT%20%3Fx%20%7BBIND(%22%C3%A9%22%20AS%20%3Fx)%7D",
        headers={"Accept": "application/sparql-results+json"},
    )
    assert response.status_code == 200
    assert response.get_json()["results"]["bindings"][0]["x"]["value"] == "é"


@pytest.mark.parametrize("header", ["bytes=0-0,5-9", "items=0-4", "bytes=abc"])
def test_ranges_a_server_must_ignore_get_the_whole_file(
    client: FlaskClient, build_dir: Path, header: str
) -> None:
    whole = (build_dir / "dumps" / "SHA256SUMS").read_bytes()
    with client.get("/dumps/SHA256SUMS", headers={"Range": header}) as response:
        assert response.status_code == 200
        assert response.data == whole


def test_an_empty_suffix_range_is_unsatisfiable(client: FlaskClient, build_dir: Path) -> None:
    size = (build_dir / "dumps" / "SHA256SUMS").stat().st_size
    with client.get("/dumps/SHA256SUMS", headers={"Range": "bytes=-0"}) as response:
        assert response.status_code == 416
        assert response.headers["Content-Range"] == f"bytes */{size}"
    with client.get("/dumps/SHA256SUMS", headers={"Range": "bytes=0-"}) as response:
        assert response.status_code == 206  # from the first byte on: not an empty suffix


def test_serve_refuses_a_build_dir_whose_current_link_is_dangling(tmp_path: Path) -> None:
    (tmp_path / "build").mkdir()
    os.symlink(Path(".builds") / "gone", tmp_path / "build" / "current")
    result = CliRunner().invoke(serve_command, ["--build", str(tmp_path / "build"), "--port", "0"])
    assert result.exit_code == 2
    assert "no completed build" in result.output
    assert "No build in" not in result.output  # never serves the sample in place of real data
    assert not (tmp_path / "build" / ".builds").exists()


def test_serve_refuses_a_corrupt_store_with_exit_2(tmp_path: Path) -> None:
    store = tmp_path / "build" / ".builds" / "b1" / "store"
    store.mkdir(parents=True)
    (store / "CURRENT").write_text("junk\n", encoding="utf-8")
    os.symlink(Path(".builds") / "b1", tmp_path / "build" / "current")
    result = CliRunner().invoke(serve_command, ["--build", str(tmp_path / "build"), "--port", "0"])
    assert result.exit_code == 2
    assert "cannot open the store" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_serve_says_when_the_port_is_taken(build_dir: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(serve_command, ["--build", str(build_dir), "--port", str(port)])
    assert result.exit_code == 2
    assert f"127.0.0.1:{port}" in result.output
    assert "in use" in result.output
    assert "Serving" not in result.output


SLOW_COUNT = (
    "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?a ?b ?c } GRAPH ?h { ?d ?e ?f } "
    "GRAPH ?i { ?x ?y ?z } GRAPH ?j { ?k a ?m } }"
)
COUNT_ALL = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
NEXT_BUILD = "20240106T000000Z-next"


def publish_build_of(trig: Path, out_dir: Path, build_id: str) -> None:
    """Makes a build of ``trig`` as ``out_dir/.builds/build_id`` and swaps ``current`` to it."""
    other = make_test_build(out_dir.parent / f"{build_id}-scratch", trig)
    shutil.move(other / ".builds" / TEST_BUILD_ID, out_dir / ".builds" / build_id)
    link = out_dir / "current.new"
    os.symlink(Path(".builds") / build_id, link)
    os.replace(link, out_dir / "current")  # atomic, as `osce-kg build` publishes


def count(client: FlaskClient, query: str) -> int:
    response = client.get(
        "/sparql", query_string={"query": query}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 200, response.data
    return int(response.get_json()["results"]["bindings"][0]["n"]["value"])


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_new_build_is_served_without_a_restart_or_a_lost_request(tmp_path: Path) -> None:
    from server import create_app
    from server.pool import close_query_pool, query_pool

    out = make_test_build(tmp_path / "build", SERVER_DATA / "sample.trig")
    app: Flask = create_app(
        {"TESTING": True, "BUILD_DIR": str(out), "BUILD_CHECK_INTERVAL": 0, "SPARQL_WORKERS": 1}
    )
    client = app.test_client()
    try:
        before = count(client, COUNT_ALL)
        with app.app_context():
            old_pids = query_pool(app).worker_pids()
        in_flight: list[int] = []
        slow = threading.Thread(target=lambda: in_flight.append(count(client, SLOW_COUNT)))
        slow.start()
        time.sleep(0.2)  # the slow query is running in the old build's only worker
        publish_build_of(SPARQL_DATA / "fixture.trig", out, NEXT_BUILD)
        assert client.get("/healthz").get_json()["build"] == NEXT_BUILD
        after = count(client, COUNT_ALL)  # answered by the new build's workers at once
        slow.join(timeout=60)
        assert in_flight and in_flight[0] > 0  # the request in flight was answered, not lost
        assert after != before
        assert (
            client.get("/dumps/", headers={"Accept": "application/json"}).get_json()["build"]
            == NEXT_BUILD
        )
        assert not any(alive(pid) for pid in old_pids)  # the old workers stopped once idle
    finally:
        close_query_pool(app)


def test_a_broken_new_build_leaves_the_old_one_served(tmp_path: Path) -> None:
    from server import create_app

    out = make_test_build(tmp_path / "build", SERVER_DATA / "sample.trig")
    app = create_app({"TESTING": True, "BUILD_DIR": str(out), "BUILD_CHECK_INTERVAL": 0})
    (out / ".builds" / "broken").mkdir()
    os.symlink(Path(".builds") / "broken", out / "current.new")
    os.replace(out / "current.new", out / "current")
    assert app.test_client().get("/healthz").get_json()["build"] == TEST_BUILD_ID


def doubling_query(doublings: int) -> str:
    """A short query whose one literal doubles in size ``doublings`` times (16 bytes first)."""
    binds = ['BIND("xxxxxxxxxxxxxxxx" AS ?v0)']
    binds += [f"BIND(CONCAT(?v{i}, ?v{i}) AS ?v{i + 1})" for i in range(doublings)]
    return f"SELECT (STRLEN(?v{doublings}) AS ?n) WHERE {{ {' '.join(binds)} }}"


def test_a_query_that_eats_memory_is_stopped_and_the_pool_recovers(build_dir: Path) -> None:
    from server import create_app
    from server.pool import close_query_pool

    app = create_app(
        {
            "TESTING": True,
            "BUILD_DIR": str(build_dir),
            "SPARQL_WORKERS": 1,
            "SPARQL_WORKER_MEMORY_MB": 300,
        }
    )
    client = app.test_client()
    try:
        assert count(client, doubling_query(4)) == 256
        response = client.get(
            "/sparql", query_string={"query": doubling_query(25)}, headers={"Accept": "text/csv"}
        )  # a 512 MB literal: over the worker's limit
        assert response.status_code == 503
        assert b"memory" in response.data
        assert b"300 MB" in response.data
        assert count(client, doubling_query(4)) == 256  # a fresh worker answers
    finally:
        close_query_pool(app)


def test_cross_origin_answers_are_safe_to_cache(sparql_client: FlaskClient) -> None:
    response = sparql_client.get(f"/sparql?query={ASK}", headers={"Origin": "https://a.example"})
    allowed = response.headers["Access-Control-Allow-Origin"]
    # An answer naming one origin must say it varies by Origin, or a cache hands it to others.
    assert allowed == "*" or "Origin" in response.vary
    assert "Accept" in response.vary


def test_every_setting_is_documented_in_the_readme() -> None:
    from server import DEFAULTS

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    missing = [name for name in DEFAULTS if f"`OSCE_KG_{name}`" not in readme]
    assert not missing, f"settings the README does not name: {missing}"


def test_queries_waiting_for_a_worker_when_a_new_build_lands_are_answered(tmp_path: Path) -> None:
    from server import create_app
    from server.pool import close_query_pool

    out = make_test_build(tmp_path / "build", SERVER_DATA / "sample.trig")
    app = create_app(
        {
            "TESTING": True,
            "BUILD_DIR": str(out),
            "BUILD_CHECK_INTERVAL": 0,
            "SPARQL_WORKERS": 1,
            "SPARQL_TIMEOUT": 3,
        }
    )
    client = app.test_client()
    runaway = SLOW_COUNT.replace("?k a ?m", "?k ?l ?m . ?n0 ?n1 ?n2")
    statuses: dict[str, int] = {}

    def ask(name: str, query: str) -> None:
        response = app.test_client().get(
            "/sparql", query_string={"query": query}, headers={"Accept": "application/json"}
        )
        statuses[name] = response.status_code

    try:
        assert count(client, COUNT_ALL) > 0  # the old build's one worker is up
        hog = threading.Thread(target=ask, args=("runaway", runaway))
        hog.start()
        time.sleep(0.2)
        waiting = threading.Thread(target=ask, args=("waiting", "ASK {}"))
        waiting.start()  # queued for the old build's only worker, busy with the runaway
        time.sleep(0.2)
        publish_build_of(SPARQL_DATA / "fixture.trig", out, NEXT_BUILD)
        assert count(client, COUNT_ALL) > 0  # a new request retires the old pool
        waiting.join(timeout=30)
        hog.join(timeout=30)
        assert statuses["waiting"] == 200  # moved to the new build's workers, not left to starve
        assert statuses["runaway"] == 503
    finally:
        close_query_pool(app)


def test_the_memory_limit_is_announced_in_the_service_description(build_dir: Path) -> None:
    from server import create_app

    app = create_app({"TESTING": True, "BUILD_DIR": str(build_dir), "SPARQL_WORKER_MEMORY_MB": 512})
    turtle = app.test_client().get("/sparql", headers={"Accept": "text/turtle"}).data
    assert b"endpoint:maxQueryMemoryMB 512" in turtle
    assert b"512 MB of memory" in turtle
