"""The server's limits, read once from the settings when the app is made."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, current_app

from kg.errors import ConfigError

EXTENSION_KEY = "osce_kg_limits"

_Number = TypeVar("_Number", int, float)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Limits:
    """What a request may cost: seconds and rows per query, query size, SERVICE endpoints,
    the query workers and their memory, queries at once, and incoming links per entity page."""

    #: Seconds before a query is stopped and answered 503.
    timeout: float
    #: Result rows (or triples) at most, announced, never silently cut.
    max_rows: int
    #: The largest query text accepted, in bytes.
    max_query_bytes: int
    #: SERVICE endpoints a query may call.
    service_allowlist: tuple[str, ...]
    #: Worker processes that run queries.
    workers: int
    #: The heap a query worker may use, in MB (0: no limit).
    worker_memory_mb: int
    #: Incoming links per page of an entity document.
    page_size: int
    #: How deep brackets may nest in a query (deeper ones crash recursive parsers).
    max_nesting: int = 64
    #: Worker processes at most: the pool grows from ``workers`` idle ones up to this.
    max_workers: int = 8
    #: Seconds a query waits for a worker when ``max_workers`` are busy (then 503).
    worker_wait: float = 1.0
    #: How much lower the query workers' CPU priority is than the web process's (os.nice).
    worker_nice: int = 19
    #: Queries one client (address and User-Agent) may have running at once (then 429).
    max_per_client: int = 2
    #: Queries running or waiting for a worker at once, from all clients (then 503).
    max_queries: int = 16
    #: Proxies whose X-Real-IP / X-Forwarded-For name the client (addresses or networks).
    trusted_proxies: tuple[Network, ...] = ()

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Limits:
        """The limits the settings give; ConfigError names a setting that is not a number."""
        return cls(
            timeout=_number(config, "SPARQL_TIMEOUT", float),
            max_rows=_number(config, "SPARQL_MAX_ROWS", int),
            max_query_bytes=_number(config, "MAX_QUERY_BYTES", int),
            service_allowlist=_iri_list(config, "SPARQL_SERVICE_ALLOWLIST"),
            workers=_number(config, "SPARQL_WORKERS", int),
            worker_memory_mb=_number(config, "SPARQL_WORKER_MEMORY_MB", int),
            page_size=_number(config, "PAGE_SIZE", int),
            max_nesting=_number(config, "SPARQL_MAX_NESTING", int),
            max_workers=_at_least(
                config, "SPARQL_MAX_WORKERS", _number(config, "SPARQL_WORKERS", int)
            ),
            worker_wait=_number(config, "SPARQL_WORKER_WAIT", float),
            worker_nice=_number(config, "SPARQL_WORKER_NICE", int),
            max_per_client=_at_least(config, "SPARQL_MAX_PER_CLIENT", 1),
            max_queries=_at_least(config, "SPARQL_MAX_QUERIES", 1),
            trusted_proxies=_networks(config, "TRUSTED_PROXIES"),
        )


def _number(config: Mapping[str, Any], name: str, kind: Callable[[Any], _Number]) -> _Number:
    value = config[name]
    try:
        return kind(value)
    except (TypeError, ValueError) as error:
        raise ConfigError(
            f"setting {name}={value!r} is not a number; set OSCE_KG_{name} to one"
        ) from error


def _at_least(config: Mapping[str, Any], name: str, least: int) -> int:
    value = _number(config, name, int)
    if value < least:
        raise ConfigError(f"setting {name}={value} is below {least}; set OSCE_KG_{name} higher")
    return value


def _networks(config: Mapping[str, Any], name: str) -> tuple[Network, ...]:
    value = config[name]
    hint = f'set OSCE_KG_{name} to a JSON list such as ["127.0.0.1", "10.0.0.0/8"]'
    if not isinstance(value, (list, tuple)):
        raise ConfigError(f"setting {name}={value!r} is not a list of addresses; {hint}")
    try:
        return tuple(ipaddress.ip_network(str(item), strict=False) for item in value)
    except ValueError as error:
        raise ConfigError(f"setting {name}={value!r}: {error}; {hint}") from error


def _iri_list(config: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = config[name]
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
        raise ConfigError(
            f"setting {name}={value!r} is not a list of IRIs; set OSCE_KG_{name} to a JSON "
            'list such as ["https://query.wikidata.org/sparql"]'
        )
    return tuple(value)


def init_app(app: Flask) -> None:
    """Reads the limits from the app's settings once; the settings are final by now."""
    app.extensions[EXTENSION_KEY] = Limits.from_config(app.config)


def limits_of(app: Flask) -> Limits:
    """The limits ``app`` was made with."""
    limits: Limits = app.extensions[EXTENSION_KEY]
    return limits


def current_limits() -> Limits:
    """The limits of the running app."""
    return limits_of(current_app)
