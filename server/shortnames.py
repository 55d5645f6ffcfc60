"""The short names browse, search and reconciliation use for classes, properties and things."""

from __future__ import annotations

import pyoxigraph as ox

from kg.rdf.uris import DEFAULT_BASE
from kg.rdf.vocab import ONTOLOGY_NS, PREFIXES
from server import urls

#: Namespaces whose terms are never browsed or reconciled against (the ontology's own machinery).
HIDDEN_NAMESPACES = (PREFIXES["owl"], PREFIXES["rdf"], PREFIXES["rdfs"], PREFIXES["sh"])


def term_name(iri: str) -> str:
    """A class or property as a short name: ``PressRelease`` for the OSCE ontology's terms,
    ``org:Organization`` for a known namespace, else the IRI itself."""
    if iri.startswith(ONTOLOGY_NS):
        local = iri[len(ONTOLOGY_NS) :]
        if local and "/" not in local and "#" not in local:
            return local
    for prefix, namespace in PREFIXES.items():
        local = iri.removeprefix(namespace)
        if local != iri and local and "/" not in local and "#" not in local:
            return f"{prefix}:{local}"
    return iri


def term_iri(name: str) -> str | None:
    """The IRI a short name (or a full IRI) stands for; None for an unknown prefix."""
    if "://" in name:
        return name
    prefix, colon, local = name.partition(":")
    if not colon:
        return ONTOLOGY_NS + name if name else None
    namespace = PREFIXES.get(prefix)
    return namespace + local if namespace and local else None


def id_prefixes() -> tuple[str, ...]:
    """Where the things of this dataset are named: ``{base}id/`` (and the default base's, which
    names the shipped SKOS concepts)."""
    return tuple(dict.fromkeys((urls.base() + "id/", DEFAULT_BASE + "id/")))


def entity_name(iri: str) -> str:
    """A thing's short id: ``state/at`` for ``{base}id/state/at``, else the IRI itself."""
    for prefix in id_prefixes():
        if iri.startswith(prefix) and len(iri) > len(prefix):
            return iri[len(prefix) :]
    return iri


def entity_iri(name: str) -> str:
    """The IRI a short id (or a full IRI) stands for, under the served base."""
    if "://" in name:
        return name
    return id_prefixes()[0] + name


def browse_link(class_iri: str) -> str | None:
    """``/browse/{class}`` for a class with a short name, else None."""
    name = term_name(class_iri)
    return urls.browse_url(name) if name != class_iri else None


def named_node(iri: str | None) -> ox.NamedNode | None:
    """The IRI as a pyoxigraph node, or None when it is not a valid IRI (``a b``, ``<x>``)."""
    if iri is None:
        return None
    try:
        return ox.NamedNode(iri)
    except ValueError:
        return None
