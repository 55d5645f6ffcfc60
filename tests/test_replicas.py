"""Replicas behind the shipped static site: a new build rolls out under load with no failed
request (`osce-kg rollout`: new replicas, nginx reload, old replicas stopped by pid)."""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from server.cli import cli
from server.deploy.rollout import (
    ReplicaSet,
    RolloutError,
    RolloutPlan,
    deploy_lock,
    is_running,
    rollout,
    stop_replica,
)
from server.export import export_build
from tests.conftest import TEST_BUILD_ID, make_test_build
from tests.serving import free_port, nginx_main_config, nginx_site_command, running
from tests.static_site import find_nginx, server_env

pytestmark = pytest.mark.slow

SECOND_BUILD = "20240106T000000Z-second"
#: what the load asks for, in turn: documents (static and not), a redirect, a query, dumps
LOAD = [
    ("/data/state/at.ttl", {}),
    ("/page/state/at", {}),
    ("/data/state/at.ttl?page=1", {}),  # the server, not the export
    ("/id/state/at", {"Accept": "text/turtle"}),
    ("/sparql?query=ASK%7B%3Fs%20%3Fp%20%3Fo%7D", {"Accept": "application/sparql-results+json"}),
    ("/dumps/", {"Accept": "application/json"}),
    ("/healthz", {}),
]


def publish_second_build(build_dir: Path) -> None:
    """A new build of the same data (another id and time), published as `osce-kg build` does."""
    builds = build_dir / ".builds"
    shutil.copytree(builds / TEST_BUILD_ID, builds / SECOND_BUILD)
    summary_file = builds / SECOND_BUILD / "report" / "summary.json"
    summary = json.loads(summary_file.read_text(encoding="utf-8"))
    summary.update(build_id=SECOND_BUILD, build_time="2024-01-06T00:00:00Z")
    summary_file.write_text(json.dumps(summary), encoding="utf-8")
    os.symlink(Path(".builds") / SECOND_BUILD, build_dir / "current.new")
    os.replace(build_dir / "current.new", build_dir / "current")


class Load:
    """CONNECTIONS clients sending LOAD in turn until stopped; every answer is counted."""

    def __init__(self, url: str, connections: int) -> None:
        self.url = url
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.answers = 0
        self.failures: list[str] = []
        self.resent = 0  # requests sent again after a kept-alive connection was closed
        self.builds: Counter[str] = Counter()
        self.threads = [
            threading.Thread(target=self.client, args=(n,), daemon=True) for n in range(connections)
        ]

    def client(self, number: int) -> None:
        with requests.Session() as session:
            # As browsers and curl do, a GET sent on a kept-alive connection the server closed
            # meanwhile (nginx's old workers close idle ones on a reload) is sent again, once.
            # Answers with any status are never retried.
            stale = Retry(total=1, connect=1, read=1, status=0, other=0, allowed_methods={"GET"})
            session.mount("http://", HTTPAdapter(max_retries=stale))
            session.headers["User-Agent"] = f"load-client-{number}"  # its own client to the limits
            turn = number
            while not self.stop.is_set():
                path, headers = LOAD[turn % len(LOAD)]
                turn += 1
                try:
                    answer = session.get(
                        self.url + path, headers=headers, allow_redirects=False, timeout=30
                    )
                    failure = None if answer.status_code in (200, 303) else str(answer.status_code)
                    retried = bool(answer.raw.retries and answer.raw.retries.history)
                except requests.RequestException as error:
                    failure = repr(error)
                    retried = False
                with self.lock:
                    self.answers += 1
                    self.resent += retried
                    if failure is not None:
                        self.failures.append(f"{path}: {failure}")
                    elif path == "/healthz":
                        self.builds[answer.json()["build"]] += 1

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(60)


@pytest.fixture
def deploy(tmp_path: Path) -> Iterator[Path]:
    """The deploy folder; every replica recorded there is stopped after the test."""
    folder = tmp_path / "deploy"
    yield folder
    for replica in ReplicaSet.read(folder).replicas:
        stop_replica(replica)


def replica_ports_start(width: int = 40) -> int:
    """The first of ``width`` ports for replicas, below the kernel's ephemeral range: a port
    picked there can be taken by an outgoing connection (the load client's, nginx's to a
    replica) between the probe and the replica's bind, as the shipped default 8101-8120 never
    is. Busy ports in the window are skipped by the roll-out itself."""
    low = 32768
    with contextlib.suppress(OSError, ValueError):
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    top = max(low - width, 10_001)
    return random.randrange(10_000, top)


def test_a_new_build_rolls_out_under_load_without_a_failed_request(
    tmp_path: Path, deploy: Path
) -> None:
    nginx = find_nginx()
    if nginx is None:
        pytest.skip("nginx is not installed (Debian: apt-get install nginx); .ci/run installs it")
    build = make_test_build(tmp_path / "build")
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    config = nginx_main_config(prefix, "")  # includes prefix/site.conf, which rollout writes
    listen, first_port = free_port(), replica_ports_start()
    plan = RolloutPlan(
        build_dir=build,
        deploy_dir=deploy,
        replicas=2,
        ports=range(first_port, first_port + 40),
        site_file=prefix / "site.conf",
        nginx_pid_file=prefix / "nginx.pid",
        listen=f"127.0.0.1:{listen}",
        env=server_env(),
    )
    first = rollout(plan, export=export_build)
    assert first.build_id == TEST_BUILD_ID and len(first.started) == 2 and not first.reloaded
    command = nginx_site_command(nginx, prefix, config)
    with running(command, port=listen, env=server_env(), start_timeout=20) as url:
        with Load(url, connections=4) as load:
            time.sleep(3)
            before = load.answers
            publish_second_build(build)
            second = rollout(plan, export=export_build)
            during = load.answers - before
            time.sleep(3)
        document = requests.get(url + "/data/state/at.ttl", timeout=10)
    print(
        f"roll-out under load: {load.answers} requests ({during} during the roll-out of "
        f"{second.seconds:.1f} s), {len(load.failures)} failed, {load.resent} sent again on a "
        "new connection"
    )
    assert load.failures == []
    assert during > 0  # the load went on while the new build rolled out
    assert second.reloaded and second.build_id == SECOND_BUILD
    assert set(load.builds) == {TEST_BUILD_ID, SECOND_BUILD}  # both served, in turn
    assert {r.port for r in second.started}.isdisjoint({r.port for r in first.started})
    assert not any(is_running(r.pid) for r in first.started)  # the old replicas are stopped
    assert all(is_running(r.pid) for r in second.started)
    assert not any(Path(r.folder).exists() for r in first.started)
    # the export is the new build's too
    assert document.headers["Last-Modified"] == "Sat, 06 Jan 2024 00:00:00 GMT"
    recorded = ReplicaSet.read(deploy)
    assert recorded.build_id == SECOND_BUILD and recorded.replicas == second.started


def test_a_replica_that_cannot_serve_leaves_the_old_ones_serving(
    tmp_path: Path, deploy: Path
) -> None:
    build = make_test_build(tmp_path / "build")
    site = tmp_path / "site.conf"
    first_port = replica_ports_start()
    plan = RolloutPlan(
        build_dir=build,
        deploy_dir=deploy,
        replicas=1,
        ports=range(first_port, first_port + 40),
        site_file=site,
        nginx_pid_file=tmp_path / "no-nginx.pid",
        listen="127.0.0.1:8",
        env=server_env(),
        start_timeout=60,
    )
    first = rollout(plan, export=export_build)
    written = site.read_text(encoding="utf-8")
    # a second build whose store is broken: its replica cannot open it
    publish_second_build(build)
    store = build / ".builds" / SECOND_BUILD / "store"
    shutil.rmtree(store)
    store.mkdir()
    (store / "CURRENT").write_text("nonsense\n", encoding="utf-8")
    result = CliRunner().invoke(
        cli,
        [
            "rollout",
            "--build",
            str(build),
            "--deploy",
            str(deploy),
            "--replicas",
            "1",
            "--ports",
            f"{first_port}-{first_port + 39}",
            "--nginx-site",
            str(site),
            "--nginx-pid",
            str(tmp_path / "no-nginx.pid"),
        ],
    )
    assert result.exit_code == 2, result.output
    assert "exited before serving" in result.output
    assert site.read_text(encoding="utf-8") == written  # nginx still points at the old one
    assert ReplicaSet.read(deploy).replicas == first.started
    assert is_running(first.started[0].pid)
    port = first.started[0].port
    assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10).json()["build"] == (
        TEST_BUILD_ID
    )


def test_one_roll_out_at_a_time(tmp_path: Path, deploy: Path) -> None:
    build = make_test_build(tmp_path / "build")
    deploy.mkdir()
    plan = RolloutPlan(
        build_dir=build,
        deploy_dir=deploy,
        replicas=1,
        ports=range(8101, 8102),  # never reached: the lock is held
        site_file=tmp_path / "site.conf",
        nginx_pid_file=tmp_path / "nginx.pid",
    )
    with deploy_lock(deploy), pytest.raises(RolloutError, match="another roll-out is running"):
        rollout(plan)
    assert not (deploy / "replicas.json").exists() and not plan.site_file.exists()
