"""The production set-up shipped with the server: gunicorn's settings and nginx sites."""

from __future__ import annotations

from collections.abc import Sequence
from importlib.resources import files
from pathlib import Path

#: What the shipped static site says, replaced by ``static_site_text`` (each occurs as shown).
STATIC_LISTEN = "listen 80;"
STATIC_UPSTREAM = "    server 127.0.0.1:8080;\n"
STATIC_EXPORT = "/srv/osce-kg/static"
STATIC_CACHE = "/var/cache/nginx/osce-kg"


def nginx_site() -> Path:
    """The nginx site configuration (``nginx.conf``) shipped in the distribution."""
    return Path(str(files("server.deploy").joinpath("nginx.conf")))


def nginx_static_site() -> Path:
    """The nginx site with static entity documents (``nginx-static.conf``)."""
    return Path(str(files("server.deploy").joinpath("nginx-static.conf")))


def static_site_text(
    *, listen: str, upstreams: Sequence[str], export_dir: Path, cache_dir: Path | None = None
) -> str:
    """The static site with its listen address, upstream servers (``host:port``, one or more
    replicas), export folder (what ``osce-kg export-static`` was given) and the folder of nginx's
    cache of SPARQL answers (default: the shipped ``/var/cache/nginx/osce-kg``) filled in."""
    if not upstreams:
        raise ValueError("the static site needs at least one upstream server")
    site = nginx_static_site().read_text(encoding="utf-8")
    for placeholder, times in ((STATIC_LISTEN, 1), (STATIC_UPSTREAM, 1), (STATIC_CACHE, 1)):
        if site.count(placeholder) != times:
            raise ValueError(f"{nginx_static_site()} no longer says {placeholder.strip()!r}")
    folder = _nginx_path(export_dir)
    servers = "".join(f"    server {address};\n" for address in upstreams)
    site = site.replace(STATIC_LISTEN, f"listen {listen};").replace(STATIC_UPSTREAM, servers)
    if cache_dir is not None:
        site = site.replace(STATIC_CACHE, _nginx_path(cache_dir))
    return site.replace(STATIC_EXPORT, folder)


def _nginx_path(folder: Path) -> str:
    """The folder's absolute path as nginx's configuration can take it (ValueError if not)."""
    path = str(folder.resolve())
    if any(c in path for c in " \t\n;{}\"'$#\\"):
        raise ValueError(f"{path}: nginx cannot take this folder name; choose a plain path")
    return path
