"""No request a client can send is answered with a 500: every route with every media type, and
every query of the W3C syntax tests."""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph as ox
import pytest
from flask import Flask
from flask.testing import FlaskClient

from server import conneg

SYNTAX_QUERIES = sorted((Path(__file__).parent / "data" / "w3c-syntax-query").glob("*.rq"))

#: What a route's variable parts are filled with: real things of the test builds
ARGUMENTS = {"kind": "state", "key": "at", "name": "at.ttl", "filename": "sparql.js"}
#: Media types no route offers, and Accept headers that are odd but legal or plainly broken
STRANGE_TYPES = (
    "*/*",
    "text/*",
    "image/png",
    "application/x-unknown",
    "text/x-nquads",
    "application/json;q=0",
    "text/html;q=abc",
    ";;;,,,",
    "",
)
KNOWN_TYPES = tuple(
    dict.fromkeys(
        name
        for offer in (
            conneg.HTML,
            *conneg.SOLUTION_OFFERS,
            *conneg.GRAPH_OFFERS,
        )
        for name in (offer.media_type, *(a for a in offer.aliases if "/" in a))
    )
)


def route_paths(app: Flask) -> list[str]:
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()):
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: ARGUMENTS.get(m.group(1), "x"), rule.rule)
        paths.append(path)
    return sorted(set(paths))


def test_every_route_answers_every_media_type_without_a_server_error(
    client: FlaskClient, app: Flask
) -> None:
    paths = route_paths(app)
    assert "/sparql" in paths and "/data/state/at.ttl" in paths and "/dumps/" in paths
    errors = []
    for path in paths:
        for accept in (*KNOWN_TYPES, *STRANGE_TYPES):
            for query in ("", "?format=" + accept.split("/")[-1][:10], "?page=2"):
                response = client.get(path + query, headers={"Accept": accept})
                response.close()  # static files and dumps are streamed from open files
                if response.status_code >= 500:
                    errors.append(f"{path}{query} Accept: {accept!r} -> {response.status_code}")
    assert errors == []


@pytest.mark.parametrize("path", SYNTAX_QUERIES, ids=lambda p: p.name)
def test_no_w3c_syntax_test_query_gets_a_server_error(
    sparql_client: FlaskClient, path: Path
) -> None:
    query = path.read_text(encoding="utf-8")
    for accept in ("application/sparql-results+json", "text/turtle", "text/html"):
        response = sparql_client.post("/sparql", data={"query": query}, headers={"Accept": accept})
        assert response.status_code < 500, response.get_data(as_text=True)[:300]
        if path.name.startswith("syn-bad"):
            assert 400 <= response.status_code < 500


@pytest.mark.parametrize(
    "query",
    [
        "SELECT (<http://example/f>(1) AS ?x) {}",
        "SELECT * { ?s ?p ?o FILTER(<urn:no:such:function>(?o)) }",
    ],
)
def test_an_unknown_function_is_the_client_s_mistake(
    sparql_client: FlaskClient, query: str
) -> None:
    response = sparql_client.get(
        "/sparql", query_string={"query": query}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 400
    assert "a function this endpoint does not know" in response.get_data(as_text=True)


@pytest.mark.parametrize("accept", ["application/n-quads", "application/trig"])
def test_the_service_description_comes_in_quad_formats(client: FlaskClient, accept: str) -> None:
    """Comunica asks for N-Quads first; the description is then in the default graph."""
    response = client.get("/sparql", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.mimetype == accept
    quads = list(ox.parse(response.data, format=ox.RdfFormat.from_media_type(accept)))
    service = ox.NamedNode("http://www.w3.org/ns/sparql-service-description#Service")
    assert any(q.object == service for q in quads)
    assert all(q.graph_name == ox.DefaultGraph() for q in quads)
