"""Measures the server's median latency against pyoxigraph answering in-process on the same store.

Starts ``osce-kg serve`` on 127.0.0.1 (which builds the bundled sample first when DIR has no build),
then times N requests of:
  - a DESCRIBE query of a State over HTTP (``/sparql``), against the same query in-process;
  - the dereference of the State's URI (``/id/state/xx`` with ``Accept: text/turtle``,
    following the 303 to ``/data/state/xx.ttl``), against the in-process DESCRIBE.
A third figure, the round trip of ``/healthz``, is the floor any HTTP answer costs on this
machine, so the ratios can be read as "HTTP cost" plus "query cost". ``--server gunicorn`` serves
with gunicorn (the production set-up) instead of ``osce-kg serve``'s werkzeug server.
Prints the figures and the ratios; asserts nothing.

    python benchmarks/bench_latency.py --build build -n 200 --state at
    python benchmarks/bench_latency.py --build build --server gunicorn
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
import requests

# The helper that starts a server and waits for /healthz is shared with the live-server tests.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from kg.rdf.uris import entity_iri
from tests.serving import ServerStartError, free_port, running

DESCRIBE = "DESCRIBE ?entity"
START_TIMEOUT = 900.0  # a first run builds the sample before serving


def server_command(build_dir: Path, port: int, server: str) -> tuple[list[str], dict[str, str]]:
    """``osce-kg serve`` (builds the sample when DIR has none) or gunicorn over the app factory,
    and its environment."""
    env = dict(os.environ)
    if server == "gunicorn":
        if not (build_dir / "current").exists():
            hint = f"osce-kg build --out {build_dir}"
            raise SystemExit(f"no build in {build_dir}: first run `{hint}`")
        env["OSCE_KG_BUILD_DIR"] = str(build_dir)
        command = [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind"]
        command += [f"127.0.0.1:{port}", "server:create_app()"]
    else:
        command = [sys.executable, "-c", "from server.cli import main; main()", "serve"]
        command += ["--build", str(build_dir), "--host", "127.0.0.1", "--port", str(port)]
    return command, env


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


def measure(url: str, store: ox.Store, state: str, repeats: int) -> dict[str, float]:
    iri = ox.NamedNode(str(entity_iri("state", state)))
    session = requests.Session()
    # A client's query text names the IRI; in-process the same query gets it as a binding.
    http_query = DESCRIBE.replace("?entity", f"<{iri.value}>")

    def describe_in_process() -> bytes:
        triples = store.query(
            DESCRIBE, substitutions={ox.Variable("entity"): iri}, use_default_graph_as_union=True
        )
        return ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""  # type: ignore[arg-type]

    def describe_over_http() -> bytes:
        response = session.get(
            url + "/sparql",
            params={"query": http_query},
            headers={"Accept": "application/n-triples"},
            timeout=60,
        )
        response.raise_for_status()
        return response.content

    def dereference_over_http() -> bytes:
        response = session.get(
            f"{url}/id/state/{state}", headers={"Accept": "text/turtle"}, timeout=60
        )
        response.raise_for_status()
        if not response.history or response.history[0].status_code != 303:
            raise SystemExit(f"/id/state/{state} did not answer 303")
        return response.content

    def health_over_http() -> bytes:
        response = session.get(url + "/healthz", timeout=60)
        response.raise_for_status()
        return response.content

    if not describe_in_process():
        raise SystemExit(f"{iri.value} is not in the store; pick another --state")
    return {
        "in-process DESCRIBE (pyoxigraph)": median_ms(describe_in_process, repeats),
        "DESCRIBE over HTTP (/sparql)": median_ms(describe_over_http, repeats),
        f"dereference /id/state/{state} -> 303 -> .ttl": median_ms(dereference_over_http, repeats),
        "HTTP floor: GET /healthz": median_ms(health_over_http, repeats),
    }


def report(figures: dict[str, float], repeats: int) -> None:
    baseline = next(iter(figures.values()))
    print(f"median latency over {repeats} requests (ratio to the in-process DESCRIBE)")
    for name, value in figures.items():
        print(f"  {name:<48} {value:9.3f} ms   x{value / baseline:8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--build", type=Path, default=Path("build"), help="build directory (default: build)"
    )
    parser.add_argument(
        "-n", "--repeats", type=int, default=200, help="requests per measure (default: 200)"
    )
    parser.add_argument("--state", default="at", help="ISO alpha-2 key of the State (default: at)")
    parser.add_argument(
        "--server",
        choices=("serve", "gunicorn"),
        default="serve",
        help="osce-kg serve (werkzeug, default) or gunicorn with 2 workers",
    )
    options = parser.parse_args()
    port = free_port()
    command, env = server_command(options.build, port, options.server)
    try:
        with running(command, port=port, env=env, start_timeout=START_TIMEOUT) as url:
            current = Path(os.path.realpath(options.build / "current"))
            store = ox.Store.read_only(str(current / "store"))
            report(measure(url, store, options.state, options.repeats), options.repeats)
    except ServerStartError as error:
        raise SystemExit(f"{error}; run `osce-kg serve` to see why") from error


if __name__ == "__main__":
    main()
