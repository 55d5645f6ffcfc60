"""Loads a build's store into a SPARQL 1.1 Graph Store Protocol endpoint, one named graph at a time.

Each named graph of the build is sent as N-Triples (which is Turtle too): the first chunk with
PUT (replacing what the graph held), the rest with POST (adding to it), so a graph keeps its
IRI and a re-run replaces rather than doubles it. A chunk never splits the triples that share a
blank node: each request's blank nodes are new nodes to the store. A graph that fails is
reported and the others go on; an endpoint that cannot be reached, refuses the credentials or
is not a Graph Store at all stops the whole load at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
import requests
from requests.auth import AuthBase, HTTPBasicAuth, HTTPDigestAuth

from kg.errors import OsceKgError

log = logging.getLogger(__name__)

#: N-Triples is a subset of Turtle; every Graph Store takes Turtle (Virtuoso, Fuseki, Oxigraph).
CONTENT_TYPE = "text/turtle; charset=utf-8"
DEFAULT_CHUNK_TRIPLES = 50_000
#: Answers that mean the URL is not a Graph Store (or the method is not allowed there).
NOT_A_GRAPH_STORE = (404, 405, 501)


class PublishError(OsceKgError):
    """The endpoint cannot take the build at all (unreachable, refuses us, not a Graph Store)."""


@dataclass(frozen=True)
class GraphStore:
    """A Graph Store Protocol endpoint and how to talk to it."""

    url: str
    user: str | None = None
    password: str | None = None
    #: "basic" or "digest" (Virtuoso's /sparql-graph-crud-auth asks for digest)
    auth_scheme: str = "digest"
    #: the query parameter naming the graph: "graph" (the standard; Virtuoso's is "graph-uri")
    graph_parameter: str = "graph"
    timeout: float = 300.0
    chunk_triples: int = DEFAULT_CHUNK_TRIPLES

    def auth(self) -> AuthBase | None:
        if self.user is None:
            return None
        password = self.password or ""
        if self.auth_scheme == "basic":
            return HTTPBasicAuth(self.user, password)
        return HTTPDigestAuth(self.user, password)


@dataclass
class PublishReport:
    """What a load did: graphs and triples sent, and the graphs that failed, with why."""

    graphs: int = 0
    triples: int = 0
    requests: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


def graphs_of(store: ox.Store) -> list[ox.NamedNode | ox.DefaultGraph]:
    """The store's named graphs, sorted, and the default graph when it holds anything."""
    named = sorted((g for g in store.named_graphs() if isinstance(g, ox.NamedNode)), key=str)
    default = next(iter(store.quads_for_pattern(None, None, None, ox.DefaultGraph())), None)
    return [*named, *([ox.DefaultGraph()] if default is not None else [])]


def chunks(triples: Iterable[ox.Triple], size: int) -> Iterator[list[ox.Triple]]:
    """The triples in chunks of about ``size``; triples sharing a blank node stay together."""
    groups: dict[int, list[ox.Triple]] = {}
    owner: dict[str, int] = {}  # blank node -> its group
    for number, triple in enumerate(triples):
        blanks = [t.value for t in (triple.subject, triple.object) if isinstance(t, ox.BlankNode)]
        joined = sorted({owner[b] for b in blanks if b in owner})
        group = joined[0] if joined else number
        members = groups.setdefault(group, [])
        for other in joined[1:]:  # this triple links two groups: merge them
            for moved in groups.pop(other):
                members.append(moved)
            for blank, held in owner.items():
                if held == other:
                    owner[blank] = group
        members.append(triple)
        for blank in blanks:
            owner[blank] = group
    chunk: list[ox.Triple] = []
    for group in sorted(groups):
        chunk.extend(groups[group])
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def publish_store(
    store_path: Path,
    target: GraphStore,
    *,
    on_graph: Callable[[int, int], None] | None = None,
) -> PublishReport:
    """Sends every graph of the store at ``store_path`` to the Graph Store ``target``."""
    began = time.monotonic()
    try:
        store = ox.Store.read_only(str(store_path))
    except (OSError, RuntimeError) as error:
        raise PublishError(f"{store_path}: cannot open the build's store ({error})") from error
    report = PublishReport()
    graphs = graphs_of(store)
    with requests.Session() as session:
        session.auth = target.auth()
        for done, graph in enumerate(graphs, 1):
            name = "the default graph" if isinstance(graph, ox.DefaultGraph) else str(graph)
            triples = (q.triple for q in store.quads_for_pattern(None, None, None, graph))
            failure = _send_graph(session, target, graph, triples, report)
            if failure is None:
                report.graphs += 1
            else:
                log.warning("%s: %s", name, failure)
                report.failed[name] = failure
            if on_graph is not None:
                on_graph(done, len(graphs))
    report.seconds = time.monotonic() - began
    return report


def _send_graph(
    session: requests.Session,
    target: GraphStore,
    graph: ox.NamedNode | ox.DefaultGraph,
    triples: Iterable[ox.Triple],
    report: PublishReport,
) -> str | None:
    """PUT the first chunk, POST the rest; the failure's description, or None."""
    params = {"default": ""} if isinstance(graph, ox.DefaultGraph) else {}
    if isinstance(graph, ox.NamedNode):
        params[target.graph_parameter] = graph.value
    sent = 0
    for number, chunk in enumerate(chunks(triples, target.chunk_triples)):
        method = "PUT" if number == 0 else "POST"
        body = ox.serialize(chunk, format=ox.RdfFormat.N_TRIPLES) or b""
        try:
            answer = session.request(
                method,
                target.url,
                params=params,
                data=body,
                headers={"Content-Type": CONTENT_TYPE},
                timeout=target.timeout,
            )
        except requests.ConnectionError as error:
            raise PublishError(
                f"cannot reach {target.url} ({error}); is the store running, and is this its "
                "Graph Store Protocol address (Oxigraph: /store, Virtuoso: "
                "/sparql-graph-crud-auth)?"
            ) from error
        except requests.Timeout:
            return f"{method} timed out after {target.timeout:g} s; re-run to replace the graph"
        report.requests += 1
        if answer.status_code in (401, 403):
            raise PublishError(
                f"{target.url} refused to store data ({answer.status_code}): give a user "
                "allowed to write with --user and its password in $OSCE_KG_PUBLISH_PASSWORD"
            )
        if answer.status_code in NOT_A_GRAPH_STORE and report.requests == 1:
            raise PublishError(
                f"{target.url} answered {answer.status_code} to {method}: it is not a SPARQL "
                "Graph Store Protocol endpoint (Oxigraph: /store, Virtuoso: "
                "/sparql-graph-crud-auth, Fuseki: /DATASET/data)"
            )
        if not answer.ok:
            said = " ".join(answer.text.split())[:300]
            kept = f" ({sent} triples were stored before; re-run to replace them)" if sent else ""
            return f"{method} answered {answer.status_code}: {said}{kept}"
        sent += len(chunk)
        report.triples += len(chunk)
    return None
