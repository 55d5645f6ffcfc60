"""Reads our IRIs back into their parts where kg/rdf/uris.py has no reader yet."""

# TO MOVE: parse_graph_iri belongs in kg/rdf/uris.py beside graph_iri (the lead moves it; the
# server then imports it from there and this module goes).

from __future__ import annotations

from kg.rdf.uris import graph_iri


def parse_graph_iri(iri: str, base: str) -> tuple[str, str | None] | None:
    """``{base}graph/{name}`` -> (name, None), ``{base}graph/{name}/{key}`` -> (name, key).

    None for any other IRI. The key is not checked: the caller decides what a bad key means.
    """
    prefix = str(graph_iri("release", base=base)).removesuffix("release")
    rest = iri.removeprefix(prefix)
    if rest == iri or not rest:
        return None
    name, slash, key = rest.partition("/")
    return name, key if slash else None
