"""Entity data documents as linked-data clients expect them: Turtle by subject with only the
prefixes used, JSON-LD compacted with the published context, TriG and N-Quads with the named
graphs, a self-description in each, the licence in VoID/DCAT, and what an HTML page links."""

from __future__ import annotations

import json
import re

import pyoxigraph as ox
import pytest
from flask.testing import FlaskClient
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDF, XSD

from tests.jsonld import with_context_inline

# rdflib's JSON-LD parser makes a ConjunctiveGraph (deprecated) inside
pytestmark = pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")

VOID = Namespace("http://rdfs.org/ns/void#")
DCAT = Namespace("http://www.w3.org/ns/dcat#")
PROV = Namespace("http://www.w3.org/ns/prov#")
AUSTRIA = URIRef("https://w3id.org/osce-kg/id/state/at")
OFFICE = URIRef("https://w3id.org/osce-kg/id/field-operation/programme-office-in-dushanbe")
MENTIONS = URIRef("https://w3id.org/osce-kg/ontology#mentions")
FIRST_GRAPH = URIRef("https://w3id.org/osce-kg/graph/release/2024-01-02-first-release-aaaaaa")
REFERENCE = URIRef("https://w3id.org/osce-kg/graph/reference")
CC_BY = URIRef("https://creativecommons.org/licenses/by/4.0/")
PARSERS = {"ttl": "turtle", "nt": "nt", "jsonld": "json-ld", "rdf": "xml"}


def parse(client: FlaskClient, extension: str, path: str = "/data/state/at") -> Graph:
    response = client.get(f"{path}.{extension}")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    if extension == "jsonld":
        text = with_context_inline(client, text)
    return Graph().parse(data=text, format=PARSERS[extension])


def test_turtle_declares_only_the_prefixes_it_uses(client: FlaskClient) -> None:
    text = client.get("/data/state/at.ttl").get_data(as_text=True)
    declared = re.findall(r"^@prefix (\w+): ", text, flags=re.MULTILINE)
    assert "osce" in declared and "rdfs" in declared
    for prefix in declared:
        assert re.search(rf"(?<![\w<]){prefix}:\w", text.split("\n", len(declared))[-1]), prefix
    for unused in ("sh", "sd", "dcat", "time", "org", "geo"):
        assert unused not in declared


def test_turtle_states_each_subject_once(client: FlaskClient) -> None:
    text = client.get("/data/state/at.ttl").get_data(as_text=True)
    subjects = re.findall(r"^(<[^>]+>|\w+:\w+) ", text, flags=re.MULTILINE)
    assert subjects, text
    assert len(subjects) == len(set(subjects))  # grouped: one block per subject
    assert subjects[0] == f"<{AUSTRIA}>"  # the topic first


def test_jsonld_is_compacted_with_the_published_context(client: FlaskClient) -> None:
    document = client.get("/data/state/at.jsonld").get_json()
    assert document["@context"] == "/context.jsonld"  # relative: resolved against the URL read
    nodes = document["@graph"]
    ids = [node["@id"] for node in nodes]
    assert len(ids) == len(set(ids))  # one node per subject
    austria = next(node for node in nodes if node["@id"] == str(AUSTRIA))
    assert austria["@type"] == "osce:ParticipatingState"
    assert "osce:isoCode" in austria  # compact IRIs, not full ones
    context = client.get("/context.jsonld")
    assert context.mimetype == "application/ld+json"
    assert context.get_json()["@context"]["osce"] == "https://w3id.org/osce-kg/ontology#"


def test_jsonld_with_its_context_reads_as_the_same_graph_as_turtle(client: FlaskClient) -> None:
    from_jsonld = parse(client, "jsonld")
    from_turtle = parse(client, "ttl")
    # the two documents differ only in their own IRI (the document's URL)
    assert len(from_jsonld) == len(from_turtle)
    assert (AUSTRIA, URIRef("https://w3id.org/osce-kg/ontology#isoCode"), Literal("AT")) in (
        from_jsonld
    )


@pytest.mark.parametrize("extension", sorted(PARSERS))
def test_every_document_describes_itself(people_client: FlaskClient, extension: str) -> None:
    # the people build holds the shipped ontology, which states the licence
    graph = parse(people_client, extension, "/data/state/ch")
    document = URIRef(f"https://w3id.org/osce-kg/data/state/ch.{extension}")
    switzerland = URIRef("https://w3id.org/osce-kg/id/state/ch")
    assert (document, RDF.type, FOAF.Document) in graph
    assert (document, FOAF.primaryTopic, switzerland) in graph
    assert (document, DCTERMS.license, CC_BY) in graph
    modified = graph.value(document, DCTERMS.modified)
    assert isinstance(modified, Literal) and modified.datatype == XSD.dateTime
    assert str(modified).startswith("2024-01-05T00:00:00")  # the build's time
    dataset = URIRef("https://w3id.org/osce-kg/id/dataset/osce-kg")
    assert (document, VOID.inDataset, dataset) in graph
    build = graph.value(document, PROV.wasGeneratedBy)
    assert graph.value(build, DCTERMS.identifier) == Literal("20240105T000000Z-test")


def test_without_a_stated_licence_documents_claim_none(client: FlaskClient) -> None:
    # the sample build's ontology states no licence, and none is configured
    graph = parse(client, "ttl")
    assert (None, FOAF.primaryTopic, AUSTRIA) in graph
    assert (None, DCTERMS.license, None) not in graph


@pytest.mark.parametrize(
    ("extension", "rdf_format"), [("trig", ox.RdfFormat.TRIG), ("nq", ox.RdfFormat.N_QUADS)]
)
def test_trig_and_nquads_keep_each_statement_in_its_named_graph(
    client: FlaskClient, extension: str, rdf_format: ox.RdfFormat
) -> None:
    response = client.get(f"/data/state/at.{extension}")
    assert response.status_code == 200
    assert response.mimetype == rdf_format.media_type
    quads = list(ox.parse(response.data, format=rdf_format))
    graphs = {(str(q.subject), str(q.predicate), str(q.object)): set() for q in quads}
    for q in quads:
        graphs[(str(q.subject), str(q.predicate), str(q.object))].add(str(q.graph_name))
    release = "<https://w3id.org/osce-kg/id/release/2024-01-02-first-release-aaaaaa>"
    # an incoming link, in its release's graph only
    assert graphs[(release, f"<{MENTIONS}>", f"<{AUSTRIA}>")] == {f"<{FIRST_GRAPH}>"}
    iso_code = (f"<{AUSTRIA}>", "<https://w3id.org/osce-kg/ontology#isoCode>", '"AT"')
    assert graphs[iso_code] == {f"<{REFERENCE}>"}
    # the document's own description, in the default graph
    document = f"<https://w3id.org/osce-kg/data/state/at.{extension}>"
    topic = (document, f"<{FOAF.primaryTopic}>", f"<{AUSTRIA}>")
    assert graphs[topic] == {"DEFAULT"}


TAJIKISTAN_EN = (
    "<https://w3id.org/osce-kg/id/state/tj>",
    "<http://www.w3.org/2000/01/rdf-schema#label>",
    '"Tajikistan"@en',
)


@pytest.mark.parametrize(
    ("path", "graph"),
    [
        # the office's own statements are in the reference graph, which states the label too
        ("/data/field-operation/programme-office-in-dushanbe", f"<{REFERENCE}>"),
        # the release's own graph states it as well as the reference graph: its own is chosen
        ("/data/release/2024-01-02-first-release-aaaaaa", f"<{FIRST_GRAPH}>"),
    ],
)
@pytest.mark.parametrize(
    ("extension", "rdf_format"), [("trig", ox.RdfFormat.TRIG), ("nq", ox.RdfFormat.N_QUADS)]
)
def test_a_linked_label_is_given_once_in_one_graph_that_states_it(
    client: FlaskClient, path: str, graph: str, extension: str, rdf_format: ox.RdfFormat
) -> None:
    # Tajikistan's English label is stated in the reference graph and in the first release's
    # graph; a document linking to Tajikistan gives it once, preferring its own graph
    response = client.get(f"{path}.{extension}")
    assert response.status_code == 200
    quads = list(ox.parse(response.data, format=rdf_format))
    labels = [
        str(q.graph_name)
        for q in quads
        if (str(q.subject), str(q.predicate), str(q.object)) == TAJIKISTAN_EN
    ]
    assert labels == [graph]


@pytest.mark.parametrize(
    ("accept", "location"),
    [("application/trig", "/data/state/at.trig"), ("application/n-quads", "/data/state/at.nq")],
)
def test_entity_uris_negotiate_trig_and_nquads(
    client: FlaskClient, accept: str, location: str
) -> None:
    response = client.get("/id/state/at", headers={"Accept": accept})
    assert response.status_code == 303
    assert response.headers["Location"] == location


def test_void_and_dcat_state_the_licence(people_client: FlaskClient) -> None:
    client = people_client
    response = client.get("/void", headers={"Accept": "text/turtle"})
    graph = Graph().parse(data=response.get_data(as_text=True), format="turtle")
    datasets = set(graph.subjects(RDF.type, VOID.Dataset))
    assert datasets
    for dataset in datasets:
        assert (dataset, DCTERMS.license, CC_BY) in graph
    assert "dcterms:license" in client.get("/void").get_data(as_text=True)


def test_the_licence_is_a_setting(build_dir: object) -> None:
    from server import create_app

    other = "https://opendatacommons.org/licenses/odbl/1-0/"
    app = create_app({"TESTING": True, "BUILD_DIR": str(build_dir), "DATA_LICENSE": other})
    graph = Graph().parse(
        data=app.test_client().get("/data/state/at.ttl").get_data(as_text=True), format="turtle"
    )
    assert (None, DCTERMS.license, URIRef(other)) in graph
    assert (None, DCTERMS.license, CC_BY) not in graph


def test_entity_pages_link_every_form_with_its_type(client: FlaskClient) -> None:
    html = client.get("/page/state/at").get_data(as_text=True)
    for extension, media_type in [
        ("ttl", "text/turtle"),
        ("nt", "application/n-triples"),
        ("jsonld", "application/ld+json"),
        ("rdf", "application/rdf+xml"),
        ("trig", "application/trig"),
        ("nq", "application/n-quads"),
    ]:
        assert (
            f'<link rel="alternate" type="{media_type}" href="/data/state/at.{extension}"' in html
        )


def test_entity_pages_embed_schema_org_json_ld(client: FlaskClient) -> None:
    html = client.get("/page/field-operation/programme-office-in-dushanbe").get_data(as_text=True)
    [embedded] = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    data = json.loads(embedded)
    assert data["@context"] == "https://schema.org"
    assert data["@id"] == str(OFFICE)
    assert data["name"] == "OSCE Programme Office in Dushanbe"
    assert data["url"] == str(OFFICE)
    assert data["geo"] == {"@type": "GeoCoordinates", "latitude": "38.5598", "longitude": "68.7791"}


def test_embedded_json_ld_cannot_close_its_script(client: FlaskClient) -> None:
    html = client.get("/page/person/test-person").get_data(as_text=True)
    embedded = html[html.index('<script type="application/ld+json">') :]
    embedded = embedded[: embedded.index("</script>")]
    assert "<" not in embedded[len('<script type="application/ld+json">') :]
