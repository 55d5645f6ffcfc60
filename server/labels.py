"""Chooses what a person reads for a node: its label, a per-class fallback, or a readable IRI."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TypeVar

import pyoxigraph as ox
from flask import Flask, current_app, request

from kg.rdf.vocab import OSCE, PREFIXES
from server import urls
from server.cache import BuildCache
from server.prefixes import with_prefixes
from server.store import current_build, select

#: Longest text shown for a quotation or a URL before it is shortened.
MAX_QUOTE = 90
MAX_URL = 70

#: Bytes of label statements a server process keeps per build (``build_memo``): the labels of
#: the things documents link to (source files, classes, States, people) are asked once, not once
#: per document that links to them.
LABEL_CACHE_BYTES = 16_000_000
_LABEL_CACHE_KEY = "osce_kg_labels"

Kept = TypeVar("Kept", bound=tuple[object, ...])

_LABEL_QUERY = with_prefixes("""
SELECT ?x ?label WHERE {
  ?x ?lp ?label .
  FILTER(?lp IN (rdfs:label, skos:prefLabel, schema:name, schema:headline) && isLiteral(?label))
}""")

_TYPES_QUERY = "SELECT DISTINCT ?x ?type WHERE { ?x a ?type . FILTER(isIRI(?type)) }"

# Per class, the parts a fallback label is made of, in order; each part is one variable of the
# query (a node, shown by its own label, or a literal). Only the first solution is used.
_FALLBACK_PARTS = "SELECT ?x ?a ?b ?c WHERE { %s } LIMIT 1"

FALLBACKS: dict[str, tuple[str, str]] = {
    # class IRI -> (pattern binding ?a ?b ?c from ?x, how the parts are shown)
    str(OSCE.Quotation): ("?x schema:text ?a .", "quote"),
    str(OSCE.RoleMention): (
        "OPTIONAL { ?x osce:person ?a } OPTIONAL { ?x osce:roleTitle ?b }"
        " OPTIONAL { ?x osce:roleOrganisation ?c }",
        "join",
    ),
    str(OSCE.Appointment): (
        "OPTIONAL { ?x osce:appointee ?a } OPTIONAL { ?x osce:post ?b }"
        " OPTIONAL { ?x org:organization ?c }",
        "join",
    ),
    str(OSCE.Event): (
        "OPTIONAL { ?x schema:name ?a } OPTIONAL { ?x osce:eventType ?b }"
        " OPTIONAL { ?x schema:startDate ?c }",
        "event",
    ),
    str(OSCE.PressRelease): (
        "OPTIONAL { ?x schema:headline ?a } OPTIONAL { ?x schema:datePublished ?b }",
        "join",
    ),
}


@dataclass(frozen=True)
class Link:
    """Something to show as a link: its text and where it goes (None: plain text)."""

    text: str
    url: str | None


@dataclass(frozen=True)
class Value:
    """An object of a statement: a link, or a literal with its language or datatype."""

    text: str
    url: str | None = None
    note: str = ""
    external: bool = False


def labels_of(node: ox.NamedNode | ox.BlankNode) -> list[ox.Literal]:
    """Every label (rdfs:label, skos:prefLabel, schema:name, headline) of a node, any language;
    an IRI's are asked once per build (``build_memo``)."""
    if isinstance(node, ox.NamedNode):
        return list(build_memo(("labels", node.value), lambda: _ask_labels(node)))
    return list(_ask_labels(node))


def _ask_labels(node: ox.NamedNode | ox.BlankNode) -> tuple[ox.Literal, ...]:
    labels = {row["label"] for row in select(_LABEL_QUERY, {"x": node})}
    return tuple(sorted(labels, key=lambda label: (label.language or "", label.value)))


def build_memo(key: Hashable, compute: Callable[[], Kept]) -> Kept:
    """``compute()``, kept in the app's label cache for the current build: bounded in bytes
    (``LABEL_CACHE_BYTES``, least recently used dropped first) and emptied when a new build is
    served, as the document and SPARQL caches are. Only for what a build never changes (an
    IRI's labels); blank node labels are not stable keys."""
    cache = label_cache()
    build_id = current_build().build_id
    kept = cache.get(build_id, key)
    if kept is None:
        kept = compute()
        cache.put(build_id, key, kept)
    return kept  # type: ignore[return-value]


def is_memoised(key: Hashable) -> bool:
    """Whether the label cache holds ``key`` for the current build."""
    return label_cache().get(current_build().build_id, key) is not None


def memoise(key: Hashable, value: tuple[object, ...]) -> None:
    """Keeps ``value`` under ``key`` in the label cache for the current build."""
    label_cache().put(current_build().build_id, key, value)


def label_cache(app: Flask | None = None) -> BuildCache[tuple[object, ...]]:
    """The cache of label statements of ``app`` (default: the current app), made on first use."""
    extensions = (app or current_app).extensions
    cache: BuildCache[tuple[object, ...]] | None = extensions.get(_LABEL_CACHE_KEY)
    if cache is None:
        cache = extensions.setdefault(_LABEL_CACHE_KEY, BuildCache(LABEL_CACHE_BYTES, _terms_size))
    return cache


def _terms_size(terms: tuple[object, ...]) -> int:
    """About the bytes a kept tuple of terms or quads holds: their N-Triples text."""
    return sum(len(str(term)) for term in terms)


def short_name(node: ox.NamedNode | ox.BlankNode) -> str:
    """The last part of an IRI (after ``#`` or ``/``), for things without a label."""
    if isinstance(node, ox.BlankNode):
        return "_:" + node.value
    return node.value.rstrip("/").rsplit("#", 1)[-1].rsplit("/", 1)[-1] or node.value


def prefixed_name(iri: str) -> str | None:
    """``prefix:Local`` for an IRI in one of the project's known namespaces, else None."""
    for prefix, namespace in PREFIXES.items():
        local = iri.removeprefix(namespace)
        if local != iri and local and "/" not in local and "#" not in local:
            return f"{prefix}:{local}"
    return None


def shorten(text: str, limit: int) -> str:
    """The text, cut in the middle with an ellipsis when longer than ``limit`` characters."""
    if len(text) <= limit:
        return text
    keep = limit - 1
    return text[: keep - keep // 3] + "…" + text[len(text) - keep // 3 :]


def truncate(text: str, limit: int) -> str:
    """The start of a text, cut at a word boundary with an ellipsis when too long."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(",;:.")
    return cut + "…"


def readable_iri(node: ox.NamedNode) -> str:
    """An unlabelled IRI as a reader sees it: ``prefix:Term``, one of our keys, or the URL."""
    named = prefixed_name(node.value)
    if named is not None:
        return named
    if node.value.startswith(urls.base()):
        return short_name(node)
    return shorten(node.value, MAX_URL)


def is_external(node: ox.NamedNode) -> bool:
    """Whether an IRI is outside this dataset and its known vocabularies (a link out)."""
    return not node.value.startswith(urls.base()) and prefixed_name(node.value) is None


@dataclass
class Labeller:
    """Chooses a label per node in the languages a request prefers (English, then any)."""

    languages: list[str]
    cache: dict[str, str] = field(default_factory=dict)

    @classmethod
    def for_request(cls) -> Labeller:
        wanted = [lang.lower() for lang in request.accept_languages.values() if lang != "*"]
        return cls([*wanted, "en"])

    def choose(self, labels: list[ox.Literal]) -> str | None:
        for wanted in self.languages:
            for label in labels:
                lang = (label.language or "").lower()
                if lang == wanted or lang.split("-")[0] == wanted.split("-")[0]:
                    return label.value
        plain = [label.value for label in labels if not label.language]
        if plain:
            return plain[0]
        return labels[0].value if labels else None

    def label(self, node: ox.NamedNode | ox.BlankNode) -> str:
        """The node's label, else a fallback its class gives, else a readable IRI."""
        key = str(node)
        if key not in self.cache:
            self.cache[key] = short_name(node)  # guards against cycles between fallbacks
            found = self.choose(labels_of(node)) or self.fallback(node)
            if found is None:
                found = readable_iri(node) if isinstance(node, ox.NamedNode) else short_name(node)
            self.cache[key] = found
        return self.cache[key]

    def fallback(self, node: ox.NamedNode | ox.BlankNode) -> str | None:
        """A label made from what the node's class says about it (quote text, role, event)."""
        for row in select(_TYPES_QUERY, {"x": node}):
            rule = FALLBACKS.get(row["type"].value)
            if rule is None:
                continue
            pattern, style = rule
            for parts in select(with_prefixes(_FALLBACK_PARTS % pattern), {"x": node}):
                text = self.compose([parts["a"], parts["b"], parts["c"]], style)
                if text:
                    return text
        return None

    def compose(
        self, parts: list[ox.NamedNode | ox.BlankNode | ox.Literal | None], style: str
    ) -> str:
        """The parts of a fallback label as one text, in the class's style."""
        texts = [self.text(part) for part in parts if part is not None]
        if style == "quote":
            return f"“{truncate(texts[0], MAX_QUOTE)}”" if texts else ""
        if style == "event" and parts[0] is None and len(texts) == 2:
            kind, date = texts  # no name: "Conference on 2018-05-03"
            return f"{kind[:1].upper()}{kind[1:]} on {date}"
        if style == "event" and parts[0] is None:
            return " ".join(texts)
        if style == "event":
            return texts[0]
        return ", ".join(texts)

    def text(self, term: ox.NamedNode | ox.BlankNode | ox.Literal) -> str:
        return term.value if isinstance(term, ox.Literal) else self.label(term)

    def link(self, node: ox.NamedNode) -> Link:
        return Link(self.label(node), urls.iri_link(node.value))

    def value(self, term: ox.NamedNode | ox.BlankNode | ox.Literal) -> Value:
        if isinstance(term, ox.NamedNode):
            return Value(self.label(term), urls.iri_link(term.value), external=is_external(term))
        if isinstance(term, ox.BlankNode):
            return Value(self.label(term))
        note = term.language or short_name(term.datatype)
        return Value(term.value, note="" if note == "string" else note)

    def class_link(self, node: ox.NamedNode) -> Link:
        """A class: its label when it is one of ours, else its prefixed name (org:Organization)."""
        named = prefixed_name(node.value)
        if named is None or named.startswith("osce:"):
            return self.link(node)
        return Link(named, urls.iri_link(node.value))
