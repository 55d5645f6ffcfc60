"""An external SPARQL store: `osce-kg publish` loads a build into Oxigraph's server and into
Virtuoso (Debian), and `osce-kg serve --sparql-endpoint` answers from each as it answers from
its own store, with the same limits. Virtuoso's tests skip when it is not installed."""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import pyoxigraph as ox
import pytest
import requests
from click.testing import CliRunner
from rdflib import Graph
from rdflib.compare import isomorphic

from kg.errors import ConfigError
from server.cli import cli
from server.remote import (
    HEALTH_PROBE,
    HEALTH_PROBE_SECONDS,
    RemoteStore,
    RemoteStoreError,
    bind_values,
    where_clause_start,
)
from tests.conftest import SERVER_DATA, make_test_build
from tests.serving import free_port, stop
from tests.static_site import python_server, server_env

pytestmark = pytest.mark.slow

BASE = "https://w3id.org/osce-kg/"
#: tests/data/server/sample.trig
ENTITIES = [
    ("state", "at"),
    ("state", "tj"),
    ("release", "2024-01-02-first-release-aaaaaa"),
    ("field-operation", "programme-office-in-dushanbe"),
    ("person", "test-person"),
]
FORMS = ("ttl", "nt", "jsonld", "rdf", "trig", "nq")
#: the build's quads by graph, as the store should hold them (our graphs only)
GRAPH_COUNTS = f"""SELECT ?g (COUNT(*) AS ?n) WHERE {{
  GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?g), "{BASE}"))
}} GROUP BY ?g ORDER BY ?g"""
#: a cross product of every triple six times (59 ** 6 rows): far longer than any time limit
RUNAWAY = (
    "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n ?o . "
    "?q ?r ?t }"
)
VIRTUOSO_INI = """[Database]
DatabaseFile = {dir}/virtuoso.db
ErrorLogFile = {dir}/virtuoso.log
LockFile = {dir}/virtuoso.lck
TransactionFile = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {dir}/virtuoso-temp.db
TransactionFile = {dir}/virtuoso-temp.trx
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
ServerThreads = 10
CheckpointInterval = 0
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
DirsAllowed = ., {dir}

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {dir}
ServerThreads = 10
MaxClientConnections = 10
EnabledDavVSP = 0

[SPARQL]
; above the server's row cap, so a cut answer can be told from a whole one
ResultSetMaxRows = 1000000
MaxQueryCostEstimationTime = 60
MaxQueryExecutionTime = 30
"""


@dataclass(frozen=True)
class Store:
    """A running SPARQL store: where to load (Graph Store) and where to query."""

    name: str
    graph_store: str
    query: str
    user: str | None = None
    password: str | None = None


def wait_for_query_url(url: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the store exited with {process.returncode} before answering")
        with contextlib.suppress(requests.RequestException):
            answer = requests.get(url, params={"query": "ASK {}"}, timeout=2)
            if answer.status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:g} s")


@contextlib.contextmanager
def store_process(command: list[str], query_url: str, timeout: float) -> Iterator[None]:
    """Runs a store on 127.0.0.1 in its own session until ``query_url`` answers; stops it by
    its pid afterwards."""
    process = subprocess.Popen(
        command,
        env=server_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for_query_url(query_url, process, timeout)
        yield
    finally:
        stop(process)


def oxigraph_binary() -> str:
    found = shutil.which("oxigraph") or str(Path(sys.executable).with_name("oxigraph"))
    if not os.access(found, os.X_OK):
        pytest.skip("Oxigraph's server is not installed: pip install -e '.[test]'")
    return found


@contextlib.contextmanager
def oxigraph(folder: Path | None, *, union: bool = True) -> Iterator[Store]:
    """`oxigraph serve` on a free port of 127.0.0.1 (in memory when ``folder`` is None)."""
    port = free_port()
    command = [oxigraph_binary(), "serve", "--bind", f"127.0.0.1:{port}", "--timeout-s", "20"]
    command += ["--location", str(folder)] if folder is not None else []
    command += ["--union-default-graph"] if union else []
    url = f"http://127.0.0.1:{port}"
    with store_process(command, f"{url}/query", timeout=30):
        yield Store("oxigraph", f"{url}/store", f"{url}/query")


@contextlib.contextmanager
def virtuoso(folder: Path) -> Iterator[Store]:
    """Debian's Virtuoso 7 on free ports of 127.0.0.1, its database in ``folder``."""
    binary = shutil.which("virtuoso-t")
    if binary is None:
        pytest.skip("Virtuoso is not installed (Debian: apt-get install virtuoso-opensource)")
    folder.mkdir(parents=True, exist_ok=True)
    http_port = free_port()
    ini = folder / "virtuoso.ini"
    ini.write_text(
        VIRTUOSO_INI.format(dir=folder, sql_port=free_port(), http_port=http_port),
        encoding="utf-8",
    )
    url = f"http://127.0.0.1:{http_port}"
    with store_process([binary, "-f", "-c", str(ini)], f"{url}/sparql", timeout=120):
        # the database's administrator, with its password of a fresh database
        yield Store("virtuoso", f"{url}/sparql-graph-crud-auth", f"{url}/sparql", "dba", "dba")


def publish(build: Path, store: Store) -> subprocess.CompletedProcess[str]:
    """`osce-kg publish --to` as a user runs it."""
    command = [sys.executable, "-c", "from server.cli import main; main()", "publish"]
    command += ["--to", store.graph_store, str(build)]
    env = server_env()
    if store.user:
        command += ["--user", store.user]
        env["OSCE_KG_PUBLISH_PASSWORD"] = store.password or ""
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def ask_store(store: Store, query: str) -> list[dict[str, str]]:
    """The store's own answer, as rows of values (for checks outside the server)."""
    answer = requests.post(
        store.query,
        data={"query": query},
        headers={"Accept": "application/sparql-results+json"},
        timeout=30,
    )
    answer.raise_for_status()
    rows = answer.json()["results"]["bindings"]
    return [{k: v["value"] for k, v in row.items()} for row in rows]


@dataclass(frozen=True)
class Setup:
    store: Store
    local: str  # osce-kg serve over the build's own store
    remote: str  # osce-kg serve over the external store
    build: Path


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_test_build(tmp_path_factory.mktemp("remote") / "build")


#: the same limits for the server over its own store and over the external one
LIMITS = {"OSCE_KG_SPARQL_MAX_ROWS": "3", "OSCE_KG_SPARQL_TIMEOUT": "3"}


@pytest.fixture(scope="module")
def local(build: Path) -> Iterator[str]:
    with python_server(build, **LIMITS) as url:
        yield url


@pytest.fixture(scope="module", params=["oxigraph", "virtuoso"])
def setup(
    request: pytest.FixtureRequest,
    build: Path,
    local: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Setup]:
    folder = tmp_path_factory.mktemp(request.param)
    starting = oxigraph(folder / "db") if request.param == "oxigraph" else virtuoso(folder)
    with starting as store:
        published = publish(build, store)
        assert published.returncode == 0, published.stderr
        assert "Stored 5 graphs (59 triples" in published.stdout
        settings = {**LIMITS, "OSCE_KG_SPARQL_ENDPOINT": store.query}
        with python_server(build, **settings) as remote:
            yield Setup(store, local, remote, build)


def test_publish_keeps_every_named_graph_with_its_triples(setup: Setup) -> None:
    quads = list(ox.parse(path=str(SERVER_DATA / "sample.trig"), format=ox.RdfFormat.TRIG))
    expected: dict[str, int] = {}
    for quad in quads:
        expected[str(quad.graph_name.value)] = expected.get(str(quad.graph_name.value), 0) + 1
    found = {row["g"]: int(row["n"]) for row in ask_store(setup.store, GRAPH_COUNTS)}
    assert found == expected


def test_publishing_again_replaces_rather_than_doubles(setup: Setup) -> None:
    before = ask_store(setup.store, GRAPH_COUNTS)
    again = publish(setup.build, setup.store)
    assert again.returncode == 0, again.stderr
    assert ask_store(setup.store, GRAPH_COUNTS) == before


def inline_context(data: bytes, server: str) -> bytes:
    """A JSON-LD document with its ``@context`` URL replaced by the context that server publishes
    there (as a JSON-LD processor's document loader would fetch it); other documents as they are."""
    try:
        document = json.loads(data)
    except ValueError:
        return data
    url = document.get("@context") if isinstance(document, dict) else None
    if not isinstance(url, str):
        return data
    context = requests.get(server + urlsplit(url).path, timeout=30)
    assert context.status_code == 200, f"{server} does not publish the context {url}"
    document["@context"] = context.json()["@context"]
    return json.dumps(document).encode()


def graph_of(data: bytes, extension: str) -> Graph:
    """An RDF document read by pyoxigraph, as an rdflib graph (to compare up to blank nodes)."""
    rdf_format = ox.RdfFormat.from_extension(extension)
    assert rdf_format is not None
    triples = [quad.triple for quad in ox.parse(data, format=rdf_format)]
    return Graph().parse(data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES), format="nt")


@pytest.mark.parametrize(("kind", "key"), ENTITIES)
def test_entity_documents_from_the_store_are_the_builds(setup: Setup, kind: str, key: str) -> None:
    for extension in FORMS:
        path = f"/data/{kind}/{key}.{extension}"
        local = requests.get(setup.local + path, timeout=30)
        remote = requests.get(setup.remote + path, timeout=30)
        assert local.status_code == remote.status_code == 200, path
        assert remote.headers["Content-Type"] == local.headers["Content-Type"]
        mine = graph_of(inline_context(local.content, setup.local), extension)
        theirs = graph_of(inline_context(remote.content, setup.remote), extension)
        assert len(mine) > 0 and isomorphic(mine, theirs), path
    page = f"/page/{kind}/{key}"
    local_page = requests.get(setup.local + page, timeout=30)
    remote_page = requests.get(setup.remote + page, timeout=30)
    assert remote_page.status_code == 200 and remote_page.text == local_page.text
    redirect = requests.get(
        setup.remote + f"/id/{kind}/{key}",
        headers={"Accept": "text/turtle"},
        allow_redirects=False,
        timeout=30,
    )
    assert redirect.status_code == 303
    assert redirect.headers["Location"] == f"/data/{kind}/{key}.ttl"


def test_an_unknown_entity_is_404_from_the_store_too(setup: Setup) -> None:
    answer = requests.get(setup.remote + "/data/state/zz.ttl", timeout=30)
    assert answer.status_code == 404


def sparql(url: str, query: str, **headers: str) -> requests.Response:
    accept = {"Accept": "application/sparql-results+json", **headers}
    return requests.post(url + "/sparql", data={"query": query}, headers=accept, timeout=30)


@pytest.mark.parametrize(
    ("query", "status"),
    [
        (GRAPH_COUNTS, 200),
        (f"ASK {{ <{BASE}id/state/at> ?p ?o }}", 200),
        (f"ASK {{ <{BASE}id/state/zz> ?p ?o }}", 200),
        (
            f"SELECT ?s (COUNT(?o) AS ?n) WHERE {{ GRAPH <{BASE}graph/reference> {{ ?s ?p ?o }} }} "
            "GROUP BY ?s ORDER BY DESC(?n) ?s",
            200,
        ),
        ("SELECT ?label WHERE { ?s rdfs:label ?label }", 400),  # rdfs: is not declared
        ("SELECT ?x WHERE { ?x ?p }", 400),
    ],
)
def test_sparql_answers_as_the_builds_own_store_does(setup: Setup, query: str, status: int) -> None:
    local, remote = sparql(setup.local, query), sparql(setup.remote, query)
    assert (local.status_code, remote.status_code) == (status, status), remote.text
    assert remote.json() == local.json()


def test_a_construct_is_the_same_graph(setup: Setup) -> None:
    query = (  # two triples: under the row cap of 3
        f"CONSTRUCT {{ <{BASE}id/state/at> ?p ?o }} WHERE {{ <{BASE}id/state/at> ?p ?o "
        'FILTER(LANG(?o) IN ("en", "fr")) }'
    )
    local = sparql(setup.local, query, Accept="application/n-triples")
    remote = sparql(setup.remote, query, Accept="application/n-triples")
    assert local.status_code == remote.status_code == 200
    assert remote.headers["X-SPARQL-Truncated"] == "false"
    mine, theirs = graph_of(local.content, "nt"), graph_of(remote.content, "nt")
    assert len(theirs) == 2 and isomorphic(mine, theirs)


def test_the_row_cap_cuts_the_stores_answer_and_says_so(setup: Setup) -> None:
    answer = sparql(setup.remote, GRAPH_COUNTS)
    assert answer.status_code == 200
    assert len(answer.json()["results"]["bindings"]) == 3  # of 5 graphs
    assert answer.headers["X-SPARQL-Truncated"] == "true"
    assert answer.headers["X-SPARQL-Max-Rows"] == "3"


def test_updates_never_reach_the_store(setup: Setup) -> None:
    insert = f"INSERT DATA {{ GRAPH <{BASE}graph/x> {{ <urn:a> <urn:b> <urn:c> }} }}"
    before = ask_store(setup.store, GRAPH_COUNTS)
    as_query = sparql(setup.remote, insert)
    as_body = requests.post(
        setup.remote + "/sparql",
        data=insert.encode(),
        headers={"Content-Type": "application/sparql-query"},
        timeout=30,
    )
    as_update = requests.post(setup.remote + "/sparql", data={"update": insert}, timeout=30)
    assert as_query.status_code == as_body.status_code == as_update.status_code == 403
    assert "read-only" in as_query.text
    assert ask_store(setup.store, GRAPH_COUNTS) == before


def test_service_is_refused_before_the_store_sees_it(setup: Setup) -> None:
    query = "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }"
    answer = sparql(setup.remote, query)
    assert answer.status_code == 403 and "SERVICE" in answer.text


def test_a_runaway_query_is_stopped_at_the_time_limit(setup: Setup) -> None:
    started = time.monotonic()
    answer = sparql(setup.remote, RUNAWAY)
    assert answer.status_code == 503
    assert time.monotonic() - started < 15  # the limit is 3 s
    healthy = requests.get(setup.remote + "/healthz", timeout=10).json()
    assert healthy["status"] == "ok" and healthy["store"]["mode"] == "remote"


def test_publish_explains_what_is_wrong_with_the_target(build: Path, tmp_path: Path) -> None:
    closed = Store("closed", f"http://127.0.0.1:{free_port()}/store", "")
    unreachable = publish(build, closed)
    assert unreachable.returncode == 2 and "cannot reach" in unreachable.stderr
    with oxigraph(None) as store:
        wrong = publish(build, Store("query-url", store.query, store.query))
        assert wrong.returncode == 2
        assert "not a SPARQL Graph Store Protocol endpoint" in wrong.stderr
    missing = CliRunner().invoke(cli, ["publish", "--to", closed.graph_store, str(tmp_path)])
    assert missing.exit_code == 2 and "no completed build" in missing.output


def test_serve_refuses_a_store_it_cannot_answer_from(build: Path) -> None:
    from server import create_app

    def app_over(endpoint: str) -> None:
        create_app({"BUILD_DIR": str(build), "SPARQL_ENDPOINT": endpoint, "TESTING": True})

    with pytest.raises(ConfigError, match="not a SPARQL endpoint that answers"):
        app_over(f"http://127.0.0.1:{free_port()}/query")
    with pytest.raises(ConfigError, match="not an http"):
        app_over("/var/lib/store")
    with oxigraph(None, union=False) as store:
        with pytest.raises(ConfigError, match="holds no named graphs"):
            app_over(store.query)
        assert publish(build, store).returncode == 0
        with pytest.raises(ConfigError, match="union-default-graph"):
            app_over(store.query)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("SELECT ?x WHERE { ?s ?p ?x }", "SELECT ?x WHERE { VALUES"),
        ("SELECT * { ?s ?p ?o }", "SELECT * { VALUES"),
        ("ASK { ?s ?p ?o }", "ASK { VALUES"),
        ("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", "CONSTRUCT { ?s ?p ?o } WHERE { VALUES"),
        (
            'SELECT ?x WHERE { ?s <urn:where> "where {" . } # where {\n',
            "SELECT ?x WHERE { VALUES",
        ),
        (
            "PREFIX where: <urn:x#> SELECT ?where WHERE { ?where where:p ?o }",
            "PREFIX where: <urn:x#> SELECT ?where WHERE { VALUES",
        ),
        (
            "SELECT ?s WHERE { { SELECT ?s WHERE { ?s ?p ?o } } } ORDER BY ?s LIMIT 2",
            "SELECT ?s WHERE { VALUES",
        ),
    ],
)
def test_values_open_the_where_clause(query: str, expected: str) -> None:
    bound = bind_values(query, {ox.Variable("s"): ox.NamedNode("urn:x")})
    assert bound.startswith(expected)
    assert "VALUES (?s) { (<urn:x>) }" in bound
    ox.Store().query(bound)  # still one SPARQL query


@pytest.mark.parametrize(
    "query", ["CONSTRUCT WHERE { ?s ?p ?o }", "DESCRIBE <urn:x>", "SELECT ?s # WHERE {"]
)
def test_a_query_without_a_where_group_to_open_cannot_take_values(query: str) -> None:
    with pytest.raises(ValueError, match="no WHERE clause"):
        where_clause_start(query)
    assert bind_values(query, {}) == query  # nothing to bind: sent as it is


# -- the connection to the store -----------------------------------------------------------------

#: What the stand-in store answers to every SELECT: one row; to every ASK: yes.
ONE_ROW = b'{"head":{"vars":["x"]},"results":{"bindings":[{"x":{"type":"literal","value":"1"}}]}}'
YES = b'{"head":{},"boolean":true}'


class _ForgetfulStore(http.server.BaseHTTPRequestHandler):
    """A SPARQL endpoint that keeps a connection open after its answer (HTTP/1.1, no
    ``Connection: close``) but drops it as soon as the answer is sent, as a store does with
    connections idle past its keep-alive time; it counts the connections it accepted and
    notes each request's method and form fields (every query is POSTed)."""

    protocol_version = "HTTP/1.1"
    connections = 0
    requests: ClassVar[list[tuple[str, dict[str, list[str]]]]] = []

    def setup(self) -> None:
        type(self).connections += 1
        super().setup()

    def do_POST(self) -> None:
        self.answer("POST", self.rfile.read(int(self.headers["Content-Length"])).decode())

    def answer(self, method: str, form: str) -> None:
        fields = parse_qs(form)
        type(self).requests.append((method, fields))
        body = YES if fields["query"][0].lstrip().startswith("ASK") else ONE_ROW
        self.send_response(200)
        self.send_header("Content-Type", "application/sparql-results+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def forgetful_store() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ForgetfulStore)
    _ForgetfulStore.connections = 0
    _ForgetfulStore.requests = []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/sparql"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_a_connection_the_store_dropped_is_opened_again(forgetful_store: str) -> None:
    store = RemoteStore(forgetful_store, timeout=10)
    for _ in range(3):  # each query after the first finds its kept connection closed
        answer = store.query("SELECT ?x WHERE { ?s ?p ?x }")
        assert isinstance(answer, ox.QuerySolutions)
        assert [row["x"].value for row in answer] == ["1"]
    assert _ForgetfulStore.connections == 3


def test_a_store_that_cannot_be_reached_is_a_503_error() -> None:
    store = RemoteStore(f"http://127.0.0.1:{free_port()}/sparql", timeout=5)
    with pytest.raises(RemoteStoreError, match="cannot be reached"):
        store.query("SELECT ?x WHERE { ?s ?p ?x }")


def test_the_health_probe_reuses_a_recent_yes_of_the_store(forgetful_store: str) -> None:
    store = RemoteStore(forgetful_store, timeout=10)
    assert all(bool(store.query(HEALTH_PROBE)) for _ in range(5))
    assert _ForgetfulStore.requests == [("POST", {"query": [HEALTH_PROBE]})]  # asked once
    time.sleep(HEALTH_PROBE_SECONDS + 0.1)
    assert bool(store.query(HEALTH_PROBE))
    assert len(_ForgetfulStore.requests) == 2  # asked again once the yes is old
