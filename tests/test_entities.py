"""Dereferencing entity URIs: 303 by negotiation, data and page documents, validators, escaping."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDFS

from tests.conftest import get_as
from tests.jsonld import with_context_inline

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
        # plain-JSON clients get JSON-LD, as plain-XML ones get RDF/XML
        ("", "application/json", "/data/state/at.jsonld"),
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
    assert get_as(client, path, accept, status=404).mimetype == content_type


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
    text = response.get_data(as_text=True)
    if extension == "jsonld":  # its @context is a URL on this server
        text = with_context_inline(client, text)
    graph = Graph().parse(data=text, format=RDF_PARSERS[extension])
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


@pytest.mark.parametrize("page", ["0", "-1", "two", "²", "99999999999999999999"])
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
    start = html.index('<li>Tajikistan <span class="note">en</span>')
    label_value = html[start : html.index("</li>", start)]
    assert "reference graph" in label_value
    assert first in label_value


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


# The pages below are served from tests/data/pages/people.trig with the shipped ontology.

GREMINGER = "/page/person/thomas-greminger"
QUOTE = "/id/quote/2018-05-04-conference-in-dushanbe-aaaaaa-1"


def section_of(html: str, title: str) -> str:
    """The HTML of one titled section of an entity page (empty when the page has none)."""
    start = html.find(f"<h2>{title}</h2>")
    return "" if start < 0 else html[start : html.index("</section>", start)]


FIELD_OPERATION = "/page/field-operation/programme-office-in-dushanbe"
POST = "/page/post/secretariat-secretary-general"
RELEASE = "/page/release/2018-05-04-conference-in-dushanbe-aaaaaa"
DUSHANBE_CONFERENCE = "Conference in Dushanbe on countering terrorism"

# (page, section title, what the section shows)
SECTION_CONTENTS = [
    (
        GREMINGER,
        "Posts",
        (
            '<a href="/id/post/secretariat-secretary-general">Secretary General</a>',
            '<a href="/id/institution/secretariat">OSCE Secretariat</a>',
            "2017-07 – 2020-07",
            'href="http://osce.org/chairmanship/329966"',
        ),
    ),
    (
        GREMINGER,
        "Named in releases as",
        ("Secretary General", "Organization for Security and Co-operation in Europe</a>"),
    ),
    (
        FIELD_OPERATION,
        "Where",
        (
            '<a href="/id/state/tj">Tajikistan</a>',
            '<a href="/id/city/dushanbe">Dushanbe</a>',
            "38.53575",
            "68.77905",
        ),
    ),
    (FIELD_OPERATION, "Earlier names", ("OSCE Centre in Dushanbe", "OSCE Mission to Tajikistan")),
    (
        FIELD_OPERATION,
        "Heads and posts",
        ('<a href="/id/person/tuula-yrjola">Tuula Yrjölä</a>', "in post on 2017-06-09"),
    ),
    (FIELD_OPERATION, "Mentioned in", (DUSHANBE_CONFERENCE,)),
    ("/page/state/tj", "Codes", (">TJ</td>", ">TJK</td>")),
    ("/page/state/tj", "Names", ("Таджикистан",)),
    (
        POST,
        "Holders",
        ('<a href="/id/person/thomas-greminger">Thomas Greminger</a>', "2017-07 – 2020-07"),
    ),
    (
        RELEASE,
        "Quotes",
        (
            "“Law enforcement alone cannot defeat terrorism &amp;",
            '<a href="/id/person/thomas-greminger">Thomas Greminger</a>',
        ),
    ),
    (RELEASE, "People named", ("Secretary General",)),
]


@pytest.mark.parametrize(("path", "title", "shown"), SECTION_CONTENTS)
def test_entity_pages_show_the_sections_of_their_class(
    people_client: FlaskClient, path: str, title: str, shown: tuple[str, ...]
) -> None:
    section = section_of(people_client.get(path).get_data(as_text=True), title)
    for text in shown:
        assert text in section


def test_person_page_quotes_with_the_release_they_come_from(people_client: FlaskClient) -> None:
    html = people_client.get(GREMINGER).get_data(as_text=True)
    quotes = section_of(html, "Quoted in releases")
    assert (
        "“Law enforcement alone cannot defeat terrorism &amp; &lt;em&gt;violent&lt;/em&gt; "
        "extremism without parallel efforts invested in prevention, in every part of society”"
    ) in quotes
    assert "Conference in Dushanbe on countering terrorism</a>" in quotes
    assert "2018-05-04" in quotes
    assert "<em>violent" not in html


def test_person_page_lists_releases_mentioning_them_newest_first(
    people_client: FlaskClient,
) -> None:
    mentioned = section_of(people_client.get(GREMINGER).get_data(as_text=True), "Mentioned in")
    newer = mentioned.index("Chairmanship and Secretary General discuss priorities for 2020")
    older = mentioned.index("Conference in Dushanbe on countering terrorism")
    assert newer < older
    assert "2020-01-09" in mentioned


def test_external_urls_are_shown_in_full_or_shortened_in_the_middle_and_linked_out(
    people_client: FlaskClient,
) -> None:
    html = people_client.get(GREMINGER).get_data(as_text=True)
    assert ">http://osce.org/chairmanship/329966</a>" in html
    assert ">329966</a>" not in html
    long_url = (
        "https://example.org/a/very/long/path/about/the/appointment/of/the/secretary-general/"
        "in/july-2017/page.html"
    )
    assert f'class="external" href="{long_url}"' in html
    assert f">{long_url}</a>" not in html  # too long to show whole: cut in the middle
    assert ">https://example.org/a/very/long/path/about/the…/in/july-2017/page.html</a>" in html


@pytest.mark.parametrize(
    ("path", "title"),
    [
        (
            "/page/quote/2018-05-04-conference-in-dushanbe-aaaaaa-1",
            "<h1>“Law enforcement alone cannot defeat terrorism &amp; &lt;em&gt;violent&lt;/em&gt;"
            " extremism without…”</h1>",
        ),
        (
            "/page/appointment/secretary-general-thomas-greminger",
            "<h1>Thomas Greminger, Secretary General, OSCE Secretariat</h1>",
        ),
        (
            "/page/event/2018-05-04-conference-in-dushanbe-aaaaaa-1",
            "<h1>Conference on 2018-05-03</h1>",
        ),
        (
            "/page/role/2018-05-04-conference-in-dushanbe-aaaaaa-1",
            "<h1>Thomas Greminger, Secretary General, "
            "Organization for Security and Co-operation in Europe</h1>",
        ),
    ],
)
def test_unlabelled_things_are_named_by_what_their_class_says(
    people_client: FlaskClient, path: str, title: str
) -> None:
    assert title in people_client.get(path).get_data(as_text=True)


def test_incoming_links_name_quotations_by_their_text(people_client: FlaskClient) -> None:
    html = people_client.get(GREMINGER).get_data(as_text=True)
    incoming = html[html.index('<h2 id="incoming">') :]
    assert f'<a href="{QUOTE}">“Law enforcement alone cannot defeat terrorism' in incoming
    assert ">2018-05-04-conference-in-dushanbe-aaaaaa-1</a>" not in incoming


def test_statements_put_type_and_label_first_and_group_values(people_client: FlaskClient) -> None:
    html = people_client.get(GREMINGER).get_data(as_text=True)
    table = html[html.index('<h2 id="statements">') : html.index('<h2 id="incoming">')]
    properties = re.findall(r'<td class="property"><a href="[^"]*">([^<]*)</a>', table)
    assert properties[:2] == ["rdf:type", "rdfs:label"]
    assert properties[2:] == sorted(properties[2:], key=str.casefold)
    assert properties.count("dcterms:source") == 1  # two sources, one row
    source_row = table[table.index(">dcterms:source<") :].split("</tr>")[0]
    assert source_row.count('class="external"') == 2


def test_state_page_names_the_six_languages_in_order_and_no_section_of_other_classes(
    people_client: FlaskClient,
) -> None:
    text = people_client.get("/page/state/tj").get_data(as_text=True)
    languages = re.findall(r'<td class="language">([^<]*)</td>', section_of(text, "Names"))
    assert languages == ["English", "French", "German", "Italian", "Spanish", "Russian"]
    assert "Posts" not in text  # sections of other classes stay away


def test_sections_follow_the_browser_language(people_client: FlaskClient) -> None:
    html = people_client.get(GREMINGER, headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "<h1>Thomas Greminger</h1>" in html
    assert '<a href="/id/state/ch">Schweiz</a>' in html


def test_a_release_page_names_its_one_source_once(people_client: FlaskClient) -> None:
    text = people_client.get(RELEASE).get_data(as_text=True)
    # every statement of a release comes from its own graph: said once, not on every value
    assert 'Every statement here is stated in <a class="source" ' in text
    assert text.count(f">{DUSHANBE_CONFERENCE}</a>") == 1


def test_iris_that_are_not_web_addresses_are_not_links(people_client: FlaskClient) -> None:
    html = people_client.get("/page/person/tuula-yrjola").get_data(as_text=True)
    assert "javascript:alert(1)" in html
    assert 'href="javascript:' not in html


def test_a_build_under_a_custom_base_is_served_under_that_base(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The operator built under another base and serves without setting one: the build's base
    names IRIs."""
    from kg.publish.build import BuildOptions, build
    from server import create_app
    from server.pool import close_query_pool

    seed = Path(__file__).parent / "data" / "releases" / "seed-dushanbe-2018.txt"
    build(
        BuildOptions(inputs=(seed,), out_dir=tmp_path / "build", base="https://example.org/osce/")
    )

    app = create_app({"TESTING": True, "BUILD_DIR": str(tmp_path / "build")})
    try:
        client = app.test_client()
        response = client.get("/id/state/tj", headers={"Accept": "text/turtle"})
        assert response.status_code == 303
        data = client.get(response.headers["Location"])
        graph = Graph().parse(data=data.get_data(as_text=True), format="turtle")
        assert (URIRef("https://example.org/osce/id/state/tj"), RDFS.label, None) in graph
    finally:
        close_query_pool(app)


@pytest.mark.parametrize("path", ["/data/state/at.nt?page=99", "/page/state/at?page=99"])
def test_a_page_of_incoming_links_past_the_last_is_not_found(
    client: FlaskClient, path: str
) -> None:
    response = client.get(path, headers={"Accept": "text/plain"})
    assert response.status_code == 404
    if path.startswith("/page/"):
        assert "past the last page" in response.get_data(as_text=True)
