"""Measures the server under load while runaway queries run: p50/p99 and errors per request kind.

For each set-up (``osce-kg serve``, and the README's production set-up: gunicorn with the shipped
settings behind nginx when nginx is installed, gunicorn alone otherwise), all on 127.0.0.1:
  1. a baseline: CONNECTIONS clients (each its own User-Agent, so each its own client to the
     server's per-client limit) for SECONDS, each sending RATE requests a second, in turn a page
     (``/``, an entity page), ``/healthz`` and a simple SELECT;
  2. the same load while RUNAWAYS clients keep a runaway query (a triple cross product) running.
Prints, per set-up, phase and kind: requests, p50 and p99 in ms, errors (any answer but 2xx, 429
and 503, or no answer), 429/503 answers, and the p99 ratio to the baseline. Asserts nothing.

    python benchmarks/bench_load.py --build build
    python benchmarks/bench_load.py --build build --setups production --seconds 10
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.serving import free_port, nginx_command, running

START_TIMEOUT = 900.0  # a first run of `osce-kg serve` builds the sample before serving
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
SIMPLE = (
    "SELECT ?s ?name WHERE { ?s a <https://w3id.org/osce-kg/ontology#ParticipatingState> ; "
    "<http://www.w3.org/2000/01/rdf-schema#label> ?name } LIMIT 5"
)
PAGES = ("/", "/page/state/at", "/page/state/fr", "/page/state/de")
KINDS = ("pages", "healthz", "query")
#: Answers that mean "busy, come back later": expected under overload, not errors.
BUSY = (429, 503)


@dataclass(frozen=True)
class Sample:
    kind: str
    status: int  # 0: no answer (connection error or client timeout)
    seconds: float


def request_of(kind: str, turn: int) -> tuple[str, dict[str, str]]:
    if kind == "pages":
        return PAGES[turn % len(PAGES)], {}
    if kind == "healthz":
        return "/healthz", {}
    return "/sparql", {"query": SIMPLE}


def client_loop(url: str, number: int, rate: float, until: float, out: list[Sample]) -> None:
    """One client: sends a request every 1/``rate`` s (or as soon as the last one is answered)."""
    session = requests.Session()
    session.headers["User-Agent"] = f"bench-load/{number}"
    session.headers["Accept"] = "text/html,application/sparql-results+json;q=0.9,*/*;q=0.8"
    turn, due = number, time.monotonic()
    while time.monotonic() < until:
        kind = KINDS[turn % len(KINDS)]
        path, params = request_of(kind, turn // len(KINDS))
        started = time.monotonic()
        try:
            status = session.get(url + path, params=params, timeout=60).status_code
        except requests.RequestException:
            status = 0
        out.append(Sample(kind, status, time.monotonic() - started))
        turn += 1
        due += 1 / rate
        time.sleep(max(0.0, due - time.monotonic()))


def runaway_loop(url: str, number: int, stop_event: threading.Event, out: list[int]) -> None:
    """A client that keeps a runaway query running until told to stop."""
    session = requests.Session()
    session.headers["User-Agent"] = f"runaway/{number}"
    while not stop_event.is_set():
        try:
            out.append(
                session.get(f"{url}/sparql", params={"query": RUNAWAY}, timeout=90).status_code
            )
        except requests.RequestException:
            out.append(0)
        if out[-1] in BUSY:
            stop_event.wait(1)


def warm_up(url: str) -> None:
    """A few requests of each kind, so first-use costs (caches, worker start) are not measured."""
    for turn in range(5):
        for kind in KINDS:
            path, params = request_of(kind, turn)
            requests.get(url + path, params=params, timeout=60)


def load(url: str, args: argparse.Namespace, runaways: int) -> tuple[list[Sample], list[int]]:
    """Runs the load for ``args.seconds`` with ``runaways`` runaway clients meanwhile; returns
    the samples and the runaways' statuses (-1: still running at the end)."""
    stop_event = threading.Event()
    runaway_statuses: list[int] = []
    background = [
        threading.Thread(target=runaway_loop, args=(url, n, stop_event, runaway_statuses))
        for n in range(runaways)
    ]
    for thread in background:
        thread.start()
    if runaways:
        time.sleep(2)  # the runaways are running before the clients start
    samples: list[Sample] = []
    until = time.monotonic() + args.seconds
    clients = [
        threading.Thread(target=client_loop, args=(url, n, args.rate, until, samples))
        for n in range(args.connections)
    ]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join()
    stop_event.set()
    unfinished = len(runaway_statuses)
    for thread in background:
        thread.join(0.1)
    still_running = sum(thread.is_alive() for thread in background)
    return samples, runaway_statuses[:unfinished] + [-1] * still_running


def percentile(values: list[float], share: float) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1]


def report(setup: str, phase: str, samples: list[Sample], baseline: dict[str, float]) -> None:
    for kind in KINDS:
        mine = [s for s in samples if s.kind == kind]
        times = [s.seconds * 1000 for s in mine]
        errors = sum(1 for s in mine if not (200 <= s.status < 300 or s.status in BUSY))
        busy = sum(1 for s in mine if s.status in BUSY)
        p50, p99 = percentile(times, 0.5), percentile(times, 0.99)
        ratio = f"{p99 / baseline[kind]:.1f}x" if kind in baseline else "-"
        if phase == "baseline":
            baseline[kind] = p99
        print(
            f"{setup:<11} {phase:<14} {kind:<8} {len(mine):>6} {p50:>8.1f} {p99:>8.1f} "
            f"{errors:>6} {busy:>8} {ratio:>7}",
            flush=True,
        )


@contextlib.contextmanager
def serve(build_dir: Path, env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    command = [sys.executable, "-c", "from server.cli import main; main()", "serve"]
    command += ["--build", str(build_dir), "--host", "127.0.0.1", "--port", str(port)]
    with running(command, port=port, env=env, start_timeout=START_TIMEOUT) as url:
        yield url


@contextlib.contextmanager
def production(build_dir: Path, env: dict[str, str]) -> Iterator[str]:
    """gunicorn with the shipped settings, behind nginx with the shipped site when installed."""
    app_port = free_port()
    command = [sys.executable, "-m", "gunicorn", "-c", "python:server.deploy.gunicorn_conf"]
    command += ["-b", f"127.0.0.1:{app_port}", "server:create_app()"]
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    with running(command, port=app_port, env=env, start_timeout=120) as app_url:
        if nginx is None:
            print("(nginx is not installed: gunicorn alone)", flush=True)
            yield app_url
            return
        with tempfile.TemporaryDirectory(prefix="bench-nginx-") as folder:
            prefix, proxy_port = Path(folder), free_port()
            with running(
                nginx_command(nginx, prefix, proxy_port, app_port),
                port=proxy_port,
                env=env,
                start_timeout=20,
            ) as url:
                yield url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", type=Path, default=Path("build"))
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=4.0, help="requests a second per client")
    parser.add_argument("--runaways", type=int, default=4)
    parser.add_argument("--setups", nargs="+", choices=("serve", "production"), default=None)
    args = parser.parse_args()
    setups = args.setups or ["serve", "production"]
    if "production" in setups and importlib.util.find_spec("gunicorn") is None:
        print("(gunicorn is not installed: pip install '.[prod]'; measuring osce-kg serve only)")
        setups = [s for s in setups if s != "production"]
    env = dict(os.environ)  # the servers take their settings (OSCE_KG_*) from it
    env["OSCE_KG_BUILD_DIR"] = str(args.build)
    print(
        f"{args.connections} clients x {args.rate:g} requests/s for {args.seconds:g} s each phase; "
        f"{args.runaways} runaway clients: {RUNAWAY}"
    )
    print(
        f"{'set-up':<11} {'phase':<14} {'kind':<8} {'n':>6} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'errors':>6} {'429/503':>8} {'p99 x':>7}"
    )
    for setup in setups:
        if setup == "production" and not (args.build / "current").exists():
            raise SystemExit(
                f"no build in {args.build}: first run `osce-kg build --out {args.build}`"
            )
        server = serve if setup == "serve" else production
        with server(args.build, env) as url:
            warm_up(url)
            baseline: dict[str, float] = {}
            samples, _ = load(url, args, runaways=0)
            report(setup, "baseline", samples, baseline)
            samples, runaway_statuses = load(url, args, runaways=args.runaways)
            report(setup, f"{args.runaways} runaways", samples, baseline)
            counts = {s: runaway_statuses.count(s) for s in sorted(set(runaway_statuses))}
            print(
                f"{'':<11} runaway answers (status: count; -1 still running): {counts}", flush=True
            )


if __name__ == "__main__":
    main()
