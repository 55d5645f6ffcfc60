#!/usr/bin/env python
"""Runs the W3C SPARQL 1.1 protocol tests (a manifest.ttl) against a running endpoint, by hand.

    python tests/run_w3c_protocol.py --suite SUITE --url http://127.0.0.1:8080/sparql
    python tests/run_w3c_protocol.py --suite SUITE       # serves a build of the test graphs itself
    python tests/run_w3c_protocol.py --suite SUITE --prepare-build DIR   # only write that build

SUITE is the folder of the W3C suite's ``sparql11/protocol/manifest.ttl``.

The server being tested must hold the suite's graphs (data1.nt ... named as the manifest says):
``--prepare-build DIR`` writes such a build directory for ``osce-kg serve --build DIR``; without
``--url`` the script makes one in a temporary folder and serves it on 127.0.0.1 itself.
The endpoint is read-only, so the update tests count as passed when the update is refused (4xx).
Exit status: 0 when every test passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.client import HTTPConnection, HTTPSConnection
from pathlib import Path
from urllib.parse import urlsplit

import pyoxigraph as ox
from rdflib import RDF, RDFS, Graph, Namespace
from rdflib.collection import Collection
from rdflib.term import Node

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
CNT = Namespace("http://www.w3.org/2011/content#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
HTS = "http://www.w3.org/2011/http-statusCodes#StatusCode"

FORMAT_TYPES = {
    "boolean": {"application/sparql-results+json", "application/sparql-results+xml"},
    "tabular": {
        "application/sparql-results+json",
        "application/sparql-results+xml",
        "text/csv",
        "text/tab-separated-values",
    },
    "RDF": {"application/rdf+xml", "text/turtle", "application/n-triples", "application/xhtml+xml"},
}


@dataclass(frozen=True)
class HttpRequest:
    """One request of a protocol test and what its response must be."""

    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes | None
    status_classes: frozenset[int]
    boolean: bool | None
    result_format: str | None


@dataclass(frozen=True)
class ProtocolTest:
    name: str
    requests: tuple[HttpRequest, ...]
    graphs: tuple[tuple[Path, str], ...] = field(default=())

    @property
    def is_update(self) -> bool:
        return self.name.startswith("update_")


def read_manifest(suite: Path) -> list[ProtocolTest]:
    """The tests of ``suite/manifest.ttl`` in the manifest's order."""
    graph = Graph().parse(suite / "manifest.ttl", format="turtle", publicID=suite.as_uri() + "/")
    manifest = next(iter(graph.subjects(RDF.type, MF.Manifest)))
    entries = Collection(graph, graph.value(manifest, MF.entries))
    return [_read_test(graph, entry, suite) for entry in entries]


def _read_test(graph: Graph, entry: Node, suite: Path) -> ProtocolTest:
    name = str(entry).rsplit("#", 1)[-1]
    action = graph.value(entry, MF.action)
    requests = Collection(graph, graph.value(action, HT.requests))
    graphs = tuple(
        (
            suite / Path(urlsplit(str(graph.value(data, UT.graph))).path).name,
            str(graph.value(data, RDFS.label)),
        )
        for data in graph.objects(entry, UT.graphData)
    )
    return ProtocolTest(name, tuple(_read_request(graph, r) for r in requests), graphs)


def _read_request(graph: Graph, node: Node) -> HttpRequest:
    headers = []
    header_list = graph.value(node, HT.headers)
    if header_list is not None:
        for header in Collection(graph, header_list):
            headers.append(
                (str(graph.value(header, HT.fieldName)), str(graph.value(header, HT.fieldValue)))
            )
    body = None
    body_node = graph.value(node, HT.body)
    if body_node is not None:
        encoding = str(graph.value(body_node, CNT.characterEncoding) or "UTF-8")
        body = str(graph.value(body_node, CNT.chars)).encode(encoding.lower())
    response = graph.value(node, HT.resp)
    classes = frozenset(
        int(str(code)[len(HTS)]) for code in graph.objects(response, MF.expectedStatus)
    )
    expected_boolean = graph.value(response, MF.expectedBoolean)
    expected_format = graph.value(response, MF.expectedFormat)
    return HttpRequest(
        method=str(graph.value(node, HT.methodName)),
        path=str(graph.value(node, HT.absolutePath)),
        headers=tuple(headers),
        body=body,
        status_classes=classes,
        boolean=None if expected_boolean is None else expected_boolean.toPython(),
        result_format=None if expected_format is None else str(expected_format),
    )


def target_url(endpoint: str, path: str) -> str:
    """The manifest's ``/sparql/...`` path moved onto the endpoint being tested."""
    rest = path[len("/sparql/") :] if path.startswith("/sparql/") else path.lstrip("/")
    if rest and not rest.startswith("?"):
        rest = "/" + rest
    return endpoint + rest


def send(endpoint: str, request: HttpRequest) -> tuple[int, str, bytes]:
    """Sends one request exactly as the manifest gives it; (status, media type, body)."""
    url = urlsplit(target_url(endpoint, request.path))
    connection_class = HTTPSConnection if url.scheme == "https" else HTTPConnection
    connection = connection_class(url.netloc, timeout=60)
    try:
        path = url.path + (f"?{url.query}" if url.query else "")
        connection.request(request.method, path, body=request.body, headers=dict(request.headers))
        response = connection.getresponse()
        media_type = (response.getheader("Content-Type") or "").split(";", 1)[0].strip()
        return response.status, media_type, response.read()
    finally:
        connection.close()


def check(request: HttpRequest, status: int, media_type: str, body: bytes) -> str | None:
    """None when the response is what the test expects, else why not."""
    if status // 100 not in request.status_classes:
        return f"status {status}, expected {sorted(request.status_classes)}xx"
    if request.result_format and media_type not in FORMAT_TYPES[request.result_format]:
        return f"media type {media_type} is not a {request.result_format} format"
    if request.boolean is not None:
        fmt = ox.QueryResultsFormat.from_media_type(media_type)
        if fmt is None:
            return f"cannot read a boolean from {media_type}"
        result = ox.parse_query_results(body, fmt)
        if not isinstance(result, ox.QueryBoolean) or bool(result) is not request.boolean:
            return f"expected the boolean {request.boolean}"
    return None


def run_test(endpoint: str, test: ProtocolTest) -> tuple[str, str]:
    """("pass" | "refused" | "fail", detail) for one test."""
    for index, request in enumerate(test.requests):
        status, media_type, body = send(endpoint, request)
        if test.is_update and index == 0 and 400 <= status < 500:
            return "refused", f"update refused with {status} (read-only endpoint)"
        problem = check(request, status, media_type, body)
        if problem:
            return "fail", f"request {index + 1}: {problem}: {body[:200]!r}"
    return "pass", ""


def prepare_build(suite: Path, out_dir: Path) -> Path:
    """A build directory (``current -> .builds/w3c-protocol``) holding the suite's graphs."""
    folder = out_dir / ".builds" / "w3c-protocol"
    folder.mkdir(parents=True, exist_ok=True)
    store = ox.Store(str(folder / "store"))
    for test in read_manifest(suite):
        for path, name in test.graphs:
            graph = ox.NamedNode(name)
            store.extend(
                ox.Quad(q.subject, q.predicate, q.object, graph)
                for q in ox.parse(path=str(path), format=ox.RdfFormat.N_TRIPLES)
            )
    store.flush()
    del store
    current = out_dir / "current"
    if not current.exists():
        os.symlink(Path(".builds") / "w3c-protocol", current)
    return out_dir


@contextmanager
def local_server(build_dir: Path) -> Iterator[str]:
    """The osce-kg app over a build, served on 127.0.0.1 in a thread; yields the endpoint URL."""
    from werkzeug.serving import make_server

    from server import create_app
    from server.pool import close_query_pool

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    logging.getLogger("server").setLevel(logging.ERROR)
    app = create_app({"BUILD_DIR": str(build_dir)})
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}/sparql"
    finally:
        httpd.shutdown()
        close_query_pool(app)


def report(endpoint: str, tests: list[ProtocolTest]) -> int:
    counts = {"pass": 0, "refused": 0, "fail": 0}
    for test in tests:
        outcome, detail = run_test(endpoint, test)
        counts[outcome] += 1
        print(f"{outcome:8} {test.name} {detail}".rstrip())
    total = len(tests)
    print(
        f"\n{counts['pass'] + counts['refused']}/{total} passed "
        f"({counts['pass']} answered as expected, {counts['refused']} updates refused), "
        f"{counts['fail']} failed"
    )
    return 0 if counts["fail"] == 0 else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", type=Path, required=True, help="folder with manifest.ttl")
    parser.add_argument("--url", help="the endpoint, e.g. http://127.0.0.1:8080/sparql")
    parser.add_argument("--prepare-build", type=Path, help="write a build with the test graphs")
    args = parser.parse_args(argv)
    args.suite = args.suite.resolve()
    tests = read_manifest(args.suite)
    if args.prepare_build:
        prepare_build(args.suite, args.prepare_build)
        print(
            f"wrote {args.prepare_build}; serve it with: osce-kg serve --build {args.prepare_build}"
        )
        return 0
    if args.url:
        return report(args.url, tests)
    with tempfile.TemporaryDirectory() as folder:
        build_dir = prepare_build(args.suite, Path(folder))
        with local_server(build_dir) as endpoint:
            return report(endpoint, tests)


if __name__ == "__main__":
    sys.exit(main())
