"""`osce-kg export-static` and the shipped static site: nginx answers entity URIs and documents
from the export with the server's bytes, and hands everything else to the server."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests
from click.testing import CliRunner

from server.cli import cli
from server.deploy import static_site_text
from server.documents import Ordered, by_subject, subject_order
from server.export import EXPORTS, HEADERS_FILE, MANIFEST
from tests.conftest import TEST_BUILD_ID, make_test_build
from tests.static_site import find_nginx, python_server, static_nginx

#: nginx's own ETag: the file's modification time and size, in hex
NGINX_ETAG = re.compile(r'^"[0-9a-f]+-[0-9a-f]+"$')
FORMS = ("ttl", "nt", "jsonld", "rdf")
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
#: headers a document carries that the static site must send as the server does
SAME_HEADERS = (
    "Content-Type",
    "Last-Modified",
    "Vary",
    "Content-Location",
    "Link",
    "Access-Control-Allow-Origin",
    "Content-Security-Policy",
    "X-Content-Type-Options",
    "X-Frame-Options",
    "Referrer-Policy",
)


def export(out: Path, build: Path, *, jobs: int = 1, env: dict[str, str] | None = None) -> str:
    command = ["export-static", str(out), "--build", str(build), "--jobs", str(jobs)]
    result = CliRunner().invoke(cli, command, env=env)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A test build and its export: (build dir, export dir)."""
    root = tmp_path_factory.mktemp("static")
    build = make_test_build(root / "build")
    out = root / "export"
    export(out, build)
    return build, out


@dataclass(frozen=True)
class Site:
    python: str  # the Python server alone
    nginx: str  # the static site in front of it


@pytest.fixture(scope="module")
def site(exported: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    nginx = find_nginx()
    if nginx is None:
        pytest.skip("nginx is not installed (Debian: apt-get install nginx); .ci/run installs it")
    build, out = exported
    prefix = tmp_path_factory.mktemp("nginx")
    with python_server(build) as app_url:
        upstream = [app_url.removeprefix("http://")]
        with static_nginx(nginx, prefix, out, upstream) as url:
            yield Site(app_url, url)


#: incoming links a page holds in the paged site: the sample's State has more than that
PAGED = {"OSCE_KG_PAGE_SIZE": "1"}


@pytest.fixture(scope="module")
def paged_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Site, Path]]:
    """The static site over a build whose entities have several pages of incoming links (a
    page holds one), exported in two processes: (site, export dir)."""
    nginx = find_nginx()
    if nginx is None:
        pytest.skip("nginx is not installed (Debian: apt-get install nginx); .ci/run installs it")
    root = tmp_path_factory.mktemp("paged")
    build = make_test_build(root / "build")
    out = root / "export"
    assert "more than one page of incoming links" in export(out, build, jobs=2, env=PAGED)
    with python_server(build, **PAGED) as app_url:
        upstream = [app_url.removeprefix("http://")]
        with static_nginx(nginx, root / "nginx", out, upstream) as url:
            yield Site(app_url, url), out


def same_document(site: Site, path: str) -> tuple[requests.Response, requests.Response]:
    """The document from the static site and from the Python server, asserted to be the same
    200 answer (bytes and the headers that must match); (static site's, server's)."""
    expected = requests.get(site.python + path, timeout=10)
    got = requests.get(site.nginx + path, timeout=10)
    assert got.status_code == expected.status_code == 200, path
    assert got.content == expected.content, path
    for header in SAME_HEADERS:
        assert got.headers.get(header) == expected.headers.get(header), (path, header)
    return got, expected


def documents(out: Path) -> list[str]:
    """The URL path of every document in an export."""
    folder = out / "current"
    pages = [f"/page/{p.parent.name}/{p.stem}" for p in sorted(folder.glob("page/*/*.html"))]
    data = [f"/data/{p.parent.name}/{p.name}" for p in sorted(folder.glob("data/*/*"))]
    return pages + data


def test_export_writes_every_document_of_every_entity(exported: tuple[Path, Path]) -> None:
    current = exported[1] / "current"
    assert current.is_symlink() and current.resolve().name == TEST_BUILD_ID
    manifest = json.loads((current / MANIFEST).read_text(encoding="utf-8"))
    # tests/data/server/sample.trig: two States, three releases, a field operation, a person
    assert manifest["entities"] == 7
    assert manifest["files"] == 7 * 7 and manifest["skipped"] == {}
    for kind, key in (("state", "at"), ("release", "2024-01-02-first-release-aaaaaa")):
        assert (current / "page" / kind / f"{key}.html").is_file()
        for form in FORMS:
            assert (current / "data" / kind / f"{key}.{form}").stat().st_size > 0
    # every file carries the build's time (summary.json: 2024-01-05T00:00:00Z)
    assert {p.stat().st_mtime for p in current.rglob("*.ttl")} == {1704412800.0}
    assert "Content-Security-Policy" in (current / HEADERS_FILE).read_text(encoding="utf-8")


def test_a_new_export_replaces_the_current_one_and_keeps_the_one_before(
    tmp_path: Path,
) -> None:
    build = make_test_build(tmp_path / "build")
    out = tmp_path / "export"
    first = export(out, build)
    assert "Exported 7 entities" in first
    # a second build of the same data, published the way `osce-kg build` does
    builds = build / ".builds"
    shutil.copytree(builds / TEST_BUILD_ID, builds / "second")
    os.symlink(Path(".builds") / "second", build / "current.new")
    os.replace(build / "current.new", build / "current")
    export(out, build)
    assert (out / "current").resolve().name == "second"
    assert sorted(p.name for p in (out / EXPORTS).iterdir()) == sorted(["second", TEST_BUILD_ID])


def test_an_export_in_several_processes_writes_the_same_files(
    exported: tuple[Path, Path], tmp_path: Path
) -> None:
    build, out = exported
    result = CliRunner().invoke(
        cli, ["export-static", str(tmp_path / "out"), "--build", str(build), "--jobs", "2"]
    )
    assert result.exit_code == 0, result.output
    one, two = out / "current", tmp_path / "out" / "current"
    files = sorted(p.relative_to(one) for p in one.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(two) for p in two.rglob("*") if p.is_file())
    for name in files:
        assert (one / name).read_bytes() == (two / name).read_bytes(), name
        assert (one / name).stat().st_mtime == (two / name).stat().st_mtime, name


def test_export_of_a_missing_build_fails_clearly(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["export-static", str(tmp_path / "out"), "--build", "nope"])
    assert result.exit_code == 2
    assert "no completed build" in result.output
    assert not (tmp_path / "out").exists()


ACCEPT_CASES = [
    # (Accept, answered by nginx itself)
    (None, True),
    ("*/*", True),
    (BROWSER, True),
    ("text/html", True),
    ("text/turtle", True),
    ("application/n-triples", True),
    ("application/ld+json", True),
    ("application/rdf+xml", True),
    ("application/json", True),
    # q-values and lists: the server weighs them
    ("text/turtle;q=0.5, application/rdf+xml", False),
    ("text/html;q=0.1, application/ld+json", False),
    ("application/n-triples, text/turtle;q=0.9", False),
]


@pytest.mark.parametrize(("accept", "by_nginx"), ACCEPT_CASES)
def test_entity_uris_redirect_as_the_server_does(
    site: Site, accept: str | None, by_nginx: bool
) -> None:
    headers = {"Accept": accept} if accept is not None else {}
    expected = requests.get(
        site.python + "/id/state/at", headers=headers, allow_redirects=False, timeout=10
    )
    got = requests.get(
        site.nginx + "/id/state/at", headers=headers, allow_redirects=False, timeout=10
    )
    assert expected.status_code == got.status_code == 303
    assert got.headers["Location"] == expected.headers["Location"]
    assert got.headers["Vary"] == "Accept"
    # nginx's own 303 has a body saying so; the server's has none
    assert (b"303 See Other" in got.content) is by_nginx


def test_every_document_is_the_servers_bytes_with_its_headers(
    site: Site, exported: tuple[Path, Path]
) -> None:
    paths = documents(exported[1])
    assert len(paths) == 49
    for path in paths:
        got, _ = same_document(site, path)
        assert NGINX_ETAG.match(got.headers["ETag"]), path  # sent from the export


@pytest.mark.parametrize(
    "path", ["/data/state/at.ttl", "/page/release/2024-01-02-first-release-aaaaaa"]
)
def test_documents_answer_304_to_a_client_that_has_them(site: Site, path: str) -> None:
    first = requests.get(site.nginx + path, timeout=10)
    etag = first.headers["ETag"]
    again = requests.get(site.nginx + path, headers={"If-None-Match": etag}, timeout=10)
    assert again.status_code == 304 and again.content == b""
    assert again.headers["ETag"] == etag
    since = {"If-Modified-Since": first.headers["Last-Modified"]}
    assert requests.get(site.nginx + path, headers=since, timeout=10).status_code == 304
    stale = requests.get(site.nginx + path, headers={"If-None-Match": '"0-0"'}, timeout=10)
    assert stale.status_code == 200 and stale.content == first.content


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [
        ("/id/state/zz", {"Accept": "text/turtle"}, 404),  # not an entity of the build
        ("/data/state/zz.ttl", {}, 404),
        ("/data/state/at.ttl?page=2", {}, 404),  # past the last page of incoming links
        ("/page/state/at", {"Accept-Language": "de-DE,de;q=0.9"}, 200),  # another language
        ("/id/state/at?format=ttl", {}, 303),
        ("/sparql?query=ASK%7B%3Fs%20%3Fp%20%3Fo%7D", {"Accept": "application/json"}, 200),
        ("/dumps/", {"Accept": "application/json"}, 200),
    ],
)
def test_everything_else_is_the_servers_answer(
    site: Site, path: str, headers: dict[str, str], status: int
) -> None:
    expected = requests.get(site.python + path, headers=headers, allow_redirects=False, timeout=10)
    got = requests.get(site.nginx + path, headers=headers, allow_redirects=False, timeout=10)
    assert got.status_code == expected.status_code == status
    assert got.content == expected.content
    assert got.headers.get("Location") == expected.headers.get("Location")
    assert not NGINX_ETAG.match(got.headers.get("ETag", ""))  # not from the export


@pytest.mark.parametrize("path", ["/id/state/at", "/data/state/at.ttl", "/page/state/at"])
def test_other_methods_are_the_servers_answer(site: Site, path: str) -> None:
    preflight = {
        "Origin": "https://example.org",
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "x-requested-with",
    }
    for method, headers in (("OPTIONS", preflight), ("POST", {}), ("DELETE", {})):
        expected = requests.request(method, site.python + path, headers=headers, timeout=10)
        got = requests.request(method, site.nginx + path, headers=headers, timeout=10)
        assert got.status_code == expected.status_code, (method, path)
        for header in ("Access-Control-Allow-Origin", "Access-Control-Allow-Headers", "Allow"):
            assert got.headers.get(header) == expected.headers.get(header), (method, header)


def test_english_pages_come_from_the_export(site: Site) -> None:
    for language in ("en", "en-US,en;q=0.9", "en-GB"):
        got = requests.get(
            site.nginx + "/page/state/at", headers={"Accept-Language": language}, timeout=10
        )
        assert NGINX_ETAG.match(got.headers["ETag"]), language


def test_the_site_refuses_an_export_folder_nginx_cannot_name(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="nginx cannot take this folder name"):
        static_site_text(
            listen="127.0.0.1:1", upstreams=["127.0.0.1:2"], export_dir=tmp_path / "a b"
        )


def entity_documents(out: Path) -> list[str]:
    """The URL path of every document of every entity of an export (exported or not)."""
    folder = out / "current"
    paths = []
    for page in sorted(folder.glob("page/*/*.html")):
        kind, key = page.parent.name, page.stem
        paths.append(f"/page/{kind}/{key}")
        paths += [f"/data/{kind}/{key}.{form}" for form in ALL_FORMS]
    return paths


ALL_FORMS = ("ttl", "nt", "jsonld", "rdf", "trig", "nq")


def test_documents_of_entities_with_many_incoming_links_are_the_servers(
    paged_site: tuple[Site, Path],
) -> None:
    site, out = paged_site
    manifest = json.loads((out / "current" / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["entities"] == 7 and manifest["paged"] >= 1
    paths = entity_documents(out)
    assert len(paths) == 7 * 7
    paged = []
    for path in paths:
        got, expected = same_document(site, path)
        exported = out / "current" / (path.lstrip("/") + (".html" * path.startswith("/page/")))
        if 'rel="next"' in expected.headers.get("Link", ""):
            # the next page's link is the server's to give: such documents are not exported
            paged.append(path)
            assert not exported.exists() and not NGINX_ETAG.match(got.headers["ETag"]), path
        else:
            assert exported.is_file() and NGINX_ETAG.match(got.headers["ETag"]), path
    # the State's data documents in every form (its page, with a link to page 2, is exported)
    assert {f"/data/state/at.{form}" for form in ALL_FORMS} <= set(paged)
    page = requests.get(site.nginx + "/page/state/at", timeout=10)
    assert NGINX_ETAG.match(page.headers["ETag"]) and b"?page=2" in page.content


def test_a_documents_statements_ordered_once_take_each_forms_description_in_place() -> None:
    """export-static orders an entity's statements once for all six forms; each form's own
    description must land where sorting everything would put it (byte-identical documents)."""
    rng = random.Random(7)

    def triple(subject: str, n: int) -> ox.Triple:
        return ox.Triple(
            ox.NamedNode(f"http://example.org/{subject}"),
            ox.NamedNode(f"http://example.org/p{n % 3}"),
            ox.Literal(str(n)),
        )

    topic = ox.NamedNode("http://example.org/m")
    names = ["a", "m", "m.ttl", "m.nt", "z", "b"]
    statements = [triple(rng.choice(names), rng.randrange(50)) for _ in range(300)]
    ordered = Ordered(statements, subject_order(topic))
    for _ in range(50):
        about = [triple(rng.choice(names), rng.randrange(60)) for _ in range(9)]
        expected = by_subject([*statements, *about], topic)
        assert ordered.with_items(about) == expected
    assert ordered.items == by_subject(statements, topic)  # the statements themselves unchanged
