"""Chooses the media type of every response of the server from Accept and ``format=``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from werkzeug.datastructures import MIMEAccept
from werkzeug.exceptions import NotAcceptable
from werkzeug.http import parse_accept_header


@dataclass(frozen=True)
class Offer:
    """One representation the server can produce.

    ``key`` is the short name a ``format=`` parameter may give (``ttl``, ``json``...);
    ``aliases`` are other media types (and other short names) that ask for the same thing.
    """

    key: str
    media_type: str
    aliases: tuple[str, ...] = ()
    charset: bool = False

    @property
    def content_type(self) -> str:
        """The ``Content-Type`` header value of a response in this representation."""
        return f"{self.media_type}; charset=utf-8" if self.charset else self.media_type

    def names(self) -> tuple[str, ...]:
        """Every name ``format=`` may use for this offer, lower case."""
        return (self.key, self.media_type, *self.aliases)


HTML = Offer("html", "text/html", ("application/xhtml+xml",), charset=True)

# SELECT results, in the order a client that accepts anything gets them.
SPARQL_JSON = Offer("json", "application/sparql-results+json", ("application/json", "srj"))
SPARQL_XML = Offer("xml", "application/sparql-results+xml", ("application/xml", "text/xml", "srx"))
SPARQL_CSV = Offer("csv", "text/csv", charset=True)
SPARQL_TSV = Offer("tsv", "text/tab-separated-values", charset=True)

# Graphs (CONSTRUCT, DESCRIBE, entity documents, the Service Description).
TURTLE = Offer("ttl", "text/turtle", ("turtle", "application/x-turtle"), charset=True)
N_TRIPLES = Offer("nt", "application/n-triples", ("ntriples", "n-triples"))
JSON_LD = Offer("jsonld", "application/ld+json", ("json-ld", "application/json"))
RDF_XML = Offer("rdf", "application/rdf+xml", ("rdfxml", "rdf/xml", "application/xml", "text/xml"))
TRIG = Offer("trig", "application/trig")
N_QUADS = Offer("nq", "application/n-quads", ("nquads", "n-quads"))

SOLUTION_OFFERS: tuple[Offer, ...] = (SPARQL_JSON, SPARQL_XML, SPARQL_CSV, SPARQL_TSV)
BOOLEAN_OFFERS: tuple[Offer, ...] = (SPARQL_JSON, SPARQL_XML, SPARQL_CSV, SPARQL_TSV)
GRAPH_OFFERS: tuple[Offer, ...] = (TURTLE, N_TRIPLES, JSON_LD, RDF_XML, TRIG, N_QUADS)


def negotiate(
    offers: Sequence[Offer], *, accept: str | None, format_param: str | None = None
) -> Offer:
    """The offer a client asked for: ``format=`` wins over Accept; no Accept gets the first.

    Raises ``NotAcceptable`` (406) naming what is available when nothing fits.
    """
    if not offers:
        raise ValueError("negotiate() needs at least one offer")
    if format_param:
        chosen = find_offer(offers, format_param)
        if chosen is None:
            raise NotAcceptable(
                f"format={format_param!r} is not available here; "
                f"use one of: {', '.join(o.key for o in offers)} (or their media types)"
            )
        return chosen
    return best_offer(offers, accept)


def try_negotiate(
    offers: Sequence[Offer], *, accept: str | None, format_param: str | None = None
) -> Offer | None:
    """Like ``negotiate`` but None instead of a 406 when nothing fits."""
    try:
        return negotiate(offers, accept=accept, format_param=format_param)
    except NotAcceptable:
        return None


def find_offer(offers: Sequence[Offer], name: str) -> Offer | None:
    """The offer a ``format=`` value names (a short name or a media type), or None."""
    wanted = name.split(";", 1)[0].strip().lower()
    for offer in offers:
        if wanted in offer.names():
            return offer
    return None


def best_offer(offers: Sequence[Offer], accept: str | None) -> Offer:
    """The offer an Accept header prefers (q-values, wildcards, specificity)."""
    # Media type parameters (charset, profile) do not change which offer fits: drop them.
    parsed = MIMEAccept(
        (value.split(";", 1)[0].strip(), quality)
        for value, quality in parse_accept_header(accept, MIMEAccept)
        if value.split(";", 1)[0].strip()
    )
    if not parsed:
        # No Accept (or one that does not parse) means the client takes anything.
        return offers[0]
    candidates: dict[str, Offer] = {}
    for offer in offers:
        candidates.setdefault(offer.media_type, offer)
    for offer in offers:
        for alias in offer.aliases:
            if "/" in alias:
                candidates.setdefault(alias, offer)
    match = parsed.best_match(list(candidates))
    if match is None:
        raise NotAcceptable(
            f"none of the media types in the Accept header ({accept}) can be produced here; "
            f"ask for one of: {', '.join(o.media_type for o in offers)}"
        )
    return candidates[match]
