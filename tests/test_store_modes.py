"""Serving from disk or from a copy in memory, and query workers warm before the app serves."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests
from flask import Flask

from kg.errors import ConfigError
from kg.rdf.uris import DEFAULT_BASE
from server.pool import close_query_pool, query_pool
from server.store import served_build
from tests.serving import free_port, running

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
JSON = {"Accept": "application/sparql-results+json"}


def make_app(build_dir: Path, **settings: object) -> Flask:
    from server import create_app

    return create_app(
        {"TESTING": True, "BUILD_DIR": str(build_dir), "BASE": DEFAULT_BASE, **settings}
    )


def quads_in(build_dir: Path) -> int:
    store = ox.Store.read_only(os.path.realpath(build_dir / "current" / "store"))
    return len(store)


def test_a_memory_copy_serves_the_same_documents_and_answers(build_dir: Path) -> None:
    disk, memory = make_app(build_dir), make_app(build_dir, STORE="memory")
    try:
        assert (
            disk.test_client().get("/page/state/at").data
            == memory.test_client().get("/page/state/at").data
        )
        for path in ("/data/state/at.nt", "/data/state/tj.nt"):
            # the same triples; the two stores may list them in another order
            triples = [
                set(app.test_client().get(path).get_data(as_text=True).splitlines())
                for app in (disk, memory)
            ]
            assert triples[0] == triples[1]
            assert triples[0]
        answers = [
            app.test_client().get("/sparql", query_string={"query": COUNT}, headers=JSON)
            for app in (disk, memory)
        ]
        assert answers[0].status_code == answers[1].status_code == 200
        assert answers[0].get_json() == answers[1].get_json()
        facts = query_pool(memory).wait_until_warm()
        assert facts and all(f.mode == "memory" and f.quads == quads_in(build_dir) for f in facts)
    finally:
        close_query_pool(disk)
        close_query_pool(memory)


def test_healthz_reports_how_the_store_is_held(build_dir: Path) -> None:
    memory = make_app(build_dir, STORE="memory")
    store = memory.test_client().get("/healthz").get_json()["store"]
    assert store["mode"] == "memory"
    assert store["quads"] == quads_in(build_dir)
    assert store["memory_mb"] >= 0
    disk = make_app(build_dir).test_client().get("/healthz").get_json()["store"]
    assert disk["mode"] == "disk"
    assert disk["quads"] is None


def test_an_unknown_store_mode_is_a_clear_error(build_dir: Path) -> None:
    with pytest.raises(ConfigError, match=r"STORE='tape'.*disk or memory"):
        make_app(build_dir, STORE="tape")


def test_a_warm_start_has_every_worker_ready_before_the_app_serves(build_dir: Path) -> None:
    app = make_app(build_dir, WARM_START=True, SPARQL_WORKERS=2)
    try:
        pool = query_pool(app)
        # started by create_app, not by a first query: the 2 idle ones and one to answer
        assert len(pool.worker_pids()) == 3
        started = time.monotonic()
        facts = pool.wait_until_warm()
        assert time.monotonic() - started < 1  # already warm: nothing left to wait for
        assert [f.mode for f in facts] == ["disk", "disk", "disk"]
        response = app.test_client().get("/sparql", query_string={"query": COUNT}, headers=JSON)
        assert response.status_code == 200
    finally:
        close_query_pool(app)


def test_a_test_app_starts_no_workers_until_a_query(build_dir: Path) -> None:
    app = make_app(build_dir)
    try:
        pools = app.extensions["osce_kg_query_pools"]
        assert pools._current is None
    finally:
        close_query_pool(app)


def test_serve_with_store_memory_reports_its_memory_and_answers(build_dir: Path) -> None:
    port = free_port()
    command = [sys.executable, "-c", "from server.cli import main; main()", "serve"]
    command += ["--build", str(build_dir), "--port", str(port), "--store", "memory"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("OSCE_KG_")}
    with running(command, port=port, env=env, start_timeout=60) as url:
        health = requests.get(url + "/healthz", timeout=10).json()
        assert health["store"]["mode"] == "memory"
        assert health["store"]["quads"] == quads_in(build_dir)
        answer = requests.get(url + "/sparql", params={"query": COUNT}, headers=JSON, timeout=10)
        assert answer.status_code == 200
        assert int(answer.json()["results"]["bindings"][0]["n"]["value"]) > 0


def test_the_served_build_says_how_it_is_held(build_dir: Path) -> None:
    facts = served_build(make_app(build_dir, STORE="memory")).store_facts
    assert "in memory" in facts.describe()
    assert facts.load_seconds >= 0
