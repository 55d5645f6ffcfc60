"""PREFIX declarations for SPARQL text, taken from the project's namespaces (never retyped)."""

from __future__ import annotations

from kg.rdf.vocab import PREFIXES


def with_prefixes(body: str) -> str:
    """The query with a PREFIX line for each of the project's prefixes it uses."""
    used = [p for p in PREFIXES if f"{p}:" in body]
    return "".join(f"PREFIX {p}: <{PREFIXES[p]}>\n" for p in used) + body
