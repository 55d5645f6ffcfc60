"""CPU milliseconds per release in a build worker (convert + validate), against a baseline.

Generates N realistic releases (benchmarks/bench_build.py's generator, 1,000 per file), then,
in a fresh process per code tree, does what a build worker does with each file (convert it,
validate its releases in batches, no cache) and prints the process's CPU time per release,
split into extraction (``extract_release``), validation (reading each release's N-Triples back
and ``validate_batch``: the batch graph, pySHACL, the verdicts) and the rest (reading, mapping
to RDF, N-Triples, cache files), plus the ratio to the baseline measured in the same run. The
baseline is a source copy of another commit, run with that copy first on ``PYTHONPATH``:

    git -C /path/to/repo archive main | tar -x -C /tmp/main-copy
    python benchmarks/bench_cpu.py --releases 2000 --baseline /tmp/main-copy

CPU time, not wall time, so a busy machine disturbs it less (the load average is printed).
Both trees' release graphs and verdicts are compared: they must be the same. The "cleared"
column is the share of releases the SHACL pre-check (kg/validation/precheck.py) proved clean, so
pySHACL did not run on them; "-" for a tree without the pre-check.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_build import generate

ROOT = Path(__file__).resolve().parent.parent

#: Runs in the measured process (with the measured tree first on sys.path); prints one JSON line.
WORKER = r"""
import functools, hashlib, json, sys, tempfile, time
from pathlib import Path

import kg.extraction.pipeline as pipeline
import kg.publish.work as work_module
from kg.conversion.cache import converter_fingerprint
from kg.conversion.convert import Converter
from kg.extraction.linking import default_gazetteer
from kg.ingest.inputs import collect_release_files
from kg.publish.graphs import load_source_graphs
from kg.rdf.uris import DEFAULT_BASE
from kg.validation.batches import ValidationContext, context_fingerprint, results_of
from kg.validation.shacl import load_shapes

seconds = {"extraction": 0.0, "validation": 0.0}


def timed(module, name, part):
    function = getattr(module, name)

    def wrapper(*args, **kwargs):
        started = time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            seconds[part] += time.process_time() - started

    setattr(module, name, wrapper)


timed(pipeline, "extract_release", "extraction")
timed(work_module, "validate_batch", "validation")
for parse in ("_graph", "ntriples_terms"):  # a release's N-Triples read back for validation
    if hasattr(work_module, parse):
        timed(work_module, parse, "validation")
cleared = {"cleared": 0, "prechecked": 0}
try:  # the SHACL pre-check (kg/validation/precheck.py): count the releases it proves clean
    from kg.validation.precheck import Precheck
except ImportError:  # a tree without it
    Precheck = None
if Precheck is not None:
    is_clean = Precheck.is_clean

    def counting(self, *args):
        answer = is_clean(self, *args)
        cleared["cleared"] += answer
        cleared["prechecked"] += 1
        return answer

    Precheck.is_clean = counting
base = DEFAULT_BASE
sources = load_source_graphs(base=base)
graphs = sources.named(base)
shapes = load_shapes()
fingerprint = context_fingerprint(shapes, sources.ontology, [g for _, g in graphs])
context = ValidationContext(shapes, sources.ontology, graphs, fingerprint)
read = functools.partial(pipeline.read_releases, gazetteer=default_gazetteer(base))
converter = Converter(read, sources.labels(), base)
work = work_module.FileWork(
    converter=lambda: converter,
    context=context,
    cache_folder=Path(tempfile.mkdtemp(prefix="bench-cpu-")),
    fingerprint=converter_fingerprint(),
    base=base,
    max_release_bytes=10**7,
)
files = collect_release_files((Path(sys.argv[1]),))
digest, releases, failing = hashlib.sha256(), 0, 0
started = time.process_time()
for source in files:
    outcome = work_module.process_file(work, source)
    for release in outcome.releases:
        releases += 1
        failing += bool(release.verdict and release.verdict.failing)
        digest.update(release.ntriples.encode())
        found = results_of(release.verdict.results) if release.verdict else None
        digest.update(repr(found).encode())  # the results, not their blank-node labels
total = time.process_time() - started
work.close()
print(json.dumps({"releases": releases, "failing": failing, "total": total, **seconds, **cleared,
                  "digest": digest.hexdigest()}))
"""


def measure(tree: Path, inputs: Path) -> dict[str, float]:
    """One fresh process running WORKER with ``tree`` first on the import path."""
    environment = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, "-c", WORKER, str(inputs)],
        env=environment,
        cwd=tree,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def row(label: str, figures: dict[str, float], baseline: dict[str, float] | None) -> str:
    count = figures["releases"]
    parts = [figures["total"], figures["extraction"], figures["validation"]]
    parts.append(figures["total"] - figures["extraction"] - figures["validation"])
    cells = [f"{1000 * p / count:.2f}" for p in parts]
    ratio = f"{figures['total'] / baseline['total']:.2f}" if baseline else "1.00"
    share = f"{100 * figures['cleared'] / count:.1f} %" if figures["prechecked"] else "-"
    return f"| {label} | {int(count)} | " + " | ".join(cells) + f" | {share} | {ratio} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--releases", type=int, default=2000)
    parser.add_argument("--baseline", type=Path, help="a source copy of the code to compare with")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-cpu-"))
    inputs = generate(workdir / f"in-{args.releases}", args.releases)
    print(f"# CPU per release in a build worker, {args.releases} releases")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    baseline = measure(args.baseline.resolve(), inputs) if args.baseline else None
    current = measure(ROOT, inputs)
    print(
        "| code | releases | total ms | extraction ms | validation ms | rest ms "
        "| cleared by pre-check | vs baseline |"
    )
    print("|---|---|---|---|---|---|---|---|")
    if baseline is not None:
        print(row("baseline", baseline, None))
    print(row("this tree", current, baseline))
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if baseline is not None:
        same = baseline["digest"] == current["digest"]
        print(f"same release graphs and verdicts as the baseline: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
