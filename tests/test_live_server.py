"""The real server on 127.0.0.1, spoken to by real clients: rdflib, SPARQLWrapper and rapper."""

from __future__ import annotations

import contextlib
import gzip
import http.client
import os
import shutil
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDFS
from SPARQLWrapper import CSV, JSON, JSONLD, N3, RDFXML, TSV, TURTLE, XML, SPARQLWrapper

from tests.serving import free_port, running

pytestmark = pytest.mark.slow

AUSTRIA = URIRef("https://w3id.org/osce-kg/id/state/at")
START_TIMEOUT = 30.0


@contextlib.contextmanager
def serving(build_dir: Path, *, start_timeout: float = START_TIMEOUT) -> Iterator[str]:
    """Runs ``osce-kg serve --build build_dir`` on a free port of 127.0.0.1 and yields its URL."""
    port = free_port()
    command = [sys.executable, "-c", "from server.cli import main; main()"]
    command += ["serve", "--build", str(build_dir), "--host", "127.0.0.1", "--port", str(port)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("OSCE_KG_")}
    with running(command, port=port, env=env, start_timeout=start_timeout) as url:
        yield url


@pytest.fixture(scope="module")
def server_url(build_dir: Path) -> Iterator[str]:
    """``osce-kg serve`` over the test build."""
    with serving(build_dir) as url:
        yield url


def test_serve_builds_the_bundled_sample_when_there_is_no_build(tmp_path: Path) -> None:
    with serving(tmp_path / "fresh", start_timeout=300) as url:
        health = requests.get(url + "/healthz", timeout=10).json()
        current = Path(os.path.realpath(tmp_path / "fresh" / "current"))
        assert health["build"] == current.name
        assert requests.get(url + "/id/state/at", timeout=10).status_code == 200  # after the 303


def test_rdflib_dereferences_an_entity_uri_by_content_negotiation(server_url: str) -> None:
    graph = Graph().parse(f"{server_url}/id/state/at")
    assert (AUSTRIA, RDFS.label, Literal("Österreich", lang="de")) in graph
    assert (None, URIRef("https://w3id.org/osce-kg/ontology#mentions"), AUSTRIA) in graph


def test_a_browser_gets_the_html_page(server_url: str) -> None:
    response = requests.get(
        f"{server_url}/id/state/at", headers={"Accept": "text/html"}, timeout=10
    )
    assert response.history[0].status_code == 303
    assert response.url == f"{server_url}/page/state/at"
    assert "<h1>Austria</h1>" in response.text


def test_sparqlwrapper_queries_the_endpoint(server_url: str) -> None:
    client = SPARQLWrapper(f"{server_url}/sparql")
    client.setQuery(
        "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
        "SELECT ?label WHERE { <https://w3id.org/osce-kg/id/state/at> rdfs:label ?label }\n"
        "ORDER BY ?label"
    )
    client.setReturnFormat(JSON)
    results = client.queryAndConvert()
    assert isinstance(results, dict)
    labels = [row["label"]["value"] for row in results["results"]["bindings"]]
    assert labels == ["Austria", "Autriche", "Österreich", "Австрия"]


@pytest.fixture(scope="module")
def rapper() -> str:
    found = shutil.which("rapper")
    if found is None:
        pytest.skip("rapper not installed (Debian package raptor2-utils; .ci/run installs it)")
    return found


def rapper_count(rapper: str, *args: str) -> int:
    """The number of triples rapper parses (``-c`` counts), failing on any parse error."""
    result = subprocess.run(
        [rapper, "-c", *args], capture_output=True, text=True, timeout=60, check=True
    )
    line = next(line for line in result.stderr.splitlines() if "returned" in line)
    return int(line.split("returned")[1].split()[0])


@pytest.mark.parametrize(
    ("name", "syntax"),
    [("osce-kg.nt.gz", "ntriples"), ("osce-kg.ttl.gz", "turtle"), ("osce-kg.nq.gz", "nquads")],
)
def test_rapper_parses_the_downloaded_dumps(
    server_url: str, rapper: str, tmp_path: Path, name: str, syntax: str
) -> None:
    listing = requests.get(
        f"{server_url}/dumps/", headers={"Accept": "application/json"}, timeout=10
    ).json()
    expected = {f["name"]: f["statements"] for f in listing["files"]}[name]
    download = requests.get(f"{server_url}/dumps/{name}", timeout=10)
    plain = tmp_path / name.removesuffix(".gz")
    plain.write_bytes(gzip.decompress(download.content))
    assert rapper_count(rapper, "-i", syntax, str(plain)) == expected


@pytest.mark.parametrize(
    ("extension", "syntax"), [("ttl", "turtle"), ("nt", "ntriples"), ("rdf", "rdfxml")]
)
def test_rapper_parses_data_urls(server_url: str, rapper: str, extension: str, syntax: str) -> None:
    assert rapper_count(rapper, "-i", syntax, f"{server_url}/data/state/tj.{extension}") > 5


@pytest.mark.parametrize(
    "path", ["/data/state/at.ttl", "/page/state/at", "/dumps/osce-kg.nt.gz", "/void", "/"]
)
def test_every_answer_carries_one_date_header(server_url: str, path: str) -> None:
    """The HTTP server adds Date; a second one from the app confuses caches and proxies."""
    connection = http.client.HTTPConnection(server_url.removeprefix("http://"), timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()
    assert response.status == 200
    assert len([v for k, v in response.getheaders() if k.lower() == "date"]) == 1


QUERY_FORMS = {
    "SELECT": f"SELECT ?p ?o WHERE {{ <{AUSTRIA}> ?p ?o }} LIMIT 3",
    "ASK": f"ASK {{ <{AUSTRIA}> ?p ?o }}",
    "CONSTRUCT": f"CONSTRUCT {{ <{AUSTRIA}> ?p ?o }} WHERE {{ <{AUSTRIA}> ?p ?o }} LIMIT 3",
    "DESCRIBE": f"DESCRIBE <{AUSTRIA}>",
}


#: what SPARQLWrapper can ask for, per query form (CSV and TSV only exist for solutions)
WRAPPER_FORMATS = {
    "SELECT": (XML, JSON, CSV, TSV),
    "ASK": (XML, JSON, CSV, TSV),
    "CONSTRUCT": (XML, JSON, TURTLE, N3, RDFXML, JSONLD),
    "DESCRIBE": (XML, JSON, TURTLE, N3, RDFXML, JSONLD),
}
GRAPH_MEDIA_TYPES = {
    XML: "application/rdf+xml",
    RDFXML: "application/rdf+xml",
    JSON: "application/ld+json",
    JSONLD: "application/ld+json",
    TURTLE: "text/turtle",
    N3: "text/turtle",
}


@pytest.mark.parametrize(
    ("form", "return_format"),
    [(form, fmt) for form, formats in WRAPPER_FORMATS.items() for fmt in formats],
)
def test_sparqlwrapper_gets_an_answer_in_each_return_format_for_each_query_form(
    server_url: str, form: str, return_format: str
) -> None:
    """SPARQLWrapper sends format=, output= and results= together (xml unless told otherwise);
    like Fuseki, "xml" and "json" mean RDF/XML and JSON-LD for CONSTRUCT and DESCRIBE."""
    client = SPARQLWrapper(f"{server_url}/sparql")
    client.setQuery(QUERY_FORMS[form])
    client.setReturnFormat(return_format)
    with warnings.catch_warnings():
        # SPARQLWrapper warns that it sends Accept: */* for "json" on a graph query; the
        # format= parameter it sends along is what the server reads
        warnings.simplefilter("ignore", RuntimeWarning)
        result = client.query()
    content_type = result.response.headers["Content-Type"]
    if form in ("CONSTRUCT", "DESCRIBE"):
        expected = GRAPH_MEDIA_TYPES[return_format]
        assert content_type.startswith(expected)
        quads = ox.parse(result.response.read(), format=ox.RdfFormat.from_media_type(expected))
        assert len(list(quads)) >= 1
    elif return_format in (XML, JSON):
        assert result.convert()  # SPARQLWrapper parses the results document itself
    else:
        text = result.response.read().decode("utf-8")
        assert "true" in text if form == "ASK" else text.count("\n") >= 2  # header and a row
