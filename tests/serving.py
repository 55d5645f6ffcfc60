"""Runs a server process on 127.0.0.1 until /healthz answers: for live tests and benchmarks;
writes the nginx configuration of the production set-up with test ports."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import requests

from server.deploy import nginx_site


class ServerStartError(RuntimeError):
    """The server exited, or did not answer /healthz in time."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for_health(url: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    """Polls /healthz until it answers 200; fails if the server dies or takes too long."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerStartError(f"the server exited with {process.returncode} before answering")
        try:
            if requests.get(url + "/healthz", timeout=2).status_code == 200:
                return
        # a timeout: the socket is open (gunicorn's master) but the app is still warming up
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.2)
    raise ServerStartError(f"the server did not answer {url}/healthz within {timeout:g} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stops the server by its pid (SIGTERM, then SIGKILL to its process group)."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@contextlib.contextmanager
def started(
    command: list[str], *, port: int, env: dict[str, str], start_timeout: float
) -> Iterator[subprocess.Popen[bytes]]:
    """Starts ``command`` (a server listening on 127.0.0.1:``port``) in its own session, so it
    and its children share one process group; yields the process once /healthz answers, and
    stops the group afterwards."""
    process = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for_health(f"http://127.0.0.1:{port}", process, start_timeout)
        yield process
    finally:
        stop(process)


@contextlib.contextmanager
def running(
    command: list[str], *, port: int, env: dict[str, str], start_timeout: float
) -> Iterator[str]:
    """``started``, yielding the server's URL."""
    with started(command, port=port, env=env, start_timeout=start_timeout):
        yield f"http://127.0.0.1:{port}"


#: What the shipped site says, replaced by the ports of a test run (each must occur once).
SITE_LISTEN = "listen 80;"
SITE_UPSTREAM = "server 127.0.0.1:8080;"


def nginx_config(prefix: Path, listen: int, upstream: int) -> Path:
    """A whole nginx configuration around the shipped site, everything under ``prefix``."""
    site = nginx_site().read_text(encoding="utf-8")
    for placeholder in (SITE_LISTEN, SITE_UPSTREAM):
        assert site.count(placeholder) == 1, f"the shipped site no longer says {placeholder!r}"
    site = site.replace(SITE_LISTEN, f"listen 127.0.0.1:{listen};")
    site = site.replace(SITE_UPSTREAM, f"server 127.0.0.1:{upstream};")
    return nginx_main_config(prefix, site)


def nginx_main_config(prefix: Path, site: str) -> Path:
    """A whole nginx configuration around a site's text, everything under ``prefix``."""
    (prefix / "site.conf").write_text(site, encoding="utf-8")
    temp = "".join(
        f"    {kind}_temp_path {prefix / kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    # as root, nginx's workers would become "nobody", who cannot enter the test's folders
    user = "user root;\n" if os.geteuid() == 0 else ""
    main = (
        f"{user}daemon off;\nworker_processes 1;\npid {prefix / 'nginx.pid'};\n"
        f"error_log {prefix / 'error.log'} warn;\nevents {{ worker_connections 256; }}\n"
        f"http {{\n    access_log off;\n{temp}    include {prefix / 'site.conf'};\n}}\n"
    )
    path = prefix / "nginx.conf"
    path.write_text(main, encoding="utf-8")
    return path


def nginx_command(nginx: str, prefix: Path, listen: int, upstream: int) -> list[str]:
    """Runs nginx in the foreground with ``nginx_config`` (for ``running``)."""
    return nginx_site_command(nginx, prefix, nginx_config(prefix, listen, upstream))


def nginx_site_command(nginx: str, prefix: Path, config: Path) -> list[str]:
    """Runs nginx in the foreground with a whole configuration (``nginx_main_config``)."""
    return [nginx, "-p", str(prefix), "-c", str(config), "-e", str(prefix / "error.log")]
