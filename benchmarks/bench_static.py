"""Entity-document throughput: the Python server, the static export behind nginx, and nginx
serving one static file (its own ceiling), measured in the same run on 127.0.0.1.

Exports the build (``osce-kg export-static``), starts ``osce-kg serve`` (and a second one with
its document cache off: "uncached"), nginx with the shipped static site in front of the first, and
a bare nginx serving a copy of one exported file; then loads each target with wrk (Debian ``wrk``;
a Python client with threads when it is not installed) for SECONDS with CONNECTIONS connections,
ROUNDS times in turn (the median round is shown). Prints requests a second, p99 latency and errors
per target, with the ratio to nginx's own ceiling and to the Python server, and the load average.
Asserts nothing; the goals are the static export at >= 50 % of nginx's own static throughput and
the Python server's documents (answered from its cache before Flask) at >= 2,500 requests a second.

    python benchmarks/bench_static.py --build build
    python benchmarks/bench_static.py --build build --entity state/at --seconds 10
    python benchmarks/bench_static.py --build build --export site  # an export made before
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from server.export import MANIFEST
from tests.serving import free_port, nginx_main_config, nginx_site_command, running
from tests.static_site import find_nginx, python_server, server_env, static_nginx

#: Issue 12's goal for entity documents (data and HTML) from the Python server, requests a second.
PYTHON_GOAL = 2_500


@dataclass(frozen=True)
class Figures:
    """One target's throughput under load."""

    requests_per_second: float
    p99_ms: float
    errors: int


@dataclass(frozen=True)
class Target:
    name: str
    url: str
    accept: str | None = None


def with_wrk(wrk: str, target: Target, seconds: float, connections: int) -> Figures:
    """wrk's figures: Requests/sec, the 99th percentile, and non-2xx/3xx answers plus socket
    errors."""
    command = [wrk, "-t2", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "5s", "--latency"]
    if target.accept:
        command += ["-H", f"Accept: {target.accept}"]
    output = subprocess.run(
        [*command, target.url], capture_output=True, text=True, check=True, timeout=seconds + 30
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", output)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    p99_ms = float(p99.group(1)) * scale[p99.group(2)] if p99 else float("nan")
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses:\s+(\d+)", output))
    socket_errors = re.search(r"Socket errors: (.*)", output)
    if socket_errors:
        errors += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    return Figures(rate, p99_ms, errors)


def with_threads(target: Target, seconds: float, connections: int) -> Figures:
    """The same figures from CONNECTIONS Python threads, each with its own keep-alive session."""
    times: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    headers = {"Accept": target.accept} if target.accept else {}

    def client() -> None:
        with requests.Session() as session:
            while time.monotonic() < stop_at:
                started = time.perf_counter()
                try:
                    response = session.get(
                        target.url, headers=headers, allow_redirects=False, timeout=5
                    )
                    ok = response.status_code < 400
                except requests.RequestException:
                    ok = False
                elapsed = time.perf_counter() - started
                with lock:
                    times.append(elapsed)
                    errors[0] += not ok

    threads = [threading.Thread(target=client, daemon=True) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 10)
    times.sort()
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))] * 1000 if times else float("nan")
    return Figures(len(times) / seconds, p99, errors[0])


@contextlib.contextmanager
def bare_nginx(nginx: str, folder: Path, document: Path) -> Iterator[str]:
    """nginx alone, serving a copy of one exported file: the ceiling of this machine."""
    root = folder / "root"
    root.mkdir()
    shutil.copy2(document, root / document.name)
    listen = free_port()
    site = (
        f"server {{\n    listen 127.0.0.1:{listen};\n    root {root};\n"
        "    location = /healthz { return 200; }\n"
        "    location / { default_type text/turtle; }\n}\n"
    )
    config = nginx_main_config(folder, site)
    with running(
        nginx_site_command(nginx, folder, config), port=listen, env=server_env(), start_timeout=20
    ) as url:
        yield f"{url}/{document.name}"


def median_round(found: list[Figures]) -> Figures:
    """The round with the median throughput; its errors are those of every round."""
    middle = sorted(found, key=lambda f: f.requests_per_second)[len(found) // 2]
    return Figures(middle.requests_per_second, middle.p99_ms, sum(f.errors for f in found))


def export(build: Path, out: Path, jobs: int) -> tuple[float, float]:
    """Runs ``osce-kg export-static --jobs JOBS``; returns its wall and CPU seconds (its
    processes' user and system time)."""
    started = time.perf_counter()
    before = os.times()
    command = [sys.executable, "-c", "from server.cli import main; main()", "export-static"]
    command += [str(out), "--build", str(build), "--jobs", str(jobs)]
    subprocess.run(command, check=True, env=server_env(), timeout=3600)
    after = os.times()
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return time.perf_counter() - started, cpu


def exported_build(export_dir: Path) -> str | None:
    """The build id an existing export (``--export``) was written from."""
    manifest = export_dir / "current" / MANIFEST
    if not manifest.is_file():
        return None
    return str(json.loads(manifest.read_text(encoding="utf-8"))["build_id"])


def export_of(args: argparse.Namespace, folder: Path) -> Path:
    """The export to serve: ``--export`` (of the build's current build), else one written now
    into ``folder``, its time and size printed."""
    if args.export is not None:
        built = (args.build / "current").resolve().name
        if exported_build(args.export) != built:
            raise SystemExit(f"{args.export} is not an export of build {built}: export it first")
        print(f"export-static: serving the export in {args.export}")
        return Path(args.export)
    out = folder / "export"
    wall, cpu = export(args.build, out, args.jobs)
    manifest = json.loads((out / "current" / MANIFEST).read_text(encoding="utf-8"))
    print(
        f"export-static --jobs {args.jobs}: {manifest['entities']} entities, "
        f"{manifest['files']} files, {manifest['bytes'] / 1e6:.0f} MB in {wall:.1f} s "
        f"({cpu:.0f} CPU s); load average {os.getloadavg()}"
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", type=Path, default=Path("build"))
    parser.add_argument("--entity", default="state/at", help="kind/key of the entity to fetch")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3, help="median of this many runs")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="export processes")
    parser.add_argument(
        "--export",
        type=Path,
        help="serve this export of the build (from `osce-kg export-static`) instead of "
        "writing one (a big build takes minutes)",
    )
    args = parser.parse_args()
    if not (args.build / "current").exists():
        raise SystemExit(f"no build in {args.build}: first run `osce-kg build --out {args.build}`")
    nginx = find_nginx()
    if nginx is None:
        raise SystemExit("nginx is not installed (Debian: apt-get install nginx)")
    wrk = shutil.which("wrk")
    kind, key = args.entity.split("/")
    client = "wrk -t2" if wrk else "Python threads (install Debian wrk for higher figures)"
    print(
        f"{client}, {args.connections} connections, {args.seconds:g} s per target, "
        f"median of {args.rounds} interleaved rounds"
    )
    with tempfile.TemporaryDirectory(prefix="bench-static-") as temporary:
        folder = Path(temporary)
        exported = export_of(args, folder)
        document = exported / "current" / "data" / kind / f"{key}.ttl"
        if not document.is_file():
            raise SystemExit(f"{args.entity} is not an entity of the build (no {document.name})")
        (folder / "nginx").mkdir()
        (folder / "bare").mkdir()
        with (
            python_server(args.build) as python,
            python_server(args.build, OSCE_KG_DOCUMENT_CACHE_BYTES="0") as uncached,
            static_nginx(
                nginx, folder / "nginx", exported, [python.removeprefix("http://")]
            ) as static,
            bare_nginx(nginx, folder / "bare", document) as ceiling,
        ):
            data, page, uri = f"/data/{kind}/{key}.ttl", f"/page/{kind}/{key}", f"/id/{kind}/{key}"
            for base in (python, uncached, static):  # each answers once before it is measured
                requests.get(base + data, timeout=60).raise_for_status()
                requests.get(base + page, timeout=60).raise_for_status()
            targets = [
                Target(f"python   {data}", python + data),
                Target(f"python   {page}", python + page),
                Target(f"python   {uri} (303)", python + uri, "text/turtle"),
                Target(f"uncached {data}", uncached + data),
                Target(f"uncached {page}", uncached + page),
                Target(f"export   {data}", static + data),
                Target(f"export   {page}", static + page),
                Target(f"export   {uri} (303)", static + uri, "text/turtle"),
                Target(f"nginx    /{document.name} (alone)", ceiling),
            ]
            rounds: dict[str, list[Figures]] = {t.name: [] for t in targets}
            for _ in range(args.rounds):  # interleaved, so a busy moment hits every target
                for t in targets:
                    measured = (
                        with_wrk(wrk, t, args.seconds, args.connections)
                        if wrk
                        else with_threads(t, args.seconds, args.connections)
                    )
                    rounds[t.name].append(measured)
            figures = {name: median_round(found) for name, found in rounds.items()}
    report(figures, data, ceiling_name=targets[-1].name, python_name=targets[0].name)
    print(f"load average: {os.getloadavg()}")


def report(figures: dict[str, Figures], data: str, *, ceiling_name: str, python_name: str) -> None:
    ceiling = figures[ceiling_name].requests_per_second
    python = figures[python_name].requests_per_second
    print(f"{'target':<46} {'req/s':>10} {'p99 ms':>8} {'errors':>6} {'/nginx':>7} {'/python':>8}")
    for name, f in figures.items():
        print(
            f"{name:<46} {f.requests_per_second:>10.0f} {f.p99_ms:>8.1f} {f.errors:>6} "
            f"{f.requests_per_second / ceiling:>6.0%} {f.requests_per_second / python:>7.2f}x"
        )
    export = figures[f"export   {data}"].requests_per_second
    verdict = "met" if export >= 0.5 * ceiling else "NOT met"
    print(f"goal: export's data document >= 50% of nginx alone: {export / ceiling:.0%} ({verdict})")
    documents = {name: f.requests_per_second for name, f in figures.items() if "/id/" not in name}
    served = min(rate for name, rate in documents.items() if name.startswith("python "))
    verdict = "met" if served >= PYTHON_GOAL else "NOT met"
    goal = f"goal: the Python server's documents >= {PYTHON_GOAL:,} req/s"
    print(f"{goal}: least {served:,.0f} ({verdict})")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
