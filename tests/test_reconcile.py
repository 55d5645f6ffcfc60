"""The W3C Reconciliation API, with the request shapes OpenRefine sends (GET and POST form
``queries=``), scores and ``match``; preview and suggest; and a real server spoken to over HTTP."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from tests.sample_build import sample_app, sample_build
from tests.serving import free_port, running


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_build(tmp_path_factory)


@pytest.fixture(scope="module")
def sample(built: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    yield from sample_app(built, tmp_path_factory.mktemp("reconcile-cache"))


@pytest.fixture
def web(sample: Flask) -> FlaskClient:
    return sample.test_client()


def reconcile(web: FlaskClient, queries: dict[str, Any], *, post: bool = True) -> dict[str, Any]:
    """Sends a batch as OpenRefine does: a form field ``queries`` holding JSON."""
    data = {"queries": json.dumps(queries)}
    if post:
        response = web.post("/reconcile", data=data)
    else:
        response = web.get("/reconcile", query_string=data)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body: dict[str, Any] = response.get_json()
    return body


def test_the_manifest_describes_the_service_for_openrefine(web: FlaskClient) -> None:
    manifest = web.get("/reconcile").get_json()
    assert "0.2" in manifest["versions"]
    assert manifest["identifierSpace"] == "https://w3id.org/osce-kg/id/"
    assert manifest["schemaSpace"] == "https://w3id.org/osce-kg/ontology#"
    assert {"id": "ParticipatingState", "name": "participating State"} in manifest["defaultTypes"]
    assert manifest["view"]["url"] == "http://localhost/id/{{id}}"
    assert manifest["preview"]["url"] == "http://localhost/reconcile/preview?id={{id}}"
    for kind in ("entity", "type", "property"):
        service = manifest["suggest"][kind]
        assert service["service_url"] + service["service_path"] == (
            f"http://localhost/reconcile/suggest/{kind}"
        )


@pytest.mark.parametrize("post", [True, False], ids=["POST", "GET"])
def test_a_batch_answers_each_query_with_scored_candidates(web: FlaskClient, post: bool) -> None:
    answer = reconcile(
        web,
        {
            "q0": {"query": "Austria", "type": "ParticipatingState", "type_strict": "should"},
            "q1": {"query": "Autriche", "limit": 2},
            "q2": {"query": "Bishkek", "type": "City", "limit": 3},
            "q3": {"query": "qqqzzz xyzzy"},
        },
        post=post,
    )
    assert set(answer) == {"q0", "q1", "q2", "q3"}
    first = answer["q0"]["result"][0]
    assert first == {
        "id": "state/at",
        "name": "Austria",
        "type": [{"id": "ParticipatingState", "name": "participating State"}],
        "score": 100.0,
        "match": True,
        "description": "participating State",
    }
    assert answer["q1"]["result"][0]["id"] == "state/at"  # the French label
    assert answer["q1"]["result"][0]["match"] is True
    assert len(answer["q1"]["result"]) <= 2
    assert [c["id"] for c in answer["q2"]["result"]] == ["city/bishkek"]
    assert answer["q3"]["result"] == []


def test_scores_fall_as_labels_differ_and_only_an_exact_label_matches(web: FlaskClient) -> None:
    result = reconcile(web, {"q": {"query": "Programme Office Bishkek", "limit": 5}})["q"]["result"]
    assert result[0]["id"] == "field-operation/programme-office-in-bishkek"
    assert 50 < result[0]["score"] < 100
    assert result[0]["match"] is False  # close, not the name itself
    scores = [c["score"] for c in result]
    assert scores == sorted(scores, reverse=True)


def test_two_things_with_the_same_label_are_never_an_automatic_match(web: FlaskClient) -> None:
    query = "Ignazio Cassis, Chairperson-in-Office, OSCE"
    result = reconcile(web, {"q": {"query": query}})["q"]["result"]
    exact = [c for c in result if c["score"] == 100.0]
    assert len(exact) == 2
    assert not any(c["match"] for c in result)
    only_one = reconcile(web, {"q": {"query": query, "limit": 1}})["q"]["result"]
    assert len(only_one) == 1 and only_one[0]["match"] is False  # the other is still there


def test_property_constraints_raise_the_candidates_that_meet_them(web: FlaskClient) -> None:
    def first(properties: list[dict[str, Any]]) -> dict[str, Any]:
        query = {"query": "Austria", "type": "ParticipatingState", "properties": properties}
        result: dict[str, Any] = reconcile(web, {"q": query})["q"]["result"][0]
        return result

    met = first([{"pid": "isoAlpha2", "v": "at"}])
    assert (met["id"], met["score"], met["match"]) == ("state/at", 100.0, True)
    unmet = first([{"pid": "isoAlpha2", "v": "DE"}])
    assert unmet["id"] == "state/at" and unmet["score"] == 70.0 and unmet["match"] is False
    unknown = first([{"pid": "no such <property>", "v": "AT"}])
    assert unknown["score"] == 70.0 and unknown["match"] is False


def test_a_property_value_can_be_an_id_or_the_label_of_the_thing_it_links(
    web: FlaskClient,
) -> None:
    query = {"query": "OSCE Programme Office", "type": "FieldOperation", "limit": 3}
    plain = reconcile(web, {"q": query})["q"]["result"]
    by_id = {**query, "properties": [{"pid": "hostState", "v": {"id": "state/tj"}}]}
    by_label = {**query, "properties": [{"pid": "osce:hostState", "v": "Tadschikistan"}]}
    for constrained in (by_id, by_label):
        result = reconcile(web, {"q": constrained})["q"]["result"]
        assert result[0]["id"] == "field-operation/programme-office-in-dushanbe"
    assert [c["id"] for c in plain] != [] and all(c["match"] is False for c in plain)


def test_the_older_single_query_form_is_answered(web: FlaskClient) -> None:
    plain = web.get("/reconcile?query=Azerbaijan").get_json()
    assert plain["result"][0]["id"] == "state/az"
    as_json = web.get("/reconcile", query_string={"query": '{"query": "Vienna", "type": "City"}'})
    assert as_json.get_json()["result"][0]["id"] == "city/vienna"


@pytest.mark.parametrize(
    ("queries", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"q0": {"query": "x", "limit": 0}}', "'q0': field 'limit'"),
        ('{"q0": {"query": 5}}', "'q0': field 'query'"),
        ('{"q0": {"query": "x", "properties": [{"v": "y"}]}}', "properties[0] needs a 'pid'"),
        ('{"q0": {"query": "x", "type": 7}}', "field 'type'"),
    ],
)
def test_malformed_batches_are_400_naming_the_query_and_field(
    web: FlaskClient, queries: str, message: str
) -> None:
    response = web.post(
        "/reconcile", data={"queries": queries}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 400
    assert message in response.get_json()["message"]


def test_too_many_queries_in_one_request_are_refused(web: FlaskClient) -> None:
    batch = {f"q{n}": {"query": "Austria"} for n in range(101)}
    response = web.post("/reconcile", data={"queries": json.dumps(batch)})
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("kind", "prefix", "expected"),
    [
        ("entity", "azerb", "state/az"),
        ("entity", "österr", "state/at"),
        ("type", "participating", "ParticipatingState"),
        ("type", "field op", "FieldOperation"),
        ("property", "host", "hostState"),
        ("property", "date pub", "schema:datePublished"),
    ],
)
def test_suggest_services_complete_what_is_typed(
    web: FlaskClient, kind: str, prefix: str, expected: str
) -> None:
    answer = web.get(f"/reconcile/suggest/{kind}", query_string={"prefix": prefix}).get_json()
    assert expected in [r["id"] for r in answer["result"]], answer
    assert all(r["name"] for r in answer["result"])


def test_suggest_pages_with_the_cursor(web: FlaskClient) -> None:
    first = web.get("/reconcile/suggest/entity?prefix=osce").get_json()["result"]
    second = web.get("/reconcile/suggest/entity?prefix=osce&cursor=10").get_json()["result"]
    assert len(first) == 10 and second
    assert not {r["id"] for r in first} & {r["id"] for r in second}


def test_jsonp_wraps_the_answer_for_a_valid_callback_only(web: FlaskClient) -> None:
    response = web.get("/reconcile/suggest/entity?prefix=aze&callback=jQuery123_45")
    assert response.mimetype == "text/javascript"
    text = response.get_data(as_text=True)
    assert text.startswith("/**/jQuery123_45(") and text.endswith(");")
    bad = web.get("/reconcile?callback=alert(1)//", headers={"Accept": "application/json"})
    assert bad.status_code == 400


def test_the_preview_is_a_small_accessible_page(web: FlaskClient) -> None:
    response = web.get("/reconcile/preview?id=state/at")
    html = response.get_data(as_text=True)
    assert response.mimetype == "text/html"
    assert '<html lang="en">' in html and "<main>" in html
    assert '<a href="/id/state/at" target="_blank" rel="noopener">Austria</a>' in html
    assert '<span lang="ru">Австрия</span>' in html
    assert web.get("/reconcile/preview?id=state/zz").status_code == 404
    assert web.get("/reconcile/preview").status_code == 400


# --- a real server, spoken to as OpenRefine does ---------------------------------------------


@pytest.mark.slow
def test_openrefine_requests_to_a_real_server(built: Path, tmp_path: Path) -> None:
    port = free_port()
    command = [sys.executable, "-c", "from server.cli import main; main()", "serve"]
    command += ["--build", str(built), "--host", "127.0.0.1", "--port", str(port)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("OSCE_KG_")}
    env["XDG_CACHE_HOME"] = str(tmp_path)
    with running(command, port=port, env=env, start_timeout=60) as url:
        manifest = requests.get(url + "/reconcile", timeout=10).json()
        assert manifest["view"]["url"] == f"{url}/id/{{{{id}}}}"
        batch = {"q0": {"query": "Österreich", "type": "ParticipatingState", "limit": 3}}
        posted = requests.post(url + "/reconcile", data={"queries": json.dumps(batch)}, timeout=10)
        assert posted.json()["q0"]["result"][0]["id"] == "state/at"
        assert posted.headers["Access-Control-Allow-Origin"] == "*"
        view = manifest["view"]["url"].replace("{{id}}", "state/at")
        page = requests.get(view, headers={"Accept": "text/html"}, timeout=10)
        assert page.status_code == 200 and "Austria" in page.text
        preview = manifest["preview"]["url"].replace("{{id}}", "state/at")
        assert "Austria" in requests.get(preview, timeout=10).text
