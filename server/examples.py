"""The example SPARQL queries the home page and the query page offer."""

from __future__ import annotations

from typing import NamedTuple

from server.prefixes import with_prefixes


class Example(NamedTuple):
    """An example query: the key that names it in ``?example=``, its title and its full text."""

    key: str
    title: str
    text: str


#: (key, title, query without its PREFIX lines): each prefix it uses is declared on the way out.
EXAMPLES: tuple[tuple[str, str, str], ...] = (
    (
        "states",
        "The participating States",
        "SELECT ?state ?name WHERE {\n"
        "  ?state a osce:ParticipatingState ; rdfs:label|skos:prefLabel ?name .\n"
        '  FILTER(langMatches(lang(?name), "en") || lang(?name) = "")\n'
        "} ORDER BY ?name",
    ),
    (
        "field-operations",
        "Field operations and the States that host them",
        "SELECT ?operation ?name ?host WHERE {\n"
        "  ?operation a osce:FieldOperation .\n"
        "  OPTIONAL { ?operation rdfs:label|skos:prefLabel ?name }\n"
        "  OPTIONAL { ?operation osce:hostState ?host }\n"
        "} ORDER BY ?name",
    ),
    (
        "releases",
        "The twenty most recent press releases",
        "SELECT ?release ?date ?headline WHERE {\n"
        "  ?release a osce:PressRelease ; schema:headline ?headline .\n"
        "  OPTIONAL { ?release schema:datePublished ?date }\n"
        "} ORDER BY DESC(?date) LIMIT 20",
    ),
    (
        "quoted",
        "Persons quoted most often",
        "SELECT ?person (SAMPLE(?label) AS ?name) (COUNT(?quote) AS ?quotes) WHERE {\n"
        "  ?release osce:quotation ?quote . ?quote osce:speaker ?person .\n"
        "  OPTIONAL { ?person rdfs:label|schema:name ?label }\n"
        "} GROUP BY ?person ORDER BY DESC(?quotes) LIMIT 20",
    ),
    (
        "mentions",
        "States mentioned in the most releases",
        "SELECT ?state (COUNT(DISTINCT ?release) AS ?releases) WHERE {\n"
        "  ?release osce:mentionsState ?state .\n"
        "} GROUP BY ?state ORDER BY DESC(?releases) LIMIT 20",
    ),
    (
        "graphs",
        "Named graphs and their sizes",
        "SELECT ?graph (COUNT(*) AS ?triples) WHERE {\n"
        "  GRAPH ?graph { ?s ?p ?o }\n"
        "} GROUP BY ?graph ORDER BY DESC(?triples) LIMIT 50",
    ),
)


def example_queries() -> list[Example]:
    """Every example, its prefixes declared."""
    return [Example(key, title, with_prefixes(body)) for key, title, body in EXAMPLES]


def example_text(key: str) -> str | None:
    """The full text of the example ``key``, or None when there is no such example."""
    return next((example.text for example in example_queries() if example.key == key), None)
