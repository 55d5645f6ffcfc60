"""A new build is loaded and its query workers warmed off the request path: the old build keeps
answering every request until the new one is ready, then the new one answers."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server.pool import EXTENSION_KEY as POOLS_KEY
from server.pool import QueryPool, QueryPools, close_query_pool, query_pool
from server.store import Build, build_watcher
from tests.conftest import SERVER_DATA, SPARQL_DATA, TEST_BUILD_ID, make_test_build
from tests.test_server_review import COUNT_ALL, NEXT_BUILD, count, publish_build_of

#: Generous bound for a background swap of a small test build on a loaded machine.
SWAP_DEADLINE = 120.0


@pytest.fixture(params=["memory", "disk"])
def warm_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    """An app that warms its workers before serving (as `osce-kg serve` does) and looks for a
    new build on every request."""
    from server import create_app

    out = make_test_build(tmp_path / "build", SERVER_DATA / "sample.trig")
    app = create_app(
        {
            "TESTING": True,
            "WARM_START": True,
            "STORE": request.param,
            "BUILD_DIR": str(out),
            "BUILD_CHECK_INTERVAL": 0,
            "SPARQL_WORKERS": 1,
        }
    )
    yield app
    close_query_pool(app)


class Gate:
    """Holds the new build's preparation (after it was opened, before its workers are warmed)
    until opened; records what the preparation warmed."""

    def __init__(self, app: Flask) -> None:
        self.watcher = build_watcher(app)
        self.pools: QueryPools = app.extensions[POOLS_KEY]
        self.prepare: Callable[[Build], None] | None = self.watcher.prepare
        self.reached = threading.Event()
        self.open = threading.Event()
        self.opened: list[Build] = []
        self.warmed: list[QueryPool] = []
        self.watcher.prepare = self.held

    def held(self, build: Build) -> None:
        self.opened.append(build)  # opened already: copied into memory with STORE=memory
        self.reached.set()
        if not self.open.wait(SWAP_DEADLINE):
            raise RuntimeError("the test never opened the gate")
        assert self.prepare is not None
        self.prepare(build)
        self.warmed.append(self.pools._next)  # type: ignore[arg-type]


def answered(action: Callable[[], object]) -> object:
    """What ``action`` returns, run in a thread that must finish: a request that waited for
    the held preparation would not."""
    result: list[object] = []
    thread = threading.Thread(target=lambda: result.append(action()), daemon=True)
    thread.start()
    thread.join(SWAP_DEADLINE)
    assert result, "the request waited for the new build instead of being answered"
    return result[0]


def healthz_build(client: FlaskClient) -> str:
    build: str = client.get("/healthz").get_json()["build"]
    return build


def wait_for_build(client: FlaskClient, build_id: str) -> None:
    deadline = time.monotonic() + SWAP_DEADLINE
    while healthz_build(client) != build_id:
        assert time.monotonic() < deadline, f"{build_id} was never served"
        time.sleep(0.05)


def test_the_old_build_answers_while_the_new_one_is_loaded_and_warmed(warm_app: Flask) -> None:
    client = warm_app.test_client()
    before = count(client, COUNT_ALL)
    old_pool = query_pool(warm_app)
    gate = Gate(warm_app)
    publish_build_of(SPARQL_DATA / "fixture.trig", Path(warm_app.config["BUILD_DIR"]), NEXT_BUILD)

    # the request that notices the new build, and the ones after it, are the old build's
    assert answered(lambda: healthz_build(client)) == TEST_BUILD_ID
    assert gate.reached.wait(SWAP_DEADLINE)  # the new build was opened in the background
    assert gate.opened[0].build_id == NEXT_BUILD
    assert build_watcher(warm_app).preparing == NEXT_BUILD
    for _ in range(3):
        assert answered(lambda: count(client, COUNT_ALL)) == before
        assert answered(lambda: healthz_build(client)) == TEST_BUILD_ID
    assert query_pool(warm_app) is old_pool

    gate.open.set()
    wait_for_build(client, NEXT_BUILD)
    after = count(client, COUNT_ALL)
    assert after != before
    # the pool that answers is the one warmed before the switch, its workers ready then
    assert query_pool(warm_app) is gate.warmed[0]
    assert build_watcher(warm_app).preparing is None
    health = client.get("/healthz").get_json()
    assert health["store"]["mode"] == warm_app.config["STORE"]


def test_a_new_build_that_cannot_be_served_leaves_the_old_one_answering(warm_app: Flask) -> None:
    client = warm_app.test_client()
    before = count(client, COUNT_ALL)
    out = Path(warm_app.config["BUILD_DIR"])
    broken = out / ".builds" / "20240108T000000Z-broken"
    (broken / "store").mkdir(parents=True)
    (broken / "store" / "CURRENT").write_text("nonsense\n", encoding="utf-8")
    os.symlink(Path(".builds") / broken.name, out / "current.new")
    os.replace(out / "current.new", out / "current")

    assert answered(lambda: healthz_build(client)) == TEST_BUILD_ID
    deadline = time.monotonic() + SWAP_DEADLINE
    while build_watcher(warm_app).preparing is not None:  # until it was tried and refused
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert healthz_build(client) == TEST_BUILD_ID
    assert count(client, COUNT_ALL) == before
    assert build_watcher(warm_app).preparing is None  # refused once, not tried again
