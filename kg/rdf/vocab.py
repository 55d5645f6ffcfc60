"""The OSCE ontology's namespace class and the standard namespaces the project uses."""

from __future__ import annotations

from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import (
    DCAT,
    DCTERMS,
    FOAF,
    ORG,
    OWL,
    PROV,
    RDF,
    RDFS,
    SDO,
    SH,
    SKOS,
    TIME,
    VOID,
    XSD,
    DefinedNamespace,
)

#: schema.org, as rdflib spells it (``https://schema.org/``); an unknown term warns, and
#: pytest turns that warning into a failure.
SCHEMA = SDO
#: W3C Basic Geo (WGS84 lat/long). rdflib's ``WGS`` uses an https IRI that nobody publishes
#: data with, so the canonical http namespace is declared here.
WGS84 = Namespace("http://www.w3.org/2003/01/geo/wgs84_pos#")
GEO = WGS84
#: SPARQL 1.1 Service Description.
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")

ONTOLOGY_NS = "https://w3id.org/osce-kg/ontology#"


class OSCE(DefinedNamespace):
    """Terms of the OSCE ontology (``ontology/osce.ttl``); a misspelt term fails at import."""

    _NS = Namespace(ONTOLOGY_NS)
    _fail = True

    # structures of the OSCE
    Structure: URIRef
    Institution: URIRef
    SecretariatUnit: URIRef
    FieldOperation: URIRef
    Chairpersonship: URIRef
    Body: URIRef
    # States and groups
    State: URIRef
    ParticipatingState: URIRef
    PartnerForCooperation: URIRef
    PartnerGroup: URIRef
    Territory: URIRef
    # people and posts
    Person: URIRef
    Appointment: URIRef
    # places
    City: URIRef
    # SKOS concept classes
    FieldOfWork: URIRef
    MeetingSeries: URIRef
    ContentType: URIRef
    EventType: URIRef
    FieldOperationKind: URIRef
    # releases and what they report
    PressRelease: URIRef
    News: URIRef
    Statement: URIRef
    DailyReport: URIRef
    WeeklyReport: URIRef
    SpotReport: URIRef
    Quotation: URIRef
    RoleMention: URIRef
    Event: URIRef
    SourceFile: URIRef

    # object properties
    hostState: URIRef
    seatCity: URIRef
    officeCity: URIRef
    fieldOperationKind: URIRef
    formerFieldOperationKind: URIRef
    partnerGroup: URIRef
    chairingState: URIRef
    chairpersonInOffice: URIRef
    appointee: URIRef
    post: URIRef
    contentType: URIRef
    source: URIRef
    mentionsState: URIRef
    mentionsStructure: URIRef
    mentionsOrganisation: URIRef
    mentionsPerson: URIRef
    quotation: URIRef
    speaker: URIRef
    roleMention: URIRef
    person: URIRef
    roleOrganisation: URIRef
    reportsEvent: URIRef
    eventType: URIRef
    meetingSeries: URIRef
    inCooperationWith: URIRef

    # datatype properties
    isoAlpha2: URIRef
    isoAlpha3: URIRef
    joinedOn: URIRef
    partnerSince: URIRef
    formerPartner: URIRef
    year: URIRef
    formerName: URIRef
    abbreviation: URIRef
    attestedOn: URIRef
    dateline: URIRef
    placeName: URIRef
    roleTitle: URIRef
    sha256: URIRef
    reader: URIRef
    geonamesId: URIRef
    active: URIRef


#: Prefixes bound on every graph the project serialises.
PREFIXES: dict[str, str] = {
    "osce": str(OSCE._NS),
    "org": str(ORG),
    "schema": str(SCHEMA),
    "skos": str(SKOS),
    "dcterms": str(DCTERMS),
    "prov": str(PROV),
    "foaf": str(FOAF),
    "geo": str(WGS84),
    "void": str(VOID),
    "dcat": str(DCAT),
    "sd": str(SD),
    "sh": str(SH),
    "owl": str(OWL),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "xsd": str(XSD),
    "time": str(TIME),
}


def bind_prefixes(graph: Graph) -> Graph:
    """Binds the project's prefixes on a graph (replacing rdflib's defaults) and returns it."""
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, Namespace(namespace), override=True, replace=True)
    return graph


def osce_terms() -> frozenset[URIRef]:
    """Every term the namespace class declares."""
    names = OSCE.__annotations__
    return frozenset(URIRef(ONTOLOGY_NS + name) for name in names if not name.startswith("_"))


__all__ = [
    "DCAT",
    "DCTERMS",
    "FOAF",
    "GEO",
    "ONTOLOGY_NS",
    "ORG",
    "OSCE",
    "OWL",
    "PREFIXES",
    "PROV",
    "RDF",
    "RDFS",
    "SCHEMA",
    "SD",
    "SH",
    "SKOS",
    "TIME",
    "VOID",
    "WGS84",
    "XSD",
    "bind_prefixes",
    "osce_terms",
]
