"""The production set-up shipped with the server: gunicorn's settings and an nginx site."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def nginx_site() -> Path:
    """The nginx site configuration (``nginx.conf``) shipped in the distribution."""
    return Path(str(files("server.deploy").joinpath("nginx.conf")))
