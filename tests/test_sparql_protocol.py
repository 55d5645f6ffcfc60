"""The SPARQL 1.1 Protocol on /sparql: the W3C protocol cases, result formats, dataset, errors."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import quote

import pyoxigraph as ox
import pytest
from flask import Flask
from flask.testing import FlaskClient
from rdflib import Graph, URIRef

D1 = "http://kasei.us/2009/09/sparql/data/data1.rdf"
D2 = "http://kasei.us/2009/09/sparql/data/data2.rdf"
D3 = "http://kasei.us/2009/09/sparql/data/data3.rdf"
D0 = "http://kasei.us/2009/09/sparql/data/data0.rdf"

BOOLEAN_TYPES = ("application/sparql-results+json", "application/sparql-results+xml")
TABULAR_TYPES = (*BOOLEAN_TYPES, "text/csv", "text/tab-separated-values")
RDF_TYPES = ("text/turtle", "application/n-triples", "application/rdf+xml", "application/ld+json")


SD_SERVICE = ox.NamedNode("http://www.w3.org/ns/sparql-service-description#Service")


def q(value: str) -> str:
    return quote(value, safe="")


@dataclass(frozen=True)
class ProtocolCase:
    """One request of the W3C SPARQL 1.1 protocol tests and what must come back."""

    name: str
    method: str
    path: str
    body: bytes | None = None
    content_type: str | None = None
    status: int = 200  # the class of the status: 200 means any 2xx, 400 any 4xx
    boolean: bool | None = None
    media_types: tuple[str, ...] = field(default=())


ASK_D1_D2 = f"ASK {{ <{D1}> a ?type . <{D2}> a ?type . }}"
ASK_NAMED = f"ASK {{ GRAPH ?g1 {{ <{D1}> a ?type }} GRAPH ?g2 {{ <{D2}> a ?type }} }}"
ASK_FULL = f"ASK {{ <{D3}> a ?type GRAPH ?g1 {{ <{D1}> a ?type }} GRAPH ?g2 {{ <{D2}> a ?type }} }}"
ASK_MULTIPLE = (
    f"ASK FROM <{D3}> {{ GRAPH ?g1 {{ <{D1}> a ?type }} GRAPH ?g2 {{ <{D2}> a ?type }} }}"
)

W3C_QUERY_CASES = [
    ProtocolCase(
        "query_post_form",
        "POST",
        f"/sparql/?default-graph-uri={q(D0)}",
        b"query=ASK%20%7B%7D",
        "application/x-www-form-urlencoded",
        boolean=True,
    ),
    ProtocolCase(
        "query_dataset_default_graphs_get",
        "GET",
        f"/sparql/?query={q(ASK_D1_D2)}&default-graph-uri={q(D1)}&default-graph-uri={q(D2)}",
        boolean=True,
    ),
    ProtocolCase(
        "query_dataset_default_graphs_post",
        "POST",
        f"/sparql/?default-graph-uri={q(D1)}&default-graph-uri={q(D2)}",
        ASK_D1_D2.encode(),
        "application/sparql-query",
        boolean=True,
    ),
    ProtocolCase(
        "query_dataset_named_graphs_post",
        "POST",
        f"/sparql/?named-graph-uri={q(D1)}&named-graph-uri={q(D2)}",
        ASK_NAMED.encode(),
        "application/sparql-query",
        boolean=True,
    ),
    ProtocolCase(
        "query_dataset_named_graphs_get",
        "GET",
        f"/sparql/?query={q(ASK_NAMED)}&named-graph-uri={q(D1)}&named-graph-uri={q(D2)}",
        boolean=True,
    ),
    ProtocolCase(
        "query_dataset_full",
        "POST",
        f"/sparql/?default-graph-uri={q(D3)}&named-graph-uri={q(D1)}&named-graph-uri={q(D2)}",
        ASK_FULL.encode(),
        "application/sparql-query",
        boolean=True,
    ),
    ProtocolCase(
        "query_multiple_dataset",
        "POST",
        f"/sparql/?named-graph-uri={q(D1)}&named-graph-uri={q(D2)}",
        ASK_MULTIPLE.encode(),
        "application/sparql-query",
        boolean=True,
    ),
    ProtocolCase(
        "query_get", "GET", f"/sparql/?query=ASK%20%7B%7D&default-graph-uri={q(D0)}", boolean=True
    ),
    ProtocolCase(
        "query_content_type_select",
        "POST",
        f"/sparql/?default-graph-uri={q(D0)}",
        b"SELECT (1 AS ?value) {}",
        "application/sparql-query",
        media_types=TABULAR_TYPES,
    ),
    ProtocolCase(
        "query_content_type_ask",
        "POST",
        f"/sparql/?default-graph-uri={q(D0)}",
        b"ASK {}",
        "application/sparql-query",
        boolean=True,
        media_types=BOOLEAN_TYPES,
    ),
    ProtocolCase(
        "query_content_type_describe",
        "POST",
        f"/sparql/?default-graph-uri={q(D0)}",
        b"DESCRIBE <http://example.org/>",
        "application/sparql-query",
        media_types=RDF_TYPES,
    ),
    ProtocolCase(
        "query_content_type_construct",
        "POST",
        f"/sparql/?default-graph-uri={q(D0)}",
        b"CONSTRUCT { <s> <p> 1 } WHERE {}",
        "application/sparql-query",
        media_types=RDF_TYPES,
    ),
    ProtocolCase(
        "query_post_direct",
        "POST",
        "/sparql/",
        b"ASK {}",
        "application/sparql-query",
        boolean=True,
    ),
]


def badly_sent(operation: str, text: str, media_type: str) -> list[ProtocolCase]:
    """The W3C cases that send a query or an update as a body of the wrong type, as a form
    without its type, and in UTF-16: each must be refused."""
    form = f"{operation}={q(text)}".encode()
    utf16 = f"{media_type}; charset=UTF-16"
    return [
        ProtocolCase(
            f"bad_{operation}_wrong_media_type",
            "POST",
            "/sparql/",
            text.encode(),
            "text/plain",
            status=400,
        ),
        ProtocolCase(f"bad_{operation}_missing_form_type", "POST", "/sparql/", form, status=400),
        ProtocolCase(
            f"bad_{operation}_non_utf8",
            "POST",
            "/sparql/",
            text.encode("utf-16"),
            utf16,
            status=400,
        ),
    ]


W3C_BAD_CASES = [
    *badly_sent("query", "ASK {}", "application/sparql-query"),
    *badly_sent("update", "CLEAR NAMED", "application/sparql-update"),
    ProtocolCase(
        "bad_query_method",
        "PUT",
        f"/sparql/?query=ASK%20%7B%7D&default-graph-uri={q(D0)}",
        b"",
        "application/x-www-form-urlencoded",
        status=400,
    ),
    ProtocolCase(
        "bad_multiple_queries",
        "GET",
        "/sparql/?query=ASK%20%7B%7D&query=SELECT%20%2A%20%7B%7D",
        status=400,
    ),
    ProtocolCase("bad_query_missing_direct_type", "POST", "/sparql/", b"ASK {}", status=400),
    ProtocolCase("bad_query_syntax", "GET", "/sparql/?query=ASK%20%7B", status=400),
    ProtocolCase("bad_update_get", "GET", "/sparql/?update=CLEAR%20ALL", status=400),
    ProtocolCase(
        "bad_multiple_updates",
        "POST",
        "/sparql/",
        b"update=CLEAR%20NAMED&update=CLEAR%20DEFAULT",
        "application/x-www-form-urlencoded",
        status=400,
    ),
    ProtocolCase(
        "bad_update_syntax",
        "POST",
        "/sparql/",
        b"update=CLEAR%20XYZ",
        "application/x-www-form-urlencoded",
        status=400,
    ),
    ProtocolCase(
        "bad_update_dataset_conflict",
        "POST",
        "/sparql/?using-named-graph-uri=http%3A%2F%2Fexample%2Fpeople",
        b"PREFIX foaf: <http://xmlns.com/foaf/0.1/> WITH <http://example/addresses> "
        b"DELETE { ?person foaf:givenName 'Bill' } INSERT { ?person foaf:givenName 'William' } "
        b"WHERE { ?person foaf:givenName 'Bill' }",
        "application/sparql-update",
        status=400,
    ),
]

# The W3C update cases expect success from an updatable store; this endpoint is read-only, so
# each must be refused with a 4xx and leave the data as it was.
W3C_UPDATE_CASES = [
    ProtocolCase(
        "update_dataset_default_graph",
        "POST",
        f"/sparql/?using-graph-uri={q(D1)}",
        f"PREFIX dc: <http://purl.org/dc/terms/> INSERT {{ <{D1}> dc:title 'x' }} "
        f"WHERE {{ <{D1}> a ?type }}".encode(),
        "application/sparql-update",
        status=400,
    ),
    ProtocolCase(
        "update_dataset_named_graphs",
        "POST",
        f"/sparql/?using-named-graph-uri={q(D1)}",
        b"PREFIX dc: <http://purl.org/dc/terms/> INSERT { GRAPH ?g { ?s dc:title 'x' } } "
        b"WHERE { GRAPH ?g { ?s a ?type } }",
        "application/sparql-update",
        status=400,
    ),
    ProtocolCase(
        "update_post_form",
        "POST",
        "/sparql/",
        b"update=CLEAR+ALL",
        "application/x-www-form-urlencoded",
        status=400,
    ),
    ProtocolCase(
        "update_post_direct", "POST", "/sparql/", b"CLEAR ALL", "application/sparql-update", 400
    ),
    ProtocolCase(
        "update_base_uri",
        "POST",
        "/sparql/",
        b"CLEAR SILENT GRAPH <http://example.org/protocol-base-test/> ; "
        b"INSERT DATA { GRAPH <http://example.org/protocol-base-test/> { <s> <p> <o> } }",
        "application/sparql-update",
        status=400,
    ),
    ProtocolCase(
        "update_via_query_parameter",
        "POST",
        "/sparql",
        b"query=DROP%20ALL",
        "application/x-www-form-urlencoded",
        status=400,
    ),
]


def send(client: FlaskClient, case: ProtocolCase, accept: str | None = None):  # type: ignore[no-untyped-def]
    headers = {"Accept": accept} if accept else {}
    if case.content_type:
        headers["Content-Type"] = case.content_type
    return client.open(
        case.path, method=case.method, data=case.body, headers=headers, content_type=None
    )


def parse_boolean(body: bytes, media_type: str) -> bool:
    fmt = ox.QueryResultsFormat.from_media_type(media_type)
    assert fmt is not None, media_type
    result = ox.parse_query_results(body, fmt)
    assert isinstance(result, ox.QueryBoolean), f"not a boolean result: {body!r}"
    return bool(result)


@pytest.mark.parametrize("case", W3C_QUERY_CASES, ids=lambda c: c.name)
def test_w3c_query_cases_answer(sparql_client: FlaskClient, case: ProtocolCase) -> None:
    response = send(sparql_client, case)
    assert 200 <= response.status_code < 400, response.get_data(as_text=True)
    media_type = response.mimetype
    if case.media_types:
        assert media_type in case.media_types
    if case.boolean is not None:
        assert parse_boolean(response.data, media_type) is case.boolean


@pytest.mark.parametrize("case", W3C_BAD_CASES + W3C_UPDATE_CASES, ids=lambda c: c.name)
def test_w3c_bad_requests_are_refused(sparql_client: FlaskClient, case: ProtocolCase) -> None:
    response = send(sparql_client, case)
    assert 400 <= response.status_code < 500, response.status
    assert response.get_data(as_text=True).strip(), "an error must say what went wrong"


def count_quads(client: FlaskClient) -> int:
    response = client.get(
        "/sparql",
        query_string={"query": "SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } }"},
        headers={"Accept": "application/sparql-results+json"},
    )
    return int(response.json["results"]["bindings"][0]["n"]["value"])  # type: ignore[index]


def test_updates_leave_the_data_untouched(sparql_client: FlaskClient) -> None:
    before = count_quads(sparql_client)
    assert before > 0
    for case in W3C_UPDATE_CASES:
        assert send(sparql_client, case).status_code == 403
    assert count_quads(sparql_client) == before


@pytest.mark.parametrize(
    ("status", "body", "content_type", "needle"),
    [
        (400, b"query=ASK%20%7B", "application/x-www-form-urlencoded", "syntax error"),
        (415, b"ASK {}", "text/plain", "application/sparql-query"),
        (415, b"ASK {}", "application/sparql-query; charset=latin-1", "UTF-8"),
        (403, b"CLEAR ALL", "application/sparql-update", "read-only"),
        (400, b"query=", "application/x-www-form-urlencoded", "empty"),
    ],
)
def test_errors_have_the_right_status_and_say_why(
    sparql_client: FlaskClient, status: int, body: bytes, content_type: str, needle: str
) -> None:
    response = sparql_client.post(
        "/sparql", data=body, headers={"Content-Type": content_type, "Accept": "text/plain"}
    )
    assert response.status_code == status
    assert needle in response.get_data(as_text=True)


def test_syntax_error_gives_the_parsers_position(sparql_client: FlaskClient) -> None:
    response = sparql_client.get(
        "/sparql",
        query_string={"query": "SELECT * WHERE { ?s ?p }"},
        headers={"Accept": "text/plain"},
    )
    assert response.status_code == 400
    assert "1:" in response.get_data(as_text=True)  # line:column from pyoxigraph's parser


def test_default_graph_is_the_union_of_named_graphs(sparql_client: FlaskClient) -> None:
    query = (
        "PREFIX osce: <https://w3id.org/osce-kg/ontology#> "
        "SELECT (COUNT(DISTINCT ?r) AS ?n) { ?r a osce:PressRelease ; osce:mentionsState ?s . "
        "?s a osce:ParticipatingState }"
    )
    response = sparql_client.get("/sparql", query_string={"query": query})
    assert response.json["results"]["bindings"][0]["n"]["value"] == "2"  # type: ignore[index]


def test_from_in_the_query_names_the_dataset(sparql_client: FlaskClient) -> None:
    query = f"SELECT ?s FROM <{D3}> {{ ?s ?p ?o }}"
    response = sparql_client.get("/sparql", query_string={"query": query})
    values = [b["s"]["value"] for b in response.json["results"]["bindings"]]  # type: ignore[index]
    assert values == [D3]


def test_a_bad_graph_iri_is_refused(sparql_client: FlaskClient) -> None:
    response = sparql_client.get(
        "/sparql", query_string={"query": "ASK {}", "default-graph-uri": "not an iri"}
    )
    assert response.status_code == 400


SELECT_ALL_STATES = (
    "PREFIX osce: <https://w3id.org/osce-kg/ontology#> "
    "SELECT ?s ?label WHERE { ?s a osce:ParticipatingState ; "
    "<http://www.w3.org/2000/01/rdf-schema#label> ?label } ORDER BY ?s ?label"
)


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        ("application/sparql-results+json", "application/sparql-results+json"),
        ("application/sparql-results+xml", "application/sparql-results+xml"),
        ("text/tab-separated-values", "text/tab-separated-values"),
    ],
)
def test_select_results_parse_back_in_every_format(
    sparql_client: FlaskClient, accept: str, media_type: str
) -> None:
    response = sparql_client.get(
        "/sparql", query_string={"query": SELECT_ALL_STATES}, headers={"Accept": accept}
    )
    assert response.mimetype == media_type
    fmt = ox.QueryResultsFormat.from_media_type(media_type)
    assert fmt is not None
    solutions = ox.parse_query_results(response.data, fmt)
    assert isinstance(solutions, ox.QuerySolutions)
    labels = sorted(str(s["label"].value) for s in solutions)  # type: ignore[union-attr]
    assert labels == ["Austria", "Autriche", "Moldova", "Serbia"]


def test_select_results_as_csv(sparql_client: FlaskClient) -> None:
    response = sparql_client.get(
        "/sparql", query_string={"query": SELECT_ALL_STATES, "format": "csv"}
    )
    assert response.content_type == "text/csv; charset=utf-8"
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0] == "s,label"
    assert "https://w3id.org/osce-kg/id/state/at,Austria" in lines


CONSTRUCT_STATES = (
    "PREFIX osce: <https://w3id.org/osce-kg/ontology#> "
    "CONSTRUCT { ?s a osce:ParticipatingState } WHERE { ?s a osce:ParticipatingState }"
)


@pytest.mark.parametrize(
    "accept",
    [
        "text/turtle",
        "application/n-triples",
        "application/ld+json",
        "application/rdf+xml",
        "application/trig",
        "application/n-quads",
    ],
)
def test_construct_results_parse_in_every_format(sparql_client: FlaskClient, accept: str) -> None:
    response = sparql_client.get(
        "/sparql", query_string={"query": CONSTRUCT_STATES}, headers={"Accept": accept}
    )
    assert response.status_code == 200
    assert response.mimetype == accept
    fmt = ox.RdfFormat.from_media_type(accept)
    assert fmt is not None
    states = {quad.subject for quad in ox.parse(response.data, format=fmt)}
    assert ox.NamedNode("https://w3id.org/osce-kg/id/state/md") in states
    assert len(states) == 3


def test_describe_gives_the_resource(sparql_client: FlaskClient) -> None:
    response = sparql_client.get(
        "/sparql",
        query_string={"query": "DESCRIBE <https://w3id.org/osce-kg/id/state/at>"},
        headers={"Accept": "text/turtle"},
    )
    graph = Graph().parse(data=response.get_data(as_text=True), format="turtle")
    assert len(graph) == 4  # type, two labels, ISO code


def test_service_description_by_negotiation(sparql_client: FlaskClient) -> None:
    response = sparql_client.get("/sparql", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    assert response.mimetype == "text/turtle"
    graph = Graph().parse(data=response.get_data(as_text=True), format="turtle")
    rows = graph.query(
        """PREFIX sd: <http://www.w3.org/ns/sparql-service-description#>
        SELECT ?endpoint ?desc ?void WHERE {
          ?service a sd:Service ; sd:endpoint ?endpoint ;
            sd:defaultDataset [ sd:defaultGraph [ <http://purl.org/dc/terms/description> ?desc ] ;
                                <http://www.w3.org/2000/01/rdf-schema#seeAlso> ?void ] .
        }"""
    )
    [(endpoint, description, void)] = list(rows)  # type: ignore[misc]
    assert str(endpoint) == "https://w3id.org/osce-kg/sparql"  # the base's, not the Host's
    assert "union of all named graphs" in str(description)
    assert str(void) == "https://w3id.org/osce-kg/void"
    named = set(graph.objects(None, URIRef("http://www.w3.org/ns/sparql-service-description#name")))
    assert URIRef("https://w3id.org/osce-kg/graph/reference") in named


def test_service_description_in_json_ld(sparql_client: FlaskClient) -> None:
    response = sparql_client.get("/sparql?format=jsonld")
    assert response.mimetype == "application/ld+json"
    quads = ox.parse(response.data, format=ox.RdfFormat.JSON_LD)
    assert any(quad.object == SD_SERVICE for quad in quads)


def test_browser_gets_a_form_that_works_without_javascript(sparql_client: FlaskClient) -> None:
    accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    page = sparql_client.get("/sparql", headers={"Accept": accept})
    assert page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert '<form id="sparql-form" method="get" action="/sparql">' in html
    assert '<textarea id="query" name="query"' in html
    assert "osce:ParticipatingState" in html  # an example about the OSCE
    # what the form submits, as a browser sends it, gives an HTML table
    result = sparql_client.get(
        "/sparql",
        query_string={"query": SELECT_ALL_STATES, "format": ""},
        headers={"Accept": accept},
    )
    assert result.mimetype == "text/html"
    assert "<td>Moldova" in result.get_data(as_text=True)


def test_html_results_escape_the_data(sparql_client: FlaskClient) -> None:
    query = "SELECT ?h WHERE { ?r <https://schema.org/headline> ?h }"
    response = sparql_client.get("/sparql", query_string={"query": query, "format": "html"})
    html = response.get_data(as_text=True)
    assert "&lt;freedom&gt; &amp; ethics" in html
    assert "<freedom>" not in html


def test_example_links_fill_the_form(sparql_client: FlaskClient) -> None:
    html = sparql_client.get("/sparql?example=quoted", headers={"Accept": "text/html"})
    assert "osce:speaker" in html.get_data(as_text=True)


def test_example_queries_run(sparql_client: FlaskClient) -> None:
    from server.examples import example_queries

    with sparql_client.application.app_context():
        examples = example_queries()
    for _key, title, text in examples:
        response = sparql_client.get("/sparql", query_string={"query": text})
        assert response.status_code == 200, (title, response.get_data(as_text=True))
        assert json.loads(response.data)["results"]["bindings"], title


@pytest.fixture
def live_endpoint(sparql_app: Flask) -> Iterator[str]:
    """The app served over real HTTP on 127.0.0.1 (a thread, stopped after the test)."""
    from werkzeug.serving import make_server

    httpd = make_server("127.0.0.1", 0, sparql_app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/sparql"
    httpd.shutdown()
    thread.join(10)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_sparqlwrapper_talks_to_the_real_server(live_endpoint: str, method: str) -> None:
    from SPARQLWrapper import JSON, POST, TURTLE, SPARQLWrapper

    client = SPARQLWrapper(live_endpoint)
    if method == "POST":
        client.setMethod(POST)
    client.setQuery(SELECT_ALL_STATES)
    client.setReturnFormat(JSON)
    bindings = client.queryAndConvert()["results"]["bindings"]  # type: ignore[index,call-overload]
    assert {b["label"]["value"] for b in bindings} == {"Austria", "Autriche", "Moldova", "Serbia"}

    client.setQuery(f"ASK {{ GRAPH <{D1}> {{ ?s ?p ?o }} }}")
    assert client.queryAndConvert()["boolean"] is True  # type: ignore[index,call-overload]

    client.setQuery(CONSTRUCT_STATES)
    client.setReturnFormat(TURTLE)
    turtle = client.queryAndConvert()
    graph = Graph().parse(data=turtle, format="turtle")  # type: ignore[arg-type]
    assert len(set(graph.subjects())) == 3
