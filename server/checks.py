"""Checks a query before it runs: no updates, no SERVICE call outside the allowlist.

rdflib parses the query here but pyoxigraph runs it, and the two read ``\\u`` escapes
differently (rdflib expands them everywhere first, pyoxigraph only inside strings and IRIs).
So SERVICE is never decided by one reading of the text alone: with no allowlist, any query
whose text mentions "service" in any reading is refused; with one, every reading must parse and
agree on the endpoints.

rdflib's parse costs milliseconds, so it runs only when it can change the outcome: when some
reading of the text mentions "service" (which endpoints) or "from" (whether the query names its
own dataset). A text that mentions neither, in any letter case or escape reading, has no SERVICE
and no FROM for either parser, so it runs as it is; an update in it fails pyoxigraph's parse and
is refused then (``refuse_update``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pyparsing import ParseException
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import Query, parseQuery, parseUpdate
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
#: Any mention of FROM, even inside a longer word: the lexical proof that rdflib is not needed
#: must not depend on where a parser ends a token.
_FROM_ANYWHERE = re.compile(r"from", re.IGNORECASE)
#: rdflib's reading of escapes: \u or \U (any case) with 4 or 8 hex digits, anywhere in the text.
_LOOSE_ESCAPE = re.compile(r"\\u([0-9a-f]{4}(?:[0-9a-f]{4})?)", re.IGNORECASE)
#: the SPARQL grammar's reading (pyoxigraph's, in strings and IRIs): \uXXXX and \UXXXXXXXX.
_STRICT_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})")
#: Rounds of expansion, for escapes that spell escapes (``\u005Cu0053``).
_EXPANSION_ROUNDS = 4

#: Told to the client when the query text mentions SERVICE and no endpoint is allowed.
NO_FEDERATION = (
    "SERVICE is refused: this endpoint calls no other endpoint (its SERVICE allowlist is "
    "empty), and it refuses any query whose text mentions the word 'service', in any letter "
    "case or spelled with \\u escapes, even inside a string, a comment or a prefixed name"
)


def _expand(pattern: re.Pattern[str], text: str) -> str:
    """The text with one round of escapes expanded; an escape naming no character is kept."""

    def character(match: re.Match[str]) -> str:
        try:
            return chr(int(match.group(1) or match.group(2), 16))
        except (ValueError, OverflowError):
            return match.group(0)

    return pattern.sub(character, text)


def readings(text: str) -> set[str]:
    """The text and what any parser may read it as once its escapes are expanded (repeatedly)."""
    found = {text}
    frontier = {text}
    for _ in range(_EXPANSION_ROUNDS):
        frontier = {
            _expand(pattern, reading)
            for reading in frontier
            for pattern in (_LOOSE_ESCAPE, _STRICT_ESCAPE)
        } - found
        if not frontier:
            break
        found |= frontier
    return found


def mentions_service(text: str) -> bool:
    """True when the word "service" appears in the text or in any reading of its escapes."""
    return any(_SERVICE_WORD.search(reading) for reading in readings(text))


def needs_parse(text: str) -> bool:
    """False when no reading of the text mentions "service" or "from" in any letter case: then
    neither parser can find a SERVICE call or a dataset clause in it, and rdflib's parse (which
    decides both) cannot change what happens to the query."""
    return any(
        _SERVICE_WORD.search(reading) or _FROM_ANYWHERE.search(reading)
        for reading in readings(text)
    )


def refuse_update(text: str) -> QueryFailure | None:
    """The read-only refusal for a text the query parser rejected, when it is an update."""
    if is_update(text):
        return QueryFailure("forbidden", "this endpoint is read-only: updates are refused")
    return None


def inspect_query(
    text: str, base_iri: str | None = None, *, expand_escapes: bool = True
) -> QueryShape | None:
    """The SERVICE calls and dataset clause of a query, or None when rdflib cannot parse it.

    ``expand_escapes=False`` parses the text as it is, without rdflib's expansion of escapes.
    """
    try:
        parsed = parseQuery(text) if expand_escapes else Query.parse_string(text, parse_all=True)
        algebra = translateQuery(parsed, base=base_iri).algebra
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


#: The parts of a SPARQL text that may hold anything and mean nothing to the grammar around
#: them: strings (long and short), IRIs and comments. A lexical check matches these first, so a
#: keyword or bracket inside one is never read as the query's own.
OPAQUE_TOKENS = (
    r'"""(?:[^"\\]|\\.|"(?!""))*"""'
    r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"(?:[^"\\\n]|\\.)*"'
    r"|'(?:[^'\\\n]|\\.)*'"
    r'|<[^<>"{}|^`\\\x00-\x20]*>'
    r"|#[^\n]*"
)

#: What nesting counts: brackets, and the strings, IRIs and comments whose brackets do not count.
_NESTING_TOKENS = re.compile(
    OPAQUE_TOKENS + r"|[{(\[]|[})\]]",
    re.DOTALL,
)


def nesting_depth(text: str) -> int:
    """How deep ``{``, ``(`` and ``[`` nest in a query, outside strings, IRIs and comments.

    Read without a parser, so a query too deep for the query engine's recursive parser is
    refused before any parser sees it.
    """
    depth = deepest = 0
    for match in _NESTING_TOKENS.finditer(text):
        token = match.group()
        if token in "{([":
            depth += 1
            deepest = max(deepest, depth)
        elif token in "})]":
            depth = max(0, depth - 1)
    return deepest


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
    if not needs_parse(text):
        return True  # no SERVICE and no FROM in any reading: the default graph is the union
    service = mentions_service(text)
    if service and not allowlist:
        return QueryFailure("forbidden", NO_FEDERATION)
    shape = inspect_query(text, base_iri)
    if (
        service
        and shape is not None
        and shape != inspect_query(text, base_iri, expand_escapes=False)
    ):
        # the text reads differently with and without its escapes: which SERVICE runs is unclear
        return QueryFailure(
            "forbidden",
            "the query mentions SERVICE and reads differently with its \\u escapes expanded; "
            "write it without escapes outside strings and IRIs",
        )
    if shape is None:
        update = refuse_update(text)
        if update is not None:
            return update
        if service:
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
