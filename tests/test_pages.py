"""The site's own pages: home, ontology, shapes, health, error answers and the serve command."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SH

from kg.errors import BuildError, ConfigError
from kg.resources import shapes_dir, turtle_files
from server.cli import serve_command
from server.limits import limits_of
from tests.conftest import get_as

ONTOLOGY = "https://w3id.org/osce-kg/ontology#"


def test_home_says_what_the_dataset_is_and_counts_things_by_class(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    assert "knowledge graph of the Organization for Security and Co-operation in Europe" in html
    # three press releases and two States in the fixture, counted by SPARQL
    assert (
        '<a href="/ontology#PressRelease">Press release</a></td><td class="number">3</td>' in html
    )
    states = '<a href="/ontology#ParticipatingState">Participating State</a>'
    assert f'{states}</td><td class="number">2</td>' in html
    assert "3 releases published" in html  # from the build's summary.json
    assert "/sparql?query=" in html
    assert 'href="/dumps/"' in html


def test_home_counts_in_the_browser_language(client: FlaskClient) -> None:
    html = client.get("/", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert ">Teilnehmerstaat</a>" in html


def test_healthz_reports_the_build_as_json(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "build": "20240105T000000Z-test",
        "built_at": "2024-01-05T00:00:00+00:00",
        "base": "https://w3id.org/osce-kg/",
        "store": {"mode": "disk", "quads": None, "memory_mb": 0.0, "load_seconds": 0.0},
    }


def test_ontology_page_documents_every_term_with_anchors(client: FlaskClient) -> None:
    html = client.get("/ontology").get_data(as_text=True)
    for term in (
        "ParticipatingState",
        "FieldOperation",
        "PressRelease",
        "hostState",
        "mentions",
        "isoCode",
    ):
        assert f'id="{term}"' in html
        assert f'href="#{term}"' in html
    assert "An OSCE mission, office or centre working in a host State." in html
    assert '<dt>domain</dt><dd><a href="/ontology#FieldOperation">Field operation</a></dd>' in html
    assert (
        '<dt>range</dt><dd><a href="/ontology#ParticipatingState">Participating State</a></dd>'
        in html
    )


@pytest.mark.parametrize(
    ("accept", "query", "parser"),
    [
        ("text/turtle", "", "turtle"),
        ("application/n-triples", "", "nt"),
        ("application/rdf+xml", "", "xml"),
        ("text/html", "?format=ttl", "turtle"),
    ],
)
def test_ontology_as_rdf_by_negotiation(
    client: FlaskClient, accept: str, query: str, parser: str
) -> None:
    response = get_as(client, "/ontology" + query, accept)
    assert "Accept" in response.headers["Vary"]
    graph = Graph().parse(data=response.get_data(as_text=True), format=parser)
    assert (URIRef(ONTOLOGY + "FieldOperation"), RDF.type, OWL.Class) in graph
    assert (URIRef(ONTOLOGY + "hostState"), RDFS.label, Literal("host State", lang="en")) in graph
    # only the ontology graph: no reference data
    assert (URIRef("https://w3id.org/osce-kg/id/state/at"), None, None) not in graph


def test_shapes_list_every_shipped_node_shape(client: FlaskClient) -> None:
    turtle = client.get("/shapes", headers={"Accept": "text/turtle"})
    assert turtle.status_code == 200
    assert turtle.mimetype == "text/turtle"
    shapes = Graph().parse(data=turtle.get_data(as_text=True), format="turtle")
    shipped = sum(len(Graph().parse(str(f), format="turtle")) for f in turtle_files(shapes_dir()))
    assert len(shapes) == shipped
    html = client.get("/shapes", headers={"Accept": "text/html"}).get_data(as_text=True)
    for shape in shapes.subjects(RDF.type, SH.NodeShape):
        if isinstance(shape, URIRef):
            anchor = shape.split("#")[-1].split("/")[-1]
            assert f'<section class="shape" id="{anchor}">' in html


@pytest.mark.parametrize(
    ("accept", "content_type", "marker"),
    [
        ("text/html", "text/html", "<h1>404 Not Found</h1>"),
        (None, "text/html", "<h1>404 Not Found</h1>"),
        ("application/json", "application/json", '"status": 404'),
        ("text/plain", "text/plain", "404 Not Found:"),
        # programs asking for result formats get a body they can read, not a web page
        ("application/sparql-results+json", "application/json", '"status": 404'),
        ("text/csv", "text/plain", "404 Not Found:"),
    ],
)
def test_one_error_handler_answers_by_the_negotiated_type(
    client: FlaskClient, accept: str | None, content_type: str, marker: str
) -> None:
    headers = {"Accept": accept} if accept else {}
    response = client.get("/no/such/page", headers=headers)
    assert response.status_code == 404
    assert response.mimetype == content_type
    assert marker in response.get_data(as_text=True)


def test_error_messages_are_escaped(client: FlaskClient) -> None:
    html = client.get("/ontology?format=<script>x</script>").get_data(as_text=True)
    assert "<script>x" not in html
    assert "&lt;script&gt;" in html


def test_serve_reports_a_failed_first_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import kg.publish.build

    def failing_build(options: kg.publish.build.BuildOptions) -> kg.publish.build.BuildResult:
        raise BuildError(f"{options.out_dir}: disk full")

    monkeypatch.setattr(kg.publish.build, "build", failing_build)
    result = CliRunner().invoke(serve_command, ["--build", str(tmp_path / "none"), "--port", "0"])
    assert result.exit_code == 1
    assert "No build in" in result.output
    assert "building the bundled sample into" in result.output
    assert "disk full" in result.output


def test_settings_come_from_the_environment(
    build_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from server import create_app

    monkeypatch.setenv("OSCE_KG_BUILD_DIR", str(build_dir))
    monkeypatch.setenv("OSCE_KG_SPARQL_TIMEOUT", "5")
    monkeypatch.delenv("OSCE_KG_BASE", raising=False)
    app = create_app()
    assert app.config["SPARQL_TIMEOUT"] == 5
    assert limits_of(app).timeout == 5.0  # read once into the app's limits
    assert app.test_client().get("/healthz").get_json()["build"] == "20240105T000000Z-test"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SPARQL_TIMEOUT", "soon", "SPARQL_TIMEOUT='soon' is not a number"),
        ("SPARQL_MAX_ROWS", "[]", "SPARQL_MAX_ROWS=[] is not a number"),
        ("SPARQL_SERVICE_ALLOWLIST", '"http://a.example/sparql"', "is not a list of IRIs"),
    ],
)
def test_a_setting_of_the_wrong_type_is_a_clear_error(
    build_dir: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    from server import create_app

    monkeypatch.setenv(f"OSCE_KG_{name}", value)
    with pytest.raises(ConfigError, match=re.escape(message)) as caught:
        create_app({"BUILD_DIR": str(build_dir)})
    assert f"OSCE_KG_{name}" in str(caught.value)


def test_the_worker_memory_limit_defaults_to_the_documented_2048_mb(build_dir: Path) -> None:
    from server import DEFAULTS, create_app

    app = create_app({"TESTING": True, "BUILD_DIR": str(build_dir)})
    assert limits_of(app).worker_memory_mb == DEFAULTS["SPARQL_WORKER_MEMORY_MB"] == 2048
    turtle = app.test_client().get("/sparql", headers={"Accept": "text/turtle"}).data
    assert b"endpoint:maxQueryMemoryMB 2048" in turtle


def test_entity_iris_are_looked_up_under_the_configured_base(build_dir: Path) -> None:
    from server import create_app

    app = create_app({"BUILD_DIR": str(build_dir), "BASE": "http://example.org/other"})
    client = app.test_client()
    assert client.get("/id/state/at").status_code == 404  # the store's IRIs use another base
    assert client.get("/healthz").get_json()["base"] == "http://example.org/other/"


def test_a_directory_without_a_build_is_a_clear_error(tmp_path: Path) -> None:
    from server import create_app

    with pytest.raises(ConfigError, match="no completed build there") as caught:
        create_app({"BUILD_DIR": str(tmp_path)})
    assert f"osce-kg build --out {tmp_path}" in str(caught.value)


def test_home_names_classes_of_other_vocabularies_by_prefixed_name(
    people_client: FlaskClient,
) -> None:
    html = people_client.get("/").get_data(as_text=True)
    rows = re.findall(r'<tr><td><a href="([^"]*)">([^<]*)</a></td><td class="number">', html)
    shown = dict((text, url) for url, text in rows)
    assert shown["org:FormalOrganization"] == "http://www.w3.org/ns/org#FormalOrganization"
    assert shown["schema:Organization"] == "https://schema.org/Organization"
    assert shown["org:Post"] == "http://www.w3.org/ns/org#Post"
    assert "person" in shown  # the ontology's own classes keep their labels
    assert len(shown) == len(rows)  # no two rows read the same
