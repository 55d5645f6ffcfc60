"""The server's per-query overhead and its repeats from the answer cache, against pyoxigraph
answering the same queries in-process on the same store (and Virtuoso, with ``--virtuoso``).

Starts ``osce-kg serve`` on 127.0.0.1 (``--store disk`` or ``memory``; ``--server gunicorn`` for
the production set-up), then, for each query of ``benchmarks/bench_query.py``'s mix (``--only``
picks some), times ``-n`` runs, interleaved turn by turn:
  - pyoxigraph in this process over the same store (on disk, or a copy in memory), the result
    serialised as the server does: the baseline;
  - the query over HTTP, new to the server's answer cache each time (a comment names the run):
    "overhead" is its median minus the baseline's, what the server and HTTP add to a query;
    "CPU over" is the CPU time of the server's processes (web process and query workers, from
    /proc) per such request minus the baseline's own CPU time: what the server adds, whatever
    other programs do to wall times on a loaded machine;
  - the same text again (the answer cache): the client's time and the server's own
    (``Server-Timing``);
  - Virtuoso 7 (Debian's ``virtuoso-opensource``, loaded with the build's N-Quads dump, started by
    ``bench_query.virtuoso``) answering the same text again: the repeat's ratio against it;
  - with ``--nginx EXPORT``, the same text again through the shipped static site (nginx in front
    of the server, over EXPORT, an ``osce-kg export-static`` of the build): answered from nginx's
    cache of SPARQL answers, never reaching the server (checked on every answer).
With ``--wrk SECONDS``, each query's repeat is also timed by wrk (one connection, one thread,
``--latency``: its median), a client in C whose own cost is a few microseconds, on the server's
answer cache, on nginx's (``--nginx``) and on Virtuoso; the Python client's 0.2–0.4 ms per answer
would otherwise dominate a repeat. Then the dereference of a State's URI (303, then its Turtle
document) and ``/healthz``, the floor any HTTP answer costs. Every HTTP client is one keep-alive
``http.client`` connection, as a SPARQL client keeps one; a connection per request would add the
TCP handshake to each figure.
Prints medians, ratios and the goals; asserts nothing.

    python benchmarks/bench_latency.py --build build -n 50
    python benchmarks/bench_latency.py --build big --only describe -n 200 --virtuoso
    python benchmarks/bench_latency.py --build build --server gunicorn
    python benchmarks/bench_latency.py --build big --virtuoso --nginx big-export --wrk 5
"""

from __future__ import annotations

import argparse
import http.client
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

# The helper that starts a server and waits for /healthz is shared with the live-server tests.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.bench_query import (
    Query,
    group_cpu_seconds,
    queries,
    release_of,
    rows_of,
    virtuoso,
)
from server.query import union_default_graph
from tests.serving import ServerStartError, free_port, started
from tests.static_site import find_nginx, static_nginx

START_TIMEOUT = 900.0  # a first run builds the sample before serving
#: The goals of issue 12, printed beside the figures.
OVERHEAD_GOAL_MS = 2.0
REPEAT_SERVER_GOAL_MS = 1.0
REPEAT_VIRTUOSO_GOAL = 10.0


def server_command(
    build_dir: Path, port: int, server: str, store: str
) -> tuple[list[str], dict[str, str]]:
    """``osce-kg serve`` (builds the sample when DIR has none) or gunicorn with the shipped
    settings over the app factory, and its environment."""
    env = dict(os.environ)
    env["OSCE_KG_STORE"] = store
    if server == "gunicorn":
        if not (build_dir / "current").exists():
            hint = f"osce-kg build --out {build_dir}"
            raise SystemExit(f"no build in {build_dir}: first run `{hint}`")
        env["OSCE_KG_BUILD_DIR"] = str(build_dir)
        command = [sys.executable, "-m", "gunicorn", "-c", "python:server.deploy.gunicorn_conf"]
        command += ["--bind", f"127.0.0.1:{port}", "server:create_app()"]
    else:
        command = [sys.executable, "-c", "from server.cli import main; main()", "serve"]
        command += ["--build", str(build_dir), "--host", "127.0.0.1", "--port", str(port)]
    return command, env


@dataclass(frozen=True)
class Answer:
    """One timed answer: its status, body, headers and the client's wall time."""

    status: int
    body: bytes
    headers: dict[str, str]
    seconds: float

    def server_ms(self) -> float | None:
        """The server's own time (``Server-Timing: app;dur=``), when it says."""
        found = re.search(r"app;dur=([0-9.]+)", self.headers.get("server-timing", ""))
        return float(found.group(1)) if found else None


class KeepAlive:
    """One persistent HTTP/1.1 connection to a server, reopened only if the server closes it."""

    def __init__(self, url: str) -> None:
        parts = urllib.parse.urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.prefix = parts.path.rstrip("/")
        self.url = url
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=300)

    def get(self, path: str, headers: dict[str, str] | None = None) -> Answer:
        started = time.perf_counter()
        try:
            self.connection.request("GET", self.prefix + path, headers=headers or {})
            response = self.connection.getresponse()
        except (http.client.RemoteDisconnected, ConnectionError, BrokenPipeError):
            self.connection.close()  # the server closed an idle connection: one more try
            self.connection.request("GET", self.prefix + path, headers=headers or {})
            response = self.connection.getresponse()
        body = response.read()
        seconds = time.perf_counter() - started
        found = {name.lower(): value for name, value in response.getheaders()}
        if response.will_close:
            self.connection.close()
        return Answer(response.status, body, found, seconds)

    def query(self, text: str, accept: str) -> Answer:
        answer = self.get("?" + urllib.parse.urlencode({"query": text}), {"Accept": accept})
        if answer.status != 200:
            raise SystemExit(f"{self.host}:{self.port} answered {answer.status}: {answer.body!r}")
        return answer


def in_process(store: ox.Store, query: Query) -> tuple[float, float]:
    """Seconds pyoxigraph takes to answer and serialise ``query`` as the server does, wall and
    CPU."""
    started, cpu = time.perf_counter(), time.process_time()
    # as the server reads it: the stored merge of the named graphs, or (older builds) their union
    result = store.query(query.text, use_default_graph_as_union=union_default_graph(store))
    if isinstance(result, ox.QueryTriples):
        body = ox.serialize(result, format=ox.RdfFormat.N_TRIPLES) or b""
    else:
        body = result.serialize(format=ox.QueryResultsFormat.JSON) or b""  # type: ignore[union-attr]
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    if not rows_of(body, query.accept) and "describe" not in query.name:
        print(f"note: {query.name} has no rows on this build")
    return seconds, cpu


@dataclass
class Row:
    """One query's runs on each target, in seconds (server times in ms)."""

    name: str
    in_process: list[float]
    in_process_cpu: list[float]
    fresh: list[float]
    fresh_cpu: list[float]
    repeat: list[float]
    repeat_server: list[float]
    virtuoso: list[float]
    nginx: list[float]


def measure_queries(
    store: ox.Store,
    sparql: KeepAlive,
    group: int,
    other: KeepAlive | None,
    mix: list[Query],
    repeats: int,
    nginx: KeepAlive | None = None,
) -> list[Row]:
    """Each query: a warm-up on every target, then ``repeats`` turns, targets interleaved;
    ``group`` is the server's process group (its CPU time is read around each new query)."""
    rows = []
    for query in mix:
        row = Row(query.name, [], [], [], [], [], [], [], [])
        in_process(store, query)
        sparql.query(query.text, query.accept)  # the repeats' answer is now kept
        if other is not None:
            other.query(query.text, query.accept)
        if nginx is not None:
            nginx.query(query.text, query.accept)  # nginx keeps the answer
        for turn in range(repeats):
            wall, cpu = in_process(store, query)
            row.in_process.append(wall)
            row.in_process_cpu.append(cpu)
            before = group_cpu_seconds(group)
            row.fresh.append(sparql.query(f"{query.text}\n# run {turn}", query.accept).seconds)
            row.fresh_cpu.append(group_cpu_seconds(group) - before)
            again = sparql.query(query.text, query.accept)
            if again.headers.get("x-cache") != "hit":
                raise SystemExit(f"{query.name}: the repeat was not answered from the cache")
            row.repeat.append(again.seconds)
            row.repeat_server.append(again.server_ms() or float("nan"))
            if other is not None:
                row.virtuoso.append(other.query(query.text, query.accept).seconds)
            if nginx is not None:
                kept = nginx.query(query.text, query.accept)
                if kept.headers.get("x-cache") != "hit" or "server-timing" in kept.headers:
                    raise SystemExit(f"{query.name}: nginx did not answer the repeat itself")
                row.nginx.append(kept.seconds)
        rows.append(row)
    return rows


def wrk_median_ms(url: str, query: Query, seconds: int) -> float:
    """The median latency wrk measures for a GET of the query's text (one connection, so each
    answer waits for the one before), in ms; NaN without wrk."""
    wrk = shutil.which("wrk")
    if wrk is None:
        return float("nan")
    target = url + "?" + urllib.parse.urlencode({"query": query.text})
    command = [wrk, "-t1", "-c1", f"-d{seconds}s", "--latency", "-H", f"Accept: {query.accept}"]
    out = subprocess.run(
        [*command, target], capture_output=True, text=True, timeout=seconds + 60, check=True
    ).stdout
    if re.search(r"Non-2xx or 3xx responses", out):
        raise SystemExit(f"{url}: wrk got errors for {query.name}:\n{out}")
    found = re.search(r"50%\s+([0-9.]+)(us|ms|s)", out)
    if found is None:
        raise SystemExit(f"wrk printed no median for {query.name}:\n{out}")
    return float(found.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[found.group(2)]


def report_wrk(mix: list[Query], targets: dict[str, KeepAlive | None], seconds: int) -> None:
    """Each query's repeat timed by wrk on every target, with the ratio of Virtuoso's to each."""
    present = {name: client for name, client in targets.items() if client is not None}
    print(f"\nrepeats by wrk (-t1 -c1 -d{seconds}s, median latency ms; x: Virtuoso's / this)")
    print(f"{'query':<34}" + "".join(f"{name:>22}" for name in present))
    least: dict[str, float] = {}
    for query in mix:
        times = {
            name: wrk_median_ms(client.url, query, seconds) for name, client in present.items()
        }
        virtuoso = times.get("Virtuoso 7", float("nan"))
        cells = ""
        for name, value in times.items():
            ratio = virtuoso / value
            if name != "Virtuoso 7" and not math.isnan(ratio):
                least[name] = min(least.get(name, float("inf")), ratio)
            cells += f"{value:>13.3f} x{ratio:>6.1f}"
        print(f"{query.name:<34}{cells}")
    for name, ratio in least.items():
        verdict = "met" if ratio >= REPEAT_VIRTUOSO_GOAL else "NOT met"
        print(
            f"goal: repeats >= {REPEAT_VIRTUOSO_GOAL:g}x faster than Virtuoso's ({name}, "
            f"wrk): least {ratio:.1f}x ({verdict})"
        )


def median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000 if values else float("nan")


def report_queries(rows: list[Row], store_mode: str) -> None:
    print(
        f"\nmedian ms per query (store {store_mode}); overhead = over HTTP, new to the cache, "
        "minus pyoxigraph in-process"
    )
    header = (
        f"{'query':<34}{'pyoxigraph':>11}{'HTTP new':>10}{'overhead':>10}{'CPU over':>9}"
        f"{'repeat':>9}{'server':>9}{'Virtuoso':>10}{'Virt/rep':>9}{'nginx rep':>10}"
        f"{'Virt/ngx':>9}"
    )
    print(header)
    worst_overhead, worst_cpu, worst_server, least_ratio = 0.0, 0.0, 0.0, float("inf")
    least_nginx_ratio = float("inf")
    for row in rows:
        base, fresh = median_ms(row.in_process), median_ms(row.fresh)
        repeat, server = median_ms(row.repeat), statistics.median(row.repeat_server)
        other, kept = median_ms(row.virtuoso), median_ms(row.nginx)
        ratio = other / repeat if row.virtuoso else float("nan")
        nginx_ratio = other / kept if row.virtuoso and row.nginx else float("nan")
        if row.virtuoso and row.nginx:
            least_nginx_ratio = min(least_nginx_ratio, nginx_ratio)
        worst_overhead = max(worst_overhead, fresh - base)
        cpu_over = median_ms(row.fresh_cpu) - median_ms(row.in_process_cpu)
        worst_cpu = max(worst_cpu, cpu_over)
        worst_server = max(worst_server, server)
        if row.virtuoso:
            least_ratio = min(least_ratio, ratio)
        print(
            f"{row.name:<34}{base:>11.2f}{fresh:>10.2f}{fresh - base:>10.2f}{cpu_over:>9.2f}"
            f"{repeat:>9.2f}{server:>9.3f}{other:>10.2f}{ratio:>8.1f}x{kept:>10.3f}"
            f"{nginx_ratio:>8.1f}x"
        )
    print(f"goal: overhead <= {OVERHEAD_GOAL_MS} ms: worst {worst_overhead:.2f} ms", end=" ")
    print("(met)" if worst_overhead <= OVERHEAD_GOAL_MS else "(NOT met)")
    print(f"      in CPU time: worst {worst_cpu:.2f} ms", end=" ")
    print("(met)" if worst_cpu <= OVERHEAD_GOAL_MS else "(NOT met)")
    print(f"goal: a repeat in <= {REPEAT_SERVER_GOAL_MS} ms server time: worst {worst_server:.3f}")
    if least_ratio != float("inf"):
        verdict = "met" if least_ratio >= REPEAT_VIRTUOSO_GOAL else "NOT met"
        print(
            f"goal: repeats >= {REPEAT_VIRTUOSO_GOAL:g}x faster than Virtuoso's: least "
            f"{least_ratio:.1f}x ({verdict})"
        )
    if least_nginx_ratio != float("inf"):
        verdict = "met" if least_nginx_ratio >= REPEAT_VIRTUOSO_GOAL else "NOT met"
        print(
            f"      through nginx's answer cache (the shipped static site): least "
            f"{least_nginx_ratio:.1f}x ({verdict})"
        )


def measure_documents(url: str, state: str, repeats: int) -> dict[str, float]:
    """The dereference of a State's URI (303, then the document) and the /healthz floor."""
    client = KeepAlive(url)

    def dereference() -> None:
        first = client.get(f"/id/state/{state}", {"Accept": "text/turtle"})
        if first.status != 303:
            raise SystemExit(f"/id/state/{state} answered {first.status}, not 303")
        if client.get(first.headers["location"], {"Accept": "text/turtle"}).status != 200:
            raise SystemExit(f"{first.headers['location']} did not answer 200")

    def health() -> None:
        client.get("/healthz")

    return {
        f"dereference /id/state/{state} -> 303 -> .ttl": timed(dereference, repeats),
        "HTTP floor: GET /healthz": timed(health, repeats),
    }


def timed(action: Callable[[], object], repeats: int, warmup: int = 5) -> float:
    """The median wall time of ``action`` in milliseconds, after a few warm-up runs."""
    for _ in range(warmup):
        action()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def open_store(build: Path, mode: str) -> ox.Store:
    """The build's store as the server holds it: read-only on disk, or copied into memory."""
    disk = ox.Store.read_only(str(Path(os.path.realpath(build / "current")) / "store"))
    if mode == "disk":
        return disk
    memory = ox.Store()
    memory.bulk_extend(disk.quads_for_pattern(None, None, None, None))
    return memory


@contextmanager
def maybe_virtuoso(build: Path, wanted: bool) -> Iterator[KeepAlive | None]:
    if not wanted:
        yield None
        return
    dump = Path(os.path.realpath(build / "current")) / "dumps" / "osce-kg.nq.gz"
    with virtuoso(dump) as started:  # its /sparql URL and process group, or None
        yield KeepAlive(started[0]) if started else None


@contextmanager
def maybe_nginx(export: Path | None, port: int) -> Iterator[KeepAlive | None]:
    """The shipped static site over ``export`` in front of the server on ``port`` (nginx on a
    free port of 127.0.0.1, its cache in a temporary folder), as a client of its /sparql."""
    if export is None:
        yield None
        return
    nginx = find_nginx()
    if nginx is None:
        raise SystemExit("--nginx: nginx is not installed (Debian: apt-get install nginx)")
    if not (export / "current").is_dir():
        raise SystemExit(f"--nginx {export}: no export there; run `osce-kg export-static` first")
    with (
        tempfile.TemporaryDirectory(prefix="bench-nginx-") as prefix,
        static_nginx(nginx, Path(prefix), export, [f"127.0.0.1:{port}"]) as url,
    ):
        yield KeepAlive(url + "/sparql")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", type=Path, default=Path("build"))
    parser.add_argument("-n", "--repeats", type=int, default=50, help="runs per query (median)")
    parser.add_argument("--state", default="at", help="ISO alpha-2 key of the State to fetch")
    parser.add_argument("--only", default="", help="only the queries whose name has this")
    parser.add_argument("--store", choices=("disk", "memory"), default="disk")
    parser.add_argument("--server", choices=("serve", "gunicorn"), default="serve")
    parser.add_argument("--virtuoso", action="store_true", help="also time Virtuoso's repeats")
    parser.add_argument(
        "--wrk",
        type=int,
        default=0,
        metavar="SECONDS",
        help="also time each query's repeats with wrk for this long per target",
    )
    parser.add_argument(
        "--nginx",
        type=Path,
        metavar="EXPORT",
        help="also time repeats through the shipped static site (nginx) over this export "
        "(osce-kg export-static) of the build",
    )
    options = parser.parse_args()
    port = free_port()
    command, env = server_command(options.build, port, options.server, options.store)
    try:
        with ExitStack() as stack:
            server = stack.enter_context(
                started(command, port=port, env=env, start_timeout=START_TIMEOUT)
            )
            url = f"http://127.0.0.1:{port}"
            store = open_store(options.build, options.store)
            summary = (Path(os.path.realpath(options.build / "current")) / "report").joinpath(
                "summary.json"
            )
            base = re.search(r'"base":\s*"([^"]+)"', summary.read_text(encoding="utf-8"))
            mix = queries(base.group(1) if base else "https://w3id.org/osce-kg/", release_of(store))
            mix = [query for query in mix if options.only in query.name]
            other = stack.enter_context(maybe_virtuoso(options.build, options.virtuoso))
            print(f"{options.server}, store {options.store}; load average {os.getloadavg()}")
            sparql = KeepAlive(url + "/sparql")
            nginx = stack.enter_context(maybe_nginx(options.nginx, port))
            # started in its own session: the group is the web process, forkserver and workers
            rows = measure_queries(
                store, sparql, server.pid, other, mix, options.repeats, nginx=nginx
            )
            report_queries(rows, options.store)
            if options.wrk:
                targets = {"osce-kg (its cache)": sparql, "nginx (its cache)": nginx}
                report_wrk(mix, {**targets, "Virtuoso 7": other}, options.wrk)
            for name, value in measure_documents(url, options.state, options.repeats).items():
                print(f"  {name:<48} {value:9.3f} ms")
            print(f"load average after: {os.getloadavg()}")
    except ServerStartError as error:
        raise SystemExit(f"{error}; run `osce-kg serve` to see why") from error


if __name__ == "__main__":
    main()
