"""The osce-kg linked-data server: SPARQL endpoint, entity URIs, dumps and pages."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask
from flask_cors import CORS
from werkzeug.exceptions import HTTPException

from kg.rdf.uris import normalise_base
from kg.settings import BASE_ENV
from server import (
    admission,
    bidi,
    browse,
    cache,
    dumps,
    entities,
    fastpath,
    headers,
    label_search,
    limits,
    pages,
    pool,
    reconcile,
    responses,
    search,
    sparql,
    store,
    urls,
)

#: Settings and their defaults; each can be set by an ``OSCE_KG_<NAME>`` environment variable.
DEFAULTS: dict[str, Any] = {
    "BUILD_DIR": "build",  # the folder `osce-kg build --out` wrote
    "BUILD_CHECK_INTERVAL": 1.0,  # seconds between looks at BUILD_DIR/current for a new build
    "SPARQL_TIMEOUT": 30.0,  # seconds before a query is stopped and answered 503
    "SPARQL_MAX_ROWS": 10_000,  # result rows at most, announced, never silently cut
    "SPARQL_SERVICE_ALLOWLIST": [],  # SERVICE endpoints a query may call (none by default)
    "MAX_QUERY_BYTES": 100_000,  # the largest query text accepted
    "SPARQL_MAX_NESTING": 64,  # how deep { ( [ may nest in a query (refused with 400 beyond)
    "SPARQL_WORKERS": 2,  # idle query worker processes kept ready (killed and replaced on timeout)
    "SPARQL_MAX_WORKERS": 8,  # query worker processes at most, started as queries need them
    "SPARQL_WORKER_WAIT": 1.0,  # seconds a query waits when every worker is busy (then 503)
    "SPARQL_WORKER_NICE": 19,  # how much lower the query workers' CPU priority is (os.nice)
    "SPARQL_MAX_PER_CLIENT": 2,  # queries one client (address + User-Agent) may run at once (429)
    "SPARQL_MAX_QUERIES": 16,  # queries running or waiting at once, all clients (503 beyond)
    "TRUSTED_PROXIES": ["127.0.0.1", "::1"],  # proxies whose X-Real-IP names the client
    "SPARQL_WORKER_MEMORY_MB": 2048,  # heap a query worker may use (0: no limit)
    "PAGE_SIZE": 100,  # incoming links per page of an entity document
    "MAX_CONTENT_LENGTH": 1_000_000,  # the largest request body accepted
    "PUBLIC_URL": None,  # the endpoint's public address in its Service Description (None: BASE's)
    "SEARCH_CACHE_DIR": None,  # where a search index is made for an older build (None: ~/.cache)
    "SPARQL_ENDPOINT": None,  # an external SPARQL store's query URL to answer from (None: own)
    "STORE": "disk",  # where the served store lives: disk (read-only) or memory (a copy)
    "WARM_START": None,  # start and warm the query workers before serving (None: unless TESTING)
    "DOCUMENT_CACHE_BYTES": 64_000_000,  # entity documents kept per build (0: none)
    "SPARQL_CACHE_BYTES": 64_000_000,  # SPARQL answers kept per build (0: none)
}


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Wires the app: settings (defaults, environment, test_config), build store, blueprints."""
    app = Flask(__name__)
    # BASE stays None unless set ($OSCE_KG_BASE or test_config): then the base the served build
    # was made with (its summary) names the IRIs, so a build under a custom base serves as is.
    app.config.from_mapping(DEFAULTS, BASE=os.environ.get(BASE_ENV) or None)
    app.config.from_prefixed_env("OSCE_KG")
    if test_config is not None:
        app.config.from_mapping(test_config)
    if app.config["BASE"]:
        app.config["BASE"] = normalise_base(app.config["BASE"])
    app.config["BUILD_DIR"] = os.fspath(app.config["BUILD_DIR"])

    bidi.init_app(app)
    headers.init_app(app)
    limits.init_app(app)
    store.init_app(app)
    pool.init_app(app)
    admission.init_app(app)
    label_search.init_app(app)
    cache.init_app(app)
    CORS(
        app,
        send_wildcard=True,
        expose_headers=["ETag", "Last-Modified", "Link", "Content-Location", "Vary"],
    )
    blueprints = (pages.bp, entities.bp, dumps.bp, sparql.bp, browse.bp, search.bp, reconcile.bp)
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    app.register_error_handler(HTTPException, responses.render_error)
    app.jinja_env.globals["urls"] = urls
    fastpath.init_app(app)
    return app
