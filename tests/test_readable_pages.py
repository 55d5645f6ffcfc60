"""Pages a person reads: a release's head, SPARQL results by label, the ontology's documentation,
download sizes, and the query page's fallback when YASGUI does not load."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from kg.rdf.uris import DEFAULT_BASE
from server.dumps import human_size
from tests.conftest import make_test_build

RELEASE_DATA = Path(__file__).parent / "data" / "release"
RELEASE_PAGE = "/page/release/2024-02-27-round-table-in-bishkek-abcdef"


@pytest.fixture(scope="module")
def release_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_test_build(tmp_path_factory.mktemp("release"), RELEASE_DATA / "release.trig")


@pytest.fixture
def release_client(release_build: Path) -> Iterator[FlaskClient]:
    from server import create_app

    app = create_app({"TESTING": True, "BUILD_DIR": str(release_build), "BASE": DEFAULT_BASE})
    yield app.test_client()


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_release_page_starts_with_title_date_place_sources_and_body(
    release_client: FlaskClient,
) -> None:
    html = release_client.get(RELEASE_PAGE).get_data(as_text=True)
    head = html[html.index('<article class="release">') : html.index("</article>")]
    assert "<h1>Round table in Bishkek launches a dialogue platform</h1>" in head
    assert '<time datetime="2024-02-27">2024-02-27</time>' in head
    assert '<a href="/id/city/bishkek">Bishkek</a>' in head
    assert '<a href="/id/content-type/press-release">Press release</a>' in head
    assert 'from <a href="/id/field-operation/programme-office-in-bishkek">' in head
    # the body, one paragraph per line
    assert "<p>BISHKEK, 27 February 2024 – State bodies and civil society agreed" in head
    assert "<p>“Prevention works when we talk early,” said Alexey Rogov" in head
    # the head comes before the list of statements
    assert html.index("</article>") < html.index('id="statements"')


def test_release_page_links_people_states_structures_and_the_event(
    release_client: FlaskClient,
) -> None:
    html = release_client.get(RELEASE_PAGE).get_data(as_text=True)
    head = html[html.index('<article class="release">') : html.index("</article>")]
    words = text_of(head)
    assert "People Alexey Rogov" in words
    assert "States Kyrgyzstan" in words
    assert "OSCE structures OSCE Programme Office in Bishkek" in words
    assert "Other organisations UNDP" in words
    assert "Fields of work Countering terrorism" in words
    assert '<a href="/id/person/alexey-rogov">Alexey Rogov</a>' in head
    assert '<a href="/id/state/kg">Kyrgyzstan</a>' in head
    assert 'href="/id/event/2024-02-27-round-table-in-bishkek-abcdef-1"' in head
    assert "2024-02-26 – 2024-02-27" in words
    assert "organised by OSCE Programme Office in Bishkek" in words
    assert "with UNDP" in words


def test_other_entities_have_no_release_head(release_client: FlaskClient) -> None:
    html = release_client.get("/page/state/kg").get_data(as_text=True)
    assert '<article class="release">' not in html
    assert "<h1>Kyrgyzstan</h1>" in html


def test_sparql_results_in_html_show_labels_linking_entity_pages(
    release_client: FlaskClient,
) -> None:
    query = (
        "SELECT ?release ?state ?date WHERE { ?release "
        "<https://w3id.org/osce-kg/ontology#mentionsState> ?state ; "
        "<https://schema.org/datePublished> ?date }"
    )
    response = release_client.get(
        "/sparql", query_string={"query": query}, headers={"Accept": "text/html"}
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert (
        '<a href="/id/state/kg" title="https://w3id.org/osce-kg/id/state/kg">Kyrgyzstan</a>' in html
    )
    assert ">Round table in Bishkek launches a dialogue platform</a>" in html
    assert '2024-02-27 <span class="note">date</span>' in html


def test_ontology_page_has_the_ontology_description_version_and_licence(
    people_client: FlaskClient,
) -> None:
    html = people_client.get("/ontology").get_data(as_text=True)
    assert "<h1>OSCE ontology</h1>" in html
    assert "<dt>Version</dt><dd>0.1.0" in html
    assert '<a rel="license" href="https://creativecommons.org/licenses/by/4.0/">' in html
    assert "Classes and properties for a knowledge graph of the Organization" in html


def test_ontology_page_lists_class_properties_and_hierarchy(people_client: FlaskClient) -> None:
    html = people_client.get("/ontology").get_data(as_text=True)
    tree = html[html.index('<div class="hierarchy">') : html.index('id="kind-Class"')]
    # field operation sits under OSCE structure in the class tree
    structure = tree.index('href="/ontology#Structure"')
    assert (
        structure < tree.index('href="/ontology#FieldOperation"') < tree.index("</ul>", structure)
    )
    section = html[html.index('id="FieldOperation"') :]
    section = section[: section.index("</section>")]
    domain_table = section[section.index("Properties with this class as domain") :]
    assert '<a href="/ontology#hostState">host State</a>' in domain_table
    assert "schema:AdministrativeArea" in domain_table  # the range of osce:hostState
    person = html[html.index('id="Person"') :]
    person = person[: person.index("</section>")]
    range_table = person[person.index("Properties with this class as range") :]
    assert '<a href="/ontology#appointee">appointee</a>' in range_table
    for heading in ("Classes", "Object properties", "Datatype properties"):
        assert f">{heading}</h2>" in html


@pytest.mark.parametrize(
    ("count", "shown"),
    [
        (0, "0 bytes"),
        (1, "1 byte"),
        (1023, "1023 bytes"),
        (1536, "1.5 KiB"),
        (5 * 1024**2, "5.0 MiB"),
    ],
)
def test_human_sizes(count: int, shown: str) -> None:
    assert human_size(count) == shown


def test_dumps_page_shows_human_sizes_with_exact_bytes(
    client: FlaskClient, build_dir: Path
) -> None:
    html = client.get("/dumps/").get_data(as_text=True)
    size = (build_dir / "dumps" / "osce-kg.nq.gz").stat().st_size
    assert f'<data value="{size}" title="{size:,} bytes">{human_size(size)}</data>' in html
    # the JSON listing keeps exact bytes for programs
    files = {f["name"]: f for f in client.get("/dumps/?format=json").get_json()["files"]}
    assert files["osce-kg.nq.gz"]["bytes"] == size


def test_query_page_script_keeps_the_form_unless_yasgui_starts(client: FlaskClient) -> None:
    with client.get("/static/sparql.js") as response:
        script = response.get_data(as_text=True)
    # the form is hidden only after YASGUI was made; a missing or failing YASGUI leaves it
    assert script.index('typeof window.Yasgui === "undefined"') < script.index("form.hidden = true")
    assert script.index("catch (error)") < script.index("form.hidden = true")
