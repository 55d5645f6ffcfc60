"""The label search index of a build: every label in every language, in SQLite FTS5, and lookups.

The build writes it next to the store (``search/labels.sqlite``) from the published graph; the
server opens it read-only (and writes one into its own cache for an older build without one).
Labels are folded (case, accents, letters without a decomposition such as ``ł``) in Python
before FTS5 sees them, and queries are folded the same way, so "osterreich" finds
"Österreich" and "елка" finds "Ёлка"; FTS5's ``remove_diacritics 2`` tokenizer is a second net.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import re
import shutil
import sqlite3
import tempfile
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from kg.errors import OsceKgError
from kg.publish.layout import BuildLayout
from kg.rdf.vocab import OSCE, OWL, RDF, RDFS, SCHEMA, SKOS

#: Bumped whenever the tables change; an index of another version is rebuilt by the server.
FORMAT_VERSION = "1"

#: Label properties, and whether a label by them names the thing (1) or is another name (0).
LABEL_PROPERTIES: dict[str, int] = {
    str(RDFS.label): 1,
    str(SKOS.prefLabel): 1,
    str(SCHEMA.name): 1,
    str(SCHEMA.headline): 1,
    str(SKOS.altLabel): 0,
    str(SCHEMA.alternateName): 0,
    # other names a reader may type: ODIHR, CSCE, an earlier office's name, AT or AUT
    str(OSCE.abbreviation): 0,
    str(OSCE.formerName): 0,
    str(OSCE.isoAlpha2): 0,
    str(OSCE.isoAlpha3): 0,
}
#: Types that make a subject an ontology term (a class or property), not a thing of the data.
TERM_TYPES = tuple(
    str(t)
    for t in (
        OWL.Class,
        RDFS.Class,
        OWL.ObjectProperty,
        OWL.DatatypeProperty,
        OWL.AnnotationProperty,
        RDF.Property,
    )
)

_LABEL_IRIS = ", ".join(f"<{p}>" for p in LABEL_PROPERTIES)
_LABELS_QUERY = f"""
SELECT DISTINCT ?s ?p ?label WHERE {{
  ?s ?p ?label .
  FILTER(isIRI(?s) && isLiteral(?label) && ?p IN ({_LABEL_IRIS}))
}}"""

# Every class of a thing, its classes' superclasses included, so "State" finds the
# participating States; ?direct tells the classes it was given.
_TYPES_QUERY = f"""
SELECT DISTINCT ?s ?class ?direct WHERE {{
  {{ ?s a ?class . BIND(true AS ?direct) }}
  UNION
  {{ ?s a ?given . ?given <{RDFS.subClassOf}>+ ?class . BIND(false AS ?direct) }}
  FILTER(isIRI(?s) && isIRI(?class))
}}"""

# Classes and properties the data uses: those without a label get one from their IRI, so
# reconciliation's type and property suggestions offer every one (schema:datePublished too).
_USED_TERMS_QUERY = """
SELECT DISTINCT ?term ?kind WHERE {
  { ?s ?term ?o . BIND("property" AS ?kind) }
  UNION
  { ?s a ?term . BIND("class" AS ?kind) }
  FILTER(isIRI(?term))
}"""

# The same, about one IRI ?s (given in a VALUES clause: SUBJECT), in the default graph.
_LABELS_OF_QUERY = f"""
SELECT DISTINCT ?p ?label WHERE {{
  VALUES ?s {{ SUBJECT }}
  ?s ?p ?label .
  FILTER(isLiteral(?label) && ?p IN ({_LABEL_IRIS}))
}}"""
_TYPES_OF_QUERY = f"""
SELECT DISTINCT ?class ?direct WHERE {{
  VALUES ?s {{ SUBJECT }}
  {{ ?s a ?class . BIND(true AS ?direct) }}
  UNION
  {{ ?s a ?given . ?given <{RDFS.subClassOf}>+ ?class . BIND(false AS ?direct) }}
  FILTER(isIRI(?class))
}}"""
_USED_AS_PROPERTY = "ASK { ?s SUBJECT ?o }"
_USED_AS_CLASS = "ASK { ?s a SUBJECT }"

_SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE entities(id INTEGER PRIMARY KEY, iri TEXT NOT NULL UNIQUE, term INTEGER NOT NULL);
CREATE TABLE types(
  class TEXT NOT NULL, entity INTEGER NOT NULL, direct INTEGER NOT NULL,
  PRIMARY KEY(class, entity)
) WITHOUT ROWID;
CREATE INDEX types_entity ON types(entity);
CREATE TABLE names(
  id INTEGER PRIMARY KEY, entity INTEGER NOT NULL, text TEXT NOT NULL, lang TEXT NOT NULL,
  folded TEXT NOT NULL, preferred INTEGER NOT NULL
);
CREATE INDEX names_entity ON names(entity);
CREATE VIRTUAL TABLE names_fts USING fts5(
  folded, content='names', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
);
"""

#: Letters NFKD does not take apart, folded by hand (after casefold).
_LETTERS = str.maketrans({"ł": "l", "đ": "d", "ø": "o", "æ": "ae", "œ": "oe", "ı": "i", "ð": "d"})
_WORD = re.compile(r"\w+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SPACES = re.compile(r"[\W_]+")


class SearchIndexError(OsceKgError):
    """A search index file is missing, unreadable or of another format version."""


def fold(text: str) -> str:
    """Text as the index compares it: case-folded, accents removed, punctuation as spaces."""
    if text.isascii():  # the same result: ASCII has no accents, and casefold is lower there
        return _SPACES.sub(" ", text.lower()).strip()
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_LETTERS))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", unicodedata.normalize("NFC", bare)).strip()


def words(text: str) -> list[str]:
    """The folded words of a query."""
    return _WORD.findall(fold(text).replace("_", " "))


def match_expression(text: str, *, prefix: bool, any_word: bool = False) -> str | None:
    """An FTS5 MATCH expression for a query (every word quoted, so no word is an operator);
    ``prefix``: the last word may be the start of a word (typing); ``any_word``: OR, not AND."""
    found = words(text)
    if not found:
        return None
    quoted = [f'"{w}"' for w in found]
    if prefix:
        quoted[-1] += "*"
    return (" OR " if any_word else " ").join(quoted)


def search_index_file(layout: BuildLayout) -> Path:
    """Where a build keeps its search index: ``search/labels.sqlite`` in the build folder."""
    return layout.search_index


def build_search_index(layout: BuildLayout) -> Path:
    """Writes the search index of a finished build's store into the build folder; returns it.

    Called by the build once the store is complete (the store is opened read-only here). The
    build's store holds the RDF merge of its named graphs as its default graph: the index is
    read from it (each statement once), not from the union of the named graphs.
    """
    store = ox.Store.read_only(str(layout.store))
    target = search_index_file(layout)
    write_search_index(store, target, source=layout.build_id, union=False)
    return target


def patch_search_index(layout: BuildLayout, previous: Path, iris: Iterable[str]) -> Path:
    """Writes the search index of a build whose store was patched from a previous build's:
    a copy of the previous index with the entries of ``iris`` (every subject, predicate and
    class of the statements the patch removed or added) made again from the new store, as
    :func:`build_search_index` would make them. The class hierarchy must be unchanged."""
    store = ox.Store.read_only(str(layout.store))
    target = search_index_file(layout)
    with _replacing(target) as temporary:
        shutil.copyfile(previous, temporary)
        connection = sqlite3.connect(temporary)
        try:
            with connection:
                for iri in sorted(set(iris)):
                    _forget(connection, iri)
                    _index_one(connection, store, iri)
                connection.execute(
                    "UPDATE meta SET value = ? WHERE key = 'source'", (layout.build_id,)
                )
        finally:
            connection.close()
    return target


@contextlib.contextmanager
def _replacing(target: Path) -> Iterator[str]:
    """A temporary file beside ``target``, renamed over it when the block ends without an
    error (readable by all: mkstemp's 0600 would hide it from a server run as another user)
    and removed when it fails."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(handle)
    try:
        yield temporary
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _forget(connection: sqlite3.Connection, iri: str) -> None:
    """Removes an IRI's entity, names (and their full-text rows) and types from an index."""
    found = connection.execute("SELECT id FROM entities WHERE iri = ?", (iri,)).fetchone()
    if found is None:
        return
    entity = found[0]
    for name_id, folded in connection.execute(
        "SELECT id, folded FROM names WHERE entity = ?", (entity,)
    ).fetchall():
        connection.execute(
            "INSERT INTO names_fts(names_fts, rowid, folded) VALUES ('delete', ?, ?)",
            (name_id, folded),
        )
    connection.execute("DELETE FROM names WHERE entity = ?", (entity,))
    connection.execute("DELETE FROM types WHERE entity = ?", (entity,))
    connection.execute("DELETE FROM entities WHERE id = ?", (entity,))


def _index_one(connection: sqlite3.Connection, store: ox.Store, iri: str) -> None:
    """Indexes one IRI as :func:`_fill` does: its labels and classes, or, unlabelled, its name
    as a property or class the data uses; nothing when it is neither."""
    node = ox.NamedNode(iri)
    names: set[tuple[str, str, str, int]] = set()
    labelled = False
    for row in _select_about(store, _LABELS_OF_QUERY, node):
        labelled = True
        label = row["label"]
        folded = fold(label.value)
        if folded:
            names.add((label.value, label.language or "", folded, LABEL_PROPERTIES[row["p"].value]))
    types: dict[str, int] = {}
    term = False
    if not labelled:
        kind = None
        if store.query(_about(_USED_AS_PROPERTY, node)):
            kind = str(RDF.Property)
        elif store.query(_about(_USED_AS_CLASS, node)):
            kind = str(RDFS.Class)
        if kind is None:
            return
        name = name_from_iri(iri)
        names.add((name, "", fold(name), 1))
        types[kind] = 1
        term = True
    for row in _select_about(store, _TYPES_OF_QUERY, node):
        direct = int(row["direct"].value == "true")
        cls = row["class"].value
        types[cls] = max(types.get(cls, 0), direct)
        if direct and cls in TERM_TYPES:
            term = True
    cursor = connection.execute("INSERT INTO entities(iri, term) VALUES (?, ?)", (iri, int(term)))
    entity = cursor.lastrowid
    connection.executemany(
        "INSERT INTO types(class, entity, direct) VALUES (?, ?, ?)",
        sorted((cls, entity, direct) for cls, direct in types.items()),
    )
    for text, lang, folded, preferred in sorted(names):
        row_id = connection.execute(
            "INSERT INTO names(entity, text, lang, folded, preferred) VALUES (?, ?, ?, ?, ?)",
            (entity, text, lang, folded, preferred),
        ).lastrowid
        connection.execute("INSERT INTO names_fts(rowid, folded) VALUES (?, ?)", (row_id, folded))


def _about(query: str, node: ox.NamedNode) -> str:
    """A query about one IRI (written where the query says SUBJECT)."""
    return query.replace("SUBJECT", str(node))


def _select_about(store: ox.Store, query: str, node: ox.NamedNode) -> ox.QuerySolutions:
    result = store.query(_about(query, node))
    assert isinstance(result, ox.QuerySolutions)
    return result


def write_search_index(store: ox.Store, target: Path, *, source: str, union: bool = True) -> int:
    """Writes the index of every labelled IRI of ``store`` to ``target`` atomically (a
    temporary file renamed over it); returns how many labels it holds. ``source`` names
    the build it was made from (kept in the index's meta table). ``union``: read the union
    of the named graphs (an older build's store), not the default graph (the merge)."""
    with _replacing(target) as temporary:
        connection = sqlite3.connect(temporary)
        try:
            count = _fill(connection, store, source, union)
        except sqlite3.OperationalError as error:  # e.g. "no such module: fts5"
            raise SearchIndexError(
                f"{target}: cannot write the search index ({error}); Python's sqlite3 must "
                "be built with FTS5 (the SQLite of Debian, Ubuntu and python.org builds is)"
            ) from error
        finally:
            connection.close()
    return count


def _fill(connection: sqlite3.Connection, store: ox.Store, source: str, union: bool) -> int:
    connection.executescript(_SCHEMA)
    with ThreadPoolExecutor(2, thread_name_prefix="search") as pool:
        # the store answers in Rust without Python's lock: the three queries run at once,
        # and their rows are taken in the same order as one after the other
        used_terms = pool.submit(_rows, store, _USED_TERMS_QUERY, union, ("term", "kind"))
        typed = pool.submit(_rows, store, _TYPES_QUERY, union, ("s", "class", "direct"))
        return _fill_from(connection, store, union, used_terms.result, typed.result, source)


def _rows(
    store: ox.Store, query: str, union: bool, variables: tuple[str, ...]
) -> list[tuple[str, ...]]:
    """The values of ``variables`` in each row of a query's answer, in its order."""
    return [tuple(row[v].value for v in variables) for row in _select(store, query, union)]


def _fill_from(
    connection: sqlite3.Connection,
    store: ox.Store,
    union: bool,
    used_terms: Callable[[], list[tuple[str, ...]]],
    typed: Callable[[], list[tuple[str, ...]]],
    source: str,
) -> int:
    ids: dict[str, int] = {}
    names: list[tuple[int, str, str, str, int]] = []
    for row in _select(store, _LABELS_QUERY, union):
        label = row["label"]
        entity = ids.setdefault(row["s"].value, len(ids) + 1)
        folded = fold(label.value)
        if folded:
            preferred = LABEL_PROPERTIES[row["p"].value]
            names.append((entity, label.value, label.language or "", folded, preferred))
    types: dict[tuple[str, int], int] = {}
    terms: set[int] = set()
    for iri, used_as in used_terms():
        if iri in ids:
            continue  # labelled: its labels and types come from the data
        entity = ids.setdefault(iri, len(ids) + 1)
        name = name_from_iri(iri)
        names.append((entity, name, "", fold(name), 1))
        kind = str(RDF.Property) if used_as == "property" else str(RDFS.Class)
        types[(kind, entity)] = 1
        terms.add(entity)
    for subject, cls, given in typed():
        found = ids.get(subject)
        if found is None:
            continue  # unlabelled things cannot be found by label
        direct = int(given == "true")
        key = (cls, found)
        types[key] = max(types.get(key, 0), direct)
        if direct and cls in TERM_TYPES:
            terms.add(found)
    connection.executemany(
        "INSERT INTO entities(id, iri, term) VALUES (?, ?, ?)",
        sorted((entity, iri, int(entity in terms)) for iri, entity in ids.items()),
    )
    connection.executemany(
        "INSERT INTO types(class, entity, direct) VALUES (?, ?, ?)",
        sorted((cls, entity, direct) for (cls, entity), direct in types.items()),
    )
    connection.executemany(
        "INSERT INTO names(entity, text, lang, folded, preferred) VALUES (?, ?, ?, ?, ?)",
        sorted(set(names)),
    )
    connection.execute("INSERT INTO names_fts(names_fts) VALUES ('rebuild')")
    connection.executemany(
        "INSERT INTO meta(key, value) VALUES (?, ?)",
        [("format", FORMAT_VERSION), ("source", source)],
    )
    connection.commit()
    return len(set(names))


def name_from_iri(iri: str) -> str:
    """A readable name for an unlabelled term: its local name in words (``datePublished`` ->
    ``date published``)."""
    local = re.split(r"[#/]", iri.rstrip("/#"))[-1] or iri
    return _CAMEL.sub(" ", local).replace("_", " ").lower()


def _select(store: ox.Store, query: str, union: bool) -> ox.QuerySolutions:
    result = store.query(query, use_default_graph_as_union=union)
    assert isinstance(result, ox.QuerySolutions)
    return result


@dataclass(frozen=True)
class Name:
    """One label of a thing: its text, language tag ('' for none) and whether it is preferred."""

    text: str
    lang: str
    preferred: bool


@dataclass(frozen=True)
class Hit:
    """A thing a lookup found: its IRI, the label that matched, a score from 0 to 100."""

    iri: str
    matched: Name
    score: float
    exact: bool
    names: tuple[Name, ...] = field(default=(), compare=False)
    types: tuple[str, ...] = field(default=(), compare=False)

    def label(self, languages: Sequence[str] = ("en",)) -> str:
        """The thing's preferred label in the first language available (then untagged, any)."""
        return choose_name(self.names, languages) or self.matched.text


def choose_name(names: Iterable[Name], languages: Sequence[str]) -> str | None:
    """The preferred label in the first of ``languages`` that has one, then untagged, then any."""
    ordered = sorted(names, key=lambda n: (not n.preferred, n.lang, n.text))
    for wanted in languages:
        base = wanted.lower().split("-")[0]
        for name in ordered:
            if name.lang.lower().split("-")[0] == base:
                return name.text
    for name in ordered:
        if not name.lang:
            return name.text
    return ordered[0].text if ordered else None


@dataclass(frozen=True)
class Lookup:
    """What to look for: the text, and how to read and restrict it."""

    text: str
    #: class IRIs a hit must have (one of them; superclasses count)
    classes: tuple[str, ...] = ()
    #: ontology terms (classes, properties) instead of things of the data
    terms: bool = False
    #: the last word may be unfinished (typing in a search box)
    prefix: bool = True
    #: a hit needs any word rather than every word (reconciliation)
    any_word: bool = False
    #: only labels in this language (a tag such as "fr"); None: every language
    lang: str | None = None
    limit: int = 10
    offset: int = 0


class SearchIndex:
    """A read-only search index file; one SQLite connection per thread that asks."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with self._connect() as connection:
            meta = dict(connection.execute("SELECT key, value FROM meta").fetchall())
        if meta.get("format") != FORMAT_VERSION:
            raise SearchIndexError(
                f"{path}: search index format {meta.get('format')!r}, expected "
                f"{FORMAT_VERSION!r}; rebuild it (`osce-kg build`, or let the server make one)"
            )
        self.source = meta.get("source", "")

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            connection = sqlite3.connect(f"{self.path.absolute().as_uri()}?mode=ro", uri=True)
        except sqlite3.Error as error:
            raise SearchIndexError(
                f"{self.path}: cannot open the search index ({error})"
            ) from error
        try:
            yield connection
        except sqlite3.DatabaseError as error:
            raise SearchIndexError(f"{self.path}: unreadable search index ({error})") from error
        finally:
            connection.close()

    def search(self, lookup: Lookup) -> list[Hit]:
        """Things whose labels match, best first: exact label, then label starting with the
        text, then by closeness of the label to the text (and FTS5's bm25 between equals)."""
        expression = match_expression(lookup.text, prefix=lookup.prefix, any_word=lookup.any_word)
        if expression is None:
            return []
        wanted = fold(lookup.text)
        sql = [
            "SELECT n.entity, e.iri, n.text, n.lang, n.folded, n.preferred, bm25(names_fts)"
            " FROM names_fts JOIN names n ON n.id = names_fts.rowid"
            " JOIN entities e ON e.id = n.entity"
            " WHERE names_fts MATCH ? AND e.term = ?"
        ]
        params: list[object] = [expression, int(lookup.terms)]
        if lookup.classes:
            marks = ", ".join("?" for _ in lookup.classes)
            sql.append(f" AND n.entity IN (SELECT entity FROM types WHERE class IN ({marks}))")
            params.extend(lookup.classes)
        if lookup.lang:
            sql.append(" AND (n.lang = ? OR n.lang LIKE ?)")
            params.extend([lookup.lang, f"{lookup.lang}-%"])
        sql.append(" ORDER BY rank LIMIT ?")
        params.append(max(200, 20 * (lookup.limit + lookup.offset)))
        with self._connect() as connection:
            rows = connection.execute("".join(sql), params).fetchall()
            best: dict[int, tuple[float, float, str, Name, bool]] = {}
            for entity, iri, text, lang, folded, preferred, bm25 in rows:
                score = similarity(wanted, folded) * (1.0 if preferred else 0.95)
                name = Name(text, lang, bool(preferred))
                candidate = (score, -bm25, iri, name, folded == wanted)
                if entity not in best or candidate[:2] > best[entity][:2]:
                    best[entity] = candidate
            ranked = sorted(best.items(), key=lambda item: (-item[1][0], -item[1][1], item[1][2]))
            chosen = ranked[lookup.offset : lookup.offset + lookup.limit]
            return [
                Hit(
                    iri,
                    name,
                    round(score, 1),
                    exact,
                    self._names(connection, entity),
                    self._types(connection, entity),
                )
                for entity, (score, _, iri, name, exact) in chosen
            ]

    def names_of(self, iri: str) -> tuple[Name, ...]:
        """Every label of a thing (none when it has none)."""
        with self._connect() as connection:
            row = connection.execute("SELECT id FROM entities WHERE iri = ?", (iri,)).fetchone()
            return self._names(connection, row[0]) if row else ()

    def types_of(self, iri: str) -> tuple[str, ...]:
        """The classes a thing was given (not their superclasses)."""
        with self._connect() as connection:
            row = connection.execute("SELECT id FROM entities WHERE iri = ?", (iri,)).fetchone()
            return self._types(connection, row[0]) if row else ()

    @staticmethod
    def _names(connection: sqlite3.Connection, entity: int) -> tuple[Name, ...]:
        rows = connection.execute(
            "SELECT text, lang, preferred FROM names WHERE entity = ? ORDER BY lang, text",
            (entity,),
        )
        return tuple(Name(text, lang, bool(preferred)) for text, lang, preferred in rows)

    @staticmethod
    def _types(connection: sqlite3.Connection, entity: int) -> tuple[str, ...]:
        rows = connection.execute(
            "SELECT class FROM types WHERE entity = ? AND direct = 1 ORDER BY class", (entity,)
        )
        return tuple(cls for (cls,) in rows)


def similarity(wanted: str, label: str) -> float:
    """How well a folded label fits a folded query, 0 to 100: 100 when equal; 80 to 100 when
    the label starts with the query (a longer rest scores less); else how alike they read."""
    if label == wanted:
        return 100.0
    if label.startswith(wanted):
        return 80.0 + 20.0 * len(wanted) / len(label)
    return 80.0 * difflib.SequenceMatcher(None, wanted, label, autojunk=False).ratio()
