"""The server's limits, read once from the settings when the app is made."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, current_app

from kg.errors import ConfigError

EXTENSION_KEY = "osce_kg_limits"

_Number = TypeVar("_Number", int, float)


@dataclass(frozen=True)
class Limits:
    """What a request may cost: seconds and rows per query, query size, SERVICE endpoints,
    the query workers and their memory, and incoming links per entity page."""

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
        )


def _number(config: Mapping[str, Any], name: str, kind: Callable[[Any], _Number]) -> _Number:
    value = config[name]
    try:
        return kind(value)
    except (TypeError, ValueError) as error:
        raise ConfigError(
            f"setting {name}={value!r} is not a number; set OSCE_KG_{name} to one"
        ) from error


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
