"""Tests of kg.conversion.mapping: one release record becomes the RDF graph of its release."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.compare import graph_diff, isomorphic, to_isomorphic

from kg.conversion.mapping import MappedRelease, SourceFile, map_release, source_file_iri
from kg.extraction.records import EventMention, Mention, PersonMention, Quote, ReleaseRecord
from kg.rdf.label_index import LabelIndex
from kg.rdf.quads import ntriples_text
from kg.rdf.uris import entity_iri, graph_iri, release_key
from kg.rdf.vocab import DCTERMS, ORG, OSCE, PROV, RDF, RDFS, SCHEMA, SKOS, XSD

BASE = "https://example.org/kg/"
GOLDEN = Path(__file__).parent / "data" / "build" / "mapping_golden.ttl"

DUSHANBE = entity_iri("city", "dushanbe", base=BASE)
TAJIKISTAN = entity_iri("state", "tj", base=BASE)
SECRETARIAT = entity_iri("institution", "secretariat", base=BASE)
OFFICE = entity_iri("field-operation", "programme-office-in-dushanbe", base=BASE)
UN = entity_iri("organisation", "united-nations", base=BASE)
OSCE_ORG = entity_iri("organisation", "osce", base=BASE)
GREMINGER = entity_iri("person", "thomas-greminger", base=BASE)
PRESS_RELEASE = entity_iri("content-type", "press-release", base=BASE)
NEWS = entity_iri("content-type", "news", base=BASE)
TERRORISM = entity_iri("field-of-work", "countering-terrorism", base=BASE)
CONFERENCE = entity_iri("event-type", "conference", base=BASE)


@pytest.fixture(scope="module")
def labels() -> LabelIndex:
    return small_label_index()


def small_label_index() -> LabelIndex:
    """A small reference graph: a city, a State, structures, an organisation and concepts."""
    data = Graph()
    # things are labelled with rdfs:label, SKOS concepts with skos:prefLabel
    for iri, cls, label, labelled_by in (
        (DUSHANBE, OSCE.City, "Dushanbe", RDFS.label),
        (TAJIKISTAN, OSCE.ParticipatingState, "Tajikistan", RDFS.label),
        (SECRETARIAT, OSCE.Institution, "OSCE Secretariat", RDFS.label),
        (OFFICE, OSCE.FieldOperation, "OSCE Programme Office in Dushanbe", RDFS.label),
        (UN, ORG.Organization, "United Nations", RDFS.label),
        (OSCE_ORG, ORG.Organization, "OSCE", RDFS.label),
        (GREMINGER, OSCE.Person, "Thomas Greminger", RDFS.label),
        (PRESS_RELEASE, OSCE.ContentType, "Press release", SKOS.prefLabel),
        (NEWS, OSCE.ContentType, "News", SKOS.prefLabel),
        (TERRORISM, OSCE.FieldOfWork, "Countering terrorism", SKOS.prefLabel),
        (CONFERENCE, OSCE.EventType, "conference", SKOS.prefLabel),
    ):
        data.add((iri, RDF.type, cls))
        data.add((iri, labelled_by, Literal(label, lang="en")))
    ontology = Graph()
    for sub, sup in (
        (OSCE.ParticipatingState, OSCE.State),
        (OSCE.Institution, OSCE.Structure),
        (OSCE.FieldOperation, OSCE.Structure),
        (OSCE.Structure, ORG.Organization),
    ):
        ontology.add((sub, RDFS.subClassOf, sup))
    return LabelIndex.from_graphs(data, ontology)


def seed_like_record() -> ReleaseRecord:
    """A release like the seed: linked and unlinked mentions, a person, a quote, an event."""
    return ReleaseRecord(
        source_file="/somewhere/text/seed.txt",
        reader="text",
        content_type="Press release",
        title="OSCE Secretary General opens counter-terrorism conference in Dushanbe",
        date="2018-05-04",
        dateline="DUSHANBE, 4 May 2018",
        place="Dushanbe",
        sources=(Mention("OSCE Secretariat", str(SECRETARIAT)),),
        fields_of_work=(Mention("Countering terrorism", str(TERRORISM)),),
        states_mentioned=(Mention("Tajikistan", str(TAJIKISTAN)), Mention("Atlantis")),
        osce_structures_mentioned=(Mention("OSCE Programme Office in Dushanbe", str(OFFICE)),),
        other_organisations=(Mention("United Nations", str(UN)), Mention("Green Valley Forum")),
        persons=(
            PersonMention(
                "Thomas Greminger", "Secretary General", "OSCE", True, linked_iri=str(GREMINGER)
            ),
            PersonMention("Jane Example", "Head", "OSCE Programme Office in Dushanbe", True),
        ),
        quotes=(
            Quote("Terrorism knows no borders.", "Greminger"),
            Quote("We stand ready to help.", "Jane Example"),
        ),
        event=EventMention(
            name="Countering Terrorism in Central Asia",
            type="conference",
            start_date="2018-05-03",
            end_date="2018-05-04",
            place="Dushanbe",
            organisers=("Tajikistan", "OSCE Secretariat"),
            partners=("United Nations", "Green Valley Forum"),
        ),
        paragraphs=("First paragraph.", "Second paragraph."),
    )


def mapped(labels: LabelIndex, record: ReleaseRecord | None = None) -> MappedRelease:
    return map_release(
        record or seed_like_record(),
        SourceFile(name="text/seed.txt", sha256="ab" * 32, reader="text"),
        labels,
        base=BASE,
    )


def test_release_is_keyed_by_date_and_title_and_gets_its_own_graph(labels: LabelIndex) -> None:
    result = mapped(labels)
    key = release_key("2018-05-04", seed_like_record().title or "")
    assert result.key == key
    assert result.release_iri == entity_iri("release", key, base=BASE)
    assert result.graph_iri == graph_iri("release", key, base=BASE)


def test_release_metadata(labels: LabelIndex) -> None:
    result = mapped(labels)
    g, r = result.graph, result.release_iri
    assert set(g.objects(r, RDF.type)) == {OSCE.PressRelease}
    assert g.value(r, OSCE.contentType) == PRESS_RELEASE
    assert g.value(r, SCHEMA.headline) == Literal(seed_like_record().title)
    assert g.value(r, SCHEMA.datePublished) == Literal("2018-05-04", datatype=XSD.date)
    assert g.value(r, OSCE.dateline) == Literal("DUSHANBE, 4 May 2018")
    assert g.value(r, OSCE.placeName) == Literal("Dushanbe")
    assert g.value(r, SCHEMA.locationCreated) == DUSHANBE
    assert g.value(r, OSCE.source) == SECRETARIAT
    assert g.value(r, DCTERMS.subject) == TERRORISM
    assert g.value(r, SCHEMA.articleBody) == Literal("First paragraph.\n\nSecond paragraph.")


def test_content_type_gives_the_subclass(labels: LabelIndex) -> None:
    record = ReleaseRecord(
        source_file="x.txt",
        reader="text",
        content_type="News",
        title="A news item",
        date="2020-01-02",
    )
    result = mapped(labels, record)
    assert set(result.graph.objects(result.release_iri, RDF.type)) == {OSCE.PressRelease, OSCE.News}
    assert result.graph.value(result.release_iri, OSCE.contentType) == NEWS


def test_linked_mentions_point_to_reference_iris_and_add_nothing_about_them(
    labels: LabelIndex,
) -> None:
    result = mapped(labels)
    g, r = result.graph, result.release_iri
    assert TAJIKISTAN in set(g.objects(r, OSCE.mentionsState))
    assert set(g.objects(r, OSCE.mentionsStructure)) == {OFFICE}
    assert UN in set(g.objects(r, OSCE.mentionsOrganisation))
    # the reference graph describes linked things; a release graph only points at them
    for linked in (TAJIKISTAN, OFFICE, UN, SECRETARIAT, GREMINGER, DUSHANBE):
        assert not list(g.predicate_objects(linked)), linked


def test_unlinked_mentions_are_labelled_nodes_of_their_class(labels: LabelIndex) -> None:
    result = mapped(labels)
    g, r = result.graph, result.release_iri
    atlantis = entity_iri("mention", f"{result.key}-atlantis", base=BASE)
    assert atlantis in set(g.objects(r, OSCE.mentionsState))
    assert g.value(atlantis, RDF.type) == OSCE.State
    assert g.value(atlantis, RDFS.label) == Literal("Atlantis")
    forum = entity_iri("mention", f"{result.key}-green-valley-forum", base=BASE)
    assert g.value(forum, RDF.type) == ORG.Organization
    assert any("Atlantis" in w for w in result.warnings)
    assert any("Jane Example" in w for w in result.warnings)


def test_persons_roles_and_quotes(labels: LabelIndex) -> None:
    result = mapped(labels)
    g, r = result.graph, result.release_iri
    jane = entity_iri("mention", f"{result.key}-jane-example", base=BASE)
    assert set(g.objects(r, OSCE.mentionsPerson)) == {GREMINGER, jane}
    assert g.value(jane, RDF.type) == OSCE.Person
    roles = {g.value(role, OSCE.person): role for role in g.objects(r, OSCE.roleMention)}
    assert g.value(roles[GREMINGER], OSCE.roleTitle) == Literal("Secretary General")
    # "OSCE" is not mentioned as such, so the organisation comes from the reference labels
    assert g.value(roles[GREMINGER], OSCE.roleOrganisation) == OSCE_ORG
    assert g.value(roles[jane], OSCE.roleTitle) == Literal("Head")
    # the organisation of a role is the structure the release mentions under that label
    assert g.value(roles[jane], OSCE.roleOrganisation) == OFFICE
    speakers = {
        str(g.value(q, SCHEMA.text)): g.value(q, OSCE.speaker) for q in g.objects(r, OSCE.quotation)
    }
    # "Greminger" alone resolves to the person named in full earlier
    assert speakers == {"Terrorism knows no borders.": GREMINGER, "We stand ready to help.": jane}


def test_event(labels: LabelIndex) -> None:
    result = mapped(labels)
    g = result.graph
    event = g.value(result.release_iri, OSCE.reportsEvent)
    assert event == entity_iri("event", result.key, base=BASE)
    assert g.value(event, RDF.type) == OSCE.Event
    assert g.value(event, OSCE.eventType) == CONFERENCE
    assert g.value(event, SCHEMA.name) == Literal("Countering Terrorism in Central Asia")
    assert g.value(event, SCHEMA.startDate) == Literal("2018-05-03", datatype=XSD.date)
    assert g.value(event, SCHEMA.endDate) == Literal("2018-05-04", datatype=XSD.date)
    assert g.value(event, SCHEMA.location) == DUSHANBE
    assert set(g.objects(event, SCHEMA.organizer)) == {TAJIKISTAN, SECRETARIAT}
    forum = entity_iri("mention", f"{result.key}-green-valley-forum", base=BASE)
    assert set(g.objects(event, OSCE.inCooperationWith)) == {UN, forum}


def test_provenance_names_the_file_its_digest_and_reader_but_no_time(labels: LabelIndex) -> None:
    result = mapped(labels)
    g = result.graph
    source = g.value(result.release_iri, PROV.wasDerivedFrom)
    assert source == source_file_iri("text/seed.txt", base=BASE)
    assert g.value(source, RDF.type) == OSCE.SourceFile
    assert g.value(source, RDFS.label) == Literal("text/seed.txt")
    assert g.value(source, OSCE.sha256) == Literal("ab" * 32)
    assert g.value(source, OSCE.reader) == Literal("text")
    # the build time is stated once per build (VoID), so an unchanged release stays identical
    assert not list(g.triples((None, PROV.generatedAtTime, None)))


def test_unknown_vocabulary_labels_are_kept_as_keywords(labels: LabelIndex) -> None:
    record = ReleaseRecord(
        source_file="x.txt",
        reader="jsonl",
        content_type="Podcast",
        title="Listen",
        date="2021-03-04",
        fields_of_work=(Mention("Underwater basket weaving"),),
        event=EventMention(type="hackathon"),
    )
    result = mapped(labels, record)
    g = result.graph
    assert set(g.objects(result.release_iri, SCHEMA.keywords)) == {
        Literal("Podcast"),
        Literal("Underwater basket weaving"),
    }
    event = g.value(result.release_iri, OSCE.reportsEvent)
    assert g.value(event, SCHEMA.keywords) == Literal("hackathon")
    assert len(result.warnings) == 3


def test_mapping_is_deterministic_and_has_no_blank_nodes(labels: LabelIndex) -> None:
    first, second = mapped(labels), mapped(labels)
    text = ntriples_text(first.graph)
    assert text == ntriples_text(second.graph)
    assert "_:" not in text


def test_every_minted_iri_is_under_the_base(labels: LabelIndex) -> None:
    result = mapped(labels)
    ontology_terms = (
        str(OSCE),
        str(SCHEMA),
        str(RDF),
        str(RDFS),
        str(PROV),
        str(DCTERMS),
        str(ORG),
    )
    for triple in result.graph:
        for term in triple:
            if isinstance(term, URIRef) and not str(term).startswith(ontology_terms):
                assert str(term).startswith(BASE), term


def test_unusable_record_is_refused(labels: LabelIndex) -> None:
    record = ReleaseRecord(source_file="x.txt", reader="text", title=None, error="no title")
    with pytest.raises(ValueError, match=r"x\.txt"):
        mapped(labels, record)


def test_matches_the_golden_graph(labels: LabelIndex) -> None:
    """The whole graph of the seed-like record, compared by isomorphism with the golden file."""
    result = mapped(labels)
    golden = Graph().parse(GOLDEN, format="turtle")
    if not isomorphic(result.graph, golden):
        _, only_mapped, only_golden = graph_diff(to_isomorphic(result.graph), to_isomorphic(golden))
        pytest.fail(
            "mapped graph differs from the golden file\n--- only in mapped:\n"
            + only_mapped.serialize(format="nt")
            + "--- only in golden:\n"
            + only_golden.serialize(format="nt")
        )
