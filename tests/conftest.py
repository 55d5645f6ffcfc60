"""Shared pytest fixtures: a small build directory, the Flask app, its client and CLI runner."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from rdflib import Graph, Namespace
from werkzeug.test import TestResponse

from kg.rdf.uris import DEFAULT_BASE

SERVER_DATA = Path(__file__).parent / "data" / "server"
TEST_BUILD_ID = "20240105T000000Z-test"


def write_utf8(path: Path, text: str) -> Path:
    """Writes ``text`` to ``path`` as UTF-8, making its folder; returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def write_gzip(path: Path, data: bytes | None) -> None:
    """Gzips deterministically (no name, mtime 0), as the build does."""
    path.write_bytes(gzip.compress(data or b"", mtime=0))


def make_test_build(out_dir: Path, trig: Path = SERVER_DATA / "sample.trig") -> Path:
    """Lays out ``out_dir`` like ``osce-kg build --out`` does, from a TriG file; returns out_dir."""
    folder = out_dir / ".builds" / TEST_BUILD_ID
    (folder / "dumps").mkdir(parents=True)
    (folder / "report").mkdir()
    quads = list(ox.parse(path=str(trig), format=ox.RdfFormat.TRIG))
    store = ox.Store(str(folder / "store"))
    store.extend(quads)
    store.flush()
    del store
    triples = sorted({q.triple for q in quads}, key=str)
    dumps = folder / "dumps"
    write_gzip(
        dumps / "osce-kg.nq.gz", ox.serialize(sorted(quads, key=str), format=ox.RdfFormat.N_QUADS)
    )
    write_gzip(dumps / "osce-kg.nt.gz", ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES))
    write_gzip(dumps / "osce-kg.ttl.gz", ox.serialize(triples, format=ox.RdfFormat.TURTLE))
    shutil.copy(SERVER_DATA / "void.ttl", dumps / "void.ttl")
    sums = "".join(
        f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}\n" for p in sorted(dumps.iterdir())
    )
    (dumps / "SHA256SUMS").write_text(sums, encoding="utf-8")
    shutil.copy(SERVER_DATA / "validation.ttl", folder / "report" / "validation.ttl")
    (folder / "report" / "quarantine.json").write_text("[]\n", encoding="utf-8")
    summary = {
        "build_id": TEST_BUILD_ID,
        "build_time": "2024-01-05T00:00:00Z",
        "quads": len(quads),
        "releases": 3,
        "quarantined": 0,
    }
    (folder / "report" / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    os.symlink(Path(".builds") / TEST_BUILD_ID, out_dir / "current")
    for name in ("store", "dumps", "report"):
        os.symlink(Path("current") / name, out_dir / name)
    return out_dir


@pytest.fixture(scope="session")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A build directory made from ``tests/data/server/sample.trig``, shared by the session."""
    return make_test_build(tmp_path_factory.mktemp("build"))


@pytest.fixture
def app(build_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    """The server over the test build, with the default base and small pages of incoming links."""
    monkeypatch.delenv("OSCE_KG_BASE", raising=False)
    from server import create_app
    from server.pool import close_query_pool

    app = create_app(
        {"TESTING": True, "BUILD_DIR": str(build_dir), "BASE": DEFAULT_BASE, "PAGE_SIZE": 2}
    )
    yield app
    close_query_pool(app)  # the query worker processes a /sparql request may have started


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


def get_as(client: FlaskClient, path: str, accept: str, *, status: int = 200) -> TestResponse:
    """GET ``path`` asking for ``accept`` (content negotiation), checking the status it answers."""
    response = client.get(path, headers={"Accept": accept})
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    return response


PAGES_DATA = Path(__file__).parent / "data" / "pages"


@pytest.fixture(scope="session")
def people_build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A build of ``tests/data/pages/people.trig`` with the shipped ontology and vocabularies."""
    from kg.resources import ontology_dir

    folder = tmp_path_factory.mktemp("people-build")
    quads = list(ox.parse(path=str(PAGES_DATA / "people.trig"), format=ox.RdfFormat.TRIG))
    for name, graph in (("osce.ttl", "ontology"), ("vocabularies.ttl", "vocabularies")):
        data = (ontology_dir() / name).read_bytes()
        into = ox.NamedNode(f"{DEFAULT_BASE}graph/{graph}")
        quads += [
            ox.Quad(q.subject, q.predicate, q.object, into)
            for q in ox.parse(data, format=ox.RdfFormat.TURTLE)
        ]
    trig = folder / "people.trig"
    trig.write_bytes(ox.serialize(quads, format=ox.RdfFormat.TRIG) or b"")
    return make_test_build(folder / "build", trig)


@pytest.fixture
def people_client(people_build_dir: Path, monkeypatch: pytest.MonkeyPatch) -> FlaskClient:
    """A client of the server over the people build, with the default base."""
    monkeypatch.delenv("OSCE_KG_BASE", raising=False)
    from server import create_app

    app = create_app({"TESTING": True, "BUILD_DIR": str(people_build_dir), "BASE": DEFAULT_BASE})
    return app.test_client()


SPARQL_DATA = Path(__file__).parent / "data" / "sparql"


@pytest.fixture(scope="session")
def sparql_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The server over ``tests/data/sparql/fixture.trig``, its query workers stopped at the end.

    One app for the session (workers start once); tests change settings with monkeypatch.
    """
    from server import create_app
    from server.pool import close_query_pool

    folder = make_test_build(tmp_path_factory.mktemp("sparql-build"), SPARQL_DATA / "fixture.trig")
    app = create_app(
        {"TESTING": True, "BUILD_DIR": str(folder), "BASE": DEFAULT_BASE, "SPARQL_TIMEOUT": 20}
    )
    yield app
    close_query_pool(app)


@pytest.fixture
def sparql_client(sparql_app: Flask) -> FlaskClient:
    return sparql_app.test_client()


@pytest.fixture
def sparql_limits(sparql_app: Flask, monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Changes the session app's limits for one test: ``sparql_limits(timeout=1.5)``.

    The app reads its limits once, when it is made; this swaps them and puts them back after.
    """
    from server.limits import EXTENSION_KEY, limits_of

    def change(**changes: Any) -> None:
        changed = replace(limits_of(sparql_app), **changes)
        monkeypatch.setitem(sparql_app.extensions, EXTENSION_KEY, changed)

    return change


SHAPES_DATA = Path(__file__).parent / "data" / "shapes"
#: the namespace of the project's shapes, and where its things are (under the default base)
OSCESH = Namespace("https://w3id.org/osce-kg/shapes#")
ID = "https://w3id.org/osce-kg/id/"


@pytest.fixture(scope="session")
def shapes() -> Graph:
    """The shipped SHACL shapes, loaded once for the session (tests only read them)."""
    from kg.validation.shacl import load_shapes

    return load_shapes()


@pytest.fixture(scope="session")
def ontology() -> Graph:
    """The shipped ontology, loaded once for the session (tests only read it)."""
    from kg.validation.shacl import load_ontology

    return load_ontology()


@pytest.fixture(scope="session")
def context() -> Graph:
    """The valid surroundings every shape fixture is validated with."""
    return Graph().parse(SHAPES_DATA / "context.ttl")


def paused_build_command(step: str, marker: Path) -> list[str]:
    """``osce-kg build`` in a subprocess that stops at ``step`` (see tests/paused_build.py);
    append the build's arguments."""
    script = Path(__file__).with_name("paused_build.py")
    return [sys.executable, str(script), step, str(marker), "build", "--no-progress"]


def wait_for_pause(marker: Path, process: subprocess.Popen[str] | subprocess.Popen[bytes]) -> None:
    """Waits until a build started by paused_build_command writes its marker (at most 120 s)."""
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert process.poll() is None, "the build ended before reaching the pause"
        assert time.monotonic() < deadline, "the build did not reach the pause in time"
        time.sleep(0.1)
