"""The SHACL shapes: each one fails on its invalid fixtures, and valid data passes."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from pyshacl import validate
from rdflib import RDF, RDFS, SH, BNode, Dataset, Graph, Literal, URIRef
from rdflib.namespace import NamespaceManager

from kg.rdf.vocab import OSCE
from kg.validation.shacl import (
    ValidationReport,
    assign_results_to_graphs,
    load_vocabularies,
    validate_dataset,
    validate_graph,
)
from kg.validation.text_report import render_report
from tests.conftest import ID, OSCESH, SHAPES_DATA

#: Shapes used only through sh:node: their failures are reported by the shape that uses them
#: (e.g. oscesh:ParticipatingState-joinedOn for oscesh:PartialDate).
NESTED_SHAPES = frozenset(
    OSCESH[name]
    for name in ("PartialDate", "OrganisationOrState", "StateOrTerritory", "InFieldsOfWorkScheme")
)

#: Each invalid-* (Violation) or warning-* (Warning) fixture and exactly the (source shape, path)
#: pairs it must be reported with. A fixture is validated together with context.ttl.
INVALID_CASES: list[tuple[str, list[tuple[str, str | None]]]] = [
    ("structures/invalid-body-no-source", [("Body-source", "dcterms:source")]),
    ("structures/invalid-body-unit-of-institution", [("Body-unitOf", "org:unitOf")]),
    ("states/invalid-alpha2-pattern", [("State-isoAlpha2", "osce:isoAlpha2")]),
    ("states/invalid-alpha2-twice", [("State-isoAlpha2", "osce:isoAlpha2")]),
    ("states/invalid-alpha3-lowercase", [("State-isoAlpha3", "osce:isoAlpha3")]),
    (
        "states/invalid-participating-joined-text",
        [("ParticipatingState-joinedOn", "osce:joinedOn")],
    ),
    ("states/invalid-participating-label-language", [("Label-languages", "rdfs:label")]),
    (
        "states/invalid-participating-no-alpha2",
        [("ParticipatingState-isoAlpha2", "osce:isoAlpha2")],
    ),
    (
        "states/invalid-participating-no-alpha3",
        [("ParticipatingState-isoAlpha3", "osce:isoAlpha3")],
    ),
    ("states/invalid-participating-no-english-label", [("Label-english", "rdfs:label")]),
    (
        "states/invalid-participating-no-provenance",
        [("Provenance-derivedFrom", "prov:wasDerivedFrom")],
    ),
    ("states/invalid-participating-source-text", [("Provenance-sourceUrl", "dcterms:source")]),
    ("states/invalid-participating-two-english-labels", [("Label-uniqueLang", "rdfs:label")]),
    (
        "states/invalid-partner-former-text",
        [("PartnerForCooperation-formerPartner", "osce:formerPartner")],
    ),
    (
        "states/invalid-partner-group-is-state",
        [("PartnerForCooperation-partnerGroup", "osce:partnerGroup")],
    ),
    ("states/invalid-partner-group-no-english-label", [("Label-english", "rdfs:label")]),
    ("states/invalid-partner-no-alpha2", [("PartnerForCooperation-isoAlpha2", "osce:isoAlpha2")]),
    (
        "states/invalid-partner-no-group",
        [("PartnerForCooperation-partnerGroup", "osce:partnerGroup")],
    ),
    (
        "states/invalid-partner-since-date",
        [("PartnerForCooperation-partnerSince", "osce:partnerSince")],
    ),
    ("states/invalid-state-no-label", [("Label-required", "rdfs:label")]),
    ("states/invalid-territory-no-english-label", [("Label-english", "rdfs:label")]),
    (
        "states/warning-participating-no-joined",
        [("ParticipatingState-joinedOnRecommended", "osce:joinedOn")],
    ),
    (
        "states/warning-participating-no-source-url",
        [("Provenance-sourceUrlRecommended", "dcterms:source")],
    ),
    ("structures/invalid-field-operation-closed-but-active", [("ClosedFieldOperationShape", None)]),
    (
        "structures/invalid-field-operation-former-kind-text",
        [("FieldOperation-formerKind", "osce:formerFieldOperationKind")],
    ),
    (
        "structures/invalid-field-operation-host-is-city",
        [("FieldOperation-hostState", "osce:hostState")],
    ),
    (
        "structures/invalid-field-operation-kind-is-field-of-work",
        [("FieldOperation-kind", "osce:fieldOperationKind")],
    ),
    ("structures/invalid-field-operation-no-active", [("FieldOperation-active", "osce:active")]),
    (
        "structures/invalid-field-operation-no-host",
        [("FieldOperation-hostState", "osce:hostState")],
    ),
    (
        "structures/invalid-field-operation-no-kind",
        [("FieldOperation-kind", "osce:fieldOperationKind")],
    ),
    (
        "structures/invalid-field-operation-replaces-institution",
        [("FieldOperation-replaces", "dcterms:replaces")],
    ),
    ("structures/invalid-institution-no-seat", [("Institution-seatCity", "osce:seatCity")]),
    ("structures/invalid-organisation-no-label", [("Label-required", "rdfs:label")]),
    (
        "structures/invalid-organisation-part-of-person",
        [("Organization-subOrganizationOf", "org:subOrganizationOf")],
    ),
    ("structures/invalid-structure-active-text", [("Structure-active", "osce:active")]),
    (
        "structures/invalid-structure-dissolution-twice",
        [("Structure-dissolutionDate", "schema:dissolutionDate")],
    ),
    (
        "structures/invalid-structure-empty-abbreviation",
        [("Structure-abbreviation", "osce:abbreviation")],
    ),
    (
        "structures/invalid-structure-founding-text",
        [("Structure-foundingDate", "schema:foundingDate")],
    ),
    ("structures/invalid-structure-no-label", [("Label-required", "rdfs:label")]),
    (
        "structures/invalid-structure-office-city-is-text",
        [("Structure-officeCity", "osce:officeCity")],
    ),
    ("structures/invalid-structure-seat-is-state", [("Structure-seatCity", "osce:seatCity")]),
    ("structures/invalid-structure-two-seats", [("Structure-seatCity", "osce:seatCity")]),
    ("structures/invalid-unit-no-parent", [("SecretariatUnit-unitOf", "org:unitOf")]),
    (
        "structures/invalid-unit-parent-is-field-operation",
        [("SecretariatUnit-unitOf", "org:unitOf")],
    ),
    (
        "structures/warning-field-operation-closed-without-date",
        [("ClosedFieldOperationDateShape", None)],
    ),
    (
        "structures/warning-field-operation-no-founding-date",
        [("FieldOperation-foundingDate", "schema:foundingDate")],
    ),
    ("structures/warning-field-operation-no-seat", [("FieldOperation-seatCity", "osce:seatCity")]),
    (
        "chairpersonships/invalid-chairpersonship-chairperson-is-state",
        [("Chairpersonship-chairpersonInOffice", "osce:chairpersonInOffice")],
    ),
    (
        "chairpersonships/invalid-chairpersonship-no-english-label",
        [("Label-english", "rdfs:label")],
    ),
    ("chairpersonships/invalid-chairpersonship-no-year", [("Chairpersonship-year", "osce:year")]),
    (
        "chairpersonships/invalid-chairpersonship-state-is-city",
        [("Chairpersonship-chairingState", "osce:chairingState")],
    ),
    (
        "chairpersonships/invalid-chairpersonship-three-chairpersons",
        [("Chairpersonship-chairpersonInOffice", "osce:chairpersonInOffice")],
    ),
    (
        "chairpersonships/invalid-chairpersonship-two-states",
        [("Chairpersonship-chairingState", "osce:chairingState")],
    ),
    ("chairpersonships/invalid-chairpersonship-year-1890", [("Chairpersonship-year", "osce:year")]),
    (
        "chairpersonships/invalid-chairpersonship-year-is-date",
        [("Chairpersonship-year", "osce:year")],
    ),
    (
        "chairpersonships/warning-chairpersonship-no-chairperson",
        [("Chairpersonship-chairpersonInOfficeRecommended", "osce:chairpersonInOffice")],
    ),
    ("people/invalid-appointment-appointee-is-post", [("Appointment-appointee", "osce:appointee")]),
    ("people/invalid-appointment-attested-text", [("Appointment-attestedOn", "osce:attestedOn")]),
    ("people/invalid-appointment-no-appointee", [("Appointment-appointee", "osce:appointee")]),
    ("people/invalid-appointment-no-post", [("Appointment-post", "osce:post")]),
    ("people/invalid-appointment-start-text", [("Appointment-startDate", "schema:startDate")]),
    ("people/invalid-appointment-term-and-attested", [("AppointmentDatingShape", None)]),
    ("people/invalid-appointment-two-end-dates", [("Appointment-endDate", "schema:endDate")]),
    (
        "people/invalid-appointment-two-organisations",
        [("Appointment-organization", "org:organization")],
    ),
    ("people/invalid-person-nationality-city", [("Person-nationality", "schema:nationality")]),
    ("people/invalid-person-no-label", [("Label-required", "rdfs:label")]),
    ("people/invalid-person-two-english-names", [("Label-uniqueLang", "rdfs:label")]),
    ("people/invalid-post-no-english-label", [("Label-english", "rdfs:label")]),
    ("people/invalid-post-not-in-anything", [("Post-postIn", "org:postIn")]),
    ("people/warning-appointment-undated", [("AppointmentDatedShape", None)]),
    (
        "places/invalid-city-contained-in-person",
        [("City-containedInPlace", "schema:containedInPlace")],
    ),
    ("places/invalid-city-geonames-text", [("City-geonamesId", "osce:geonamesId")]),
    ("places/invalid-city-label-language", [("Label-languages", "rdfs:label")]),
    ("places/invalid-city-latitude-out-of-range", [("City-lat", "geo1:lat")]),
    ("places/invalid-city-latitude-without-longitude", [("CityCoordinatesShape", None)]),
    ("places/invalid-city-longitude-text", [("City-long", "geo1:long")]),
    (
        "places/invalid-city-no-label",
        [("Label-english", "rdfs:label"), ("Label-required", "rdfs:label")],
    ),
    ("places/invalid-city-same-as-text", [("City-sameAs", "schema:sameAs")]),
    ("places/warning-city-no-geonames", [("City-geonamesIdRecommended", "osce:geonamesId")]),
    (
        "vocabularies/invalid-concept-no-english-label",
        [("Concept-prefLabelEnglish", "skos:prefLabel")],
    ),
    ("vocabularies/invalid-concept-no-scheme", [("Concept-inScheme", "skos:inScheme")]),
    (
        "vocabularies/invalid-concept-two-english-labels",
        [("Concept-prefLabelUniqueLang", "skos:prefLabel")],
    ),
    (
        "vocabularies/invalid-concept-untagged-label",
        [("Concept-prefLabel", "skos:prefLabel"), ("Concept-prefLabelEnglish", "skos:prefLabel")],
    ),
    ("vocabularies/invalid-content-type-other-scheme", [("ContentType-inScheme", "skos:inScheme")]),
    ("vocabularies/invalid-event-type-other-scheme", [("EventType-inScheme", "skos:inScheme")]),
    (
        "vocabularies/invalid-field-of-work-other-scheme",
        [("FieldOfWork-inScheme", "skos:inScheme")],
    ),
    (
        "vocabularies/invalid-field-operation-kind-other-scheme",
        [("FieldOperationKind-inScheme", "skos:inScheme")],
    ),
    (
        "vocabularies/invalid-meeting-series-other-scheme",
        [("MeetingSeries-inScheme", "skos:inScheme")],
    ),
    (
        "vocabularies/invalid-scheme-no-english-label",
        [("ConceptScheme-prefLabel", "skos:prefLabel")],
    ),
    (
        "vocabularies/invalid-scheme-top-concept-not-concept",
        [("ConceptScheme-hasTopConcept", "skos:hasTopConcept")],
    ),
    ("releases/invalid-quote-in-no-release", [("Quotation-release", "^osce:quotation")]),
    ("releases/invalid-quote-no-text", [("Quotation-text", "schema:text")]),
    ("releases/invalid-quote-two-speakers", [("Quotation-speaker", "osce:speaker")]),
    ("releases/invalid-release-blank-node", [("IriShape", None)]),
    (
        "releases/invalid-release-content-type-not-concept",
        [("PressRelease-contentType", "osce:contentType")],
    ),
    (
        "releases/invalid-release-date-impossible",
        [("PressRelease-datePublished", "schema:datePublished")],
    ),
    (
        "releases/invalid-release-date-text",
        [("PressRelease-datePublished", "schema:datePublished")],
    ),
    ("releases/invalid-release-empty-headline", [("PressRelease-headline", "schema:headline")]),
    (
        "releases/invalid-release-location-is-state",
        [("PressRelease-locationCreated", "schema:locationCreated")],
    ),
    (
        "releases/invalid-release-mentions-organisation-person",
        [("PressRelease-mentionsOrganisation", "osce:mentionsOrganisation")],
    ),
    (
        "releases/invalid-release-mentions-person-state",
        [("PressRelease-mentionsPerson", "osce:mentionsPerson")],
    ),
    (
        "releases/invalid-release-mentions-state-city",
        [("PressRelease-mentionsState", "osce:mentionsState")],
    ),
    (
        "releases/invalid-release-mentions-structure-state",
        [("PressRelease-mentionsStructure", "osce:mentionsStructure")],
    ),
    ("releases/invalid-release-no-headline", [("PressRelease-headline", "schema:headline")]),
    (
        "releases/invalid-release-no-source-file",
        [("PressRelease-wasDerivedFrom", "prov:wasDerivedFrom")],
    ),
    (
        "releases/invalid-release-quotation-is-person",
        [("PressRelease-quotation", "osce:quotation")],
    ),
    (
        "releases/invalid-release-role-mention-is-person",
        [("PressRelease-roleMention", "osce:roleMention")],
    ),
    ("releases/invalid-release-source-is-person", [("PressRelease-source", "osce:source")]),
    ("releases/invalid-release-subject-event-type", [("PressRelease-subject", "dcterms:subject")]),
    (
        "releases/invalid-release-subject-outside-scheme",
        [("FieldOfWork-inScheme", "skos:inScheme"), ("PressRelease-subject", "dcterms:subject")],
    ),
    ("releases/invalid-release-subject-text", [("PressRelease-subject", "dcterms:subject")]),
    ("releases/invalid-release-two-bodies", [("PressRelease-articleBody", "schema:articleBody")]),
    ("releases/invalid-release-two-datelines", [("PressRelease-dateline", "osce:dateline")]),
    (
        "releases/invalid-release-two-dates",
        [("PressRelease-datePublished", "schema:datePublished")],
    ),
    ("releases/invalid-release-two-events", [("PressRelease-reportsEvent", "osce:reportsEvent")]),
    ("releases/invalid-release-two-headlines", [("PressRelease-headline", "schema:headline")]),
    ("releases/invalid-release-two-place-names", [("PressRelease-placeName", "osce:placeName")]),
    ("releases/invalid-role-no-person", [("RoleMention-person", "osce:person")]),
    ("releases/invalid-role-no-title-no-organisation", [("RoleMentionShape", None)]),
    (
        "releases/invalid-role-organisation-is-city",
        [("RoleMention-roleOrganisation", "osce:roleOrganisation")],
    ),
    ("releases/invalid-role-two-titles", [("RoleMention-roleTitle", "osce:roleTitle")]),
    ("releases/invalid-source-file-bad-digest", [("SourceFile-sha256", "osce:sha256")]),
    ("releases/invalid-source-file-empty-name", [("SourceFile-label", "rdfs:label")]),
    ("releases/invalid-source-file-name-tagged", [("SourceFile-label", "rdfs:label")]),
    ("releases/invalid-source-file-no-name", [("SourceFile-label", "rdfs:label")]),
    ("releases/invalid-source-file-title-only", [("SourceFile-label", "rdfs:label")]),
    ("releases/invalid-source-file-two-names", [("SourceFile-label", "rdfs:label")]),
    ("releases/invalid-source-file-no-reader", [("SourceFile-reader", "osce:reader")]),
    ("releases/warning-quote-no-speaker", [("Quotation-speakerRecommended", "osce:speaker")]),
    (
        "releases/warning-release-no-content-type",
        [("PressRelease-contentTypeRecommended", "osce:contentType")],
    ),
    (
        "releases/warning-release-no-date",
        [("PressRelease-datePublishedRecommended", "schema:datePublished")],
    ),
    ("events/invalid-event-ends-before-it-starts", [("Event-startDate", "schema:startDate")]),
    ("events/invalid-event-in-no-release", [("Event-release", "^osce:reportsEvent")]),
    ("events/invalid-event-location-text", [("Event-location", "schema:location")]),
    (
        "events/invalid-event-meeting-series-is-event-type",
        [("Event-meetingSeries", "osce:meetingSeries")],
    ),
    ("events/invalid-event-organiser-is-city", [("Event-organizer", "schema:organizer")]),
    (
        "events/invalid-event-partner-is-person",
        [("Event-inCooperationWith", "osce:inCooperationWith")],
    ),
    ("events/invalid-event-start-text", [("Event-startDate", "schema:startDate")]),
    ("events/invalid-event-two-end-dates", [("Event-endDate", "schema:endDate")]),
    ("events/invalid-event-two-names", [("Event-name", "schema:name")]),
    ("events/invalid-event-two-place-names", [("Event-placeName", "osce:placeName")]),
    ("events/invalid-event-type-is-field-of-work", [("Event-eventType", "osce:eventType")]),
    ("events/warning-event-no-start", [("Event-startDateRecommended", "schema:startDate")]),
]


def validate_fixture(name: str, shapes: Graph, ontology: Graph, context: Graph) -> ValidationReport:
    data = Graph()
    data += context
    data.parse(SHAPES_DATA / f"{name}.ttl")
    return validate_graph(data, shapes=shapes, ontology=ontology, inplace=True)


def expand(curie: str | None) -> tuple[URIRef | None, bool]:
    """'^osce:quotation' -> (the IRI of osce:quotation, inverse=True)."""
    if curie is None:
        return None, False
    inverse = curie.startswith("^")
    names = NamespaceManager(Graph())
    names.bind("osce", OSCE)
    names.bind("geo", "http://www.w3.org/2003/01/geo/wgs84_pos#")
    return names.expand_curie(curie.lstrip("^")), inverse


@pytest.mark.parametrize(("name", "expected"), INVALID_CASES, ids=[c[0] for c in INVALID_CASES])
def test_invalid_fixture_is_reported_by_its_shape(
    name: str,
    expected: list[tuple[str, str | None]],
    shapes: Graph,
    ontology: Graph,
    context: Graph,
) -> None:
    report = validate_fixture(name, shapes, ontology, context)
    severity = "Violation" if Path(name).name.startswith("invalid-") else "Warning"
    found = {(r.source_shape, r.path, r.inverse, r.severity) for r in report.results}
    wanted = {(OSCESH[shape], *expand(path), severity) for shape, path in expected}
    assert found == wanted, render_report(report)
    assert report.conforms is (severity == "Warning")
    assert all(r.message and not r.message.startswith("Value") for r in report.results), (
        "every result carries the shape's own message, not pySHACL's default"
    )


VALID_FIXTURES = sorted(
    str(path.relative_to(SHAPES_DATA).with_suffix("")) for path in SHAPES_DATA.glob("*/valid-*.ttl")
)


@pytest.mark.parametrize("name", ["context", *VALID_FIXTURES])
def test_valid_fixture_passes_without_warnings(
    name: str, shapes: Graph, ontology: Graph, context: Graph
) -> None:
    report = validate_fixture(name, shapes, ontology, context)
    assert report.conforms, render_report(report)
    assert report.results == (), render_report(report)


#: What a node shape may state besides constraints of its own.
NOT_CONSTRAINTS = frozenset(
    {RDF.type, RDFS.comment, SH.targetClass, SH.property, SH.message, SH.severity}
)


def shapes_with_constraints(shapes: Graph) -> set[URIRef]:
    """Named shapes that can produce results themselves (not only through sh:property)."""
    return {
        node
        for cls in (SH.NodeShape, SH.PropertyShape)
        for node in shapes.subjects(RDF.type, cls)
        if isinstance(node, URIRef)
        and any(p not in NOT_CONSTRAINTS for p in shapes.predicates(node, None))
    } - NESTED_SHAPES


def test_every_shape_is_proved_able_to_fail(shapes: Graph) -> None:
    covered = {OSCESH[shape] for _, expected in INVALID_CASES for shape, _ in expected}
    assert shapes_with_constraints(shapes) - covered == set()
    assert len(covered) > 100


def test_every_shape_speaks_english_to_the_editor(shapes: Graph) -> None:
    for shape in shapes_with_constraints(shapes):
        messages = [m for m in shapes.objects(shape, SH.message) if isinstance(m, Literal)]
        assert [m.language for m in messages] == ["en"], shape


def test_shapes_are_valid_shacl(shapes: Graph) -> None:
    conforms, _, text = validate(shapes, shacl_graph=shapes, meta_shacl=True)
    assert conforms, text


def test_reference_graph_conforms(shapes: Graph, ontology: Graph) -> None:
    from kg.reference.graph import reference_graph

    data = reference_graph()
    data += load_vocabularies()
    report = validate_graph(data, shapes=shapes, ontology=ontology, inplace=True)
    assert report.conforms, render_report(report)
    assert report.count("Violation") == 0


def test_shipped_vocabularies_conform(shapes: Graph, ontology: Graph) -> None:
    report = validate_graph(load_vocabularies(), shapes=shapes, ontology=ontology)
    assert report.results == (), render_report(report)


def release_graph(dataset: Dataset, key: str, headline: str | None) -> URIRef:
    """Adds a tiny release graph; without a headline it violates PressRelease-headline."""
    graph_iri = URIRef(f"https://w3id.org/osce-kg/graph/release/{key}")
    graph = dataset.graph(graph_iri)
    release = URIRef(f"{ID}release/{key}")
    source = URIRef(f"{ID}source-file/{key}")
    graph.add((release, RDF.type, OSCE.PressRelease))
    graph.add((release, URIRef("http://www.w3.org/ns/prov#wasDerivedFrom"), source))
    graph.add((source, RDF.type, OSCE.SourceFile))
    graph.add((source, URIRef("http://www.w3.org/2000/01/rdf-schema#label"), Literal(key)))
    graph.add((source, OSCE.sha256, Literal("0" * 64)))
    graph.add((source, OSCE.reader, Literal("text")))
    if headline is not None:
        graph.add((release, URIRef("https://schema.org/headline"), Literal(headline)))
    return graph_iri


def release_iri(graph_iri: URIRef) -> URIRef:
    return URIRef(f"{ID}release/{graph_iri.rsplit('/', 1)[-1]}")


def test_dataset_validation_names_the_failing_release_graph(
    shapes: Graph, ontology: Graph, context: Graph
) -> None:
    dataset = Dataset()
    reference = dataset.graph(URIRef("https://w3id.org/osce-kg/graph/reference"))
    reference += context
    good = release_graph(dataset, "2020-01-01-good-aaaaaa", "A good release")
    bad = release_graph(dataset, "2020-01-02-bad-bbbbbb", None)

    checked = validate_dataset(dataset, shapes=shapes, ontology=ontology)

    assert not checked.report.conforms
    assert checked.assignment.failing_graphs() == {bad}
    assert {r.severity for r in checked.assignment.by_graph[good]} == {"Warning"}
    (result,) = [r for r in checked.assignment.by_graph[bad] if r.severity == "Violation"]
    assert result.source_shape == OSCESH["PressRelease-headline"]
    assert checked.assignment.unassigned == ()


def test_a_wrong_value_is_assigned_to_the_graph_that_states_it(
    shapes: Graph, ontology: Graph, context: Graph
) -> None:
    """A reference State linked wrongly by one release: only that release is at fault."""
    dataset = Dataset()
    dataset.graph(URIRef("https://w3id.org/osce-kg/graph/reference")).__iadd__(context)
    first = release_graph(dataset, "2020-01-01-one-aaaaaa", "One")
    second = release_graph(dataset, "2020-01-02-two-bbbbbb", "Two")
    state = URIRef(f"{ID}state/at")
    dataset.graph(second).add(
        (URIRef(f"{ID}release/2020-01-02-two-bbbbbb"), OSCE.mentionsPerson, state)
    )
    dataset.graph(first).add(
        (URIRef(f"{ID}release/2020-01-01-one-aaaaaa"), OSCE.mentionsState, state)
    )

    checked = validate_dataset(dataset, shapes=shapes, ontology=ontology)

    assert checked.assignment.failing_graphs() == {second}


def test_results_without_a_named_graph_stay_unassigned(shapes: Graph, ontology: Graph) -> None:
    report = validate_graph(
        Graph().parse(SHAPES_DATA / "states" / "invalid-alpha2-pattern.ttl"),
        shapes=shapes,
        ontology=ontology,
    )
    assignment = assign_results_to_graphs(Dataset(), report.results)
    assert assignment.by_graph == {}
    assert len(assignment.unassigned) == len(report.results) > 0


def test_every_class_with_instances_has_a_shape(shapes: Graph, ontology: Graph) -> None:
    """Each class the reference graph, the vocabularies or a mapped release uses is the
    target of a node shape, itself or through a superclass the ontology states."""
    from kg.reference.graph import reference_graph

    data = reference_graph() + load_vocabularies()
    for path in SHAPES_DATA.glob("*/valid-*.ttl"):
        data.parse(path)
    targets = {
        cls
        for shape, cls in shapes.subject_objects(SH.targetClass)
        if shape != OSCESH.IriShape  # it targets nearly everything, for IRIs only
    }
    used = {c for c in data.objects(None, RDF.type) if isinstance(c, URIRef)}
    untargeted = {
        cls for cls in used if not targets & set(ontology.transitive_objects(cls, RDFS.subClassOf))
    }
    assert untargeted <= {URIRef("https://schema.org/Organization")}  # only with org:* types


def test_pyshacl_parameter_list_answers_as_pyshacls_own(
    shapes: Graph, ontology: Graph, context: Graph, monkeypatch: pytest.MonkeyPatch
) -> None:
    """kg.validation.shacl gives pySHACL its constraint parameters as a hashed list (speed);
    every invalid fixture gets the same results with pySHACL's own plain list."""
    from pyshacl import shape
    from pyshacl.constraints import ALL_CONSTRAINT_PARAMETERS, CONSTRAINT_PARAMETERS_MAP

    hashed = getattr(shape, "CONSTRAINT_PARAMS")[0]  # noqa: B009 (not in its stubs)
    assert type(hashed) is not list, "the hashed list is installed"
    assert list(hashed) == ALL_CONSTRAINT_PARAMETERS
    assert all(p in hashed for p in ALL_CONSTRAINT_PARAMETERS) and SH.targetClass not in hashed
    names = [name for name, _ in INVALID_CASES]

    def results() -> list[list[tuple[object, ...]]]:
        """Each fixture's results (blank nodes, fresh in every parse, as one)."""
        return [
            sorted(
                (
                    tuple(None if isinstance(v, BNode) else v for v in dataclasses.astuple(r))
                    for r in validate_fixture(name, shapes, ontology, context).results
                ),
                key=str,
            )
            for name in names
        ]

    fast = results()
    assert sum(map(len, fast)) >= len(names)
    monkeypatch.setattr(
        shape, "CONSTRAINT_PARAMS", (list(ALL_CONSTRAINT_PARAMETERS), CONSTRAINT_PARAMETERS_MAP)
    )
    assert fast == results()
