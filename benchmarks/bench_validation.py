"""pySHACL three ways on the same generated releases: one pass over everything (the build before
per-release verdicts), one run per batch (what the build does), one run per release.

Converts N generated releases (benchmarks/bench_build.py's generator), then prints for each way
the seconds, the milliseconds per release, the peak memory it allocates (tracemalloc, in a
second run)
and the ratio to the one-pass time measured in the same run; per release is measured on the first
PER_RELEASE releases only (it is slow) and scaled. Asserts nothing, except that the three ways
quarantine the same releases (one pass and batches).

    python benchmarks/bench_validation.py --releases 1000 --batch 1000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from rdflib import Dataset, Graph, URIRef

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_build import generate

from kg.conversion.convert import Converter, convert_file
from kg.extraction.linking import default_gazetteer
from kg.extraction.pipeline import read_releases
from kg.ingest.inputs import collect_release_files
from kg.publish.graphs import load_source_graphs
from kg.rdf.quads import parse_ntriples
from kg.rdf.uris import DEFAULT_BASE, graph_iri
from kg.validation.batches import ValidationContext, context_fingerprint, validate_batch
from kg.validation.shacl import load_shapes, validate_dataset

PER_RELEASE = 50


def measured(label: str, work: Callable[[], set[URIRef]]) -> tuple[float, int, set[URIRef]]:
    """Seconds of one run, then the peak memory of a second run under tracemalloc (which slows
    Python down several times, so the two are measured apart)."""
    started = time.perf_counter()
    failing = work()
    seconds = time.perf_counter() - started
    tracemalloc.start()
    work()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"  {label}: {seconds:.1f} s, peak {peak / 2**20:.0f} MiB", flush=True)
    return seconds, peak, failing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--releases", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    base = DEFAULT_BASE
    folder = generate(Path(tempfile.mkdtemp(prefix="bench-validation-")), args.releases)
    sources = load_source_graphs(base=base)
    read = lambda path: read_releases(path, gazetteer=default_gazetteer(base))  # noqa: E731
    converter = Converter(read, sources.labels(), base)
    releases: list[tuple[URIRef, Graph]] = []
    for source in collect_release_files((folder,)):
        for release in convert_file(source, source.sha256(), converter).releases:
            if release.key is not None and release.problem is None:
                name = graph_iri("release", release.key, base=base)
                releases.append((name, parse_ntriples(release.ntriples)))
    shapes, named = load_shapes(), sources.named(base)
    context = ValidationContext(
        shapes, sources.ontology, named, context_fingerprint(shapes, sources.ontology, [])
    )
    print(f"# pySHACL on {len(releases)} generated releases")

    def one_pass() -> set[URIRef]:
        dataset = Dataset()
        for name, graph in [*named, *releases]:
            target = dataset.graph(name)
            for triple in graph:
                target.add(triple)
        report = validate_dataset(dataset, shapes=shapes, ontology=sources.ontology)
        return set(report.assignment.failing_graphs()) & {name for name, _ in releases}

    def batches(size: int, subset: list[tuple[URIRef, Graph]]) -> Callable[[], set[URIRef]]:
        def run() -> set[URIRef]:
            failing = set()
            for start in range(0, len(subset), size):
                part = subset[start : start + size]
                for (name, _), verdict in zip(part, validate_batch(context, part), strict=True):
                    if verdict.failing:
                        failing.add(name)
            return failing

        return run

    whole = measured("one pass", one_pass)
    batched = measured(f"batches of {args.batch}", batches(args.batch, releases))
    single = measured(
        f"one run per release (first {PER_RELEASE})", batches(1, releases[:PER_RELEASE])
    )
    scale = len(releases) / min(PER_RELEASE, len(releases))
    print("\n| way | s | ms/release | peak MiB | time vs one pass |")
    print("|---|---|---|---|---|")
    for label, (seconds, peak, _) in (
        ("one pass", whole),
        (f"batches of {args.batch}", batched),
        ("one run per release (scaled)", (single[0] * scale, single[1], single[2])),
    ):
        print(
            f"| {label} | {seconds:.1f} | {1000 * seconds / len(releases):.1f} "
            f"| {peak / 2**20:.0f} | {seconds / whole[0]:.2f} |"
        )
    assert batched[2] == whole[2], "the batches quarantine other releases than the one pass"


if __name__ == "__main__":
    main()
