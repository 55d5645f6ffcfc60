"""`osce-kg rollout` when another process takes a replica's port between the probe and the
replica's bind: the replica is started again on another free port and the roll-out succeeds."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from server.deploy import rollout as rollout_module
from server.deploy.rollout import ReplicaSet, RolloutError, RolloutPlan, rollout, stop_replica
from tests.conftest import TEST_BUILD_ID, make_test_build
from tests.static_site import server_env
from tests.test_replicas import replica_ports_start

pytestmark = pytest.mark.slow


@pytest.fixture
def deploy(tmp_path: Path) -> Iterator[Path]:
    """The deploy folder; every replica recorded there is stopped after the test."""
    folder = tmp_path / "deploy"
    yield folder
    for replica in ReplicaSet.read(folder).replicas:
        stop_replica(replica)


def held(port: int) -> socket.socket:
    """A socket listening on ``port`` of 127.0.0.1, as another program would hold it."""
    holder = socket.socket()
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.bind(("127.0.0.1", port))
    holder.listen()
    return holder


def plan_for(tmp_path: Path, deploy: Path, ports: range) -> RolloutPlan:
    return RolloutPlan(
        build_dir=make_test_build(tmp_path / "build"),
        deploy_dir=deploy,
        replicas=2,
        ports=ports,
        site_file=tmp_path / "site.conf",
        nginx_pid_file=tmp_path / "no-nginx.pid",  # nginx not running: the site is written
        listen="127.0.0.1:8",
        env=server_env(),
        start_timeout=60,
    )


def test_a_replica_whose_port_was_taken_starts_on_another(
    tmp_path: Path, deploy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = replica_ports_start()
    plan = plan_for(tmp_path, deploy, range(first, first + 40))
    holders: list[socket.socket] = []
    probe = rollout_module.free_ports

    def free_then_taken(ports: range, count: int, *, taken: set[int]) -> list[int]:
        found = probe(ports, count, taken=taken)
        if not holders:  # the first probe's first port is taken before its replica binds it
            holders.append(held(found[0]))
        return found

    monkeypatch.setattr(rollout_module, "free_ports", free_then_taken)
    try:
        result = rollout(plan)
        taken = holders[0].getsockname()[1]
    finally:
        for holder in holders:
            holder.close()
    ports = [replica.port for replica in result.started]
    assert taken not in ports and len(set(ports)) == 2
    assert all(port in plan.ports for port in ports)
    for port in ports:
        health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10).json()
        assert health["build"] == TEST_BUILD_ID
    site = plan.site_file.read_text(encoding="utf-8")
    assert all(f"127.0.0.1:{port}" in site for port in ports)
    assert f"127.0.0.1:{taken};" not in site
    assert ReplicaSet.read(deploy).replicas == result.started
    # the moved replica's copy is named after its new port; the old name is gone
    folders = sorted(path.name for path in (deploy / "replicas").iterdir())
    assert folders == sorted(f"{TEST_BUILD_ID}-{port}" for port in ports)


def test_when_every_port_left_is_taken_the_roll_out_fails_cleanly(
    tmp_path: Path, deploy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = replica_ports_start()
    plan = plan_for(tmp_path, deploy, range(first, first + 40))
    holders: list[socket.socket] = []
    probe = rollout_module.free_ports

    def always_taken(ports: range, count: int, *, taken: set[int]) -> list[int]:
        found = probe(ports, count, taken=taken)
        holders.extend(held(port) for port in found)  # every port found is taken at once
        return found

    monkeypatch.setattr(rollout_module, "free_ports", always_taken)
    try:
        with pytest.raises(RolloutError, match="exited before serving"):
            rollout(plan)
    finally:
        for holder in holders:
            holder.close()
    assert not (deploy / "replicas.json").exists()
    assert not plan.site_file.exists()
    assert list((deploy / "replicas").iterdir()) == []
