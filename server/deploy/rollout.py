"""Rolls a new build out to replicas behind nginx without a failed request (blue/green).

Each replica is an ``osce-kg serve`` (or gunicorn) process over its own copy of one immutable
build. A roll-out: copy the new build once per replica, export its static documents, start the
new replicas on free ports and wait until each answers /healthz with the new build; then write
the nginx site with the new upstream servers and reload nginx (SIGHUP to its master): new
connections go to the new replicas while nginx's old worker processes finish the requests they
hold. Once those old workers have exited, no request can reach the old replicas, which are then
stopped by their pids. Anything failing before the switch stops the new replicas and leaves the
old ones serving. ``DEPLOY/replicas.json`` records what runs.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import requests

from kg.errors import OsceKgError
from kg.publish.layout import BUILDS, CURRENT
from server.deploy import static_site_text

log = logging.getLogger(__name__)

STATE_FILE = "replicas.json"
LOCK_FILE = ".lock"
REPLICAS = "replicas"
STATIC = "static"
#: nginx's cache of SPARQL answers (keyed by the export, so by the build)
NGINX_CACHE = "nginx-cache"
LOGS = "logs"
#: Ports a replica is started on at most, when another process takes each before it binds.
PORT_ATTEMPTS = 5
#: `osce-kg serve` in this interpreter
SERVE = [sys.executable, "-c", "from server.cli import main; main()", "serve"]
GUNICORN = [sys.executable, "-m", "gunicorn", "-c", "python:server.deploy.gunicorn_conf"]


#: The replicas this process started, by pid: kept so each is waited for when it stops.
_STARTED: dict[int, subprocess.Popen[bytes]] = {}


class RolloutError(OsceKgError):
    """A roll-out could not be done; the replicas that served before still serve."""


@dataclass(frozen=True)
class Replica:
    """One running server: its port, process id and the build folder it serves."""

    port: int
    pid: int
    folder: str


@dataclass(frozen=True)
class ReplicaSet:
    """What ``DEPLOY/replicas.json`` records: the build served and its replicas."""

    build_id: str | None = None
    replicas: tuple[Replica, ...] = ()

    @classmethod
    def read(cls, deploy_dir: Path) -> ReplicaSet:
        path = deploy_dir / STATE_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError) as error:
            raise RolloutError(f"{path}: unreadable ({error}); fix or remove it") from error
        return cls(data["build_id"], tuple(Replica(**r) for r in data["replicas"]))

    def write(self, deploy_dir: Path) -> None:
        path = deploy_dir / STATE_FILE
        partial = path.with_suffix(".partial")
        data = {"build_id": self.build_id, "replicas": [asdict(r) for r in self.replicas]}
        partial.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        os.replace(partial, path)


@dataclass(frozen=True)
class RolloutPlan:
    """Where and how to roll a build out."""

    build_dir: Path
    deploy_dir: Path
    replicas: int
    ports: range
    #: the nginx site file this writes (included by nginx's configuration)
    site_file: Path
    #: nginx's pid file; a missing file means nginx is not running yet (the site is written)
    nginx_pid_file: Path
    listen: str = "80"
    server: str = "serve"  # or "gunicorn"
    start_timeout: float = 120.0
    #: seconds nginx's old workers get to finish their requests (above its proxy_read_timeout)
    drain_timeout: float = 90.0
    #: OSCE_KG_* settings for the replicas (the caller's environment otherwise)
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))


@dataclass(frozen=True)
class RolloutResult:
    build_id: str
    started: tuple[Replica, ...]
    stopped: tuple[Replica, ...]
    reloaded: bool
    seconds: float


def rollout(
    plan: RolloutPlan, *, export: Callable[[Path, Path], object] | None = None
) -> RolloutResult:
    """Serves the build ``plan.build_dir/current`` from new replicas and retires the old ones.

    ``export(build_dir, out_dir)`` writes the static export (``osce-kg export-static``).
    """
    began = time.monotonic()
    source = Path(os.path.realpath(plan.build_dir / CURRENT))
    if not (source / "store").is_dir():
        raise RolloutError(
            f"{plan.build_dir}/current: no completed build; run `osce-kg build` first"
        )
    for sub in (REPLICAS, STATIC, LOGS, NGINX_CACHE):
        (plan.deploy_dir / sub).mkdir(parents=True, exist_ok=True)
    with deploy_lock(plan.deploy_dir):
        return _roll_out(plan, source, export, began)


@contextlib.contextmanager
def deploy_lock(deploy_dir: Path) -> Iterator[None]:
    """One roll-out at a time per deploy folder (the lock dies with its process)."""
    with (deploy_dir / LOCK_FILE).open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno in (errno.EAGAIN, errno.EACCES):
                raise RolloutError(
                    f"{deploy_dir}: another roll-out is running; wait for it to finish"
                ) from error
            raise
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _roll_out(
    plan: RolloutPlan, source: Path, export: Callable[[Path, Path], object] | None, began: float
) -> RolloutResult:
    build_id = source.name
    old = ReplicaSet.read(plan.deploy_dir)
    ports = free_ports(plan.ports, plan.replicas, taken={r.port for r in old.replicas})
    started: list[Replica] = []
    try:
        for port in ports:
            folder = copy_build(source, plan.deploy_dir / REPLICAS / f"{build_id}-{port}")
            started.append(start_replica(plan, folder, port))
        avoid = {r.port for r in old.replicas} | set(ports)
        for number in range(len(started)):
            serve_or_move(plan, started, number, build_id, avoid)
        if export is not None:
            export(Path(started[0].folder), plan.deploy_dir / STATIC)
        upstreams = [f"127.0.0.1:{r.port}" for r in started]
        reloaded = switch_nginx(plan, upstreams)
    except BaseException:
        for replica in started:
            stop_replica(replica)
            shutil.rmtree(replica.folder, ignore_errors=True)
        raise
    ReplicaSet(build_id, tuple(started)).write(plan.deploy_dir)
    for replica in old.replicas:
        stop_replica(replica)
        if replica.folder not in {r.folder for r in started}:
            shutil.rmtree(replica.folder, ignore_errors=True)
    return RolloutResult(build_id, tuple(started), old.replicas, reloaded, time.monotonic() - began)


def serve_or_move(
    plan: RolloutPlan, started: list[Replica], number: int, build_id: str, avoid: set[int]
) -> None:
    """Waits until ``started[number]`` serves the build. When it exited because another process
    took its port between the probe and its bind, starts the same copy again on another free
    port of ``plan.ports`` (at most ``PORT_ATTEMPTS`` times) and records it in ``started``.
    ``avoid`` gathers the ports tried."""
    for attempt in range(1, PORT_ATTEMPTS + 1):
        replica = started[number]
        try:
            wait_until_serving(replica, build_id, plan.start_timeout)
            return
        except RolloutError:
            # another failure than its port, or the last attempt: the roll-out stops
            if attempt == PORT_ATTEMPTS or is_running(replica.pid) or not port_in_use(replica.port):
                raise
        stop_replica(replica)
        (port,) = free_ports(plan.ports, 1, taken=avoid)
        avoid.add(port)
        log.warning(
            "port %d was taken before the replica bound it; starting it on %d", replica.port, port
        )
        folder = Path(replica.folder).with_name(f"{build_id}-{port}")
        os.replace(replica.folder, folder)
        started[number] = start_replica(plan, folder, port)


def port_in_use(port: int) -> bool:
    """Whether another process holds ``port`` on 127.0.0.1 (binding it fails)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def free_ports(ports: range, count: int, *, taken: set[int]) -> list[int]:
    """``count`` ports of ``ports`` that the old replicas do not use and nobody listens on."""
    found: list[int] = []
    for port in ports:
        if port in taken or port_in_use(port):
            continue
        found.append(port)
        if len(found) == count:
            return found
    raise RolloutError(
        f"only {len(found)} of the {count} ports the new replicas need are free in "
        f"{ports.start}-{ports.stop - 1}; give a wider --ports range"
    )


def copy_build(source: Path, replica_dir: Path) -> Path:
    """A build directory of the replica's own: a copy of the build and its ``current`` link."""
    shutil.rmtree(replica_dir, ignore_errors=True)
    target = replica_dir / BUILDS / source.name
    try:
        shutil.copytree(source, target, symlinks=True)
    except OSError as error:
        raise RolloutError(f"copying {source} to {target} failed ({error})") from error
    os.symlink(Path(BUILDS) / source.name, replica_dir / CURRENT)
    return replica_dir


def replica_command(plan: RolloutPlan, folder: Path, port: int) -> tuple[list[str], dict[str, str]]:
    env = dict(plan.env)
    env["OSCE_KG_BUILD_DIR"] = str(folder)
    if plan.server == "gunicorn":
        return [*GUNICORN, "-b", f"127.0.0.1:{port}", "server:create_app()"], env
    return [*SERVE, "--build", str(folder), "--host", "127.0.0.1", "--port", str(port)], env


def start_replica(plan: RolloutPlan, folder: Path, port: int) -> Replica:
    """Starts a replica in its own session (it and its query workers share a process group)."""
    command, env = replica_command(plan, folder, port)
    log_file = plan.deploy_dir / LOGS / f"replica-{port}.log"
    with log_file.open("ab") as output:
        process = subprocess.Popen(
            command,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=output,
            start_new_session=True,
        )
    _STARTED[process.pid] = process
    return Replica(port, process.pid, str(folder))


def wait_until_serving(replica: Replica, build_id: str, timeout: float) -> None:
    """Waits until the replica's /healthz names the build; fails if it dies or takes too long."""
    deadline = time.monotonic() + timeout
    url = f"http://127.0.0.1:{replica.port}/healthz"
    while time.monotonic() < deadline:
        if not is_running(replica.pid):
            raise RolloutError(
                f"the replica on port {replica.port} exited before serving; see its log"
            )
        with contextlib.suppress(requests.RequestException, ValueError):
            answer = requests.get(url, timeout=5)
            if answer.status_code == 200 and answer.json().get("build") == build_id:
                return
        time.sleep(0.2)
    raise RolloutError(f"the replica on port {replica.port} did not serve within {timeout:g} s")


def is_running(pid: int) -> bool:
    """Whether a process of ours with this pid is alive (a zombie counts as gone)."""
    started = _STARTED.get(pid)
    if started is not None:
        return started.poll() is None
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def switch_nginx(plan: RolloutPlan, upstreams: Sequence[str]) -> bool:
    """Writes the site with the new upstreams and reloads nginx, waiting for its old workers to
    finish; False when nginx is not running yet (the site is written for its start)."""
    site = static_site_text(
        listen=plan.listen,
        upstreams=upstreams,
        export_dir=plan.deploy_dir / STATIC,
        cache_dir=plan.deploy_dir / NGINX_CACHE,
    )
    previous = plan.site_file.read_text(encoding="utf-8") if plan.site_file.exists() else None
    write_atomically(plan.site_file, site)
    master = nginx_master(plan.nginx_pid_file)
    if master is None:
        return False
    old_workers = children_of(master)
    os.kill(master, signal.SIGHUP)
    try:
        wait_for_new_workers(master, old_workers, timeout=10.0)
    except RolloutError:
        if previous is not None:
            write_atomically(plan.site_file, previous)
        raise
    deadline = time.monotonic() + plan.drain_timeout
    while time.monotonic() < deadline and any(is_running(pid) for pid in old_workers):
        time.sleep(0.1)
    lingering = [pid for pid in old_workers if is_running(pid)]
    if lingering:
        log.warning("nginx workers %s still run; stopping the old replicas anyway", lingering)
    return True


def write_atomically(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def nginx_master(pid_file: Path) -> int | None:
    """The nginx master's pid from its pid file, or None when nginx is not running."""
    try:
        pid = int(pid_file.read_text(encoding="utf-8").strip())
    except (FileNotFoundError, ValueError):
        return None
    return pid if is_running(pid) else None


def children_of(pid: int) -> set[int]:
    """The processes whose parent is ``pid`` (nginx's workers)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and fields[0] != "Z":
                found.add(int(entry.name))
    return found


def wait_for_new_workers(master: int, old: set[int], *, timeout: float) -> None:
    """Waits for nginx to start workers with the new configuration; an nginx that refused the
    configuration keeps its old ones and starts none."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if children_of(master) - old:
            return
        time.sleep(0.05)
    raise RolloutError(
        "nginx did not take the new site (no new worker after the reload); "
        "see nginx's error log (nginx -t names the problem)"
    )


def stop_replica(replica: Replica, *, timeout: float = 10.0) -> None:
    """Stops a replica by its pid (SIGTERM, then SIGKILL to its process group), if it is ours."""
    if not is_running(replica.pid) or not _is_replica(replica):
        exited = _STARTED.pop(replica.pid, None)
        if exited is not None and exited.poll() is not None:
            exited.wait()  # reaped
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(replica.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and is_running(replica.pid):
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(replica.pid, signal.SIGKILL)  # its session: it and its query workers
    started = _STARTED.pop(replica.pid, None)
    if started is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            started.wait(timeout=timeout)


def _is_replica(replica: Replica) -> bool:
    """True when the pid still runs the replica's command (a pid may be reused)."""
    try:
        command = Path(f"/proc/{replica.pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return False
    return str(replica.port).encode() in command
