"""Six realistic queries on a large build, engines interleaved in one run; entity documents'
throughput against a static server of the same bytes.

Engines (all on 127.0.0.1, started and stopped by this script by their pid):
  - osce-kg over HTTP, ``osce-kg serve`` with the store on disk and with ``--store memory``;
    each timed request carries a distinct trailing comment, so it misses the answer cache;
  - the same server answering the exact text again (its answer cache), with the server's own
    time from its ``Server-Timing`` header;
  - pyoxigraph in this process, over the same store on disk and over a copy in memory (the
    results serialised as SPARQL JSON, as the server does);
  - Virtuoso 7 (Debian's ``virtuoso-opensource``) loaded with the build's N-Quads dump, when
    ``virtuoso-t`` is installed (its column is skipped with a message otherwise).
The servers get the caller's ``OSCE_KG_*`` settings. Each query: one warm-up per engine, then
the median of ``--repeats`` runs, engines interleaved round by round; row counts are compared.
Prints the table, each engine's ratio to pyoxigraph in memory and its geometric mean; then the
check's cost per query (rdflib's parse, paid by every query before, against the lexical check
now), the first query after start, and the memory of ``--store memory``.

Throughput: ``wrk`` (Debian's, when installed; else a Python client with threads) for
``--seconds`` against the server's entity documents (answered from the document cache after the
first request) and against nginx serving the same bytes as a static file, in the same run.

    python benchmarks/bench_query.py --releases 20000          # generates and builds first
    python benchmarks/bench_query.py --build /tmp/b20k --repeats 5 --seconds 10
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pyoxigraph as ox
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.generate import write_releases
from server.checks import check_query, inspect_query
from server.query import union_default_graph
from tests.serving import free_port, running, started

START_TIMEOUT = 300.0
JSON = "application/sparql-results+json"
NTRIPLES = "application/n-triples"
PREFIXES = """PREFIX osce: <https://w3id.org/osce-kg/ontology#>
PREFIX schema: <https://schema.org/>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""


@dataclass(frozen=True)
class Query:
    name: str
    text: str
    accept: str = JSON


def queries(base: str, release: str) -> list[Query]:
    """The six queries of the mix, in the project's vocabulary."""
    state, field = f"<{base}id/state/ua>", f"<{base}id/field-of-work/human-rights>"
    return [
        Query("describe one release", f"DESCRIBE <{release}>", NTRIPLES),
        Query(
            "field of work + year, newest 20",
            PREFIXES + f"SELECT ?r ?date ?title WHERE {{ ?r dct:subject {field} ; "
            "schema:datePublished ?date ; schema:headline ?title "
            "FILTER(YEAR(?date) = 2019) } ORDER BY DESC(?date) ?r LIMIT 20",
        ),
        Query(
            "releases per year",
            PREFIXES + "SELECT ?year (COUNT(?r) AS ?n) WHERE { ?r a osce:PressRelease ; "
            "schema:datePublished ?d BIND(YEAR(?d) AS ?year) } GROUP BY ?year ORDER BY ?year",
        ),
        Query(
            "State + OPTIONAL labels, 50",
            PREFIXES + "SELECT ?r ?date ?state ?name WHERE { ?r osce:mentionsState ?state ; "
            "schema:datePublished ?date "
            'OPTIONAL { ?state rdfs:label ?name FILTER(LANG(?name) = "en") } '
            "} ORDER BY DESC(?date) ?r ?state LIMIT 50",
        ),
        Query(
            "States co-mentioned with Ukraine",
            PREFIXES + "SELECT ?other (COUNT(DISTINCT ?r) AS ?n) WHERE { ?r osce:mentionsState "
            f"{state}, ?other FILTER(?other != {state}) }} "
            "GROUP BY ?other ORDER BY DESC(?n) ?other",
        ),
        Query(
            "title CONTAINS",
            PREFIXES + "SELECT ?r ?title WHERE { ?r schema:headline ?title "
            'FILTER(CONTAINS(LCASE(?title), "border")) }',
        ),
    ]


# -- engines: each answers a query with (rows, seconds, server seconds or None) -----------------


@dataclass(frozen=True)
class Answer:
    """One timed answer: rows, wall seconds, the server's own seconds (Server-Timing) and the
    CPU seconds the engine spent on it (its processes' threads, or this process in-process)."""

    rows: int
    seconds: float
    server: float | None
    cpu: float


Engine = Callable[[Query, int], Answer]


def group_cpu_seconds(group: int) -> float:
    """The CPU time of every thread of every process in a process group (a server started in
    its own session: its web process, forkserver and query workers), from /proc (ns)."""
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            fields = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) != group:  # state, ppid, pgrp
                continue
            for task in os.scandir(Path(entry.path, "task")):
                total += int(Path(task.path, "schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
    return total / 1e9


def rows_of(body: bytes, accept: str) -> int:
    """Result rows (or triples) in an answer body."""
    if accept == NTRIPLES:
        return sum(1 for line in body.splitlines() if line.strip() and not line.startswith(b"#"))
    return len(json.loads(body)["results"]["bindings"])


def http_engine(url: str, *, distinct: bool, groups: tuple[int, ...]) -> Engine:
    """A SPARQL endpoint over HTTP, asked with the standard library's client (one kept-alive
    connection where the server keeps it; a Python client costs a few tenths of a ms, paid
    alike by every HTTP engine); ``distinct`` adds a comment naming the run, so the text is
    new to the server's answer cache each time. ``groups``: the process groups that work for
    the answer (the server's; over Virtuoso, Virtuoso's too), whose CPU time is read before
    and after each request."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=300)

    def run(query: Query, turn: int) -> Answer:
        text = f"{query.text}\n# run {turn}" if distinct else query.text
        target = f"{parts.path}?{urlencode({'query': text})}"
        cpu = sum(group_cpu_seconds(group) for group in groups)
        started = time.perf_counter()
        connection.request("GET", target, headers={"Accept": query.accept})
        response = connection.getresponse()
        body = response.read()
        seconds = time.perf_counter() - started
        cpu = sum(group_cpu_seconds(group) for group in groups) - cpu
        if response.status != 200:
            raise RuntimeError(f"{url} answered {response.status}: {body[:300]!r}")
        timing = re.search(r"app;dur=([0-9.]+)", response.getheader("Server-Timing") or "")
        server = float(timing.group(1)) / 1000 if timing else None
        return Answer(rows_of(body, query.accept), seconds, server, cpu)

    return run


def http_floor(url: str, repeats: int = 50) -> float:
    """The median round trip of ``/healthz`` with the same client: what any answer costs."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=60)

    def health() -> None:
        connection.request("GET", "/healthz")
        connection.getresponse().read()

    return median_seconds(health, repeats)


def in_process_engine(store: ox.Store) -> Engine:
    """pyoxigraph in this process, reading the default graph as the server does (the build's
    stored merge; the union of the named graphs only for a build from before the merge)."""
    union = union_default_graph(store)

    def run(query: Query, turn: int) -> Answer:
        cpu, started = time.process_time(), time.perf_counter()
        result = store.query(query.text, use_default_graph_as_union=union)
        if isinstance(result, ox.QueryTriples):
            body = ox.serialize(result, format=ox.RdfFormat.N_TRIPLES) or b""
        else:
            body = result.serialize(format=ox.QueryResultsFormat.JSON) or b""  # type: ignore[union-attr]
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        return Answer(rows_of(body, query.accept), seconds, None, cpu)

    return run


# -- servers -------------------------------------------------------------------------------------


def serve_command(build: Path, port: int, store: str, endpoint: str | None = None) -> list[str]:
    """``osce-kg serve`` over ``build``: its store on disk or in memory, or (``endpoint``) an
    external SPARQL store answering for it."""
    command = [sys.executable, "-c", "from server.cli import main; main()", "serve"]
    command += ["--build", str(build), "--port", str(port)]
    if endpoint is not None:
        return [*command, "--sparql-endpoint", endpoint]
    return [*command, "--store", store]


def clean_env(**settings: str) -> dict[str, str]:
    """The caller's environment (its OSCE_KG_* settings too) with ``settings`` added."""
    env = dict(os.environ)
    env.update({f"OSCE_KG_{name}": value for name, value in settings.items()})
    return env


@dataclass(frozen=True)
class Server:
    """A running server: its URL, process group, first query's time after /healthz answered,
    and /healthz's JSON."""

    url: str
    group: int
    first_seconds: float
    health: dict[str, object]


@contextmanager
def osce_server(build: Path, store: str, endpoint: str | None = None) -> Iterator[Server]:
    """``osce-kg serve`` on a free port, in its own process group."""
    port = free_port()
    command = serve_command(build, port, store, endpoint)
    with started(command, port=port, env=clean_env(), start_timeout=START_TIMEOUT) as process:
        url = f"http://127.0.0.1:{port}"
        begun = time.perf_counter()
        first = requests.get(
            url + "/sparql",
            params={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 1"},
            headers={"Accept": JSON},
            timeout=60,
        )
        first.raise_for_status()
        first_seconds = time.perf_counter() - begun
        health = requests.get(url + "/healthz", timeout=10).json()
        yield Server(url, process.pid, first_seconds, health)


VIRTUOSO_INI = """[Database]
DatabaseFile = {d}/virtuoso.db
ErrorLogFile = {d}/virtuoso.log
LockFile = {d}/virtuoso.lck
TransactionFile = {d}/virtuoso.trx
xa_persistent_file = {d}/virtuoso.pxa
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {d}/virtuoso-temp.db
TransactionFile = {d}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{isql}
DisableUnixSocket = 1
MaxClientConnections = 8
CheckpointInterval = 0
NumberOfBuffers = 60000
MaxDirtyBuffers = 45000
DirsAllowed = ., {d}, /usr/share/virtuoso-opensource-7/vad
ThreadsPerQuery = 2
MaxQueryMem = 1G
MaxQueryCostEstimationTime = 0
MaxQueryExecutionTime = 120

[HTTPServer]
ServerPort = 127.0.0.1:{http}
ServerRoot = {d}
MaxClientConnections = 8
ServerThreads = 8

[SPARQL]
ResultSetMaxRows = 100000
MaxQueryExecutionTime = 120
MaxQueryCostEstimationTime = 0
"""


@contextmanager
def virtuoso(dump: Path) -> Iterator[tuple[str, int] | None]:
    """Virtuoso on 127.0.0.1 loaded with ``dump`` (N-Quads, gzip); yields its /sparql URL and
    process group, or None with a message when it is not installed or does not start."""
    binary, isql = shutil.which("virtuoso-t"), shutil.which("isql-vt") or shutil.which("isql")
    if binary is None or isql is None:
        print("Virtuoso: not installed (apt-get install virtuoso-opensource); column skipped")
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="bench-virtuoso-") as folder:
        isql_port, http_port = free_port(), free_port()
        ini = Path(folder) / "virtuoso.ini"
        ini.write_text(VIRTUOSO_INI.format(d=folder, isql=isql_port, http=http_port))
        shutil.copy(dump, Path(folder) / "data.nq.gz")
        process = subprocess.Popen(
            [binary, "-f", "-c", str(ini)],
            cwd=folder,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            url = f"http://127.0.0.1:{http_port}/sparql"
            if not wait_for_virtuoso(url, process):
                print("Virtuoso: did not start within 120 s; column skipped")
                yield None
                return
            begun = time.monotonic()
            load = (
                f"ld_dir('{folder}', 'data.nq.gz', 'urn:x-bench:default'); rdf_loader_run(); "
                "checkpoint;"
            )
            subprocess.run(
                [isql, f"127.0.0.1:{isql_port}", "dba", "dba", f"exec={load}"],
                check=True,
                capture_output=True,
                timeout=1800,
            )
            print(f"Virtuoso: loaded the dump in {time.monotonic() - begun:.1f} s")
            yield url, process.pid
        finally:
            process.terminate()  # by its pid
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def wait_for_virtuoso(url: str, process: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if requests.get(url, params={"query": "ASK {}"}, timeout=2).status_code == 200:
                return True
        except requests.RequestException:
            pass
        time.sleep(0.5)
    return False


# -- the query table -------------------------------------------------------------------------------


def measure(
    engines: dict[str, Engine], mix: list[Query], repeats: int
) -> dict[str, dict[str, list[Answer]]]:
    """Every query on every engine: a warm-up, then ``repeats`` rounds, engines interleaved."""
    results: dict[str, dict[str, list[Answer]]] = {q.name: {e: [] for e in engines} for q in mix}
    for query in mix:
        for engine in engines.values():
            engine(query, -1)
        for turn in range(repeats):
            for name, engine in engines.items():
                results[query.name][name].append(engine(query, turn))
    return results


#: What each osce-kg engine runs on: its overhead is its time above that engine's.
UNDERLYING = {
    "osce-kg memory": "pyoxigraph memory",
    "osce-kg disk": "pyoxigraph disk",
    "osce-kg over Virtuoso": "Virtuoso 7",
}


def geometric_mean(values: list[float]) -> float:
    return math.exp(statistics.fmean(math.log(v) for v in values)) if values else math.nan


#: What the tables measure: wall time, or the CPU time of the engine's processes.
METRICS = {
    "seconds": "median ms per query (wall time, repeats after a warm-up)",
    "cpu": "median CPU ms per query (every thread of the engine's processes: web process and "
    "query workers, Virtuoso's; in-process: this process)",
}


def report_table(
    results: dict[str, dict[str, list[Answer]]],
    baseline: str,
    floors: dict[str, float],
    metric: str,
) -> None:
    """The table (median ms and ratio to ``baseline`` per query and engine), the geometric mean
    and median of each engine's ratios, the same against Virtuoso, and each osce-kg engine's
    time above the engine under it."""
    engines = list(next(iter(results.values())))
    medians = {
        query: {
            e: max(statistics.median(getattr(a, metric) for a in answers), 1e-6)
            for e, answers in by.items()
        }
        for query, by in results.items()
    }
    cell = max(max(len(e) for e in engines), 14) + 2
    print(f"\n{METRICS[metric]}, x ratio to {baseline}")
    print(f"{'query':<34}" + "".join(f"{e:>{cell}}" for e in engines) + "   rows")
    for query, by_engine in results.items():
        rows = {e: answers[-1].rows for e, answers in by_engine.items()}
        times = medians[query]
        cells = "".join(
            f"{times[e] * 1000:>{cell - 7}.2f} x{times[e] / times[baseline]:5.2f}" for e in engines
        )
        same = "same" if len(set(rows.values())) == 1 else f"differ: {rows}"
        print(f"{query:<34}{cells}   {next(iter(rows.values()))} ({same})")

    def summary(label: str, against: str, queries: list[str]) -> None:
        if not queries:
            return
        for name, average in (("geometric mean", geometric_mean), ("median", statistics.median)):
            figures = [
                average([medians[q][e] / medians[q][against] for q in queries]) for e in engines
            ]
            print(
                f"{name + ' ' + label:<34}"
                + "".join(f"{'x' + format(f, '.2f'):>{cell}}" for f in figures)
            )

    queries = list(results)
    summary("", baseline, queries)
    slow = [q for q in queries if medians[q][baseline] >= 0.005]
    if slow != queries:
        print(f"over the {len(slow)} queries taking {baseline} 5 ms or more:")
        summary("(>= 5 ms)", baseline, slow)
    if "Virtuoso 7" in engines:
        print("ratio to Virtuoso 7:")
        summary("/ Virtuoso", "Virtuoso 7", queries)
    report_overhead(medians, floors if metric == "seconds" else {})
    for engine in engines:
        servers = [a.server for by in results.values() for a in by[engine] if a.server is not None]
        if metric == "seconds" and servers and "cache" in engine:
            print(
                f"{engine}: server time per answer median {statistics.median(servers) * 1000:.3f} "
                f"ms, max {max(servers) * 1000:.3f} ms (Server-Timing)"
            )


def report_overhead(medians: dict[str, dict[str, float]], floors: dict[str, float]) -> None:
    """Each osce-kg engine's median ms above the engine it runs on, per query, and its HTTP
    floor (the round trip of /healthz)."""
    engines = [e for e in UNDERLYING if e in next(iter(medians.values()))]
    if not engines:
        return
    print("\nms above the engine underneath (osce-kg memory: pyoxigraph memory; disk: disk; "
          "over Virtuoso: Virtuoso 7)")  # fmt: skip
    print(f"{'query':<34}" + "".join(f"{e:>24}" for e in engines))
    for query, by_engine in medians.items():
        cells = "".join(
            f"{(by_engine[e] - by_engine[UNDERLYING[e]]) * 1000:>24.2f}" for e in engines
        )
        print(f"{query:<34}{cells}")
    if floors:
        floor_cells = "".join(f"{floors.get(e, math.nan) * 1000:>24.2f}" for e in engines)
        print(f"{'HTTP floor: /healthz round trip':<34}{floor_cells}")


def report_check_cost(mix: list[Query]) -> None:
    """What the check before each query costs: rdflib's parse (paid by every query before) and
    the check now."""
    print("\nthe check before each query (median of 20, ms): rdflib parse / check now")
    for query in mix:
        text = query.text
        parse = median_seconds(lambda text=text: inspect_query(text), 20)  # type: ignore[misc]
        check = median_seconds(lambda text=text: check_query(text, ()), 20)  # type: ignore[misc]
        print(
            f"  {query.name:<36} {parse * 1000:8.3f} / {check * 1000:8.3f}  x{parse / check:7.0f}"
        )


def median_seconds(action: Callable[[], object], repeats: int) -> float:
    action()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


# -- throughput ---------------------------------------------------------------------------------


def throughput(url: str, seconds: int, connections: int = 8) -> tuple[float, float]:
    """Requests a second and p99 latency in ms: wrk when installed, else Python threads."""
    wrk = shutil.which("wrk")
    if wrk is not None:
        out = subprocess.run(
            [wrk, "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=True,
        ).stdout
        rate = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))  # type: ignore[union-attr]
        p99 = re.search(r"99%\s+([0-9.]+)(us|ms|s)", out)
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
        return rate, float(p99.group(1)) * scale[p99.group(2)] if p99 else math.nan
    return python_throughput(url, seconds, connections)


def python_throughput(url: str, seconds: int, connections: int) -> tuple[float, float]:
    latencies: list[float] = []
    until = time.monotonic() + seconds

    def client() -> None:
        session = requests.Session()
        while time.monotonic() < until:
            started = time.perf_counter()
            session.get(url, timeout=30).raise_for_status()
            latencies.append(time.perf_counter() - started)

    threads = [threading.Thread(target=client) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    return len(latencies) / seconds, latencies[int(len(latencies) * 0.99)] * 1000


NGINX_STATIC = """daemon off;
worker_processes 1;
pid {p}/nginx.pid;
error_log {p}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    types {{ text/turtle ttl; text/html html; }}
{temp}    server {{
        listen 127.0.0.1:{port};
        root {p}/static;
        etag on;
        location = /healthz {{ return 200 "ok"; }}
    }}
}}
"""


@contextmanager
def static_nginx(documents: dict[str, bytes]) -> Iterator[str | None]:
    """nginx serving ``documents`` (path -> bytes) as static files; None when not installed."""
    nginx = shutil.which("nginx")
    if nginx is None:
        print("nginx: not installed; no static baseline")
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="bench-static-") as folder:
        prefix = Path(folder)
        for path, body in documents.items():
            target = prefix / "static" / path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(body)
        temp = "".join(
            f"    {kind}_temp_path {prefix / kind};\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        user = "user root;\n" if os.geteuid() == 0 else ""
        port = free_port()
        config = prefix / "nginx.conf"
        config.write_text(user + NGINX_STATIC.format(p=prefix, port=port, temp=temp))
        command = [nginx, "-p", str(prefix), "-c", str(config), "-e", str(prefix / "error.log")]
        with running(command, port=port, env=dict(os.environ), start_timeout=30) as url:
            yield url


def report_throughput(build: Path, seconds: int, gunicorn_workers: int) -> None:
    paths = {"/data/state/at.ttl": ".ttl", "/page/state/at": ".html"}
    figures: dict[str, dict[str, tuple[float, float]]] = {}
    setups: dict[str, tuple[list[str], dict[str, str], int]] = {}
    port = free_port()
    setups["osce-kg serve"] = (serve_command(build, port, "disk"), clean_env(), port)
    if gunicorn_workers:
        port = free_port()
        command = [sys.executable, "-m", "gunicorn", "-c", "python:server.deploy.gunicorn_conf"]
        command += ["--workers", str(gunicorn_workers), "-b", f"127.0.0.1:{port}"]
        command += ["server:create_app()"]
        env = clean_env(BUILD_DIR=str(build))
        setups[f"gunicorn -w {gunicorn_workers} (gthread)"] = (command, env, port)
    bodies: dict[str, bytes] = {}
    for name, (command, env, port) in setups.items():
        with running(command, port=port, env=env, start_timeout=START_TIMEOUT) as url:
            for path in paths:
                body = requests.get(url + path, timeout=60).content  # fills the document cache
                bodies[path] = body
                figures.setdefault(path, {})[name] = throughput(url + path, seconds)
    with static_nginx(
        {p + (".html" if p.startswith("/page") else ""): b for p, b in bodies.items()}
    ) as url:
        if url is not None:
            for path in paths:
                static_path = path + (".html" if path.startswith("/page") else "")
                figures[path]["nginx, static copy"] = throughput(url + static_path, seconds)
    tool = "wrk -t2 -c8" if shutil.which("wrk") else "Python client, 8 threads"
    print(f"\nthroughput, {tool}, {seconds} s each: requests/s (p99 ms), ratio to nginx")
    for path, by_setup in figures.items():
        static = by_setup.get("nginx, static copy", (math.nan, math.nan))[0]
        size = len(bodies[path])
        cells = "   ".join(
            f"{name}: {rate:,.0f} ({p99:.1f}) x{rate / static:.3f}"
            for name, (rate, p99) in by_setup.items()
        )
        print(f"  {path} ({size:,} bytes)  {cells}")


# -- main ---------------------------------------------------------------------------------------


def make_build(count: int, folder: Path) -> Path:
    inputs = folder / "releases"
    write_releases(inputs, count, per_file=1000)
    out = folder / "build"
    print(f"building {count} generated releases into {out} ...", flush=True)
    subprocess.run(
        [sys.executable, "-c", "from server.cli import main; main()", "build", "--no-progress",
         "--out", str(out), str(inputs)],
        check=True,
    )  # fmt: skip
    return out


def release_of(store: ox.Store) -> str:
    """A release to describe: the generator's release 1000 when there, else any release."""
    found = store.query(
        PREFIXES + "SELECT ?r WHERE { ?r a osce:PressRelease ; schema:headline ?h "
        'FILTER(STRENDS(?h, "(1000)")) } LIMIT 1',
        use_default_graph_as_union=True,
    )
    for row in found:  # type: ignore[union-attr]
        return str(row["r"].value)
    for row in store.query(
        PREFIXES + "SELECT ?r WHERE { ?r a osce:PressRelease } LIMIT 1",
        use_default_graph_as_union=True,
    ):  # type: ignore[union-attr]
        return str(row["r"].value)
    raise SystemExit("the build has no releases")


def report_swap(build: Path, scratch: Path) -> None:
    """A ``--store memory`` server moved to a new build while a client keeps asking: how long
    the swap took and what the requests during it got (answered by the old build until the new
    one is loaded and its workers warm). The build is copied twice into ``scratch``."""
    source = Path(os.path.realpath(build / "current"))
    served = scratch / "swap"
    first, second = (served / ".builds" / f"{source.name}-{n}" for n in ("a", "b"))
    for copy in (first, second):
        shutil.copytree(source, copy)
    (served / "current").symlink_to(Path(".builds") / first.name)
    port = free_port()
    command = serve_command(served, port, "memory")
    with started(command, port=port, env=clean_env(), start_timeout=START_TIMEOUT):
        query = Query("count", "SELECT (COUNT(*) AS ?n) WHERE { ?s a ?t }")
        ask = http_engine(f"http://127.0.0.1:{port}/sparql", distinct=False, groups=())
        health = http.client.HTTPConnection("127.0.0.1", port, timeout=300)

        def build_served() -> str:
            health.request("GET", "/healthz")
            return str(json.loads(health.getresponse().read())["build"])

        before = [ask(query, 0).seconds for _ in range(20)]
        (served / "current.new").symlink_to(Path(".builds") / second.name)
        os.replace(served / "current.new", served / "current")
        begun, during, builds = time.monotonic(), [], set()
        while (seen := build_served()) != second.name:
            builds.add(seen)
            during.append(ask(query, 0).seconds)
        swap = time.monotonic() - begun
        after = [ask(query, 0).seconds for _ in range(20)]
    print(
        f"\nbuild swap with --store memory: {swap:.1f} s until the new build answered; "
        f"{len(during)} requests during it, all answered (200), /healthz naming "
        f"{'the old build only' if builds == {first.name} else sorted(builds)}, "
        f"median {statistics.median(during) * 1000:.1f} ms, max {max(during) * 1000:.0f} ms; "
        f"before {statistics.median(before) * 1000:.1f} ms, after "
        f"{statistics.median(after) * 1000:.1f} ms (a repeated query: the answer cache)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", type=Path, help="a build directory (osce-kg build --out)")
    parser.add_argument(
        "--releases", type=int, default=20000, help="without --build: generate and build this many"
    )
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per query (median)")
    parser.add_argument("--seconds", type=int, default=10, help="seconds per throughput target")
    parser.add_argument("--no-virtuoso", action="store_true", help="skip Virtuoso")
    parser.add_argument("--no-queries", action="store_true", help="skip the query table")
    parser.add_argument("--only", default="", help="only the queries whose name contains this")
    parser.add_argument("--no-throughput", action="store_true", help="skip the throughput part")
    parser.add_argument(
        "--swap", action="store_true", help="also time a --store memory build swap under requests"
    )
    parser.add_argument(
        "--gunicorn-workers", type=int, default=2, help="also measure gunicorn (0: do not)"
    )
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-query-") as scratch:
        build = options.build or make_build(options.releases, Path(scratch))
        if not options.no_queries:
            run_queries(build, options)
        if options.swap:
            report_swap(build, Path(scratch))
        if not options.no_throughput:
            report_throughput(build, options.seconds, options.gunicorn_workers)


def run_queries(build: Path, options: argparse.Namespace) -> None:
    """The query table, the check's cost, the first query and the memory of --store memory."""
    with ExitStack() as stack:
        root = Path(os.path.realpath(build / "current"))
        disk = ox.Store.read_only(str(root / "store"))
        started = time.monotonic()
        memory = ox.Store()
        memory.bulk_extend(disk.quads_for_pattern(None, None, None, None))
        copied = time.monotonic() - started
        print(f"build {root.name}: {len(memory):,} quads (memory copy in {copied:.1f} s)")
        summary = (root / "report" / "summary.json").read_text()
        base = re.search(r'"base":\s*"([^"]+)"', summary)
        mix = queries(base.group(1) if base else "https://w3id.org/osce-kg/", release_of(memory))
        mix = [query for query in mix if options.only in query.name]
        engines: dict[str, Engine] = {}
        floors: dict[str, float] = {}
        memory_server = stack.enter_context(osce_server(build, "memory"))
        disk_server = stack.enter_context(osce_server(build, "disk"))
        for name, server in (("osce-kg memory", memory_server), ("osce-kg disk", disk_server)):
            engines[name] = http_engine(
                server.url + "/sparql", distinct=True, groups=(server.group,)
            )
            floors[name] = http_floor(server.url)
        engines["pyoxigraph memory"] = in_process_engine(memory)
        engines["pyoxigraph disk"] = in_process_engine(disk)
        if not options.no_virtuoso:
            found = stack.enter_context(virtuoso(root / "dumps" / "osce-kg.nq.gz"))
            if found is not None:
                virtuoso_url, group = found
                engines["Virtuoso 7"] = http_engine(virtuoso_url, distinct=True, groups=(group,))
                remote = stack.enter_context(osce_server(build, "disk", virtuoso_url))
                engines["osce-kg over Virtuoso"] = http_engine(
                    remote.url + "/sparql", distinct=True, groups=(remote.group, group)
                )
                floors["osce-kg over Virtuoso"] = http_floor(remote.url)
        engines["osce-kg cache"] = http_engine(
            memory_server.url + "/sparql", distinct=False, groups=(memory_server.group,)
        )
        results = measure(engines, mix, options.repeats)
        report_table(results, "pyoxigraph memory", floors, "seconds")
        report_table(results, "pyoxigraph memory", floors, "cpu")
        report_check_cost(mix)
        store = memory_server.health["store"]
        assert isinstance(store, dict)
        print(
            f"\nfirst query after /healthz answered: {disk_server.first_seconds * 1000:.1f} ms "
            f"(disk), {memory_server.first_seconds * 1000:.1f} ms (--store memory)"
        )
        print(
            f"--store memory: {store['quads']:,} quads, {store['memory_mb']} MB in the web "
            f"process and as much in each query worker, loaded in {store['load_seconds']} s"
        )


if __name__ == "__main__":
    main()
