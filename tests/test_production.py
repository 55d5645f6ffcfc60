"""The README's production set-up, for real: gunicorn with the shipped settings behind nginx."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.serving import free_port, nginx_command, running

pytestmark = pytest.mark.slow


@contextlib.contextmanager
def production(build_dir: Path, tmp_path: Path) -> Iterator[str]:
    """gunicorn (shipped settings) on one port and nginx (shipped site) in front on another;
    yields nginx's URL."""
    nginx = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None
    )
    if nginx is None:
        pytest.skip("nginx is not installed (Debian: apt-get install nginx); .ci/run installs it")
    if importlib.util.find_spec("gunicorn") is None:
        pytest.skip("gunicorn is not installed: pip install -e '.[prod]'")
    app_port, proxy_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OSCE_KG_")}
    env.update(OSCE_KG_BUILD_DIR=str(build_dir), OSCE_KG_SPARQL_TIMEOUT="6")
    gunicorn = [sys.executable, "-m", "gunicorn", "-c", "python:server.deploy.gunicorn_conf"]
    gunicorn += ["-b", f"127.0.0.1:{app_port}", "server:create_app()"]
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    proxy = nginx_command(nginx, prefix, proxy_port, app_port)
    with (
        running(gunicorn, port=app_port, env=env, start_timeout=60),
        running(proxy, port=proxy_port, env=env, start_timeout=20) as url,
    ):
        yield url


def drip_headers(url: str, stop_at: float, opened: list[socket.socket]) -> None:
    """A slow client: opens a connection and sends its request headers one byte a second."""
    host, port = url.removeprefix("http://").split(":")
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nUser-Agent: " + b"s" * 60
    with socket.create_connection((host, int(port)), timeout=5) as conn:
        opened.append(conn)
        for byte in request:
            if time.monotonic() > stop_at:
                return
            try:
                conn.sendall(bytes([byte]))
            except OSError:
                return  # nginx closed it: its header timeout is what protects the app
            time.sleep(1)


def test_slow_clients_do_not_hold_up_others_behind_nginx(build_dir: Path, tmp_path: Path) -> None:
    with production(build_dir, tmp_path) as url:
        opened: list[socket.socket] = []
        stop_at = time.monotonic() + 20
        drippers = [
            threading.Thread(target=drip_headers, args=(url, stop_at, opened), daemon=True)
            for _ in range(10)
        ]
        for thread in drippers:
            thread.start()
        time.sleep(2)
        assert len(opened) == 10  # all ten are connected and dripping
        simple = "SELECT ?s WHERE { ?s a ?type } LIMIT 3"
        for path, params in (("/healthz", {}), ("/", {}), ("/sparql", {"query": simple})) * 3:
            started = time.monotonic()
            answer = requests.get(url + path, params=params, timeout=10)
            assert answer.status_code == 200, (path, answer.text[:300])
            assert time.monotonic() - started < 5, f"{path} waited behind the slow clients"
        assert all(thread.is_alive() for thread in drippers)  # still dripping meanwhile


def test_the_client_address_reaches_the_app_through_nginx(build_dir: Path, tmp_path: Path) -> None:
    # the third query of one client gets 429: nginx's X-Real-IP names it, the app trusts it
    runaway = (
        "SELECT (COUNT(*) AS ?n) WHERE "
        "{ ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n0 ?o . ?p ?q ?r }"
    )
    with production(build_dir, tmp_path) as url:
        statuses: list[int] = []

        def run_away() -> None:
            response = requests.get(f"{url}/sparql", params={"query": runaway}, timeout=30)
            statuses.append(response.status_code)

        threads = [threading.Thread(target=run_away) for _ in range(2)]
        for thread in threads:
            thread.start()
        time.sleep(1.5)
        third = requests.get(f"{url}/sparql", params={"query": "ASK {}"}, timeout=10)
        other = requests.get(
            f"{url}/sparql", params={"query": "ASK {}"}, headers={"User-Agent": "other"}, timeout=10
        )
        for thread in threads:
            thread.join(30)
        assert third.status_code == 429
        assert third.headers["Retry-After"]
        assert other.status_code == 200
        assert statuses == [503, 503]  # the app's own time limit answered, not nginx's
