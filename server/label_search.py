"""The search index of the served build: the build's own, or one the server makes for a build
made before builds had one (written atomically into the server's cache folder)."""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
from flask import Flask, current_app

from kg.publish.search_index import (
    Name,
    SearchIndex,
    SearchIndexError,
    choose_name,
    search_index_file,
    write_search_index,
)
from server.shortnames import term_name
from server.store import Build, current_build, open_store

log = logging.getLogger(__name__)

EXTENSION_KEY = "osce_kg_search"
#: Seconds after which an index the server made and nobody read is removed (a week).
CACHE_MAX_AGE = 7 * 24 * 3600.0


@dataclass
class SearchIndexes:
    """The index of the build being served, opened (or made) once per build."""

    cache_dir: Path
    _index: tuple[Path, SearchIndex] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def for_build(self, build: Build) -> SearchIndex:
        found = self._index
        if found is not None and found[0] == build.root and found[1].path.exists():
            return found[1]
        with self._lock:
            found = self._index
            if found is None or found[0] != build.root or not found[1].path.exists():
                found = (build.root, open_index(build, self.cache_dir))
                self._index = found
        return found[1]


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/osce-kg/search`` (``~/.cache`` when unset)."""
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(root) / "osce-kg" / "search"


def cached_index_file(build: Build, cache_dir: Path) -> Path:
    """Where the server keeps the index it made for a build: named by the build's id and a
    digest of its folder and store, so a rebuilt folder of the same name gets a new one."""
    store = build.layout.store
    stamp = f"{os.path.realpath(build.root)}\x1f{store.stat().st_mtime_ns}"
    digest = hashlib.sha256(stamp.encode("utf-8")).hexdigest()[:16]
    return cache_dir / f"{build.build_id}-{digest}.sqlite"


def open_index(build: Build, cache_dir: Path) -> SearchIndex:
    """The build's index; else the server's cached one; else a new one made from the store."""
    shipped = search_index_file(build.layout)
    if shipped.is_file():
        try:
            return SearchIndex(shipped)
        except SearchIndexError as error:
            log.warning("%s; making the server's own index instead", error)
    cached = cached_index_file(build, cache_dir)
    if cached.is_file():
        try:
            index = SearchIndex(cached)
            os.utime(cached)  # in use: prune_cache keeps it
            return index
        except SearchIndexError as error:
            log.warning("%s; making it again", error)
    log.info("build %s has no search index: writing %s", build.build_id, cached)
    # the build's own store on disk (also when the server answers from an external store)
    local = build.store if isinstance(build.store, ox.Store) else open_store(build.layout.store)[0]
    write_search_index(local, cached, source=build.build_id)  # type: ignore[arg-type]
    prune_cache(cache_dir, keep=cached)
    return SearchIndex(cached)


def prune_cache(cache_dir: Path, *, keep: Path, max_age: float = CACHE_MAX_AGE) -> list[Path]:
    """Removes indexes the server made and no server opened for ``max_age`` seconds (builds
    long replaced; opening one touches it); a server still serving such a build makes its
    index again."""
    removed = []
    now = time.time()
    for path in cache_dir.glob("*.sqlite"):
        try:
            if path != keep and now - path.stat().st_mtime > max_age:
                path.unlink()
                removed.append(path)
        except FileNotFoundError:
            continue  # another process removed it first
    return removed


def init_app(app: Flask) -> None:
    """Keeps the served build's search index on the app (made on first use)."""
    configured = app.config.get("SEARCH_CACHE_DIR")
    cache_dir = Path(configured) if configured else default_cache_dir()
    app.extensions[EXTENSION_KEY] = SearchIndexes(cache_dir)


def current_index() -> SearchIndex:
    """The search index of the build the running app serves."""
    indexes: SearchIndexes = current_app.extensions[EXTENSION_KEY]
    return indexes.for_build(current_build())


#: The six languages of the OSCE, in the order the search form offers them.
OSCE_LANGUAGES = {
    "en": "English",
    "fr": "French",
    "de": "German",
    "it": "Italian",
    "ru": "Russian",
    "es": "Spanish",
}


@dataclass(frozen=True)
class TypeRef:
    """A class as search and reconciliation answers show it: short name, IRI, label."""

    id: str
    iri: str
    label: str


def type_ref(index: SearchIndex, iri: str, languages: list[str]) -> TypeRef:
    """A class with its label from the index (its short name when it has none)."""
    name = term_name(iri)
    return TypeRef(name, iri, choose_name(class_names(index, iri), languages) or name)


@functools.lru_cache(maxsize=1024)
def class_names(index: SearchIndex, iri: str) -> tuple[Name, ...]:
    """The labels of a class, read once per index: the few classes label every answer."""
    return index.names_of(iri)
