"""Content negotiation: Accept with q-values and wildcards, format= overrides, 406."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from werkzeug.exceptions import NotAcceptable

from server import conneg

DOCUMENT = (conneg.HTML, conneg.TURTLE, conneg.N_TRIPLES, conneg.JSON_LD, conneg.RDF_XML)
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"

NEGOTIATION_CASES = [
    # (what is asked, offers, Accept, format=, the key chosen)
    ("no Accept gets the first offer", DOCUMENT, None, None, "html"),
    ("*/* gets the first offer", DOCUMENT, "*/*", None, "html"),
    ("a browser gets HTML", DOCUMENT, BROWSER, None, "html"),
    ("an exact type", DOCUMENT, "text/turtle", None, "ttl"),
    (
        "q-values order the choice",
        DOCUMENT,
        "text/turtle;q=0.5, application/ld+json",
        None,
        "jsonld",
    ),
    ("q=0 means never", DOCUMENT, "text/html;q=0, */*;q=0.1", None, "ttl"),
    ("a type wildcard", DOCUMENT, "application/*", None, "nt"),
    ("specific beats wildcard at equal q", DOCUMENT, "*/*;q=0.5, text/turtle;q=0.5", None, "ttl"),
    ("an alias media type", DOCUMENT, "application/x-turtle", None, "ttl"),
    ("application/xml asks for RDF/XML", DOCUMENT[1:], "application/xml", None, "rdf"),
    ("format= beats Accept", DOCUMENT, "text/html", "nt", "nt"),
    ("format= as a media type", DOCUMENT, "text/html", "application/ld+json", "jsonld"),
    ("format= is case-insensitive", DOCUMENT, None, "TTL", "ttl"),
    ("an unparseable Accept is ignored", DOCUMENT, ";;;", None, "html"),
    ("SPARQL JSON by default", conneg.SOLUTION_OFFERS, None, None, "json"),
    (
        "application/json means SPARQL JSON",
        conneg.SOLUTION_OFFERS,
        "application/json",
        None,
        "json",
    ),
    ("text/xml means SPARQL XML", conneg.SOLUTION_OFFERS, "text/xml", None, "xml"),
    ("CSV with parameters", conneg.SOLUTION_OFFERS, "text/csv; charset=utf-8", None, "csv"),
    ("text/* picks the first text offer", conneg.SOLUTION_OFFERS, "text/*", None, "csv"),
]


@pytest.mark.parametrize(
    ("offers", "accept", "format_param", "key"),
    [case[1:] for case in NEGOTIATION_CASES],
    ids=[case[0] for case in NEGOTIATION_CASES],
)
def test_negotiate(
    offers: tuple[conneg.Offer, ...], accept: str | None, format_param: str | None, key: str
) -> None:
    assert conneg.negotiate(offers, accept=accept, format_param=format_param).key == key


NOT_ACCEPTABLE_CASES = [
    ("nothing offered matches", DOCUMENT, "image/png", None),
    ("everything refused with q=0", DOCUMENT, "*/*;q=0", None),
    ("an unknown format=", DOCUMENT, None, "docx"),
    ("a graph format for results", conneg.SOLUTION_OFFERS, None, "ttl"),
]


@pytest.mark.parametrize(
    ("offers", "accept", "format_param"),
    [case[1:] for case in NOT_ACCEPTABLE_CASES],
    ids=[case[0] for case in NOT_ACCEPTABLE_CASES],
)
def test_not_acceptable_names_what_is_available(
    offers: tuple[conneg.Offer, ...], accept: str | None, format_param: str | None
) -> None:
    with pytest.raises(NotAcceptable) as raised:
        conneg.negotiate(offers, accept=accept, format_param=format_param)
    assert raised.value.code == 406
    assert offers[1].key in str(raised.value.description) or offers[1].media_type in str(
        raised.value.description
    )


def test_content_type_carries_charset_for_text() -> None:
    assert conneg.TURTLE.content_type == "text/turtle; charset=utf-8"
    assert conneg.JSON_LD.content_type == "application/ld+json"


SELECT = "SELECT ?s WHERE { ?s a <https://w3id.org/osce-kg/ontology#ParticipatingState> }"
CONSTRUCT = "CONSTRUCT WHERE { ?s a <https://w3id.org/osce-kg/ontology#ParticipatingState> }"

ENDPOINT_CASES = [
    # (query, Accept, format=, status, Content-Type)
    (SELECT, None, None, 200, "application/sparql-results+json"),
    (SELECT, "*/*", None, 200, "application/sparql-results+json"),
    (SELECT, "application/sparql-results+xml", None, 200, "application/sparql-results+xml"),
    (SELECT, "text/csv;q=0.4, text/tab-separated-values", None, 200, "text/tab-separated-values"),
    (SELECT, "application/json", None, 200, "application/sparql-results+json"),
    (SELECT, BROWSER, None, 200, "text/html"),
    (SELECT, "text/html", "csv", 200, "text/csv"),
    (SELECT, "text/turtle", None, 406, None),
    (SELECT, None, "ttl", 406, None),
    (CONSTRUCT, None, None, 200, "text/turtle"),
    (
        CONSTRUCT,
        "application/rdf+xml;q=0.9, application/n-triples",
        None,
        200,
        "application/n-triples",
    ),
    (CONSTRUCT, "application/ld+json", None, 200, "application/ld+json"),
    (CONSTRUCT, "application/sparql-results+json", None, 406, None),
    (CONSTRUCT, None, "trig", 200, "application/trig"),
    ("ASK {}", "text/csv", None, 200, "text/csv"),
    (None, None, None, 200, "text/html"),
    (None, "text/turtle", None, 200, "text/turtle"),
    (None, "application/rdf+xml", None, 200, "application/rdf+xml"),
    (None, "text/html", "nt", 200, "application/n-triples"),
    (None, "image/png", None, 406, None),
]


@pytest.mark.parametrize(
    ("query", "accept", "format_param", "status", "media_type"), ENDPOINT_CASES
)
def test_endpoint_negotiation(
    sparql_client: FlaskClient,
    query: str | None,
    accept: str | None,
    format_param: str | None,
    status: int,
    media_type: str | None,
) -> None:
    params = {k: v for k, v in (("query", query), ("format", format_param)) if v is not None}
    headers = {"Accept": accept} if accept else {}
    response = sparql_client.get("/sparql", query_string=params, headers=headers)
    assert response.status_code == status, response.get_data(as_text=True)
    if media_type is not None:
        assert response.mimetype == media_type
    assert "Accept" in response.headers.get("Vary", "")
