"""Finished answers kept per build: entity documents and SPARQL results, bounded in bytes.

A published build never changes, so an answer computed once for it stays right until another
build is served. Each cache holds the answers of one build: the first use with a new build id
empties it. Least recently used answers go first when the byte bound is reached, and an answer
larger than a quarter of the bound is not kept (it would push out everything else).

A kept document is the whole HTTP answer as it left the app (status 200, every header the
views and the app's hooks gave it, the body): the fast path (``server/fastpath.py``) sends it
again without Flask. A view says its answer may be kept by ``keep_answer``; the fast path,
which sees the finished answer, keeps it.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from cachetools import LRUCache
from flask import Flask, Response, current_app, request
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from kg.errors import ConfigError
from server.conneg import HTML
from server.query import QueryAnswer
from server.responses import conditional as answer_conditionally
from server.store import current_build

EXTENSION_KEY = "osce_kg_caches"

#: Bytes counted for an entry besides its body: the key, the record, the LRU's bookkeeping.
ENTRY_OVERHEAD = 512
#: An entry larger than this share of a cache's bound is answered but not kept.
LARGEST_SHARE = 4

#: WSGI environ key: where a view leaves what the fast path needs to keep its answer (a Keep).
KEEP = "osce_kg.keep"
#: WSGI environ key: the fast path already looked for this document in the cache (and missed).
LOOKED_UP = "osce_kg.looked_up"

Value = TypeVar("Value")


@dataclass(frozen=True)
class CacheStats:
    """How a cache is doing: for /healthz and the benchmarks."""

    hits: int
    misses: int
    entries: int
    bytes: int
    max_bytes: int

    def as_json(self) -> dict[str, int]:
        return {
            "hits": self.hits,
            "misses": self.misses,
            "entries": self.entries,
            "bytes": self.bytes,
            "max_bytes": self.max_bytes,
        }


class BuildCache(Generic[Value]):
    """A thread-safe LRU map from keys to the answers of one build, bounded in bytes."""

    def __init__(self, max_bytes: int, size_of: Callable[[Value], int]) -> None:
        self.max_bytes = max(0, max_bytes)
        self._size_of = size_of
        self._entries: LRUCache[Hashable, Value] = LRUCache(
            maxsize=max(1, self.max_bytes), getsizeof=self._entry_size
        )
        self._build_id: str | None = None
        self._lock = threading.Lock()
        self._hits = 0
        self._misses = 0

    def _entry_size(self, value: Value) -> int:
        return self._size_of(value) + ENTRY_OVERHEAD

    def _follow(self, build_id: str) -> None:
        """Empties the cache when the build changed (holding the lock)."""
        if build_id != self._build_id:
            self._entries.clear()
            self._build_id = build_id

    def get(self, build_id: str, key: Hashable) -> Value | None:
        """The answer kept for ``key`` in build ``build_id``, or None."""
        if not self.max_bytes:
            return None
        with self._lock:
            self._follow(build_id)
            value = self._entries.get(key)
            if value is None:
                self._misses += 1
            else:
                self._hits += 1
            return value

    def put(self, build_id: str, key: Hashable, value: Value) -> bool:
        """Keeps an answer of build ``build_id``; False when it is too large to keep."""
        if self._entry_size(value) * LARGEST_SHARE > self.max_bytes:
            return False
        with self._lock:
            self._follow(build_id)
            self._entries[key] = value
        return True

    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(
                self._hits,
                self._misses,
                len(self._entries),
                int(self._entries.currsize),
                self.max_bytes,
            )


@dataclass(frozen=True)
class CachedDocument:
    """A finished answer (200, or an entity URI's 303): its body and every header it was sent
    with (in order)."""

    body: bytes
    headers: tuple[tuple[str, str], ...]
    #: Whether a repeat answers If-None-Match / If-Modified-Since (documents: ETag and
    #: Last-Modified); SPARQL answers and redirects carry no validators.
    conditional: bool = True
    #: The WSGI status line it was sent with.
    status: str = "200 OK"

    def size(self) -> int:
        return len(self.body) + sum(len(name) + len(value) for name, value in self.headers)


#: What the SPARQL cache holds: answers by query job, and finished HTTP answers by request.
KeptResult = QueryAnswer | CachedDocument


@dataclass(frozen=True)
class Keep:
    """A view's word that its answer may be kept: where, for which build, under which key."""

    cache: BuildCache[Any]
    build_id: str
    key: Hashable
    conditional: bool = True


@dataclass(frozen=True)
class Caches:
    """An app's caches: entity documents (data and pages) and SPARQL results."""

    documents: BuildCache[CachedDocument]
    #: answers by QueryJob (any format, for the pool's work) and finished HTTP answers (by
    #: ``server.sparql.response_key``, for the fast path); a body held by both is counted twice
    results: BuildCache[KeptResult]

    def stats(self) -> dict[str, dict[str, int]]:
        return {
            "documents": self.documents.stats().as_json(),
            "results": self.results.stats().as_json(),
        }


def _bytes_setting(config: Mapping[str, Any], name: str) -> int:
    value = config[name]
    try:
        number = int(value)
    except (TypeError, ValueError) as error:
        raise ConfigError(
            f"setting {name}={value!r} is not a number of bytes; set OSCE_KG_{name} to one "
            "(0 turns the cache off)"
        ) from error
    if number < 0:
        raise ConfigError(f"setting {name}={number} is negative; set OSCE_KG_{name} to 0 or more")
    return number


def _result_size(kept: KeptResult) -> int:
    return kept.size() if isinstance(kept, CachedDocument) else len(kept.body)


def init_app(app: Flask) -> None:
    """Gives the app its caches, sized by ``DOCUMENT_CACHE_BYTES`` and ``SPARQL_CACHE_BYTES``."""
    app.extensions[EXTENSION_KEY] = Caches(
        documents=BuildCache(
            _bytes_setting(app.config, "DOCUMENT_CACHE_BYTES"), CachedDocument.size
        ),
        results=BuildCache(_bytes_setting(app.config, "SPARQL_CACHE_BYTES"), _result_size),
    )


def caches_of(app: Flask) -> Caches:
    """The caches ``app`` was made with."""
    caches: Caches = app.extensions[EXTENSION_KEY]
    return caches


@functools.lru_cache(maxsize=1024)
def languages_of(accept_language: str | None) -> str:
    """The languages an Accept-Language header asks for, best first, as werkzeug reads them."""
    return ",".join(parse_accept_header(accept_language, LanguageAccept).values())


def document_key(environ: Mapping[str, Any], media_type: str) -> tuple[str, bytes, str, str]:
    """What names a kept document: path, query string, media type and, for HTML, the
    languages asked for. Made from the WSGI environ, so the view and the fast path agree."""
    path = _path(environ)
    query = str(environ.get("QUERY_STRING", "")).encode("latin-1")
    html = media_type == HTML.media_type
    languages = languages_of(environ.get("HTTP_ACCEPT_LANGUAGE")) if html else ""
    return (path, query, media_type, languages)


def redirect_key(environ: Mapping[str, Any]) -> tuple[str, bytes, str, str]:
    """What names a kept 303 of an entity URI: path, query string and the Accept header as sent
    (the redirect's target is negotiated from it alone)."""
    query = str(environ.get("QUERY_STRING", "")).encode("latin-1")
    return (_path(environ), query, "303", str(environ.get("HTTP_ACCEPT", "")))


def _path(environ: Mapping[str, Any]) -> str:
    """The request path as werkzeug decodes it (``request.path``)."""
    raw = str(environ.get("PATH_INFO") or "").encode("latin-1").decode("utf-8", "replace")
    return "/" + raw.lstrip("/")


def keep_answer(keep: Keep) -> None:
    """Lets the fast path keep the answer of the running request once it is finished."""
    request.environ[KEEP] = keep


def cached_document(media_type: str, make: Callable[[], Response]) -> Response:
    """The document kept for this build, path, query string, media type (and, for HTML, the
    languages asked for); else ``make()``'s answer, kept (by the fast path, headers and all)
    when it is a whole 200 document.

    The fast path answers repeats before Flask; a hit here (a request the fast path did not
    look up) answers conditional requests (304) from the kept headers, ETag included.
    """
    return _kept_or_made(document_key(request.environ, media_type), make, 200, conditional=True)


def cached_redirect(make: Callable[[], Response]) -> Response:
    """The 303 kept for this build, entity URI and Accept header (``redirect_key``); else
    ``make()``'s answer, kept when it is a 303 (a 404 or 406 is not)."""
    return _kept_or_made(redirect_key(request.environ), make, 303, conditional=False)


def _kept_or_made(
    key: Hashable, make: Callable[[], Response], status: int, *, conditional: bool
) -> Response:
    build_id = current_build().build_id
    cache = caches_of(current_app).documents
    kept = None if request.environ.get(LOOKED_UP) else cache.get(build_id, key)
    if kept is not None:
        response = Response(kept.body, status=kept.status, headers=list(kept.headers))
        if conditional:
            answer_conditionally(response)
        response.headers["X-Cache"] = "hit"
        return response
    response = make()
    if response.status_code == status and not response.is_streamed:
        keep_answer(Keep(cache, build_id, key, conditional))
    response.headers["X-Cache"] = "miss"
    return response
