"""The schema.org description an entity page embeds (JSON-LD), for search engines and
bookmarklets that read schema.org rather than the project's ontology."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pyoxigraph as ox

from kg.rdf.vocab import OSCE, SCHEMA
from server.labels import Labeller
from server.prefixes import with_prefixes
from server.release_view import ReleaseSummary
from server.store import select

#: The schema.org type of an entity, by the first of its classes found here.
SCHEMA_TYPES = (
    (str(OSCE.PressRelease), "NewsArticle"),
    (str(OSCE.Person), "Person"),
    (str(SCHEMA.Person), "Person"),
    (str(OSCE.ParticipatingState), "Country"),
    (str(OSCE.PartnerForCooperation), "Country"),
    (str(OSCE.State), "Country"),
    (str(OSCE.City), "City"),
    (str(OSCE.Event), "Event"),
    (str(OSCE.Structure), "GovernmentOrganization"),
    (str(OSCE.FieldOperation), "GovernmentOrganization"),
    (str(OSCE.Institution), "GovernmentOrganization"),
    (str(OSCE.SecretariatUnit), "GovernmentOrganization"),
    (str(OSCE.Quotation), "Quotation"),
)

_SAME_AS = with_prefixes("""SELECT ?x ?same WHERE {
  ?x ?p ?same . FILTER(isIRI(?same) && ?p IN (schema:sameAs, owl:sameAs, skos:exactMatch))
} ORDER BY ?same""")


def schema_type(types: Iterable[str]) -> str:
    found = set(types)
    return next((name for iri, name in SCHEMA_TYPES if iri in found), "Thing")


def same_as(node: ox.NamedNode) -> list[str]:
    """IRIs elsewhere that name the same thing (GeoNames, Wikidata), as the data states them."""
    return list(dict.fromkeys(row["same"].value for row in select(_SAME_AS, {"x": node})))


def schema_org(
    node: ox.NamedNode,
    types: Iterable[str],
    labeller: Labeller,
    *,
    release: ReleaseSummary | None,
    coordinates: tuple[str, ...],
) -> dict[str, Any]:
    """The entity as a schema.org JSON-LD object: type, name, page, same-as links, and for a
    release its headline, date, place, body and what it mentions."""
    kind = schema_type(types)
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": kind,
        "@id": node.value,
        "name": labeller.label(node),
        "url": node.value,  # the entity's IRI, which a browser follows to this page
    }
    others = same_as(node)
    if others:
        data["sameAs"] = others
    if len(coordinates) == 2:
        data["geo"] = {
            "@type": "GeoCoordinates",
            "latitude": coordinates[0],
            "longitude": coordinates[1],
        }
    if release is not None:
        data["headline"] = release.title
        if release.date:
            data["datePublished"] = release.date
        if release.place is not None:
            data["locationCreated"] = {"@type": "Place", "name": release.place.text}
        if release.paragraphs:
            data["articleBody"] = "\n".join(release.paragraphs)
        mentioned = [link for _, found in release.named for link in found]
        if mentioned:
            data["mentions"] = [{"name": link.text} for link in mentioned]
        if release.sources:
            data["author"] = [
                {"@type": "GovernmentOrganization", "name": s.text} for s in release.sources
            ]
    return data
