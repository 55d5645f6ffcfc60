"""Runs the shipped static site on 127.0.0.1: `osce-kg serve` replicas behind nginx over an
export (for the static-export and replica tests and bench_static.py)."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

from server.deploy import static_site_text
from tests.serving import free_port, nginx_main_config, nginx_site_command, running

#: `osce-kg serve` in this interpreter (no console script needed)
SERVE = [sys.executable, "-c", "from server.cli import main; main()", "serve"]


def find_nginx() -> str | None:
    """nginx's path, or None when it is not installed (Debian: apt-get install nginx)."""
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None
    )


def server_env(**settings: str) -> dict[str, str]:
    """The environment without the caller's OSCE_KG_* settings, plus ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OSCE_KG_")}
    env.update(settings)
    return env


@contextlib.contextmanager
def python_server(build_dir: Path, **settings: str) -> Iterator[str]:
    """`osce-kg serve --build build_dir` on a free port; yields its URL."""
    port = free_port()
    command = [*SERVE, "--build", str(build_dir), "--port", str(port)]
    with running(command, port=port, env=server_env(**settings), start_timeout=60) as url:
        yield url


def write_static_site(prefix: Path, export_dir: Path, upstreams: list[str]) -> tuple[Path, int]:
    """The whole nginx configuration of the shipped static site under ``prefix``, listening on
    a free port; returns the configuration's path and the port."""
    listen = free_port()
    site = static_site_text(
        listen=f"127.0.0.1:{listen}",
        upstreams=upstreams,
        export_dir=export_dir,
        cache_dir=prefix / "answers",
    )
    prefix.mkdir(parents=True, exist_ok=True)
    return nginx_main_config(prefix, site), listen


@contextlib.contextmanager
def static_nginx(nginx: str, prefix: Path, export_dir: Path, upstreams: list[str]) -> Iterator[str]:
    """nginx with the shipped static site in front of ``upstreams``; yields its URL."""
    config, listen = write_static_site(prefix, export_dir, upstreams)
    command = nginx_site_command(nginx, prefix, config)
    with running(command, port=listen, env=server_env(), start_timeout=20) as url:
        yield url
