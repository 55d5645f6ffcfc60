"""Checks a query before it runs: no updates, no SERVICE call outside the allowlist."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pyparsing import ParseException
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.term import Variable

from server.query import QueryFailure


@dataclass(frozen=True)
class QueryShape:
    """What a parsed query asks for, found in rdflib's algebra (not by reading the text)."""

    service_endpoints: tuple[str, ...]
    service_variable: bool
    has_dataset_clause: bool


_SERVICE_WORD = re.compile(r"service", re.IGNORECASE)
_FROM_WORD = re.compile(r"\bfrom\b", re.IGNORECASE)


def inspect_query(text: str, base_iri: str | None = None) -> QueryShape | None:
    """The SERVICE calls and dataset clause of a query, or None when rdflib cannot parse it."""
    try:
        algebra = translateQuery(parseQuery(text), base=base_iri).algebra
    except (ParseException, ValueError, TypeError, KeyError, AttributeError, RecursionError):
        return None
    endpoints: list[str] = []
    has_variable = False
    for node in _walk(algebra):
        if node.name == "ServiceGraphPattern":
            term = node.get("term")
            if isinstance(term, Variable) or not isinstance(term, str):
                has_variable = True
            else:
                endpoints.append(str(term))
    return QueryShape(tuple(endpoints), has_variable, bool(algebra.get("datasetClause")))


def _walk(node: object) -> list[CompValue]:
    """Every CompValue in a parse tree or algebra, subqueries and EXISTS filters included."""
    found: list[CompValue] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, CompValue):
            found.append(item)
            stack.extend(item.values())
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return found


def is_update(text: str) -> bool:
    """True when the text is a SPARQL Update request (which this endpoint refuses)."""
    try:
        parseUpdate(text)
    except (ParseException, ValueError, TypeError, RecursionError):
        return False
    return True


def check_query(
    text: str, allowlist: tuple[str, ...], base_iri: str | None = None
) -> QueryFailure | bool:
    """Refuses updates and SERVICE calls outside the allowlist before anything runs.

    Returns a failure, or whether the default graph should be the union of the named graphs
    (not when the query names its own dataset with FROM / FROM NAMED).
    """
    shape = inspect_query(text, base_iri)
    if shape is None:
        if is_update(text):
            return QueryFailure("forbidden", "this endpoint is read-only: updates are refused")
        if _SERVICE_WORD.search(text):
            # rdflib could not check it, so a SERVICE inside cannot be ruled out: refuse.
            return QueryFailure(
                "forbidden",
                "the query mentions SERVICE and could not be checked against the allowlist; "
                "federated queries are refused",
            )
        return not _FROM_WORD.search(text)
    if shape.service_variable:
        return QueryFailure(
            "forbidden", "SERVICE with a variable endpoint is refused: name an allowed endpoint"
        )
    refused = [iri for iri in shape.service_endpoints if iri not in allowlist]
    if refused:
        allowed = ", ".join(allowlist) or "none"
        return QueryFailure(
            "forbidden",
            f"SERVICE <{refused[0]}> is refused: this endpoint only calls endpoints on its "
            f"allowlist (allowed: {allowed})",
        )
    return not shape.has_dataset_clause
