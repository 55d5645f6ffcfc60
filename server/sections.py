"""Per-class sections of an entity page (a person's posts and quotes, a State's names, ...)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pyoxigraph as ox

from kg.rdf.vocab import FOAF, ORG, OSCE, SCHEMA
from server.labels import Labeller, Value
from server.prefixes import with_prefixes
from server.store import select

#: Rows a section shows at most; the page says when there are more.
MAX_ROWS = 50

# An appointment's dates as one text: its term, else the dates a source shows it in post.
_DATES = """
  OPTIONAL { ?row schema:startDate ?start }
  OPTIONAL { ?row schema:endDate ?end }
  OPTIONAL { ?row osce:attestedOn ?seen }
  BIND(COALESCE(CONCAT(STR(?start), " – ", STR(?end)), CONCAT("from ", STR(?start)),
                CONCAT("until ", STR(?end)), CONCAT("in post on ", STR(?seen))) AS ?dates)
  OPTIONAL { ?row dcterms:source ?source }"""

_NEWEST_FIRST = "ORDER BY DESC(STR(COALESCE(?date, ?start, ?seen, ''))) ?row"

_POSTS = with_prefixes(f"""SELECT ?this ?row ?post ?org ?dates ?source WHERE {{
  ?row osce:appointee ?this .
  OPTIONAL {{ ?row osce:post ?post }}
  OPTIONAL {{ ?row org:organization ?org }}
  {_DATES}
}} {_NEWEST_FIRST} ?source""")

_HEADS = with_prefixes(f"""SELECT ?this ?row ?person ?post ?dates ?source WHERE {{
  ?row org:organization ?this ; osce:appointee ?person .
  OPTIONAL {{ ?row osce:post ?post }}
  {_DATES}
}} {_NEWEST_FIRST} ?source""")

_QUOTES = with_prefixes(f"""SELECT ?this ?row ?text ?release ?date WHERE {{
  ?row osce:speaker ?this ; schema:text ?said .
  BIND(CONCAT("“", STR(?said), "”") AS ?text)
  OPTIONAL {{ ?release osce:quotation ?row . OPTIONAL {{ ?release schema:datePublished ?date }} }}
}} {_NEWEST_FIRST}""")

_ROLES = with_prefixes(f"""SELECT ?this ?row ?title ?org ?release ?date WHERE {{
  ?row osce:person ?this .
  OPTIONAL {{ ?row osce:roleTitle ?title }}
  OPTIONAL {{ ?row osce:roleOrganisation ?org }}
  OPTIONAL {{ ?release osce:roleMention ?row . OPTIONAL {{ ?release schema:datePublished ?date }} }}
}} {_NEWEST_FIRST}""")

_HOLDERS = with_prefixes(f"""SELECT ?this ?row ?person ?dates ?source WHERE {{
  ?row osce:post ?this ; osce:appointee ?person .
  {_DATES}
}} {_NEWEST_FIRST} ?source""")

_RELEASE_QUOTES = with_prefixes("""SELECT ?this ?row ?text ?speaker WHERE {
  ?this osce:quotation ?row .
  ?row schema:text ?said .
  BIND(CONCAT("“", STR(?said), "”") AS ?text)
  OPTIONAL { ?row osce:speaker ?speaker }
} ORDER BY ?row""")

_RELEASE_PEOPLE = with_prefixes("""SELECT ?this ?row ?person ?title ?org WHERE {
  ?this osce:roleMention ?row .
  ?row osce:person ?person .
  OPTIONAL { ?row osce:roleTitle ?title }
  OPTIONAL { ?row osce:roleOrganisation ?org }
} ORDER BY ?row""")

_MENTIONED_IN = with_prefixes(f"""SELECT DISTINCT ?this ?row ?date WHERE {{
  ?row ?p ?this .
  ?p rdfs:subPropertyOf* schema:mentions .
  OPTIONAL {{ ?row schema:datePublished ?date }}
}} {_NEWEST_FIRST}""")

_WHERE = with_prefixes("""SELECT ?this ?host ?city ?lat ?long WHERE {
  OPTIONAL { ?this osce:hostState ?host }
  OPTIONAL { ?this osce:seatCity ?city . OPTIONAL { ?city geo:lat ?lat ; geo:long ?long } }
  FILTER(BOUND(?host) || BOUND(?city))
}""")

_FORMER_NAMES = with_prefixes(
    """SELECT ?this ?name WHERE { ?this osce:formerName ?name } ORDER BY ?name"""
)

_CODES = with_prefixes("""SELECT ?this ?alpha2 ?alpha3 WHERE {
  OPTIONAL { ?this osce:isoAlpha2 ?alpha2 }
  OPTIONAL { ?this osce:isoAlpha3 ?alpha3 }
  FILTER(BOUND(?alpha2) || BOUND(?alpha3))
}""")

# The OSCE's six official languages first, then any other language a name is given in.
_NAMES = with_prefixes("""SELECT ?this ?code ?language ?name WHERE {
  ?this rdfs:label ?name .
  BIND(LANG(?name) AS ?code)
  OPTIONAL {
    VALUES (?code ?language ?rank) {
      ("en" "English" 1) ("fr" "French" 2) ("de" "German" 3)
      ("it" "Italian" 4) ("es" "Spanish" 5) ("ru" "Russian" 6)
    }
  }
} ORDER BY COALESCE(?rank, 99) ?code ?name""")


@dataclass(frozen=True)
class SectionSpec:
    """A section: for which classes, its query (``?this`` bound), its columns, its row key."""

    title: str
    classes: frozenset[str]  # empty: every entity
    query: str
    columns: tuple[tuple[str, str], ...]  # (variable, heading)
    key: str | None = "row"  # solutions with the same key are one row; None: one row in all


PERSONS = frozenset({str(OSCE.Person), str(SCHEMA.Person), str(FOAF.Person)})
STRUCTURES = frozenset({str(OSCE.FieldOperation), str(OSCE.Institution), str(OSCE.SecretariatUnit)})
FIELD_OPERATIONS = frozenset({str(OSCE.FieldOperation)})
POSTS = frozenset({str(ORG.Post)})
RELEASES = frozenset({str(OSCE.PressRelease)})
STATES = frozenset(
    {
        str(OSCE.State),
        str(OSCE.ParticipatingState),
        str(OSCE.PartnerForCooperation),
        str(OSCE.Territory),
    }
)

SECTIONS: tuple[SectionSpec, ...] = (
    SectionSpec(
        "Posts",
        PERSONS,
        _POSTS,
        (("post", "Post"), ("org", "In"), ("dates", "Term or date seen"), ("source", "Sources")),
    ),
    SectionSpec(
        "Quoted in releases",
        PERSONS,
        _QUOTES,
        (("text", "Quote"), ("release", "Release"), ("date", "Date")),
    ),
    SectionSpec(
        "Named in releases as",
        PERSONS,
        _ROLES,
        (("title", "Role"), ("org", "Of"), ("release", "Release"), ("date", "Date")),
    ),
    SectionSpec(
        "Heads and posts",
        STRUCTURES,
        _HEADS,
        (
            ("person", "Person"),
            ("post", "Post"),
            ("dates", "Term or date seen"),
            ("source", "Sources"),
        ),
    ),
    SectionSpec(
        "Where",
        FIELD_OPERATIONS,
        _WHERE,
        (("host", "Host State"), ("city", "Seat"), ("lat", "Latitude"), ("long", "Longitude")),
        key=None,
    ),
    SectionSpec("Earlier names", FIELD_OPERATIONS, _FORMER_NAMES, (("name", "Name"),), "name"),
    SectionSpec(
        "Codes",
        STATES,
        _CODES,
        (("alpha2", "ISO 3166-1 alpha-2"), ("alpha3", "ISO 3166-1 alpha-3")),
        key=None,
    ),
    SectionSpec(
        "Names",
        STATES,
        _NAMES,
        (("language", "Language"), ("code", "Code"), ("name", "Name")),
        key="name",
    ),
    SectionSpec(
        "Holders",
        POSTS,
        _HOLDERS,
        (("person", "Person"), ("dates", "Term or date seen"), ("source", "Sources")),
    ),
    SectionSpec(
        "Quotes",
        RELEASES,
        _RELEASE_QUOTES,
        (("text", "Quote"), ("speaker", "Speaker")),
    ),
    SectionSpec(
        "People named",
        RELEASES,
        _RELEASE_PEOPLE,
        (("person", "Person"), ("title", "Role"), ("org", "Of")),
    ),
    SectionSpec("Mentioned in", frozenset(), _MENTIONED_IN, (("row", "Release"), ("date", "Date"))),
)


@dataclass(frozen=True)
class Section:
    """A section as shown: its title, column headings, rows of cells, and whether rows were cut."""

    title: str
    variables: tuple[str, ...]
    headings: tuple[str, ...]
    rows: tuple[tuple[tuple[Value, ...], ...], ...]
    more: bool


def sections_for(
    node: ox.NamedNode, types: frozenset[str], labeller: Labeller
) -> tuple[Section, ...]:
    """The sections that apply to an entity of these types and have something to show."""
    found = []
    for spec in SECTIONS:
        if spec.classes and not spec.classes & types:
            continue
        section = fill_section(spec, node, labeller)
        if section.rows:
            found.append(section)
    return tuple(found)


def fill_section(spec: SectionSpec, node: ox.NamedNode, labeller: Labeller) -> Section:
    """Runs a section's query and groups its solutions into rows, distinct values per cell."""
    variables = [name for name, _ in spec.columns]
    rows: dict[object, list[list[ox.NamedNode | ox.BlankNode | ox.Literal]]] = {}
    for solution in select(spec.query, {"this": node}):
        key = solution[spec.key] if spec.key else None
        if key not in rows and len(rows) == MAX_ROWS + 1:
            break
        cells = rows.setdefault(key, [[] for _ in variables])
        for cell, name in zip(cells, variables, strict=True):
            term = solution[name]
            if term is not None and not isinstance(term, ox.Triple) and term not in cell:
                cell.append(term)
    shown = [
        tuple(tuple(cell_value(term, labeller) for term in cell) for cell in row)
        for row in itertools.islice(rows.values(), MAX_ROWS)
    ]
    headings = tuple(heading for _, heading in spec.columns)
    return Section(spec.title, tuple(variables), headings, tuple(shown), len(rows) > MAX_ROWS)


def cell_value(term: ox.NamedNode | ox.BlankNode | ox.Literal, labeller: Labeller) -> Value:
    """A node as a labelled link; a literal as its plain text (no datatype note)."""
    if isinstance(term, ox.Literal):
        return Value(term.value)
    return labeller.value(term)
