"""Measures label search and reconciliation over HTTP against the same lookups in-process.

Starts ``osce-kg serve`` on 127.0.0.1 (which builds the bundled sample first when DIR has no
build), then times N requests of each, cycling through the same texts in both columns:
  - ``GET /api/search?q=...`` against ``SearchIndex.search`` on the build's index in-process;
  - ``POST /reconcile`` with a one-query batch (``queries=``, typed, as OpenRefine sends it)
    against the same typed lookup in-process;
and ``/healthz``, the floor any HTTP answer costs on this machine. Prints medians and ratios;
asserts nothing.

    python benchmarks/bench_search.py --build build -n 200
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
import requests

# The helper that starts a server and waits for /healthz is shared with the live-server tests.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from kg.publish.layout import BuildLayout
from kg.publish.search_index import Lookup, SearchIndex, search_index_file, write_search_index
from kg.rdf.vocab import OSCE
from tests.serving import ServerStartError, free_port, running

START_TIMEOUT = 900.0  # a first run builds the sample before serving
#: What is looked up, in turn: names in several of the six languages, typed and half-typed.
TEXTS = ("Austria", "osterreich", "азербайджан", "Programme Office Bishkek", "vienna", "azerb")
STATE = str(OSCE.State)


def median_ms(action: Callable[[], object], repeats: int, warmup: int = 5) -> float:
    """The median wall time of ``action`` in milliseconds, after a few warm-up runs."""
    for _ in range(warmup):
        action()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def open_index(build_dir: Path, scratch: Path) -> SearchIndex:
    """The build's own index; for an older build, one written from its store (as the server
    does)."""
    layout = BuildLayout(Path(os.path.realpath(build_dir / "current")))
    path = search_index_file(layout)
    if not path.is_file():
        path = scratch / "labels.sqlite"
        write_search_index(ox.Store.read_only(str(layout.store)), path, source=layout.build_id)
    return SearchIndex(path)


def measure(url: str, index: SearchIndex, repeats: int) -> list[tuple[str, float, float]]:
    session = requests.Session()
    texts = itertools.cycle(TEXTS)

    def search_http() -> object:
        response = session.get(f"{url}/api/search", params={"q": next(texts)}, timeout=30)
        response.raise_for_status()
        return response.json()

    def search_in_process() -> object:
        return index.search(Lookup(next(texts), limit=10))

    def reconcile_http() -> object:
        batch = {"q0": {"query": next(texts), "type": "State", "limit": 5}}
        response = session.post(f"{url}/reconcile", data={"queries": json.dumps(batch)}, timeout=30)
        response.raise_for_status()
        return response.json()

    def reconcile_in_process() -> object:
        lookup = Lookup(next(texts), classes=(STATE,), prefix=False, any_word=True, limit=5)
        return index.search(lookup)

    def health() -> object:
        return session.get(f"{url}/healthz", timeout=30).status_code

    floor = median_ms(health, repeats)
    return [
        ("label search", median_ms(search_http, repeats), median_ms(search_in_process, repeats)),
        (
            "reconciliation",
            median_ms(reconcile_http, repeats),
            median_ms(reconcile_in_process, repeats),
        ),
        ("/healthz (HTTP floor)", floor, float("nan")),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", type=Path, default=Path("build"), help="the build directory")
    parser.add_argument("-n", type=int, default=200, help="requests per figure")
    args = parser.parse_args()
    port = free_port()
    command = [sys.executable, "-c", "from server.cli import main; main()", "serve"]
    command += ["--build", str(args.build), "--host", "127.0.0.1", "--port", str(port)]
    with tempfile.TemporaryDirectory() as scratch:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OSCE_KG_")}
        env["OSCE_KG_SEARCH_CACHE_DIR"] = scratch
        try:
            with running(command, port=port, env=env, start_timeout=START_TIMEOUT) as url:
                index = open_index(args.build, Path(scratch))
                rows = measure(url, index, args.n)
        except ServerStartError as error:
            raise SystemExit(f"could not start the server: {error}") from error
    print(f"median of {args.n} requests, cycling through {len(TEXTS)} texts")
    print(f"{'':24} {'HTTP ms':>9} {'in-process ms':>14} {'ratio':>8}")
    for name, http_ms, local_ms in rows:
        ratio = http_ms / local_ms if local_ms == local_ms else float("nan")
        local = f"{local_ms:14.3f}" if local_ms == local_ms else f"{'-':>14}"
        shown_ratio = f"{ratio:7.1f}x" if ratio == ratio else f"{'-':>8}"
        print(f"{name:24} {http_ms:9.3f} {local} {shown_ratio}")


if __name__ == "__main__":
    main()
