"""Tests of kg.reference.graph: the reference graph has the documented content, sources and IRIs."""

from __future__ import annotations

from dataclasses import replace

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import XSD

from kg.rdf.uris import DEFAULT_BASE, entity_iri
from kg.rdf.vocab import DCTERMS, ONTOLOGY_NS, ORG, OSCE, PROV, RDF, RDFS, SCHEMA, SKOS, WGS84
from kg.reference.graph import build_reference, entities
from kg.reference.ontologies import load_ontology
from kg.reference.tables import load_tables

OFFICIAL_LANGUAGES = {"en", "fr", "de", "it", "ru", "es"}


@pytest.fixture(scope="module")
def graph() -> Graph:
    build = build_reference()
    assert build.errors == ()
    return build.graph


def iri(kind: str, key: str) -> URIRef:
    return entity_iri(kind, key, base=DEFAULT_BASE)


def values(graph: Graph, subject: URIRef, predicate: URIRef) -> set[str]:
    return {str(o) for o in graph.objects(subject, predicate)}


def test_counts_of_the_documented_entities(graph):
    assert len(entities(graph, [OSCE.ParticipatingState])) == 57
    assert len(entities(graph, [OSCE.PartnerForCooperation])) == 12
    assert len(entities(graph, [OSCE.Institution])) == 7
    assert len(entities(graph, [OSCE.SecretariatUnit])) == 16
    assert len(entities(graph, [OSCE.FieldOperation])) == 31
    assert len(entities(graph, [OSCE.Chairpersonship])) == 36
    active = set(graph.subjects(OSCE.active, Literal(True))) & entities(
        graph, [OSCE.FieldOperation]
    )
    assert len(active) == 12
    secretaries_general = set(
        graph.subjects(OSCE.post, iri("post", "secretariat-secretary-general"))
    )
    assert len(secretaries_general) == 8


def test_states_have_iso_codes_and_labels_in_the_six_official_languages(graph):
    for state in entities(graph, [OSCE.ParticipatingState]):
        [alpha2] = values(graph, state, OSCE.isoAlpha2)
        [alpha3] = values(graph, state, OSCE.isoAlpha3)
        assert state == iri("state", alpha2.lower())
        assert len(alpha3) == 3 and alpha3.isupper()
        languages = [label.language for label in graph.objects(state, RDFS.label)]
        assert sorted(languages) == sorted(OFFICIAL_LANGUAGES), state
    turkiye = iri("state", "tr")
    assert Literal("Türkiye", lang="en") in set(graph.objects(turkiye, RDFS.label))
    assert Literal("Turquie", lang="fr") in set(graph.objects(turkiye, RDFS.label))
    assert graph.value(iri("state", "de"), OSCE.joinedOn) == Literal(
        "1973-06-25", datatype=XSD.date
    )
    assert graph.value(iri("state", "ru"), OSCE.joinedOn) is None


def test_mongolia_is_one_thing_a_participating_state_and_a_former_partner(graph):
    mongolia = iri("state", "mn")
    assert (mongolia, RDF.type, OSCE.ParticipatingState) in graph
    assert (mongolia, RDF.type, OSCE.PartnerForCooperation) in graph
    assert graph.value(mongolia, OSCE.formerPartner) == Literal(True)
    assert graph.value(iri("state", "jp"), OSCE.formerPartner) == Literal(False)
    assert graph.value(mongolia, OSCE.partnerSince) == Literal("2004", datatype=XSD.gYear)
    asian = iri("partner-group", "asian-partners-for-co-operation")
    assert len(set(graph.subjects(OSCE.partnerGroup, asian))) == 6


def test_every_entity_carries_its_sources(graph):
    typed = {s for s in graph.subjects(RDF.type, None) if isinstance(s, URIRef)}
    sources = entities(graph, [OSCE.SourceFile])
    assert len(sources) == 11  # the ten facts tables and bodies.tsv
    for entity in typed - sources:
        urls = list(graph.objects(entity, DCTERMS.source))
        assert urls, f"{entity} has no dcterms:source"
        assert all(str(url).startswith("http") for url in urls)
        derived = set(graph.objects(entity, PROV.wasDerivedFrom))
        assert derived and derived <= sources, entity


def test_source_files_are_named_with_rdfs_label_as_release_files_are(graph):
    sources = entities(graph, [OSCE.SourceFile])
    labels = {str(graph.value(source, RDFS.label)) for source in sources}
    assert "kg/data/reference/participating_states.tsv" in labels
    for source in sources:
        [label] = graph.objects(source, RDFS.label)
        assert label.language is None and label.startswith("kg/data/reference/")
        assert not list(graph.objects(source, DCTERMS.title))


def test_every_entity_has_one_english_label(graph):
    typed = {s for s in graph.subjects(RDF.type, None) if isinstance(s, URIRef)}
    typed -= entities(graph, [OSCE.SourceFile])
    for entity in typed:
        english = [o for o in graph.objects(entity, RDFS.label) if o.language == "en"]
        assert len(english) == 1, (entity, english)


def test_field_operations_keep_one_iri_through_renamings(graph):
    astana = iri("field-operation", "programme-office-in-astana")
    assert values(graph, astana, RDFS.label) == {"OSCE Programme Office in Astana"}
    assert "OSCE Centre in Almaty" in values(graph, astana, OSCE.formerName)
    assert graph.value(astana, OSCE.hostState) == iri("state", "kz")
    assert graph.value(astana, OSCE.seatCity) == iri("city", "astana")
    assert graph.value(astana, SCHEMA.foundingDate) == Literal("1998", datatype=XSD.gYear)
    skopje = iri("field-operation", "mission-to-skopje")
    assert graph.value(skopje, SCHEMA.foundingDate) == Literal("1992-09", datatype=XSD.gYearMonth)
    uzbekistan = iri("field-operation", "project-co-ordinator-in-uzbekistan")
    assert graph.value(uzbekistan, DCTERMS.replaces) == iri("field-operation", "centre-in-tashkent")
    smm = iri("field-operation", "special-monitoring-mission-to-ukraine")
    assert graph.value(smm, SCHEMA.dissolutionDate) == Literal("2022-10-31", datatype=XSD.date)
    assert graph.value(smm, OSCE.fieldOperationKind) == URIRef(
        f"{DEFAULT_BASE}id/field-operation-type/special-monitoring-mission"
    )
    kvm = iri("field-operation", "kosovo-verification-mission")
    assert values(graph, kvm, OSCE.hostState) == {
        str(iri("state", "yucs")),
        str(iri("territory", "kosovo")),
    }


def test_secretariat_units_form_a_hierarchy(graph):
    secretariat = iri("institution", "secretariat")
    assert graph.value(iri("unit", "atu"), ORG.unitOf) == iri("unit", "tntd")
    assert graph.value(iri("unit", "tntd"), ORG.unitOf) == secretariat
    external = iri("unit", "external-co-operation")
    assert graph.value(external, ORG.unitOf) == iri("unit", "office-of-the-secretary-general")
    archive = iri("institution", "documentation-centre-in-prague")
    assert (archive, RDF.type, OSCE.SecretariatUnit) in graph
    assert graph.value(archive, ORG.unitOf) == secretariat


def test_chairpersonships_name_state_and_chairperson_in_office(graph):
    years = {str(graph.value(c, OSCE.year)) for c in entities(graph, [OSCE.Chairpersonship])}
    assert years == {str(y) for y in range(1991, 2027)}
    chair_2017 = iri("chairpersonship", "2017")
    assert graph.value(chair_2017, OSCE.chairingState) == iri("state", "at")
    assert set(graph.objects(chair_2017, OSCE.chairpersonInOffice)) == {
        iri("person", "sebastian-kurz"),
        iri("person", "karin-kneissl"),
    }
    assert graph.value(iri("chairpersonship", "1992"), OSCE.chairingState) == iri("state", "cshh")
    assert graph.value(iri("chairpersonship", "1994"), OSCE.chairpersonInOffice) is None


def test_secretaries_general_have_terms_and_heads_only_dates_seen(graph):
    hoynck = iri("appointment", "secretary-general-wilhelm-hoynck")
    assert graph.value(hoynck, SCHEMA.startDate) == Literal("1993-06-15", datatype=XSD.date)
    assert graph.value(hoynck, SCHEMA.endDate) == Literal("1996-06", datatype=XSD.gYearMonth)
    assert graph.value(iri("person", "wilhelm-hoynck"), SCHEMA.nationality) == iri("state", "de")
    sinirlioglu = iri("appointment", "secretary-general-feridun-sinirlioglu")
    assert graph.value(sinirlioglu, SCHEMA.endDate) is None
    rogov = [
        a
        for a in graph.subjects(OSCE.appointee, iri("person", "alexey-rogov"))
        if graph.value(a, ORG.organization) == iri("field-operation", "programme-office-in-bishkek")
    ]
    assert len(rogov) == 1
    assert values(graph, rogov[0], OSCE.attestedOn) == {"2022-05-26", "2024-02-27"}
    heads = set(graph.subjects(OSCE.attestedOn, None))
    assert heads and not any((a, SCHEMA.startDate, None) in graph for a in heads)


def test_cities_have_geonames_ids_and_coordinates(graph):
    vienna = iri("city", "vienna")
    assert graph.value(vienna, OSCE.geonamesId) == Literal("2761369")
    assert graph.value(vienna, SCHEMA.sameAs) == URIRef("https://sws.geonames.org/2761369/")
    assert 48 < float(graph.value(vienna, WGS84.lat)) < 48.5
    assert 16 < float(graph.value(vienna, WGS84.long)) < 16.6
    assert graph.value(vienna, SCHEMA.containedInPlace) == iri("state", "at")
    pristina = iri("city", "pristina")
    assert graph.value(pristina, SCHEMA.containedInPlace) == iri("territory", "kosovo")
    assert "Priština" in values(graph, pristina, SKOS.altLabel)


def test_the_graph_uses_only_declared_osce_terms(graph):
    ontology = load_ontology()
    declared = {s for s in ontology.subjects() if str(s).startswith(ONTOLOGY_NS)}
    used = set()
    for triple in graph:
        used |= {t for t in triple if isinstance(t, URIRef) and str(t).startswith(ONTOLOGY_NS)}
    assert used
    assert used <= declared, used - declared


def test_two_builds_are_identical(graph):
    again = build_reference().graph
    assert sorted(again.serialize(format="nt").splitlines()) == sorted(
        graph.serialize(format="nt").splitlines()
    )


def test_a_custom_base_applies_to_minted_iris_not_to_shipped_concepts():
    graph = build_reference(base="http://localhost:5000/kg/").graph
    mission = URIRef("http://localhost:5000/kg/id/field-operation/mission-to-moldova")
    assert (mission, RDF.type, OSCE.FieldOperation) in graph
    assert str(graph.value(mission, OSCE.fieldOperationKind)).startswith(DEFAULT_BASE)


def test_an_unknown_host_state_is_reported_and_the_rest_is_built():
    tables = load_tables()
    ops = list(tables.field_operations)
    ops[0] = replace(ops[0], host_states=("Atlantis",))
    build = build_reference(replace(tables, field_operations=tuple(ops)))
    [error] = build.errors
    assert (error.path, error.field) == ("field_operations.tsv", "host_state")
    assert "Atlantis" in error.problem
    assert len(entities(build.graph, [OSCE.FieldOperation])) == 31
    albania = iri("field-operation", "presence-in-albania")
    assert graph_has_no(build.graph, albania, OSCE.hostState)


def test_an_unknown_field_operation_kind_is_reported():
    tables = load_tables()
    ops = list(tables.field_operations)
    ops[1] = replace(ops[1], kind="Embassy")
    build = build_reference(replace(tables, field_operations=tuple(ops)))
    assert [(e.field, "Embassy" in e.problem) for e in build.errors] == [("type", True)]


def graph_has_no(graph: Graph, subject: URIRef, predicate: URIRef) -> bool:
    return graph.value(subject, predicate) is None


def test_standing_bodies_each_with_its_source(graph):
    bodies = entities(graph, [OSCE.Body])
    labels = {str(graph.value(b, RDFS.label)) for b in bodies}
    assert {
        "OSCE Summit",
        "OSCE Ministerial Council",
        "OSCE Permanent Council",
        "OSCE Forum for Security Co-operation",
        "OSCE Chairpersonship",
        "OSCE Troika",
        "OSCE Minsk Group",
        "OSCE Border Management Staff College",
        "OSCE Field Office in Osh",
    } <= labels
    for body in bodies:
        assert list(graph.objects(body, DCTERMS.source)), body
    osh = iri("body", "field-office-in-osh")
    assert graph.value(osh, ORG.unitOf) == iri("field-operation", "programme-office-in-bishkek")
    assert (
        iri("body", "permanent-council"),
        ORG.subOrganizationOf,
        iri("organisation", "osce"),
    ) in graph


def test_each_years_chairpersonship_belongs_to_the_standing_body(graph):
    standing = iri("body", "chairpersonship")
    years = entities(graph, [OSCE.Chairpersonship])
    assert len(years) == 36
    assert all((year, ORG.subOrganizationOf, standing) in graph for year in years)
    post = iri("post", "chairperson-in-office")
    assert (post, RDF.type, ORG.Post) in graph
    assert graph.value(post, ORG.postIn) == standing
