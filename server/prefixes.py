"""PREFIX declarations for SPARQL text, taken from the project's namespaces (never retyped)."""

from __future__ import annotations

from collections.abc import Mapping

from kg.rdf.vocab import PREFIXES


def with_prefixes(body: str, namespaces: Mapping[str, str] = PREFIXES) -> str:
    """The query with a PREFIX line for each prefix of ``namespaces`` it uses (by default the
    project's own)."""
    used = [p for p in namespaces if f"{p}:" in body]
    return "".join(f"PREFIX {p}: <{namespaces[p]}>\n" for p in used) + body
