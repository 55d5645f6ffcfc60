"""Tests of the ontology, its SKOS vocabularies, the namespace class and OWL-RL consistency."""

from __future__ import annotations

import pytest
from rdflib import Graph, URIRef

from kg.rdf.uris import concept_iri
from kg.rdf.vocab import DCTERMS, ONTOLOGY_NS, OSCE, OWL, RDF, RDFS, SKOS, osce_terms
from kg.reference.graph import reference_graph
from kg.reference.ontologies import (
    find_inconsistencies,
    load_ontology_and_vocabularies,
    load_vocabularies,
)
from kg.resources import ontology_dir, turtle_files

ONTOLOGY = URIRef("https://w3id.org/osce-kg/ontology")
EXAMPLE = "http://example.org/"

#: The 'Fields of work' menu of the OSCE site (the seed page), without its last two entries,
#: 'Field operations' and 'Projects', which are structures and a listing, not topics.
FIELDS_OF_WORK = [
    "Arms control",
    "Border management",
    "Combating trafficking in human beings",
    "Conflict prevention and resolution",
    "Countering terrorism",
    "Cyber/ICT Security",
    "Democratization",
    "Economic activities",
    "Education",
    "Elections",
    "Environmental activities",
    "Gender equality",
    "Good governance",
    "Human rights",
    "Media freedom and development",
    "Migration",
    "National minority issues",
    "Policing",
    "Reform and co-operation in the security sector",
    "Roma and Sinti",
    "Rule of law",
    "Tolerance and non-discrimination",
    "Youth",
]


@pytest.fixture(scope="module")
def vocabularies() -> Graph:
    return load_vocabularies()


def declared_terms(ontology: Graph) -> set[URIRef]:
    return {s for s in ontology.subjects(RDF.type, None) if str(s).startswith(ONTOLOGY_NS)}


def test_shipped_folder_holds_the_ontology_and_vocabularies():
    names = [f.name for f in turtle_files(ontology_dir())]
    assert "osce.ttl" in names and "vocabularies.ttl" in names


def test_ontology_header_has_version_licence_creator_and_description(ontology):
    assert (ONTOLOGY, RDF.type, OWL.Ontology) in ontology
    assert ontology.value(ONTOLOGY, OWL.versionInfo) is not None
    assert isinstance(ontology.value(ONTOLOGY, DCTERMS.license), URIRef)
    assert ontology.value(ONTOLOGY, DCTERMS.creator) is not None
    description = ontology.value(ONTOLOGY, DCTERMS.description)
    assert description is not None and description.language == "en"


def test_every_term_has_label_definition_and_is_defined_by(ontology):
    terms = declared_terms(ontology)
    assert len(terms) > 60
    for term in terms:
        labels = [o for o in ontology.objects(term, RDFS.label) if o.language == "en"]
        definitions = [o for o in ontology.objects(term, SKOS.definition) if o.language == "en"]
        assert len(labels) == 1, term
        assert len(definitions) == 1, term
        assert ontology.value(term, RDFS.isDefinedBy) == ONTOLOGY, term


def test_namespace_class_and_ontology_declare_the_same_terms(ontology):
    assert osce_terms() == declared_terms(ontology)


def test_a_misspelt_term_fails_at_use():
    with pytest.raises(AttributeError):
        _ = OSCE.PresRelease


def test_own_classes_are_aligned_to_standard_vocabularies(ontology):
    def ancestors(cls: URIRef) -> set[URIRef]:
        found: set[URIRef] = set()
        todo = [cls]
        while todo:
            for parent in ontology.objects(todo.pop(), RDFS.subClassOf):
                if isinstance(parent, URIRef) and parent not in found:
                    found.add(parent)
                    todo.append(parent)
        return found

    for cls in ontology.subjects(RDF.type, OWL.Class):
        if str(cls).startswith(ONTOLOGY_NS):
            outside = {a for a in ancestors(cls) if not str(a).startswith(ONTOLOGY_NS)}
            assert outside, f"{cls} is aligned to no standard class"


def test_release_side_terms_are_in_place(ontology):
    assert (
        OSCE.PressRelease,
        RDFS.subClassOf,
        URIRef("https://schema.org/NewsArticle"),
    ) in ontology
    for kind in (OSCE.News, OSCE.Statement, OSCE.DailyReport, OSCE.WeeklyReport, OSCE.SpotReport):
        assert (kind, RDFS.subClassOf, OSCE.PressRelease) in ontology
    for mention in (OSCE.mentionsState, OSCE.mentionsStructure, OSCE.mentionsPerson):
        assert (mention, RDFS.subPropertyOf, URIRef("https://schema.org/mentions")) in ontology


def test_fields_of_work_are_exactly_the_site_menu(vocabularies):
    scheme = concept_iri("scheme", "fields-of-work")
    concepts = set(vocabularies.objects(scheme, SKOS.hasTopConcept))
    labels = {str(vocabularies.value(c, SKOS.prefLabel)) for c in concepts}
    assert labels == set(FIELDS_OF_WORK)
    assert len(concepts) == len(FIELDS_OF_WORK) == 23
    for concept in concepts:
        assert (concept, RDF.type, OSCE.FieldOfWork) in vocabularies
        assert (concept, SKOS.inScheme, scheme) in vocabularies
    assert concept_iri("field-of-work", "countering-terrorism") in concepts


@pytest.mark.parametrize(
    ("scheme", "cls", "expected"),
    [
        ("meeting-series", OSCE.MeetingSeries, {"Ministerial Council meetings", "Summit meetings"}),
        ("content-types", OSCE.ContentType, {"Press release", "News", "Spot report"}),
        ("event-types", OSCE.EventType, {"conference", "election observation", "round table"}),
        ("field-operation-kinds", OSCE.FieldOperationKind, {"Mission", "Programme Office"}),
    ],
)
def test_each_vocabulary_is_one_scheme_of_labelled_concepts(vocabularies, scheme, cls, expected):
    scheme_iri = concept_iri("scheme", scheme)
    concepts = set(vocabularies.subjects(SKOS.inScheme, scheme_iri))
    assert concepts == set(vocabularies.objects(scheme_iri, SKOS.hasTopConcept))
    labels = set()
    for concept in concepts:
        assert (concept, RDF.type, cls) in vocabularies
        [label] = list(vocabularies.objects(concept, SKOS.prefLabel))
        assert label.language == "en"
        labels.add(str(label))
    assert expected <= labels


@pytest.fixture(scope="module")
def ontology_and_reference() -> Graph:
    graph = load_ontology_and_vocabularies()
    graph += reference_graph()
    return graph


def test_owl_rl_finds_ontology_and_reference_graph_consistent(ontology_and_reference):
    assert find_inconsistencies(ontology_and_reference) == []


@pytest.mark.parametrize(
    ("triples", "expected"),
    [
        (
            [("x", RDF.type, OSCE.FieldOperation), ("x", RDF.type, OSCE.Person)],
            "Disjoint classes",
        ),
        ([("x", RDF.type, OSCE.State), ("x", RDF.type, OSCE.Structure)], "Disjoint classes"),
        ([("x", RDF.type, OSCE.PressRelease), ("x", RDF.type, OSCE.Event)], "Disjoint classes"),
        ([("x", OWL.sameAs, "y"), ("x", OWL.differentFrom, "y")], "sameAs"),
        ([("x", RDF.type, OWL.Nothing)], "owl:Nothing"),
    ],
)
def test_owl_rl_check_can_fail(ontology, triples, expected):
    graph = Graph()
    graph += ontology
    for s, p, o in triples:
        subject = URIRef(EXAMPLE + s)
        obj = o if isinstance(o, URIRef) else URIRef(EXAMPLE + o)
        graph.add((subject, p, obj))
    problems = find_inconsistencies(graph)
    assert any(expected in problem for problem in problems), problems


def test_owl_rl_flags_a_reference_entity_typed_into_a_disjoint_class(ontology_and_reference):
    graph = Graph()
    graph += ontology_and_reference
    mission = next(ontology_and_reference.subjects(RDF.type, OSCE.FieldOperation))
    graph.add((mission, RDF.type, OSCE.Chairpersonship))
    [problem] = find_inconsistencies(graph)
    assert str(mission) in problem and "Disjoint classes" in problem
