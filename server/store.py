"""Opens a built knowledge graph read-only for the server: its store, dumps and reports."""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox
from flask import Flask, current_app

from kg.errors import ConfigError
from kg.publish.layout import CURRENT, BuildLayout
from kg.publish.summary import BuildSummary
from kg.rdf.uris import normalise_base
from server.query import union_default_graph

log = logging.getLogger(__name__)

EXTENSION_KEY = "osce_kg_build"


@dataclass(frozen=True)
class Build:
    """One completed build, resolved once: its folder, store and summary."""

    root: Path
    store: ox.Store
    summary: BuildSummary = field(default_factory=BuildSummary)
    built_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @functools.cached_property
    def base(self) -> str | None:
        """The base IRI the build was made with (its summary), normalised; None if unrecorded."""
        return normalise_base(self.summary.base) if self.summary.base else None

    @property
    def layout(self) -> BuildLayout:
        """Where the build's store, dumps and report are."""
        return BuildLayout(self.root)

    @property
    def build_id(self) -> str:
        """The build's folder name (``.builds/<build-id>``)."""
        return self.root.name

    def etag_for(self, *parts: str) -> str:
        """A strong validator for a document of this build: changes whenever the build does."""
        digest = hashlib.sha256("\x1f".join((self.build_id, *parts)).encode("utf-8"))
        return digest.hexdigest()[:32]


def resolve_build_root(build_dir: str | os.PathLike[str]) -> Path:
    """``DIR/current`` resolved to the real ``.builds/<build-id>`` folder, checked for a store."""
    current = Path(build_dir) / CURRENT
    root = Path(os.path.realpath(current))
    if not BuildLayout(root).store.is_dir():
        raise ConfigError(
            f"{current}: no completed build there (no store folder); "
            f"run `osce-kg build --out {build_dir}` to make one"
        )
    return root


def read_summary(layout: BuildLayout) -> BuildSummary:
    """The build's ``summary.json``, or an empty summary when it is missing or unreadable."""
    path = layout.summary_file
    try:
        return BuildSummary.read(path)
    except FileNotFoundError:
        log.warning("%s: missing; the site shows no build summary", path)
    except (OSError, ValueError) as error:
        log.warning("%s: unreadable (%s); the site shows no build summary", path, error)
    return BuildSummary()


def build_time(layout: BuildLayout, summary: BuildSummary) -> datetime:
    """When the build was made: ``build_time`` of its summary, else when the summary was written."""
    if summary.build_time:
        try:
            return datetime.fromisoformat(summary.build_time).astimezone(UTC).replace(microsecond=0)
        except ValueError:
            log.warning(
                "%s: build_time %r is not an ISO date-time", layout.report, summary.build_time
            )
    written = layout.summary_file
    stamp = (written if written.exists() else layout.root).stat().st_mtime
    return datetime.fromtimestamp(int(stamp), UTC)


def open_build(build_dir: str | os.PathLike[str]) -> Build:
    """Resolves ``DIR/current`` once and opens that build's store read-only."""
    layout = BuildLayout(resolve_build_root(build_dir))
    try:
        store = ox.Store.read_only(str(layout.store))
    except (OSError, RuntimeError) as error:  # RuntimeError: RocksDB found corruption
        raise ConfigError(
            f"{layout.store}: cannot open the store read-only ({error}); "
            f"rebuild with `osce-kg build --out {build_dir}`"
        ) from error
    log.info("serving build %s from %s", layout.build_id, layout.root)
    summary = read_summary(layout)
    return Build(layout.root, store, summary, build_time(layout, summary))


@dataclass
class BuildWatcher:
    """The build being served, swapped for a newer one when ``DIR/current`` moves.

    ``DIR/current`` is looked at most once per ``interval`` seconds; a new build is opened
    before it replaces the old one, and a build that fails to open is logged and skipped.
    Requests that already hold the old build finish with it.
    """

    build_dir: str
    interval: float
    build: Build
    _checked: float = field(default=0.0, repr=False)
    _refused: Path | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def current(self) -> Build:
        """The newest completed build (re-checked at most once per interval)."""
        now = time.monotonic()
        if now - self._checked < self.interval:
            return self.build
        with self._lock:
            if now - self._checked >= self.interval:
                self._checked = now
                self._follow_current()
        return self.build

    def _follow_current(self) -> None:
        real = Path(os.path.realpath(Path(self.build_dir) / CURRENT))
        if real in (self.build.root, self._refused):
            return
        try:
            self.build = open_build(self.build_dir)
        except ConfigError as error:
            self._refused = real  # warn once per broken build, not once a second
            log.warning(
                "a new build appeared but cannot be served (%s); serving %s still",
                error,
                self.build.build_id,
            )


def init_app(app: Flask) -> None:
    """Opens the configured build and keeps it (and later builds) on the app for every request."""
    build_dir = app.config["BUILD_DIR"]
    interval = float(app.config.get("BUILD_CHECK_INTERVAL", 1.0))
    app.extensions[EXTENSION_KEY] = BuildWatcher(build_dir, interval, open_build(build_dir))


def served_build(app: Flask) -> Build:
    """The build ``app`` serves (the newest published one); needs no request or app context."""
    watcher: BuildWatcher = app.extensions[EXTENSION_KEY]
    return watcher.current()


def current_build() -> Build:
    """The build the running app serves (the newest published one)."""
    return served_build(current_app)


def current_store() -> ox.Store:
    """The read-only pyoxigraph store of the build the running app serves."""
    return current_build().store


Bindings = Mapping[str, ox.NamedNode | ox.BlankNode | ox.Literal]


def select(query: str, bindings: Bindings, *, union: bool = True) -> ox.QuerySolutions:
    """Runs a SELECT on the served store; values come in as bindings, never as query text."""
    result = _run(query, bindings, union)
    if not isinstance(result, ox.QuerySolutions):
        raise TypeError(f"not a SELECT query: {query}")
    return result


def construct(query: str, bindings: Bindings, *, union: bool = True) -> list[ox.Triple]:
    """Runs a CONSTRUCT on the served store and returns its distinct triples in order."""
    result = _run(query, bindings, union)
    if not isinstance(result, ox.QueryTriples):
        raise TypeError(f"not a CONSTRUCT query: {query}")
    return list(dict.fromkeys(result))


def ask(query: str, bindings: Bindings, *, union: bool = True) -> bool:
    """Runs an ASK on the served store."""
    return bool(_run(query, bindings, union))


def _run(
    query: str, bindings: Bindings, union: bool
) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
    substitutions: dict[ox.Variable, ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple] = {
        ox.Variable(name): value for name, value in bindings.items()
    }
    store = current_store()
    union = union and union_default_graph(store)  # a build with the merge reads it instead
    return store.query(query, substitutions=substitutions, use_default_graph_as_union=union)
