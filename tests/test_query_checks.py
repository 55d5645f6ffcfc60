"""The query check skips rdflib's parse only when the text cannot hold SERVICE or FROM for any
parser: adversarial spellings still take the full check, plain queries never pay for it."""

from __future__ import annotations

import re
import sys

import pyoxigraph as ox
import pytest

from server import checks
from server.checks import check_query, needs_parse
from server.query import QueryFailure, QueryJob
from server.worker import execute_job

PLAIN = [
    "SELECT ?s WHERE { ?s a ?t } LIMIT 5",
    "PREFIX osce: <https://w3id.org/osce-kg/ontology#> SELECT (COUNT(*) AS ?n) "
    "WHERE { ?r a osce:PressRelease } GROUP BY ?y ORDER BY DESC(?n)",
    'SELECT ?r WHERE { ?r ?p ?title FILTER(CONTAINS(LCASE(?title), "border")) }',
    "ASK { ?s ?p 'caf\\u00e9' }",
    "DESCRIBE <https://w3id.org/osce-kg/id/state/at>",
]

# Each spelling of SERVICE (or FROM) a parser might read: the check must look at all of them.
ADVERSARIAL = {
    "keyword": "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }",
    "lower": "SELECT * WHERE { service <http://127.0.0.1:9/> { ?s ?p ?o } }",
    "mixed": "SELECT * WHERE { sErViCe <http://127.0.0.1:9/> { ?s ?p ?o } }",
    # rdflib's keyword match upper-cases: long s and dotless i read as S and I
    "long-s": "SELECT * WHERE { \u017fERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }",
    "dotless-i": "SELECT * WHERE { SERV\u0131CE <http://127.0.0.1:9/> { ?s ?p ?o } }",
    "escape": "SELECT * WHERE { \\u0053ERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }",
    "long-escape": "SELECT * WHERE { \\U00000053ERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }",
    "escaped-escape": "SELECT * WHERE { \\u005Cu0053ERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }",
    "lowercase-hex": "SELECT * WHERE { \\u005cu0073ERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }",
    "in-string": 'SELECT * WHERE { BIND("SERVICE <http://127.0.0.1:9/>" AS ?x) }',
    "in-long-string": "SELECT * WHERE { BIND('''\nservice\n''' AS ?x) }",
    "in-comment": "SELECT * WHERE { ?s ?p ?o # SERVICE <http://127.0.0.1:9/>\n }",
    "in-iri": "SELECT * WHERE { ?s <http://example.org/service> ?o }",
    "in-prefixed-name": "PREFIX ex: <http://example.org/> SELECT * WHERE { ?s ex:service ?o }",
    "in-variable": "SELECT ?service WHERE { ?service ?p ?o }",
    "string-comment": (
        'SELECT * WHERE { BIND("a\\u0022 # " AS ?x) SERVICE <http://127.0.0.1:9/> '
        "{ ?s ?p ?o } } # \\u000A AS ?y) }"
    ),
    "from": "SELECT * FROM <http://example.org/g> WHERE { ?s ?p ?o }",
    "from-named": "SELECT * FROM NAMED <http://example.org/g> WHERE { GRAPH ?g { ?s ?p ?o } }",
    "from-escaped": "SELECT * FR\\u004FM <http://example.org/g> WHERE { ?s ?p ?o }",
    "from-glued": "SELECT *FROM<http://example.org/g> WHERE { ?s ?p ?o }",
    "from-in-string": 'SELECT * WHERE { ?s ?p "from" }',
}


@pytest.mark.parametrize("text", PLAIN)
def test_a_plain_query_is_checked_without_rdflib(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_parse(*args: object, **kwargs: object) -> None:
        raise AssertionError("rdflib parsed a query that cannot hold SERVICE or FROM")

    monkeypatch.setattr(checks, "inspect_query", no_parse)
    monkeypatch.setattr(checks, "is_update", no_parse)
    assert not needs_parse(text)
    assert check_query(text, ()) is True  # runs over the union of the named graphs


@pytest.mark.parametrize("name", list(ADVERSARIAL))
def test_every_spelling_of_service_or_from_takes_the_full_check(name: str) -> None:
    assert needs_parse(ADVERSARIAL[name])


@pytest.mark.parametrize("name", [n for n in ADVERSARIAL if not n.startswith("from")])
def test_service_spellings_are_still_refused_without_an_allowlist(name: str) -> None:
    failure = check_query(ADVERSARIAL[name], ())
    assert isinstance(failure, QueryFailure)
    assert failure.kind == "forbidden"


@pytest.mark.parametrize("name", ["keyword", "long-s", "dotless-i", "mixed", "string-comment"])
def test_service_spellings_are_checked_against_an_allowlist(name: str) -> None:
    failure = check_query(ADVERSARIAL[name], ("http://allowed.example/sparql",))
    assert isinstance(failure, QueryFailure)
    assert failure.kind == "forbidden"


@pytest.mark.parametrize(
    ("name", "union"),
    [("from", False), ("from-named", False), ("from-glued", False), ("from-in-string", True)],
)
def test_from_decides_the_default_graph_as_before(name: str, union: bool) -> None:
    assert check_query(ADVERSARIAL[name], ()) is union


def test_the_case_blind_match_covers_every_character_a_keyword_match_accepts() -> None:
    """rdflib (pyparsing) matches keywords by ``str.upper()``; the check's lexical match must
    find every character whose upper case is a letter of SERVICE or FROM."""
    missed = [
        hex(code)
        for code in range(sys.maxunicode + 1)
        if (upper := chr(code).upper()) in set("SERVICEFROM")
        and not re.fullmatch(upper, chr(code), re.IGNORECASE)
    ]
    assert missed == []


@pytest.mark.parametrize(
    "update",
    [
        "INSERT DATA { <http://a> <http://b> <http://c> }",
        "DELETE WHERE { ?s ?p ?o }",
        "CLEAR ALL",
        "PREFIX ex: <http://example.org/> DROP GRAPH ex:g",
    ],
)
def test_an_update_sent_as_a_query_is_refused_as_read_only(update: str) -> None:
    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode("http://a"), ox.NamedNode("http://b"), ox.NamedNode("http://c")))
    job = QueryJob(update, "application/sparql-results+json", None, None, max_rows=10)
    failure = execute_job(store, job)
    assert isinstance(failure, QueryFailure)
    assert (failure.kind, failure.message) == (
        "forbidden",
        "this endpoint is read-only: updates are refused",
    )
    assert len(store) == 1


def test_a_syntax_error_is_still_a_syntax_error() -> None:
    job = QueryJob(
        "SELECT * WHERE { ?s ?p }", "application/sparql-results+json", None, None, max_rows=10
    )
    failure = execute_job(ox.Store(), job)
    assert isinstance(failure, QueryFailure)
    assert failure.kind == "syntax"
