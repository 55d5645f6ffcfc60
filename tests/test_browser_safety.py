"""What browsers and spreadsheets make of our answers: links, headers, formulas, bidi, framing."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from rdflib import Graph, URIRef
from rdflib.namespace import SDO

from kg.rdf.uris import DEFAULT_BASE
from tests.conftest import make_test_build, write_utf8
from tests.serving import free_port, running

SD = "http://www.w3.org/ns/sparql-service-description#"
HTML_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
RLO = "\u202e"

HOSTILE_TRIG = f"""
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
<{DEFAULT_BASE}graph/reference> {{
  <{DEFAULT_BASE}id/person/mallory> rdfs:label "Mallory {RLO}txt.exe"@en ;
    dcterms:source <data:text/html,%3Cscript%3Ealert(1)%3C/script%3E> , <JavaScript:alert(2)> ,
      <mailto:press@osce.org> , <https://www.osce.org/> .
}}
"""


def sparql_html(client: FlaskClient, query: str) -> str:
    response = client.get("/sparql", query_string={"query": query, "format": "html"})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.get_data(as_text=True)


def result_cells(html: str) -> str:
    """The results section of a query page (the form above echoes the query as typed)."""
    return html[html.index('<section id="results">') :]


# 1. Only http(s) and mailto IRIs from data become links.


def test_a_javascript_or_data_iri_in_a_result_is_text_not_a_link(
    sparql_client: FlaskClient,
) -> None:
    query = (
        "SELECT ?x WHERE { VALUES ?x { <javascript:alert(1)> <JAVASCRIPT:alert(3)> "
        "<data:text/html,x> <vbscript:x> <https://www.osce.org/> <mailto:a@b.org> } }"
    )
    cells = result_cells(sparql_html(sparql_client, query))
    hrefs = re.findall(r'href="([^"]*)"', cells)
    assert "https://www.osce.org/" in hrefs
    assert "mailto:a@b.org" in hrefs
    assert not [h for h in hrefs if h.lower().startswith(("javascript:", "data:", "vbscript:"))]
    assert "javascript:alert(1)" in cells  # still shown, as text


@pytest.fixture(scope="module")
def hostile_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlaskClient]:
    from server import create_app

    folder = tmp_path_factory.mktemp("hostile")
    trig = write_utf8(folder / "hostile.trig", HOSTILE_TRIG)
    build = make_test_build(folder / "build", trig)
    app = create_app({"TESTING": True, "BUILD_DIR": str(build), "BASE": DEFAULT_BASE})
    yield app.test_client()


def test_an_entity_page_links_no_javascript_or_data_iri(hostile_client: FlaskClient) -> None:
    html = hostile_client.get("/page/person/mallory").get_data(as_text=True)
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert "https://www.osce.org/" in hrefs
    assert "mailto:press@osce.org" in hrefs
    assert not [h for h in hrefs if h.lower().startswith(("javascript:", "data:"))]
    assert "JavaScript:alert(2)" in html


# 2. Security headers on every kind of answer.

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


@pytest.mark.parametrize(
    ("path", "accept", "status"),
    [
        ("/", HTML_ACCEPT, 200),
        ("/page/state/at", HTML_ACCEPT, 200),
        ("/data/state/at.ttl", "text/turtle", 200),
        ("/id/state/at", "text/turtle", 303),
        ("/dumps/", "application/json", 200),
        ("/static/style.css", "text/css", 200),
        ("/page/state/nowhere", HTML_ACCEPT, 404),
        ("/healthz", "application/json", 200),
    ],
)
def test_every_answer_carries_the_security_headers(
    client: FlaskClient, path: str, accept: str, status: int
) -> None:
    response = client.get(path, headers={"Accept": accept})
    assert response.status_code == status
    for header, value in SECURITY_HEADERS.items():
        assert response.headers.get(header) == value, header
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    response.close()  # a static file is sent from an open file


@pytest.mark.parametrize(
    "query_string",
    [
        {},
        {"format": "ttl"},
        {"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 1", "format": "json"},
        {"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 1", "format": "html"},
        {"query": "SELECT * WHERE {", "format": "json"},  # a 400
    ],
)
def test_sparql_answers_carry_the_security_headers(
    sparql_client: FlaskClient, query_string: dict[str, str]
) -> None:
    response = sparql_client.get("/sparql", query_string=query_string)
    for header, value in SECURITY_HEADERS.items():
        assert response.headers.get(header) == value, header
    assert "Content-Security-Policy" in response.headers


def test_the_query_page_runs_no_inline_script_and_pins_yasgui(sparql_client: FlaskClient) -> None:
    response = sparql_client.get("/sparql", headers={"Accept": HTML_ACCEPT})
    html = response.get_data(as_text=True)
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in response.headers["Content-Security-Policy"].split(";")
    )
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "https://cdn.jsdelivr.net" in policy["script-src"]
    scripts = re.findall(r"<script([^>]*)>", html)
    assert scripts and all('src="' in attributes for attributes in scripts)
    [yasgui] = [s for s in scripts if "yasgui" in s]
    assert re.search(r"@triply/yasgui@\d+\.\d+\.\d+/", yasgui)  # a version, not a range
    assert 'integrity="sha384-' in yasgui and 'crossorigin="anonymous"' in yasgui
    assert 'integrity="sha384-' in html[html.index("yasgui.min.css") - 200 :][:400]


def test_yasgui_from_another_url_is_not_given_the_pinned_hash(sparql_app: Flask) -> None:
    other = "https://assets.example.org/yasgui.js"
    client = sparql_app.test_client()
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(sparql_app.config, "YASGUI_JS", other)
        response = client.get("/sparql", headers={"Accept": HTML_ACCEPT})
    html = response.get_data(as_text=True)
    assert f'<script src="{other}" defer>' in html
    assert "https://assets.example.org" in response.headers["Content-Security-Policy"]


# 3. Formula cells in CSV and TSV.

FORMULAS_QUERY = """SELECT ?a ?b ?c ?d ?e WHERE {
  VALUES (?a ?b ?c ?d ?e) {
    ("=HYPERLINK(\\"http://evil.example/\\",\\"click\\")" -5 "-1+2"@en
     <http://example.org/=x> "@SUM(A1)")
  }
}"""


def test_csv_formula_cells_are_neutralised(sparql_client: FlaskClient) -> None:
    response = sparql_client.get("/sparql", query_string={"query": FORMULAS_QUERY, "format": "csv"})
    assert response.mimetype == "text/csv"
    [header, row] = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert header == ["a", "b", "c", "d", "e"]
    assert row == [
        '\'=HYPERLINK("http://evil.example/","click")',
        "-5",  # a number stays a number
        "'-1+2",
        "http://example.org/=x",  # an IRI is never changed
        "'@SUM(A1)",
    ]


def test_tsv_formula_cells_are_neutralised(sparql_client: FlaskClient) -> None:
    response = sparql_client.get("/sparql", query_string={"query": FORMULAS_QUERY, "format": "tsv"})
    lines = response.get_data(as_text=True).splitlines()
    assert lines[1].split("\t") == [
        '"\'=HYPERLINK(\\"http://evil.example/\\",\\"click\\")"',
        "-5",
        '"\'-1+2"@en',
        "<http://example.org/=x>",
        '"\'@SUM(A1)"',
    ]


def test_json_results_keep_the_literal_exactly(sparql_client: FlaskClient) -> None:
    response = sparql_client.get(
        "/sparql", query_string={"query": FORMULAS_QUERY, "format": "json"}
    )
    [binding] = json.loads(response.data)["results"]["bindings"]
    assert binding["a"]["value"] == '=HYPERLINK("http://evil.example/","click")'


# 4. Bidi controls in titles and labels.


def test_a_right_to_left_override_is_shown_not_obeyed_on_an_entity_page(
    hostile_client: FlaskClient,
) -> None:
    html = hostile_client.get("/page/person/mallory").get_data(as_text=True)
    assert RLO not in html
    assert "<title>Mallory ⟨U+202E⟩txt.exe · OSCE knowledge graph</title>" in html
    assert "<h1>Mallory ⟨U+202E⟩txt.exe</h1>" in html


def test_the_data_documents_keep_the_override(hostile_client: FlaskClient) -> None:
    response = hostile_client.get("/data/person/mallory.ttl")
    graph = Graph().parse(data=response.get_data(as_text=True), format="turtle")
    labels = {str(label) for label in graph.objects(None, URIRef(str(SDO.name)))} | {
        str(o) for o in graph.objects(None, URIRef("http://www.w3.org/2000/01/rdf-schema#label"))
    }
    assert f"Mallory {RLO}txt.exe" in labels


def test_a_query_keeps_its_override_in_the_form_but_not_in_the_results(
    sparql_client: FlaskClient,
) -> None:
    query = f'SELECT ?x WHERE {{ BIND("abc{RLO}def" AS ?x) }}'
    html = sparql_html(sparql_client, query)
    textarea = html[html.index("<textarea") : html.index("</textarea>")]
    assert RLO in textarea  # resubmitting the form sends the same query
    assert RLO not in result_cells(html)
    assert "abc⟨U+202E⟩def" in result_cells(html)


# 5. The Service Description names the configured endpoint, whatever Host says.


def service_endpoint(client: FlaskClient, host: str) -> tuple[str, str]:
    response = client.get("/sparql?format=ttl", headers={"Host": host})
    graph = Graph().parse(data=response.get_data(as_text=True), format="turtle")
    [endpoint] = list(graph.objects(None, URIRef(SD + "endpoint")))
    [void] = list(graph.objects(None, URIRef("http://www.w3.org/2000/01/rdf-schema#seeAlso")))
    return str(endpoint), str(void)


def test_the_service_description_ignores_the_host_header(sparql_client: FlaskClient) -> None:
    endpoint, void = service_endpoint(sparql_client, "evil.example")
    assert endpoint == f"{DEFAULT_BASE}sparql"
    assert void == f"{DEFAULT_BASE}void"


def test_the_service_description_names_the_configured_public_url(sparql_app: Flask) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(sparql_app.config, "PUBLIC_URL", "https://sparql.example.org/query/sparql")
        endpoint, void = service_endpoint(sparql_app.test_client(), "evil.example")
    assert endpoint == "https://sparql.example.org/query/sparql"
    assert void == "https://sparql.example.org/query/void"


# 6. `osce-kg serve` refuses ambiguous framing at once.


@pytest.fixture(scope="module")
def served(build_dir: Path) -> Iterator[tuple[str, int]]:
    port = free_port()
    command = [sys.executable, "-c", "from server.cli import main; main()"]
    command += ["serve", "--build", str(build_dir), "--host", "127.0.0.1", "--port", str(port)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("OSCE_KG_")}
    with running(command, port=port, env=env, start_timeout=30.0):
        yield "127.0.0.1", port


def raw_exchange(address: tuple[str, int], request: bytes, *, timeout: float = 5.0) -> bytes:
    """Sends raw bytes and reads until the server closes or ``timeout`` passes."""
    with socket.create_connection(address, timeout=timeout) as connection:
        connection.sendall(request)
        chunks = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = connection.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


SMUGGLING_REQUESTS = {
    "two Content-Length": b"Content-Length: 5\r\nContent-Length: 100\r\n",
    "Content-Length and chunked": b"Content-Length: 100\r\nTransfer-Encoding: chunked\r\n",
    "a list as Content-Length": b"Content-Length: 5, 100\r\n",
}


@pytest.mark.slow
@pytest.mark.parametrize("headers", SMUGGLING_REQUESTS.values(), ids=SMUGGLING_REQUESTS.keys())
def test_serve_answers_ambiguous_framing_with_400_at_once(
    served: tuple[str, int], headers: bytes
) -> None:
    request = (
        b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/sparql-query\r\n" + headers + b"\r\nASK{}"
    )
    started = time.monotonic()
    answer = raw_exchange(served, request)
    elapsed = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 400") or answer.startswith(b"HTTP/1.0 400"), answer[:200]
    assert elapsed < 3.0


@pytest.mark.slow
def test_serve_still_answers_a_well_framed_post(served: tuple[str, int]) -> None:
    request = (
        b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/sparql-results+json\r\n"
        b"Content-Type: application/sparql-query\r\nContent-Length: 5\r\n"
        b"Connection: close\r\n\r\nASK{}"
    )
    answer = raw_exchange(served, request, timeout=20.0)
    assert answer.startswith(b"HTTP/1.1 200"), answer[:300]
    assert b'"boolean"' in answer
