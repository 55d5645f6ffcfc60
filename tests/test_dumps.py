"""The build's files over HTTP: dump listing, downloads with validators and Range, VoID, report."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from rdflib import Graph, URIRef
from rdflib.namespace import RDF
from werkzeug.wrappers import Response

from server.dumps import declared_counts
from tests.conftest import get_as

VOID_DATASET = URIRef("http://rdfs.org/ns/void#Dataset")
SHACL_REPORT = URIRef("http://www.w3.org/ns/shacl#ValidationReport")


def fetch(client: FlaskClient, path: str, headers: dict[str, str] | None = None) -> Response:
    """GET a file, read it and close the response (so the served file is closed too)."""
    with client.get(path, headers=headers or {}) as response:
        response.get_data()
        return response


def test_dump_list_as_json_gives_sizes_checksums_and_statements(
    client: FlaskClient, build_dir: Path
) -> None:
    response = client.get("/dumps/", headers={"Accept": "application/json"})
    assert response.status_code == 200
    listing = response.get_json()
    files = {f["name"]: f for f in listing["files"]}
    assert set(files) == {
        "osce-kg.nq.gz",
        "osce-kg.nt.gz",
        "osce-kg.ttl.gz",
        "SHA256SUMS",
        "void.ttl",
    }
    for name in ("osce-kg.nq.gz", "osce-kg.nt.gz", "void.ttl"):
        data = (build_dir / "dumps" / name).read_bytes()
        assert files[name]["bytes"] == len(data)
        assert files[name]["sha256"] == hashlib.sha256(data).hexdigest()
        assert files[name]["url"] == f"/dumps/{name}"
    nt_lines = gzip.decompress((build_dir / "dumps" / "osce-kg.nt.gz").read_bytes()).splitlines()
    assert files["osce-kg.nt.gz"]["statements"] == len(nt_lines)
    assert files["osce-kg.ttl.gz"]["statements"] == len(nt_lines)
    assert files["osce-kg.nq.gz"]["statements"] > len(nt_lines)  # a triple stated by two graphs


def test_dump_list_as_html_links_every_file(client: FlaskClient) -> None:
    html = client.get("/dumps/").get_data(as_text=True)
    for name in ("osce-kg.nq.gz", "osce-kg.nt.gz", "osce-kg.ttl.gz", "SHA256SUMS", "void.ttl"):
        assert f'<a href="/dumps/{name}">{name}</a>' in html


def test_dump_files_download_whole_with_validators(client: FlaskClient, build_dir: Path) -> None:
    response = fetch(client, "/dumps/osce-kg.nt.gz")
    assert response.status_code == 200
    assert response.mimetype == "application/gzip"
    assert "Content-Encoding" not in response.headers  # the bytes are the file, checksum and all
    assert response.data == (build_dir / "dumps" / "osce-kg.nt.gz").read_bytes()
    etag = response.headers["ETag"]
    assert fetch(client, "/dumps/osce-kg.nt.gz", {"If-None-Match": etag}).status_code == 304
    since = response.headers["Last-Modified"]
    assert fetch(client, "/dumps/osce-kg.nt.gz", {"If-Modified-Since": since}).status_code == 304


def test_dump_files_answer_range_requests(client: FlaskClient, build_dir: Path) -> None:
    whole = (build_dir / "dumps" / "osce-kg.nq.gz").read_bytes()
    response = fetch(client, "/dumps/osce-kg.nq.gz", {"Range": "bytes=10-29"})
    assert response.status_code == 206
    assert response.data == whole[10:30]
    assert response.headers["Content-Range"] == f"bytes 10-29/{len(whole)}"
    tail = fetch(client, "/dumps/osce-kg.nq.gz", {"Range": "bytes=-5"})
    assert tail.data == whole[-5:]
    beyond = fetch(client, "/dumps/osce-kg.nq.gz", {"Range": f"bytes={len(whole) + 10}-"})
    assert beyond.status_code == 416


@pytest.mark.parametrize(
    "path",
    [
        "/dumps/../report/summary.json",
        "/dumps/..%2Freport%2Fsummary.json",
        "/dumps/%2e%2e/%2e%2e/store/CURRENT",
        "/dumps/%2E%2E%2F%2E%2E%2Fcurrent%2Fstore%2FCURRENT",
        "/dumps//etc/passwd",
        "/dumps/%2Fetc%2Fpasswd",
        "/dumps/....//report/summary.json",
        "/dumps/osce-kg.nt.gz/../../report/validation.ttl",
        "/static/../store/CURRENT",
        "/static/%2e%2e/%2e%2e/tests/conftest.py",
    ],
)
def test_no_path_outside_the_dumps_is_reachable(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code in (404, 308)
    if response.status_code == 308:  # werkzeug's merge of slashes: follow it once
        assert client.get(response.headers["Location"]).status_code == 404


@pytest.mark.parametrize("path", ["/void", "/.well-known/void"])
@pytest.mark.parametrize(
    ("accept", "parser"),
    [("text/turtle", "turtle"), ("application/n-triples", "nt"), ("application/rdf+xml", "xml")],
)
def test_void_description_by_negotiation(
    client: FlaskClient, path: str, accept: str, parser: str
) -> None:
    response = get_as(client, path, accept)
    assert response.mimetype == accept
    graph = Graph().parse(data=response.get_data(as_text=True), format=parser)
    assert (None, RDF.type, VOID_DATASET) in graph


def test_void_for_a_browser_shows_the_turtle_escaped(client: FlaskClient) -> None:
    html = client.get("/void").get_data(as_text=True)
    assert "&lt;https://w3id.org/osce-kg/dumps/osce-kg.nt.gz&gt;" in html


def test_validation_report_by_negotiation(client: FlaskClient) -> None:
    response = client.get("/report/validation", headers={"Accept": "text/turtle"})
    graph = Graph().parse(data=response.get_data(as_text=True), format="turtle")
    assert (None, RDF.type, SHACL_REPORT) in graph
    assert "SHACL validation report" in client.get("/report/validation").get_data(as_text=True)


def test_statement_counts_come_from_the_void_description(tmp_path: Path) -> None:
    void = tmp_path / "void.ttl"
    void.write_text(
        "@prefix dcat: <http://www.w3.org/ns/dcat#> . @prefix void: <http://rdfs.org/ns/void#> .\n"
        "<https://w3id.org/osce-kg/id/dataset/d1> dcat:downloadURL "
        "<https://w3id.org/osce-kg/dumps/osce-kg.nq.gz> ; void:triples 42 .\n",
        encoding="utf-8",
    )
    assert declared_counts(void) == {"osce-kg.nq.gz": 42}
    void.write_text("this is not Turtle", encoding="utf-8")
    assert declared_counts(void) == {}
