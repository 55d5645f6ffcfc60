"""Runaway queries do not starve the site: per-client and overall query limits, an elastic pool."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask
from werkzeug.datastructures import Headers

from server.admission import Admission, client_of
from server.limits import Limits
from server.query import ClientBusyError, QueryBusyError
from tests.conftest import DEFAULT_BASE
from tests.serving import free_port, started

#: Counts a six-fold cross product of the store: runs far longer than any test's time limit.
RUNAWAY = (
    "SELECT (COUNT(*) AS ?n) WHERE "
    "{ ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n0 ?o . ?p ?q ?r }"
)
SIMPLE = "SELECT ?s WHERE { ?s a ?type } LIMIT 3"
LOOPBACK = Limits.from_config(
    {
        "SPARQL_TIMEOUT": 30,
        "SPARQL_MAX_ROWS": 10,
        "MAX_QUERY_BYTES": 100,
        "SPARQL_SERVICE_ALLOWLIST": [],
        "SPARQL_WORKERS": 2,
        "SPARQL_WORKER_MEMORY_MB": 0,
        "PAGE_SIZE": 10,
        "SPARQL_MAX_NESTING": 64,
        "SPARQL_MAX_WORKERS": 8,
        "SPARQL_WORKER_WAIT": 1,
        "SPARQL_WORKER_NICE": 19,
        "SPARQL_MAX_PER_CLIENT": 2,
        "SPARQL_MAX_QUERIES": 16,
        "TRUSTED_PROXIES": ["127.0.0.1", "::1"],
    }
).trusted_proxies


@pytest.mark.parametrize(
    ("remote", "headers", "client"),
    [
        ("203.0.113.9", {"User-Agent": "a"}, "203.0.113.9 a"),
        # only a trusted proxy may name the client
        ("203.0.113.9", {"X-Real-IP": "198.51.100.1", "User-Agent": "a"}, "203.0.113.9 a"),
        ("127.0.0.1", {"X-Real-IP": "198.51.100.1", "User-Agent": "a"}, "198.51.100.1 a"),
        # the proxy appends the address it saw; what the client wrote before it is not trusted
        ("::1", {"X-Forwarded-For": "10.9.9.9, 198.51.100.2"}, "198.51.100.2 "),
        ("127.0.0.1", {"X-Real-IP": "not an address"}, "127.0.0.1 "),
        (None, {}, "unknown "),
    ],
)
def test_the_client_is_its_address_and_user_agent(
    remote: str | None, headers: dict[str, str], client: str
) -> None:
    assert client_of(remote, Headers(headers), LOOPBACK) == client


def test_a_client_over_its_share_or_a_full_server_is_refused() -> None:
    admission = Admission(per_client=2, overall=3)
    with admission.admit("a"), admission.admit("a"):
        with pytest.raises(ClientBusyError) as refused, admission.admit("a"):
            pass
        assert refused.value.retry_after > 0
        with admission.admit("b"):
            with pytest.raises(QueryBusyError), admission.admit("c"):
                pass
            assert admission.running() == 3
    assert admission.running() == 0  # counts are given back, also after a refusal
    with admission.admit("c"):
        assert admission.running() == 1


@pytest.fixture
def small_pool_app(build_dir: Path) -> Iterator[Flask]:
    """An app with one warm worker, two at most and a short wait for a busy pool."""
    from server import create_app
    from server.pool import close_query_pool

    app = create_app(
        {
            "TESTING": True,
            "BUILD_DIR": str(build_dir),
            "BASE": DEFAULT_BASE,
            "SPARQL_TIMEOUT": 4,
            "SPARQL_WORKERS": 1,
            "SPARQL_MAX_WORKERS": 2,
            "SPARQL_WORKER_WAIT": 0.5,
        }
    )
    yield app
    close_query_pool(app)


def query_as(app: Flask, agent: str, query: str) -> tuple[int, str | None, float]:
    """Status, Retry-After and seconds of one query sent with the User-Agent ``agent``."""
    started = time.monotonic()
    response = app.test_client().get(
        "/sparql",
        query_string={"query": query},
        headers={"User-Agent": agent, "Accept": "application/sparql-results+json"},
    )
    return response.status_code, response.headers.get("Retry-After"), time.monotonic() - started


def test_the_pool_grows_to_its_cap_then_answers_503_soon(small_pool_app: Flask) -> None:
    from server.pool import query_pool

    outcomes: list[tuple[int, str | None, float]] = []
    runaways = [
        threading.Thread(
            target=lambda a=agent: outcomes.append(query_as(small_pool_app, a, RUNAWAY))
        )
        for agent in ("runaway-1", "runaway-2")
    ]
    for thread in runaways:
        thread.start()
    time.sleep(1.0)
    with small_pool_app.app_context():
        assert len(query_pool(small_pool_app).worker_pids()) == 2  # grew past the one warm worker
    status, retry_after, seconds = query_as(small_pool_app, "simple", SIMPLE)
    assert status == 503
    assert retry_after is not None and int(retry_after) <= 5
    assert seconds < 2.5, "a query must not wait for the query time limit when the pool is full"
    for thread in runaways:
        thread.join(30)
    assert [status for status, _, _ in outcomes] == [503, 503]  # stopped at their time limit
    assert query_as(small_pool_app, "simple", SIMPLE)[0] == 200


def group_members(group: int) -> list[int]:
    """The processes still alive in a process group (from /proc)."""
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == group and fields[0] != "Z":
                members.append(int(entry.name))
    return members


@pytest.mark.slow
def test_runaways_from_four_clients_leave_the_site_and_simple_queries_answered(
    build_dir: Path,
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-c", "from server.cli import main; main()"]
    command += ["serve", "--build", str(build_dir), "--host", "127.0.0.1", "--port", str(port)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("OSCE_KG_")}
    env["OSCE_KG_SPARQL_TIMEOUT"] = "6"
    outcomes: dict[str, int] = {}

    def runaway(agent: str, key: str) -> None:
        response = requests.get(
            f"{url}/sparql", params={"query": RUNAWAY}, headers={"User-Agent": agent}, timeout=30
        )
        outcomes[key] = response.status_code

    # started() runs it in its own session: the server, its forkserver and query workers
    # share one process group, stopped together
    with started(command, port=port, env=env, start_timeout=30) as server:
        threads = [
            threading.Thread(target=runaway, args=(f"runaway-{n}", f"runaway-{n}"))
            for n in range(4)
        ]
        threads.append(threading.Thread(target=runaway, args=("runaway-0", "second")))
        for thread in threads:
            thread.start()
        time.sleep(1.5)  # the five runaways are running
        for path, params in (("/sparql", {"query": SIMPLE}), ("/healthz", {}), ("/", {})):
            began = time.monotonic()
            answer = requests.get(
                url + path, params=params, headers={"User-Agent": "simple"}, timeout=10
            )
            assert answer.status_code == 200, (path, answer.text[:300])
            assert time.monotonic() - began < 3, f"{path} waited behind the runaway queries"
        third = requests.get(
            f"{url}/sparql",
            params={"query": SIMPLE},
            headers={"User-Agent": "runaway-0"},
            timeout=10,
        )
        assert third.status_code == 429, third.text[:300]
        assert int(third.headers["Retry-After"]) > 0
        for thread in threads:
            thread.join(30)
        assert outcomes == dict.fromkeys([*(f"runaway-{n}" for n in range(4)), "second"], 503)
    deadline = time.monotonic() + 10
    while group_members(server.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not group_members(server.pid), "query workers outlived the server"
