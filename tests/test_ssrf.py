"""SSRF through SERVICE: every spelling is refused, and workers cannot connect if one slips by."""

from __future__ import annotations

import contextlib
import multiprocessing
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from kg.rdf.uris import DEFAULT_BASE
from server import create_app
from server.checks import check_query, mentions_service
from server.pool import close_query_pool
from server.query import QueryFailure
from server.sandbox import deny_network
from tests.conftest import SPARQL_DATA, make_test_build

SetLimits = Callable[..., None]


class Listener:
    """A TCP server on 127.0.0.1 that counts the connections it accepts (and closes them)."""

    def __init__(self) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(16)
        self.socket.settimeout(0.05)
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self.socket.getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/sparql"

    def _serve(self) -> None:
        deadline = time.monotonic() + 120  # bounded even if a test forgets to stop it
        while not self._stop.is_set() and time.monotonic() < deadline:
            try:
                connection, _ = self.socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            connection.close()

    def count_after(self, wait: float) -> int:
        """The connections accepted so far, after giving a late one ``wait`` seconds to arrive."""
        time.sleep(wait)
        return self.accepted

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.socket.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.stop()


HEADS = {
    "select": "SELECT * WHERE",
    "ask": "ASK",
    "construct": "CONSTRUCT { ?s ?p ?o } WHERE",
}

# Each way SERVICE can hide from a checker that reads escapes differently from the executor;
# {head} is the query form's start, {url} the listener's endpoint, {base} its folder.
TRICKS = {
    "string-comment": (
        '{head} { BIND("a\\u0022 # " AS ?x) SERVICE <{url}> { ?s ?p ?o } } # \\u000A AS ?y) }'
    ),
    "keyword-escape": "{head} { \\u0053ERVICE <{url}> { ?s ?p ?o } }",
    "lowercase-escape": "{head} { \\u0073ervice <{url}> { ?s ?p ?o } }",
    "all-escaped": (
        "{head} { \\u0073\\u0065\\u0072\\u0076\\u0069\\u0063\\u0065 <{url}> { ?s ?p ?o } }"
    ),
    "long-escape": "{head} { \\U00000053ERVICE <{url}> { ?s ?p ?o } }",
    "escaped-escape": "{head} { \\u005Cu0053ERVICE <{url}> { ?s ?p ?o } }",
    "mixed-case": "{head} { SeRvIcE <{url}> { ?s ?p ?o } }",
    "in-string": '{head} { BIND("\\u0053ERVICE <{url}>" AS ?x) }',
    "in-comment": "{head} { ?s ?p ?o # \\u0053ERVICE <{url}>\n }",
    "prefixed-endpoint": "PREFIX r: <{base}> {head} { \\u0053ERVICE r:sparql { ?s ?p ?o } }",
    "prefix-name": "PREFIX \\u0073ervice: <{base}> {head} { SERVICE service:sparql { ?s ?p ?o } }",
    "local-name": "PREFIX ex: <http://example.org/> {head} { ?s ex:\\u0073ervice ?o }",
}


def spell(trick: str, form: str, url: str) -> str:
    base = url.rsplit("/", 1)[0] + "/"
    return (
        TRICKS[trick].replace("{head}", HEADS[form]).replace("{url}", url).replace("{base}", base)
    )


def ask(client: FlaskClient, method: str, query: str, accept: str = "text/plain") -> TestResponse:
    headers = {"Accept": accept}
    if method == "get":
        return client.get("/sparql", query_string={"query": query}, headers=headers)
    if method == "form":
        return client.post("/sparql", data={"query": query}, headers=headers)
    return client.post(
        "/sparql",
        data=query.encode("utf-8"),
        headers={**headers, "Content-Type": "application/sparql-query"},
    )


@pytest.mark.parametrize("method", ["get", "form", "direct"])
@pytest.mark.parametrize("form", list(HEADS))
@pytest.mark.parametrize("trick", list(TRICKS))
def test_service_spellings_are_refused_without_a_connection(
    sparql_client: FlaskClient, listener: Listener, trick: str, form: str, method: str
) -> None:
    response = ask(sparql_client, method, spell(trick, form, listener.url))
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)
    assert "SERVICE" in response.get_data(as_text=True)
    assert listener.count_after(0.05) == 0


@pytest.mark.parametrize("trick", list(TRICKS))
def test_the_listener_would_notice_the_spellings(trick: str, listener: Listener) -> None:
    """The spellings that pyoxigraph runs as SERVICE really call the listener, unchecked."""
    query = spell(trick, "select", listener.url)
    with contextlib.suppress(SyntaxError, OSError):
        list(ox.Store().query(query))  # type: ignore[arg-type]
    calls = trick in {"string-comment", "mixed-case"}
    assert (listener.count_after(0.2) > 0) == calls


ALLOWED = "http://allowed.example/sparql"


@pytest.mark.parametrize("trick", list(TRICKS))
def test_the_allowlist_check_is_not_fooled_by_escapes(trick: str) -> None:
    """With an allowlist, each reading must agree: no spelling reaches an endpoint off the list."""
    failure = check_query(spell(trick, "select", "http://127.0.0.1:9/sparql"), (ALLOWED,))
    if trick not in {"in-string", "in-comment", "local-name"}:  # these call nothing
        assert isinstance(failure, QueryFailure)
        assert failure.kind == "forbidden"


def test_the_allowlist_still_lets_an_allowed_endpoint_through() -> None:
    query = f"SELECT * WHERE {{ SERVICE <{ALLOWED}> {{ ?s ?p ?o }} }}"
    assert check_query(query, (ALLOWED,)) is True
    escaped = f'SELECT * WHERE {{ BIND("caf\\u00e9" AS ?x) SERVICE <{ALLOWED}> {{ ?s ?p ?o }} }}'
    assert isinstance(check_query(escaped, (ALLOWED,)), QueryFailure)  # readings disagree


@pytest.mark.parametrize(
    ("text", "mentions"),
    [
        ("ASK { ?s ?p ?o }", False),
        ("ASK { ?s ?p 'caf\\u00e9' }", False),
        ("ASK { ?s ?p 'SERVICE' }", True),
        ("ASK { ?s ?p '\\u0053ervice' }", True),
        ("ASK { ?s ?p '\\u005Cu0073ervice' }", True),
        ("ASK { ?s ?p '\\U0001F600' } # \\UFFFFFFFF", False),  # no such character: kept as is
    ],
)
def test_mentions_service_reads_every_expansion(text: str, mentions: bool) -> None:
    assert mentions_service(text) is mentions


def _service_in_offline_process(url: str, results: multiprocessing.Queue[str]) -> None:
    applied = deny_network()
    try:
        list(ox.Store().query(f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}"))  # type: ignore[arg-type]
        outcome = "answered"
    except OSError as error:
        outcome = type(error).__name__
    results.put(f"{'+'.join(applied)}:{outcome}")


def test_an_offline_process_cannot_call_service(listener: Listener) -> None:
    """The second layer alone: pyoxigraph does call SERVICE, but not once the network is gone."""
    context = multiprocessing.get_context("forkserver")
    results: multiprocessing.Queue[str] = context.Queue()
    process = context.Process(target=_service_in_offline_process, args=(listener.url, results))
    process.start()
    outcome = results.get(timeout=30)
    process.join(10)
    applied, _, error = outcome.partition(":")
    assert applied, "neither seccomp nor a network namespace could be applied"
    assert error != "answered"
    assert listener.count_after(0.1) == 0


def test_a_check_bypass_still_connects_nowhere(
    sparql_client: FlaskClient, listener: Listener, sparql_limits: SetLimits
) -> None:
    """Allowing the endpoint after the workers started stands for a check that let it through."""
    sparql_limits(service_allowlist=(listener.url,))
    query = f"SELECT * WHERE {{ SERVICE <{listener.url}> {{ ?s ?p ?o }} }}"
    response = ask(sparql_client, "get", query, "*/*")
    text = response.get_data(as_text=True)
    assert response.status_code == 500
    assert listener.count_after(0.1) == 0
    for leak in (str(listener.port), "127.0.0.1", "denied", "os error", "refused"):
        assert leak not in text


@pytest.fixture
def federating_app(tmp_path: Path) -> Iterator[Flask]:
    """An app whose allowlist names an endpoint on 127.0.0.1 where nothing listens."""
    folder = make_test_build(tmp_path, SPARQL_DATA / "fixture.trig")
    app = create_app(
        {
            "TESTING": True,
            "BUILD_DIR": str(folder),
            "BASE": DEFAULT_BASE,
            "SPARQL_SERVICE_ALLOWLIST": ["http://127.0.0.1:9/sparql"],
            "SPARQL_WORKERS": 1,
        }
    )
    yield app
    close_query_pool(app)


@pytest.mark.parametrize("form", list(HEADS))
def test_a_failed_service_call_tells_no_connection_details(
    federating_app: Flask, form: str
) -> None:
    query = f"{HEADS[form]} {{ SERVICE <http://127.0.0.1:9/sparql> {{ ?s ?p ?o }} }}"
    response = ask(federating_app.test_client(), "get", query, "*/*")
    text = response.get_data(as_text=True)
    assert response.status_code == 500
    for leak in ("127.0.0.1", ":9", "refused", "os error", "Connection"):
        assert leak not in text
