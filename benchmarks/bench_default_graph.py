"""Query latency over the SPARQL default graph: the union of the named graphs (a bag, builds from
before the merge was stored) against the stored RDF merge (a set, builds since).

For each build directory given, opens its store read-only, reads its default graph the way the
server does (``server.query.union_default_graph``), runs each query REPEAT times and prints the
median and 90th-percentile milliseconds and the answer; with two builds, the ratio of the second
to the first. Asserts nothing.

    python benchmarks/bench_default_graph.py BEFORE_BUILD AFTER_BUILD --repeat 20
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import pyoxigraph as ox

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from server.query import union_default_graph

PREFIXES = """PREFIX osce: <https://w3id.org/osce-kg/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX schema: <https://schema.org/>
"""
QUERIES = {
    "count all": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
    "count distinct": "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o { ?s ?p ?o } }",
    "releases per State": "SELECT ?state (COUNT(?r) AS ?n) WHERE { ?r osce:mentionsState ?state }"
    " GROUP BY ?state ORDER BY DESC(?n) LIMIT 10",
    "labels of States": "SELECT ?s ?label WHERE { ?s a osce:ParticipatingState ;"
    " rdfs:label ?label }",
    "releases in 2020": "SELECT (COUNT(*) AS ?n) WHERE { ?r a osce:PressRelease ;"
    ' schema:datePublished ?d FILTER(STRSTARTS(STR(?d), "2020")) }',
}


def answer(result: ox.QuerySolutions) -> str:
    rows = list(result)
    if len(rows) == 1 and len(rows[0]) == 1:
        return str(rows[0][0].value)  # type: ignore[union-attr]
    return f"{len(rows)} rows"


def measure(build: Path, repeat: int) -> dict[str, tuple[float, float, str]]:
    store = ox.Store.read_only(str(build / "store"))
    union = union_default_graph(store)
    print(f"\n{build}: default graph = {'union of named graphs' if union else 'stored merge'}")
    found = {}
    for name, text in QUERIES.items():
        times, result = [], ""
        for _ in range(repeat):
            started = time.perf_counter()
            solutions = store.query(PREFIXES + text, use_default_graph_as_union=union)
            assert isinstance(solutions, ox.QuerySolutions)
            result = answer(solutions)
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        found[name] = (statistics.median(times), times[int(0.9 * (len(times) - 1))], result)
        median, p90 = found[name][:2]
        print(f"  {name:20} median {median:8.1f} ms  p90 {p90:8.1f} ms  {result}")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("builds", type=Path, nargs="+")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    runs = [measure(build, args.repeat) for build in args.builds]
    if len(runs) == 2:
        print("\n| query | before median ms | after median ms | after/before | before | after |")
        print("|---|---|---|---|---|---|")
        for name in QUERIES:
            before, after = runs[0][name], runs[1][name]
            print(
                f"| {name} | {before[0]:.1f} | {after[0]:.1f} | {after[0] / before[0]:.2f} "
                f"| {before[2]} | {after[2]} |"
            )


if __name__ == "__main__":
    main()
