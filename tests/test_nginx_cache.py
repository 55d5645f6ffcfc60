"""nginx's cache of SPARQL answers in the shipped static site (the site `osce-kg rollout`
writes): a repeat is sent by nginx without the server, only complete 200 answers are kept, and a
new export (a new build) starts with new keys."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.conftest import make_test_build
from tests.static_site import find_nginx, python_server, static_nginx
from tests.test_export_static import export
from tests.test_replicas import publish_second_build

JSON = "application/sparql-results+json"
#: rows a test server answers at most: a query with more is cut, and says so
MAX_ROWS = 5
SMALL = "SELECT ?s WHERE { ?s a ?type } ORDER BY ?s LIMIT 3"
LARGE = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"


@dataclass(frozen=True)
class Site:
    url: str  # nginx with the static site, in front of the server
    build: Path
    export: Path


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    nginx = find_nginx()
    if nginx is None:
        pytest.skip("nginx is not installed (Debian: apt-get install nginx); .ci/run installs it")
    build = make_test_build(tmp_path / "build")
    out = tmp_path / "export"
    export(out, build)
    settings = {"OSCE_KG_SPARQL_MAX_ROWS": str(MAX_ROWS)}
    with python_server(build, **settings) as app_url:
        upstream = [app_url.removeprefix("http://")]
        with static_nginx(nginx, tmp_path / "nginx", out, upstream) as url:
            yield Site(url, build, out)


def ask(site: Site, query: str, accept: str = JSON, method: str = "GET") -> requests.Response:
    if method == "POST":
        return requests.post(
            site.url + "/sparql", data={"query": query}, headers={"Accept": accept}, timeout=30
        )
    headers = {"Accept": accept}
    return requests.request(
        method, site.url + "/sparql", params={"query": query}, headers=headers, timeout=30
    )


def from_nginx(answer: requests.Response) -> bool:
    """Whether nginx sent the answer from its cache: the server's answers (its own cache's
    included) always carry its Server-Timing."""
    return answer.headers.get("X-Cache") == "hit" and "Server-Timing" not in answer.headers


def test_a_repeated_query_is_sent_by_nginx_with_the_same_bytes(site: Site) -> None:
    first = ask(site, SMALL)
    assert first.status_code == 200 and first.headers["X-SPARQL-Truncated"] == "false"
    assert first.headers["X-Cache"] == "miss" and "Server-Timing" in first.headers
    again = ask(site, SMALL)
    assert from_nginx(again)
    assert again.content == first.content
    for name in ("Content-Type", "X-SPARQL-Rows", "Vary", "Access-Control-Allow-Origin"):
        assert again.headers[name] == first.headers[name], name
    head = ask(site, SMALL, method="HEAD")
    assert from_nginx(head) and head.content == b""
    # another format is another answer, kept on its own
    csv = ask(site, SMALL, accept="text/csv")
    assert csv.headers["Content-Type"].startswith("text/csv") and not from_nginx(csv)
    assert from_nginx(ask(site, SMALL, accept="text/csv"))


def test_an_answer_cut_at_the_row_limit_is_never_kept(site: Site) -> None:
    for _ in range(3):
        cut = ask(site, LARGE)
        assert cut.status_code == 200 and cut.headers["X-SPARQL-Truncated"] == "true"
        assert cut.headers["X-SPARQL-Rows"] == str(MAX_ROWS)
        assert not from_nginx(cut)


def test_errors_and_posts_are_never_kept(site: Site) -> None:
    for _ in range(3):
        wrong = ask(site, "SELECT ?s WHERE { ?s ?p ")
        assert wrong.status_code == 400 and not from_nginx(wrong)
        posted = ask(site, SMALL, method="POST")
        assert posted.status_code == 200 and not from_nginx(posted)
        form = requests.get(site.url + "/sparql", headers={"Accept": "text/html"}, timeout=30)
        assert form.status_code == 200 and not from_nginx(form)  # the query form, no query


def test_a_results_page_in_html_is_kept_as_the_server_keeps_it(site: Site) -> None:
    first = ask(site, SMALL, accept="text/html")
    assert first.headers["Content-Type"].startswith("text/html") and not from_nginx(first)
    again = ask(site, SMALL, accept="text/html")
    assert from_nginx(again) and again.content == first.content


def test_a_new_export_starts_with_new_keys(site: Site) -> None:
    ask(site, SMALL)
    assert from_nginx(ask(site, SMALL))
    publish_second_build(site.build)
    export(site.export, site.build)  # `current` now names the new build's export
    after = ask(site, SMALL)
    assert after.status_code == 200 and not from_nginx(after)
    assert from_nginx(ask(site, SMALL))
