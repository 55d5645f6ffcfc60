"""The build's report on the web: the SHACL report as a page, the quarantine as HTML and JSON."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from rdflib import Graph
from rdflib.namespace import SH

from kg.rdf.uris import DEFAULT_BASE
from tests.conftest import make_test_build

REPORT_DATA = Path(__file__).parent / "data" / "report"


@pytest.fixture(scope="module")
def report_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample build with a report that has problems and a quarantine with two releases."""
    out = make_test_build(tmp_path_factory.mktemp("report-build"))
    report = out / "current" / "report"
    shutil.copy(REPORT_DATA / "validation.ttl", report / "validation.ttl")
    shutil.copy(REPORT_DATA / "quarantine.json", report / "quarantine.json")
    return out


@pytest.fixture
def report_client(report_build: Path) -> Iterator[FlaskClient]:
    from server import create_app

    app = create_app({"TESTING": True, "BUILD_DIR": str(report_build), "BASE": DEFAULT_BASE})
    yield app.test_client()


def sections(html: str, heading_id: str) -> str:
    """The part of a page from the heading with this id to the next h2."""
    start = html.index(f'id="{heading_id}"')
    end = html.find("<h2", start + 1)
    return html[start : end if end > 0 else None]


def test_report_page_groups_problems_by_shape_with_links(report_client: FlaskClient) -> None:
    response = report_client.get("/report/validation")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "does not conform" in html
    assert "1 violation, 2 warnings" in html
    by_shape = sections(html, "by-shape")
    # the violation's shape comes first, then the warnings' shape with its two nodes
    assert by_shape.index("FieldOperation-seatCity") < by_shape.index(
        "ParticipatingState-joinedOnRecommended"
    )
    # a property shape links to the node shape that uses it on the shapes page
    assert (
        '<a href="/shapes#ParticipatingStateShape">ParticipatingState-joinedOnRecommended' in html
    )
    # focus nodes are shown by label and link to their entity URIs
    assert '<a href="/id/state/at">Austria</a>' in html
    assert '<a href="/id/state/tj">Tajikistan</a>' in html
    assert "value: Dushanbe" in html


def test_report_page_groups_problems_by_node(report_client: FlaskClient) -> None:
    html = report_client.get("/report/validation").get_data(as_text=True)
    by_node = sections(html, "by-node")
    assert by_node.count("<section") == 3  # three nodes, one problem each
    assert "OSCE Programme Office in Dushanbe" in by_node
    assert by_node.index("Dushanbe") < by_node.index("Austria")  # the violation first


def test_report_shape_links_lead_to_an_entry_of_the_shapes_page(
    report_client: FlaskClient,
) -> None:
    html = report_client.get("/report/validation").get_data(as_text=True)
    shapes_page = report_client.get("/shapes").get_data(as_text=True)
    anchors = set(re.findall(r'href="/shapes#([^"]+)"', html))
    assert anchors
    for anchor in anchors:
        assert f'id="{anchor}"' in shapes_page


def test_report_turtle_stays_available_by_negotiation_and_link(
    report_client: FlaskClient,
) -> None:
    page = report_client.get("/report/validation")
    assert 'rel="alternate"; type="text/turtle"' in page.headers["Link"]
    assert 'href="/report/validation?format=ttl"' in page.get_data(as_text=True)
    for request in (
        {"headers": {"Accept": "text/turtle"}},
        {"query_string": {"format": "ttl"}},
    ):
        response = report_client.get("/report/validation", **request)  # type: ignore[arg-type]
        assert response.mimetype == "text/turtle"
        graph = Graph().parse(data=response.get_data(as_text=True), format="turtle")
        assert len(list(graph.subjects(SH.resultSeverity, SH.Warning))) == 2


def test_quarantine_page_lists_inputs_and_reasons(report_client: FlaskClient) -> None:
    response = report_client.get("/report/quarantine")
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "2 releases quarantined" in html
    assert "broken/2020-02-31-vienna.txt" in html
    assert "31 February 2020 is not a real date" in html
    assert "Secretary General meets students" in html
    assert "A release has exactly one headline." in html
    assert "/srv/osce" not in html  # the operator's folders are not published
    assert 'href="/report/quarantine.json"' in html


def test_quarantine_as_json_by_negotiation_and_by_name(report_client: FlaskClient) -> None:
    negotiated = report_client.get("/report/quarantine", headers={"Accept": "application/json"})
    named = report_client.get("/report/quarantine.json")
    for response in (negotiated, named):
        assert response.mimetype == "application/json"
        data = response.get_json()
        assert data["quarantined"] == 2
        first, second = data["releases"]
        assert first["file"] == "broken/2020-02-31-vienna.txt"
        assert first["stage"] == "parse" and first["field"] == "date"
        assert first["reason"].startswith("broken/2020-02-31-vienna.txt: field 'date'")
        assert second["shacl_results"][0]["message"] == "A release has exactly one headline."
        assert "/srv/osce" not in response.get_data(as_text=True)
    assert negotiated.headers["Vary"] == "Accept"


def test_empty_quarantine_says_so(client: FlaskClient) -> None:
    html = client.get("/report/quarantine").get_data(as_text=True)
    assert "Nothing was quarantined" in html
    assert client.get("/report/quarantine.json").get_json()["releases"] == []


def test_home_page_links_the_report_and_the_quarantine(report_client: FlaskClient) -> None:
    html = report_client.get("/").get_data(as_text=True)
    assert 'href="/report/validation"' in html
    assert 'href="/report/quarantine"' in html


def test_a_broken_quarantine_file_is_a_clear_error(tmp_path: Path) -> None:
    out = make_test_build(tmp_path / "broken")
    (out / "current" / "report" / "quarantine.json").write_text("{not json", encoding="utf-8")
    from server import create_app

    app = create_app({"TESTING": True, "BUILD_DIR": str(out), "BASE": DEFAULT_BASE})
    response = app.test_client().get("/report/quarantine", headers={"Accept": "application/json"})
    assert response.status_code == 500
    assert "quarantine.json cannot be read as JSON" in response.get_json()["message"]
    assert "rebuild" in response.get_json()["message"]
