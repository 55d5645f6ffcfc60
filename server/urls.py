"""Builds every URL of the site: the one place where links and redirect targets are made."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from flask import current_app, url_for

from kg.rdf.uris import DEFAULT_BASE, split_entity_path
from server.store import current_build


def base() -> str:
    """The base IRI the running app looks up IRIs under: the configured one, else the one the
    served build was made with, else the default."""
    configured: str | None = current_app.config.get("BASE")
    if configured:
        return configured
    return current_build().base or DEFAULT_BASE


def id_url(kind: str, key: str) -> str:
    """``/id/{kind}/{key}``: the local path of an entity URI."""
    return url_for("entities.resolve", kind=kind, key=key)


def id_prefix() -> str:
    """``/id/``: where entity URIs are served; ``{id_prefix}{kind}/{key}`` is one."""
    return id_url("kind", "key").removesuffix("kind/key")


def page_url(kind: str, key: str, *, page: int | None = None) -> str:
    """``/page/{kind}/{key}``: the HTML document about an entity."""
    if page and page > 1:
        return url_for("entities.page", kind=kind, key=key, page=page)
    return url_for("entities.page", kind=kind, key=key)


def data_url(kind: str, key: str, extension: str, *, page: int | None = None) -> str:
    """``/data/{kind}/{key}.{extension}``: an RDF document about an entity."""
    name = f"{key}.{extension}"
    if page and page > 1:
        return url_for("entities.data", kind=kind, name=name, page=page)
    return url_for("entities.data", kind=kind, name=name)


def local_url(iri: str) -> str:
    """A link for an IRI: its path on this site when it is under the base, else the IRI itself."""
    prefix = base()
    if not iri.startswith(prefix):
        return iri
    rest = iri[len(prefix) :]
    entity = split_entity_path(rest)
    if entity is not None:
        return id_url(*entity)
    path, _, fragment = rest.partition("#")
    if path == "ontology":
        return ontology_url(fragment or None)
    return iri


#: Schemes a data IRI may link out with. Anything else (``javascript:``, ``data:``, ``file:``...)
#: is shown as text: an IRI in the data must never run code or open a local resource on a click.
LINKABLE_SCHEME = re.compile(r"(?:https?|mailto):", re.IGNORECASE)


def iri_link(iri: str) -> str | None:
    """The href for a data IRI, or None when it must be shown as text: the only way a template or
    view turns an IRI it did not mint into a link."""
    url = local_url(iri)
    if url != iri:
        return url
    return iri if LINKABLE_SCHEME.match(iri) else None


def ontology_url(term: str | None = None, *, extension: str | None = None) -> str:
    """``/ontology`` (``#Term`` for a term; ``?format=`` for an RDF form)."""
    url = url_for("pages.ontology", format=extension) if extension else url_for("pages.ontology")
    return f"{url}#{term}" if term else url


def shapes_url(*, extension: str | None = None) -> str:
    return url_for("pages.shapes", format=extension) if extension else url_for("pages.shapes")


def home_url() -> str:
    return url_for("pages.home")


def health_url() -> str:
    return url_for("pages.health")


def sparql_url(query: str | None = None) -> str:
    """``/sparql``, with a query to run when given."""
    if query is None:
        return "/sparql"
    return "/sparql?" + urlencode({"query": query})


def dumps_url() -> str:
    return url_for("dumps.index")


def dump_file_url(name: str) -> str:
    return url_for("dumps.dump_file", name=name)


def void_url(*, extension: str | None = None) -> str:
    return url_for("dumps.void", format=extension) if extension else url_for("dumps.void")


def report_url(*, extension: str | None = None) -> str:
    if extension:
        return url_for("dumps.validation_report", format=extension)
    return url_for("dumps.validation_report")


def quarantine_url(*, extension: str | None = None) -> str:
    """``/report/quarantine`` (``.json`` for the JSON document)."""
    if extension == "json":
        return url_for("dumps.quarantine_json")
    return url_for("dumps.quarantine")


def context_url() -> str:
    """``/context.jsonld``: the JSON-LD context the data documents refer to."""
    return url_for("pages.jsonld_context")


def static_url(filename: str) -> str:
    return url_for("static", filename=filename)


def browse_url(name: str | None = None, *, extension: str | None = None, **params: Any) -> str:
    """``/browse/`` (every class) or ``/browse/{class}`` (``.json``/``.csv``), with query
    parameters (a list value repeats its parameter)."""
    if name is None:
        return url_for("browse.classes")
    path = url_for("browse.listing", name=f"{name}.{extension}" if extension else name)
    pairs = query_pairs(params)
    return f"{path}?{urlencode(pairs)}" if pairs else path


def search_url(**params: object) -> str:
    """``/search``: the search page, with query parameters (``q``, ``lang``, ``page``...)."""
    pairs = query_pairs(params)
    return f"{url_for('search.page')}?{urlencode(pairs)}" if pairs else url_for("search.page")


def search_api_url() -> str:
    """``/api/search``: label search as JSON."""
    return url_for("search.api")


def reconcile_url() -> str:
    """``/reconcile``: the W3C Reconciliation API service."""
    return url_for("reconcile.service")


def query_pairs(params: dict[str, object]) -> list[tuple[str, object]]:
    """Query parameters as pairs: a list value repeats its parameter, None is left out."""
    return [
        (key, item)
        for key, value in params.items()
        if value is not None
        for item in (value if isinstance(value, list | tuple) else [value])
    ]
