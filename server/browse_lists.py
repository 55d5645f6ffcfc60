"""What /browse lists: things of a class with their labels and dates, and release facets, by
SPARQL on the served store (values always as bindings)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import pyoxigraph as ox
from flask import current_app

from kg.rdf.vocab import DCTERMS, OSCE, RDFS, SCHEMA, SKOS, XSD
from server.prefixes import with_prefixes
from server.shortnames import HIDDEN_NAMESPACES, entity_name
from server.store import Bindings, ask, current_build, select

LABEL_PROPERTIES = (RDFS.label, SKOS.prefLabel, SCHEMA.name, SCHEMA.headline)
DATE_PROPERTIES = (SCHEMA.datePublished, SCHEMA.startDate)


@dataclass(frozen=True)
class Facet:
    """A way to narrow a list of releases: its parameter, title, and the property it follows
    (None: the year of publication)."""

    name: str
    title: str
    predicate: str | None


FACETS = (
    Facet("year", "Year", None),
    Facet("content_type", "Content type", str(OSCE.contentType)),
    Facet("field", "Field of work", str(DCTERMS.subject)),
    Facet("state", "State", str(OSCE.mentionsState)),
    Facet("structure", "Structure", str(OSCE.mentionsStructure)),
)


@dataclass(frozen=True)
class FacetValue:
    """One value of a facet: its token in the URL, label, how many things, chosen, toggle link."""

    value: str
    label: str
    count: int
    selected: bool
    url: str


@dataclass(frozen=True)
class Filters:
    """The facet values a list is narrowed to: years (any of them), and (facet, IRI) pairs
    (all of them)."""

    years: tuple[int, ...] = ()
    values: tuple[tuple[Facet, str], ...] = ()

    def as_params(self) -> dict[str, list[str]]:
        """The filters as query parameters (a list per facet)."""
        params: dict[str, list[str]] = {}
        for year in self.years:
            params.setdefault("year", []).append(str(year))
        for facet, iri in self.values:
            params.setdefault(facet.name, []).append(entity_name(iri))
        return params

    def toggle(self, facet: Facet, value: int | str) -> Filters:
        """These filters with ``value`` added, or removed when it is in force."""
        if isinstance(value, int):
            years = tuple(y for y in self.years if y != value)
            return Filters(
                years if len(years) < len(self.years) else (*self.years, value), self.values
            )
        pair = (facet, value)
        if pair in self.values:
            return Filters(self.years, tuple(v for v in self.values if v != pair))
        return Filters(self.years, (*self.values, pair))

    def pattern(self) -> tuple[str, dict[str, ox.NamedNode | ox.Literal]]:
        """The graph pattern (on ``?s``) and bindings that keep only things passing the filters."""
        parts: list[str] = []
        bindings: dict[str, ox.NamedNode | ox.Literal] = {}
        if self.years:
            names = []
            for number, year in enumerate(self.years):
                bindings[f"year{number}"] = ox.Literal(
                    str(year), datatype=ox.NamedNode(str(XSD.integer))
                )
                names.append(f"?year{number}")
            years = ", ".join(names)
            parts.append(
                f"?s schema:datePublished ?published . FILTER(YEAR(?published) IN ({years}))"
            )
        for number, (facet, iri) in enumerate(self.values):
            assert facet.predicate is not None
            bindings[f"fp{number}"] = ox.NamedNode(facet.predicate)
            bindings[f"fv{number}"] = ox.NamedNode(iri)
            parts.append(f"?s ?fp{number} ?fv{number} .")
        return "\n  ".join(parts), bindings


@dataclass(frozen=True)
class Item:
    """A thing of a class: its IRI, every label it has, its date (ISO) if it has one."""

    iri: str
    labels: tuple[ox.Literal, ...]
    date: str | None


_CLASS_COUNTS_QUERY = """
SELECT ?class (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?class . FILTER(isIRI(?class)) }
GROUP BY ?class ORDER BY DESC(?n) ?class"""

_HAS_INSTANCES_QUERY = "ASK { ?s a ?class }"

_IS_RELEASE_CLASS_QUERY = with_prefixes("ASK { ?class rdfs:subClassOf* osce:PressRelease }")

# pyoxigraph substitutes only variables a query projects, so every bound variable ({bound}) is
# projected (and grouped by).
_ITEMS_QUERY = """
SELECT ?s ?label ?date {bound} WHERE {{
  ?s a ?class . FILTER(isIRI(?s))
  {pattern}
  OPTIONAL {{ ?s ?lp ?label . FILTER(isLiteral(?label) && ?lp IN ({labels})) }}
  OPTIONAL {{ ?s ?dp ?date . FILTER(?dp IN ({dates})) }}
}}"""

_FACET_QUERY = """
SELECT ?v (COUNT(DISTINCT ?s) AS ?n) {bound} WHERE {{
  ?s a ?class .
  {pattern}
  ?s ?facet ?v .
  FILTER(isIRI(?v))
}} GROUP BY ?v {bound}"""

_YEAR_FACET_QUERY = """
SELECT ?v (COUNT(DISTINCT ?s) AS ?n) {bound} WHERE {{
  ?s a ?class .
  {pattern}
  ?s schema:datePublished ?d .
  BIND(YEAR(?d) AS ?v)
  FILTER(BOUND(?v))
}} GROUP BY ?v {bound}"""


def _projected(bindings: Bindings) -> str:
    return " ".join(f"?{name}" for name in bindings)


def _iris(terms: tuple[object, ...]) -> str:
    return ", ".join(f"<{term}>" for term in terms)


def class_counts() -> list[tuple[str, int]]:
    """Every class with things in it (but the ontology's own machinery) and how many."""
    rows = select(_CLASS_COUNTS_QUERY, {})
    return [
        (row["class"].value, int(row["n"].value))
        for row in rows
        if not row["class"].value.startswith(HIDDEN_NAMESPACES)
    ]


def has_instances(node: ox.NamedNode) -> bool:
    return ask(_HAS_INSTANCES_QUERY, {"class": node})


def is_release_class(node: ox.NamedNode) -> bool:
    """Whether a class is osce:PressRelease or one of its subclasses (listed with facets)."""
    return ask(_IS_RELEASE_CLASS_QUERY, {"class": node})


T = TypeVar("T")
CACHE_KEY = "osce_kg_browse_lists"


@dataclass
class ListCache:
    """Lists and facet counts of the served build, most recently used kept (a build never
    changes, so paging and facet links reuse them): at most ``max_entries`` lists and
    ``max_rows`` rows in all."""

    max_entries: int = 32
    max_rows: int = 500_000
    build: Path | None = None
    entries: OrderedDict[tuple[object, ...], list[object]] = field(default_factory=OrderedDict)
    rows: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def get(self, key: tuple[object, ...], make: Callable[[], list[T]]) -> list[T]:
        root = current_build().root
        with self.lock:
            if self.build != root:
                self.build, self.rows = root, 0
                self.entries.clear()
            if key in self.entries:
                self.entries.move_to_end(key)
                return self.entries[key]  # type: ignore[return-value]
        made = make()
        with self.lock:
            if self.build == root and key not in self.entries:
                self.entries[key] = list(made)
                self.rows += len(made)
                while self.entries and (
                    len(self.entries) > self.max_entries or self.rows > self.max_rows
                ):
                    _, dropped = self.entries.popitem(last=False)
                    self.rows -= len(dropped)
        return made


def cached(key: tuple[object, ...], make: Callable[[], list[T]]) -> list[T]:
    """``make()``, or what it gave before for the same key and build."""
    cache: ListCache = current_app.extensions.setdefault(CACHE_KEY, ListCache())
    return cache.get(key, make)


def list_items(node: ox.NamedNode, filters: Filters) -> list[Item]:
    """Every thing of the class that passes the filters, with its labels and date."""
    return cached(("items", node.value, filters), lambda: _list_items(node, filters))


def _list_items(node: ox.NamedNode, filters: Filters) -> list[Item]:
    pattern, bindings = filters.pattern()
    all_bindings: Bindings = {"class": node, **bindings}
    query = with_prefixes(
        _ITEMS_QUERY.format(
            bound=_projected(all_bindings),
            pattern=pattern,
            labels=_iris(LABEL_PROPERTIES),
            dates=_iris(DATE_PROPERTIES),
        )
    )
    labels: dict[str, dict[ox.Literal, None]] = {}
    dates: dict[str, str] = {}
    for row in select(query, all_bindings):
        iri = row["s"].value
        found = labels.setdefault(iri, {})
        if row["label"] is not None:
            found[row["label"]] = None
        date = row["date"]
        if date is not None and (iri not in dates or date.value < dates[iri]):
            dates[iri] = date.value
    return [Item(iri, tuple(found), dates.get(iri)) for iri, found in labels.items()]


def facet_counts(node: ox.NamedNode, facet: Facet, filters: Filters) -> list[tuple[str, int]]:
    """(value, things) for each value of a facet among the things passing the filters."""
    key = ("facet", node.value, facet, filters)
    return cached(key, lambda: _facet_counts(node, facet, filters))


def _facet_counts(node: ox.NamedNode, facet: Facet, filters: Filters) -> list[tuple[str, int]]:
    pattern, bindings = filters.pattern()
    if facet.predicate is None:
        template = _YEAR_FACET_QUERY
        all_bindings: Bindings = {"class": node, **bindings}
    else:
        template = _FACET_QUERY
        all_bindings = {"class": node, "facet": ox.NamedNode(facet.predicate), **bindings}
    query = with_prefixes(template.format(bound=_projected(all_bindings), pattern=pattern))
    return [(row["v"].value, int(row["n"].value)) for row in select(query, all_bindings)]
