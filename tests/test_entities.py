"""Dereferencing entity URIs: 303 by negotiation, data and page documents, validators, escaping."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDFS

AUSTRIA = URIRef("https://w3id.org/osce-kg/id/state/at")
MENTIONS = URIRef("https://w3id.org/osce-kg/ontology#mentions")
RDF_PARSERS = {"ttl": "turtle", "nt": "nt", "jsonld": "json-ld", "rdf": "xml"}


@pytest.mark.parametrize(
    ("query", "accept", "location"),
    [
        ("", None, "/page/state/at"),
        ("", "*/*", "/page/state/at"),
        ("", "text/html", "/page/state/at"),
        ("", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "/page/state/at"),
        ("", "text/turtle", "/data/state/at.ttl"),
        ("", "application/n-triples", "/data/state/at.nt"),
        ("", "application/ld+json", "/data/state/at.jsonld"),
        ("", "application/rdf+xml", "/data/state/at.rdf"),
        ("", "text/html;q=0.5, text/turtle", "/data/state/at.ttl"),
        ("", "application/ld+json;q=0.9, application/rdf+xml;q=0.1", "/data/state/at.jsonld"),
        ("?format=nt", "text/html", "/data/state/at.nt"),
        ("?format=html", "text/turtle", "/page/state/at"),
        ("?format=text/turtle", None, "/data/state/at.ttl"),
    ],
)
def test_entity_uri_redirects_303_to_the_negotiated_document(
    client: FlaskClient, query: str, accept: str | None, location: str
) -> None:
    headers = {"Accept": accept} if accept is not None else {}
    response = client.get("/id/state/at" + query, headers=headers)
    assert response.status_code == 303
    assert response.headers["Location"] == location
    assert "Accept" in response.headers["Vary"]


def test_entity_uri_answers_406_when_nothing_offered_is_acceptable(client: FlaskClient) -> None:
    response = client.get("/id/state/at", headers={"Accept": "image/png"})
    assert response.status_code == 406


@pytest.mark.parametrize(
    ("path", "accept", "content_type"),
    [
        ("/id/state/zz", "text/html", "text/html"),
        ("/id/state/zz", "text/turtle", "text/turtle"),
        ("/id/state/zz", "application/ld+json", "application/ld+json"),
        ("/id/no-such-kind/at", "text/html", "text/html"),
        ("/id/state/Not_A_Slug", "text/html", "text/html"),
        ("/data/state/zz.ttl", "*/*", "text/turtle"),
        ("/data/state/zz.rdf", "*/*", "application/rdf+xml"),
        ("/page/state/zz", "*/*", "text/html"),
        ("/data/state/at.exe", "*/*", "text/html"),
    ],
)
def test_unknown_entities_are_404_in_the_negotiated_form(
    client: FlaskClient, path: str, accept: str, content_type: str
) -> None:
    response = client.get(path, headers={"Accept": accept})
    assert response.status_code == 404
    assert response.mimetype == content_type


def test_unknown_entity_rdf_404_parses_as_an_empty_graph(client: FlaskClient) -> None:
    response = client.get("/id/state/zz", headers={"Accept": "text/turtle"})
    assert len(Graph().parse(data=response.get_data(as_text=True), format="turtle")) == 0


def test_iri_is_the_configured_base_whatever_the_host(client: FlaskClient) -> None:
    response = client.get(
        "/id/state/at", base_url="http://example.org:9999", headers={"Accept": "text/turtle"}
    )
    assert response.status_code == 303
    data = client.get(response.headers["Location"], base_url="http://example.org:9999")
    graph = Graph().parse(data=data.get_data(as_text=True), format="turtle")
    assert (AUSTRIA, RDFS.label, Literal("Austria", lang="en")) in graph


@pytest.mark.filterwarnings(
    "ignore:ConjunctiveGraph is deprecated:DeprecationWarning"
)  # rdflib's JSON-LD
@pytest.mark.parametrize("extension", sorted(RDF_PARSERS))
def test_data_documents_parse_and_hold_own_triples_labels_and_incoming(
    client: FlaskClient, extension: str
) -> None:
    response = client.get(f"/data/field-operation/programme-office-in-dushanbe.{extension}")
    assert response.status_code == 200
    graph = Graph().parse(data=response.get_data(as_text=True), format=RDF_PARSERS[extension])
    office = URIRef("https://w3id.org/osce-kg/id/field-operation/programme-office-in-dushanbe")
    tajikistan = URIRef("https://w3id.org/osce-kg/id/state/tj")
    second = URIRef("https://w3id.org/osce-kg/id/release/2024-01-03-second-release-bbbbbb")
    assert (office, URIRef("https://w3id.org/osce-kg/ontology#hostState"), tajikistan) in graph
    assert (tajikistan, RDFS.label, Literal("Tajikistan", lang="en")) in graph
    assert (second, MENTIONS, office) in graph
    # the linked State's own statements are not copied, only its labels
    assert (tajikistan, URIRef("https://w3id.org/osce-kg/ontology#isoCode"), None) not in graph


def test_incoming_links_are_paged_with_a_next_link(client: FlaskClient) -> None:
    first = client.get("/data/state/at.nt")
    second = client.get("/data/state/at.nt?page=2")
    incoming = [
        {
            s
            for s, _, _ in Graph()
            .parse(data=r.get_data(as_text=True), format="nt")
            .triples((None, MENTIONS, AUSTRIA))
        }
        for r in (first, second)
    ]
    assert [len(i) for i in incoming] == [2, 1]  # PAGE_SIZE is 2 in the tests; three releases
    assert not incoming[0] & incoming[1]
    assert '</data/state/at.nt?page=2>; rel="next"' in first.headers["Link"]
    assert 'rel="next"' not in second.headers["Link"]


@pytest.mark.parametrize("page", ["0", "-1", "two"])
def test_bad_page_numbers_are_400(client: FlaskClient, page: str) -> None:
    assert client.get(f"/data/state/at.ttl?page={page}").status_code == 400


@pytest.mark.parametrize("path", ["/data/state/at.ttl", "/page/state/at"])
def test_documents_carry_vary_link_location_and_cors(client: FlaskClient, path: str) -> None:
    response = client.get(path, headers={"Origin": "http://elsewhere.example"})
    assert response.status_code == 200
    assert "Accept" in response.headers["Vary"]
    assert response.headers["Content-Location"] == path
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["ETag"]
    assert response.headers["Last-Modified"]
    links = response.headers["Link"]
    for other in ("/data/state/at.nt", "/data/state/at.jsonld", "/data/state/at.rdf"):
        assert f"<{other}>" in links
    assert f"<{path}>" not in links


@pytest.mark.parametrize("path", ["/data/state/at.ttl", "/page/state/at", "/ontology"])
def test_conditional_requests_answer_304(client: FlaskClient, path: str) -> None:
    first = client.get(path)
    etag = first.headers["ETag"]
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 304
    assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200
    since = first.headers["Last-Modified"]
    assert since == "Fri, 05 Jan 2024 00:00:00 GMT"  # the build_time of the build's summary
    assert client.get(path, headers={"If-Modified-Since": since}).status_code == 304
    old = "Mon, 01 Jan 2001 00:00:00 GMT"
    assert client.get(path, headers={"If-Modified-Since": old}).status_code == 200


def test_etag_differs_between_formats(client: FlaskClient) -> None:
    assert (
        client.get("/data/state/at.ttl").headers["ETag"]
        != client.get("/data/state/at.nt").headers["ETag"]
    )


@pytest.mark.parametrize(
    ("language", "title"),
    [("de", "Österreich"), ("fr-CH, fr;q=0.9", "Autriche"), ("ja", "Austria"), (None, "Austria")],
)
def test_page_labels_follow_accept_language_with_english_fallback(
    client: FlaskClient, language: str | None, title: str
) -> None:
    headers = {"Accept-Language": language} if language else {}
    html = client.get("/page/state/at", headers=headers).get_data(as_text=True)
    assert f"<h1>{title}</h1>" in html


def test_page_shows_types_links_sources_and_rdf_forms(client: FlaskClient) -> None:
    html = client.get("/page/field-operation/programme-office-in-dushanbe").get_data(as_text=True)
    assert '<a href="/ontology#FieldOperation">Field operation</a>' in html
    assert '<a href="/id/state/tj">Tajikistan</a>' in html  # a local link for an IRI under the base
    assert 'href="/id/release/2024-01-03-second-release-bbbbbb">Second release</a>' in html
    assert "reference graph" in html  # where each statement comes from
    assert "latitude 38.5598, longitude 68.7791" in html
    assert 'href="/data/field-operation/programme-office-in-dushanbe.jsonld"' in html
    assert "/sparql?query=DESCRIBE+%3Chttps%3A%2F%2Fw3id.org" in html


def test_page_names_the_release_each_statement_came_from(client: FlaskClient) -> None:
    html = client.get("/page/state/tj").get_data(as_text=True)
    first = '<a class="source" href="/id/release/2024-01-02-first-release-aaaaaa">First release</a>'
    assert first in html
    # "Tajikistan"@en is stated by the reference graph and by the first release
    start = html.index("Tajikistan\n")
    label_row = html[start : html.index("</tr>", start)]
    assert "reference graph" in label_row
    assert first in label_row


def test_incoming_links_on_pages_are_paged(client: FlaskClient) -> None:
    first = client.get("/page/state/at").get_data(as_text=True)
    second = client.get("/page/state/at?page=2").get_data(as_text=True)
    assert 'rel="next" href="/page/state/at?page=2"' in first
    assert "Third release" in second and "Third release" not in first
    assert 'rel="prev" href="/page/state/at"' in second


def test_values_from_the_data_are_escaped(client: FlaskClient) -> None:
    html = client.get("/page/person/test-person").get_data(as_text=True)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
