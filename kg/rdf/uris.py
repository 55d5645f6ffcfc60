"""Mints every IRI of the knowledge graph: the one place where IRIs are made."""

from __future__ import annotations

import hashlib
import re
import unicodedata

from rdflib import URIRef

from kg.errors import ConfigError

DEFAULT_BASE = "https://w3id.org/osce-kg/"

#: The kinds of things, each the first path segment under ``{base}id/``.
KINDS = frozenset(
    {
        "organisation",  # the OSCE itself and other organisations (UN, EU, ...)
        "state",  # participating States and Partners for Co-operation, keyed by ISO alpha-2
        "partner-group",  # Asian / Mediterranean Partners for Co-operation
        "territory",  # a host of a field operation named without a position on status (Kosovo)
        "institution",
        "unit",  # Secretariat units
        "field-operation",
        "chairpersonship",  # keyed by year
        "body",  # standing OSCE bodies (Permanent Council, Troika, Minsk Group, field offices, ...)
        "person",
        "post",  # a post in an OSCE structure (Head of Mission, Director, ...)
        "appointment",  # a person holding a post, with dates
        "city",
        "release",
        "event",
        "quote",
        "role",  # a role a release gives a person
        "source-file",
        "field-of-work",
        "meeting-series",
        "event-type",
        "content-type",
        "field-operation-type",
        "scheme",  # SKOS concept schemes
        "dataset",
        "mention",  # an unlinked thing a release names, minted under the release
    }
)

_KEY_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def normalise_base(base: str) -> str:
    """Checks a base IRI and gives it a trailing slash."""
    if not re.match(r"^https?://[^/\s]+(/[^\s?#]*)?$", base):
        raise ConfigError(
            f"base IRI {base!r} is not an http(s) IRI without query or fragment "
            f"(give one like {DEFAULT_BASE})"
        )
    return base if base.endswith("/") else base + "/"


#: Letters NFKD does not take apart into ASCII plus accents ('Bronisław', 'Vollebæk').
_UNDECOMPOSABLE = str.maketrans(
    {
        "ß": "ss",
        "ı": "i",
        "ł": "l",
        "Ł": "L",
        "æ": "ae",
        "Æ": "AE",
        "ø": "o",
        "Ø": "O",
        "đ": "d",
        "Đ": "D",
        "ð": "d",
        "þ": "th",
        "œ": "oe",
        "Œ": "OE",
    }
)


def slugify(text: str, *, max_length: int = 80) -> str:
    """A lowercase ASCII key from a label: 'Tuula Yrjölä' -> 'tuula-yrjola'."""
    ascii_text = (
        unicodedata.normalize("NFKD", text.translate(_UNDECOMPOSABLE))
        .encode("ascii", "ignore")
        .decode("ascii")
    )
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) > max_length:
        slug = slug[:max_length].rstrip("-")
    return slug


def short_hash(*parts: str, length: int = 8) -> str:
    """A short stable hash of some strings, to tell apart keys that would otherwise collide."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return digest[:length]


def entity_iri(kind: str, key: str, *, base: str) -> URIRef:
    """``{base}id/{kind}/{key}``: the IRI of a thing."""
    if kind not in KINDS:
        raise ValueError(f"unknown IRI kind {kind!r}; known kinds: {sorted(KINDS)}")
    if not _KEY_RE.match(key):
        raise ValueError(f"IRI key {key!r} is not a lowercase slug (use slugify())")
    return URIRef(f"{base}id/{kind}/{key}")


def concept_iri(kind: str, key: str) -> URIRef:
    """A concept of the shipped SKOS vocabularies (``ontology/vocabularies.ttl``).

    Always under the default base: the vocabularies ship with those IRIs, and a build with
    another base applies it to the data it mints, not to the shipped concepts.
    """
    return entity_iri(kind, key, base=DEFAULT_BASE)


def geonames_iri(geonames_id: int | str) -> URIRef:
    """The GeoNames IRI of a place: an outside identifier the reference graph links to."""
    if not str(geonames_id).isdigit():
        raise ValueError(f"GeoNames id {geonames_id!r} is not a number")
    return URIRef(f"https://sws.geonames.org/{geonames_id}/")


def ontology_iri(*, base: str) -> URIRef:
    """The IRI of the ontology itself."""
    return URIRef(f"{base}ontology")


def endpoint_vocabulary_iri(*, base: str) -> URIRef:
    """``{base}ns/endpoint#``: the small vocabulary the SPARQL Service Description states its
    limits in (query timeout, row cap, query size, SERVICE allowlist)."""
    return URIRef(f"{base}ns/endpoint#")


def graph_iri(name: str, key: str | None = None, *, base: str) -> URIRef:
    """Named graphs: ``{base}graph/ontology``, ``{base}graph/reference``,
    ``{base}graph/release/{key}``, ``{base}graph/extra/{key}``."""
    if name not in {"ontology", "reference", "release", "extra", "vocabularies"}:
        raise ValueError(f"unknown graph {name!r}")
    if key is None:
        return URIRef(f"{base}graph/{name}")
    if not _KEY_RE.match(key):
        raise ValueError(f"graph key {key!r} is not a lowercase slug")
    return URIRef(f"{base}graph/{name}/{key}")


def parse_graph_iri(iri: str, *, base: str) -> tuple[str, str | None] | None:
    """The (name, key) of a named graph ``graph_iri`` mints under ``base``, or None."""
    if not iri.startswith(f"{base}graph/"):
        return None
    name, _, key = iri[len(base) + len("graph/") :].partition("/")
    try:
        graph_iri(name, key or None, base=base)
    except ValueError:
        return None
    return name, key or None


def dump_iri(file_name: str, *, base: str) -> URIRef:
    """``{base}dumps/{file}``: where a published dump file (or void.ttl) is downloaded."""
    if not re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]*$", file_name):
        raise ValueError(f"dump file name {file_name!r} is not a plain file name")
    return URIRef(f"{base}dumps/{file_name}")


def sparql_endpoint_iri(*, base: str) -> URIRef:
    """``{base}sparql``: the SPARQL endpoint of the published graph."""
    return URIRef(f"{base}sparql")


def source_file_iri(name: str, *, base: str) -> URIRef:
    """A file the graph was made from, by its name relative to its root: a slug of the name
    plus a short hash that keeps names apart which slug alike."""
    return entity_iri(
        "source-file", f"{slugify(name, max_length=60)}-{short_hash(name)}", base=base
    )


def reference_table_iri(table: str, *, base: str) -> URIRef:
    """A facts table the reference graph was made from: ``source-file/reference-{table}``."""
    return entity_iri("source-file", f"reference-{slugify(table.removesuffix('.tsv'))}", base=base)


def release_key(date: str | None, title: str) -> str:
    """A release's key: its ISO date, a slug of its title and a short hash of both.

    The same date and title always give the same key; the hash keeps two releases with
    the same opening words apart.
    """
    prefix = date or "undated"
    slug = slugify(title, max_length=60) or "untitled"
    return f"{prefix}-{slug}-{short_hash(prefix, title, length=6)}"


def split_entity_path(path: str) -> tuple[str, str] | None:
    """``id/{kind}/{key}`` (or ``{kind}/{key}``) -> (kind, key), or None when not an entity path."""
    parts = path.strip("/").split("/")
    if parts and parts[0] == "id":
        parts = parts[1:]
    if len(parts) != 2 or parts[0] not in KINDS or not _KEY_RE.match(parts[1]):
        return None
    return parts[0], parts[1]
