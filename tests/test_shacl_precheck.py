"""The SHACL pre-check (kg/validation/precheck.py) may only call a release clean when pySHACL
finds nothing in it: checked on real, fixture and generated releases, on mutations that break
each constraint component the shapes use, and on whole builds with the pre-check on and off."""

from __future__ import annotations

import dataclasses
import functools
import gzip
import json
import pickle
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest
from rdflib import RDF, RDFS, SH, XSD, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from kg.conversion.convert import Converter, convert_file
from kg.extraction.linking import default_gazetteer
from kg.extraction.pipeline import read_releases
from kg.extraction.records import ReleaseRecord
from kg.ingest.inputs import SOURCE_DATE_EPOCH, bundled_samples_root, collect_release_files
from kg.publish.build import BuildOptions, build
from kg.publish.graphs import load_source_graphs
from kg.rdf.quads import ntriples_terms
from kg.rdf.uris import DEFAULT_BASE, graph_iri
from kg.validation.batches import (
    PRECHECK_ENV,
    ReleaseVerdict,
    ValidationContext,
    context_fingerprint,
    results_of,
    validate_batch,
)
from kg.validation.precheck import compile_precheck
from kg.validation.shacl import ValidationResult, load_shapes, read_results

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from bench_build import generate
from generate import write_releases

TESTS = Path(__file__).parent / "data"
FIXTURES = (TESTS / "releases", TESTS / "broken-samples", TESTS / "build" / "releases")
#: the extraction fixtures: saved pages of many kinds
PAGES = (*sorted(TESTS.glob("unseen*")), TESTS / "heldout")
OSCE = "https://w3id.org/osce-kg/ontology#"
SCHEMA = "https://schema.org/"
SHAPES = "https://w3id.org/osce-kg/shapes#"
ID = "https://w3id.org/osce-kg/id/"
GEO = "http://www.w3.org/2003/01/geo/wgs84_pos#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
Triple = tuple[Node, Node, Node]
Release = tuple[URIRef, list[Triple]]


def osce(name: str) -> URIRef:
    return URIRef(OSCE + name)


def schema(name: str) -> URIRef:
    return URIRef(SCHEMA + name)


@pytest.fixture(scope="module")
def context() -> ValidationContext:
    sources = load_source_graphs(base=DEFAULT_BASE)
    graphs = sources.named(DEFAULT_BASE)
    shapes = load_shapes()
    fingerprint = context_fingerprint(shapes, sources.ontology, [g for _, g in graphs])
    return ValidationContext(shapes, sources.ontology, graphs, fingerprint, precheck=True)


@pytest.fixture(scope="module")
def pyshacl_only(context: ValidationContext) -> ValidationContext:
    """The same context with the pre-check off: every verdict is pySHACL's."""
    return ValidationContext(
        context.shapes, context.ontology, context.graphs, context.fingerprint, precheck=False
    )


def converted(inputs: Iterable[Path]) -> list[Release]:
    """The usable release graphs the real converter makes of these files."""
    sources = load_source_graphs(base=DEFAULT_BASE)
    read = functools.partial(read_releases, gazetteer=default_gazetteer(DEFAULT_BASE))
    converter = Converter(read, sources.labels(), DEFAULT_BASE)
    releases: dict[str, Release] = {}
    for source in collect_release_files(tuple(inputs)):
        for release in convert_file(source, source.sha256(), converter).releases:
            if release.problem is None and release.key and release.key not in releases:
                name = graph_iri("release", release.key, base=DEFAULT_BASE)
                releases[release.key] = (name, list(ntriples_terms(release.ntriples)))
    return list(releases.values())


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> list[Release]:
    folder = tmp_path_factory.mktemp("generated")
    return converted([generate(folder / "in", 300)])


def readable(verdicts: list[ReleaseVerdict]) -> list[tuple[bool, list[ValidationResult]]]:
    """Verdicts as their results (the blank-node labels of a result's sh:detail vary between
    pySHACL runs)."""
    return [(v.failing, results_of(v.results)) for v in verdicts]


def clean(context: ValidationContext, triples: list[Triple]) -> bool:
    precheck = context.precheck
    assert precheck is not None
    return precheck.is_clean(triples, slice_of(context, triples))


def slice_of(context: ValidationContext, triples: list[Triple]) -> list[Triple]:
    return context.slice_for({t[0] for t in triples} | {t[2] for t in triples})


def reported(verdict: ReleaseVerdict) -> set[tuple[Node, Node]]:
    """The (focus node, source shape) of each result pySHACL gave a release."""
    return {(r.focus_node, r.source_shape) for r in results_of(verdict.results)}


def assert_foreseen(
    context: ValidationContext,
    name: URIRef,
    triples: list[Triple],
    verdict: ReleaseVerdict,
    *,
    decided: bool = False,
) -> None:
    """Every result pySHACL gave is one the pre-check found too (unless it left the release
    to pySHACL as undecidable, which ``decided`` forbids)."""
    assert context.precheck is not None
    found = context.precheck.failures(triples, slice_of(context, triples))
    if found is None:
        assert not decided, f"the pre-check could not decide {name}"
        return
    assert reported(verdict) <= found, f"{name}: missed {reported(verdict) - found}"
    assert clean(context, triples) == (not found)


def test_the_shapes_compile_so_the_precheck_is_on(context: ValidationContext) -> None:
    assert context.precheck is not None


def test_a_shapes_construct_it_does_not_implement_turns_the_precheck_off(
    context: ValidationContext,
) -> None:
    shapes = Graph()
    for triple in context.shapes:
        shapes.add(triple)
    shapes.add((URIRef(SHAPES + "PressRelease-headline"), SH.maxLength, Literal(300)))
    assert compile_precheck(shapes, context.ontology) is None
    sparql = Graph()
    for triple in context.shapes:
        sparql.add(triple)
    sparql.add((URIRef(SHAPES + "PressReleaseShape"), SH.targetNode, URIRef(ID + "x")))
    assert compile_precheck(sparql, context.ontology) is None


@pytest.fixture(scope="module")
def generated_with_warnings(tmp_path_factory: pytest.TempPathFactory) -> list[Release]:
    """benchmarks/generate.py's releases: about one in seven has an event without a date."""
    folder = tmp_path_factory.mktemp("generated-with-warnings")
    write_releases(folder / "releases.jsonl", 300)
    return converted([folder])


@pytest.mark.parametrize("corpus", ["sample", "fixtures", "pages", "generated", "warnings"])
def test_verdicts_with_the_precheck_equal_pyshacl_alone(
    corpus: str,
    context: ValidationContext,
    pyshacl_only: ValidationContext,
    generated: list[Release],
    generated_with_warnings: list[Release],
) -> None:
    releases = {
        "sample": lambda: converted([bundled_samples_root()]),
        "fixtures": lambda: converted(FIXTURES),
        "pages": lambda: converted(PAGES),
        "generated": lambda: generated,
        "warnings": lambda: generated_with_warnings,
    }[corpus]()
    assert releases
    expected = validate_batch(pyshacl_only, releases)
    for (name, triples), verdict in zip(releases, expected, strict=True):
        if verdict.results:
            assert not clean(context, triples), f"{name} has results but was called clean"
        assert_foreseen(context, name, triples, verdict)
    assert readable(validate_batch(context, releases)) == readable(expected)
    if corpus == "warnings":  # the corpus does have results for the pre-check to foresee
        assert sum(bool(v.results) for v in expected) >= 10
    if corpus in ("generated", "warnings"):  # it must also clear releases, not defer them all
        cleared = sum(clean(context, t) for _, t in releases)
        assert cleared >= sum(not v.results for v in expected) * 0.9


# -- mutations: each breaks one constraint kind of one shape ------------------------------------


@dataclasses.dataclass(frozen=True)
class Mutation:
    name: str
    shape: str  # the local name of the shape pySHACL must report
    parameters: tuple[str, ...]  # the sh: parameters (local names) it exercises
    change: Callable[[list[Triple], URIRef], list[Triple]]


def subject_of_type(triples: list[Triple], cls: str) -> Node:
    return next(s for s, p, o in triples if p == RDF.type and o == osce(cls))


def replace(
    predicate: URIRef, value: Node | None
) -> Callable[[list[Triple], URIRef], list[Triple]]:
    """Replaces the release node's values of ``predicate`` (None: drops them)."""

    def change(triples: list[Triple], release: URIRef) -> list[Triple]:
        kept = [t for t in triples if not (t[0] == release and t[1] == predicate)]
        return kept if value is None else [*kept, (release, predicate, value)]

    return change


def add(*extra: Callable[[list[Triple], URIRef], Iterable[Triple]]) -> Callable[..., list[Triple]]:
    def change(triples: list[Triple], release: URIRef) -> list[Triple]:
        return [*triples, *(t for make in extra for t in make(triples, release))]

    return change


def about(cls: str, node: str, *facts: tuple[str, Node]) -> Callable[..., Iterable[Triple]]:
    """A node the release mints and mentions, of class ``cls`` with these facts."""

    def make(triples: list[Triple], release: URIRef) -> Iterable[Triple]:
        subject = URIRef(ID + node)
        yield (release, osce("mentionsStructure"), subject)
        yield (subject, RDF.type, osce(cls) if ":" not in cls else URIRef(cls))
        for predicate, value in facts:
            yield (subject, URIRef(predicate), value)

    return make


def on_node(cls: str, predicate: URIRef, value: Node | None) -> Callable[..., list[Triple]]:
    """Replaces the values of ``predicate`` on the release's node of class ``cls``."""

    def change(triples: list[Triple], release: URIRef) -> list[Triple]:
        node = subject_of_type(triples, cls)
        kept = [t for t in triples if not (t[0] == node and t[1] == predicate)]
        return kept if value is None else [*kept, (node, predicate, value)]

    return change


def drop_inverse(predicate: URIRef) -> Callable[..., list[Triple]]:
    return lambda triples, release: [t for t in triples if t[1] != predicate]


def only_subclass_type(triples: list[Triple], release: URIRef) -> list[Triple]:
    """The release typed only as osce:News (a subclass) and without a headline."""
    return [
        t
        for t in triples
        if not (t[0] == release and (t[2] == osce("PressRelease") or t[1] == schema("headline")))
    ]


DATE = XSD.date
LABEL = str(RDFS.label)
MUTATIONS = [
    Mutation(
        "no headline", "PressRelease-headline", ("minCount",), replace(schema("headline"), None)
    ),
    Mutation(
        "two headlines",
        "PressRelease-headline",
        ("maxCount",),
        add(lambda t, r: [(r, schema("headline"), Literal("A second title"))]),
    ),
    Mutation(
        "empty headline",
        "PressRelease-headline",
        ("minLength",),
        replace(schema("headline"), Literal("")),
    ),
    Mutation(
        "an IRI as headline",
        "PressRelease-headline",
        ("nodeKind",),
        replace(schema("headline"), URIRef(ID + "headline")),
    ),
    Mutation(
        "a date as text",
        "PressRelease-datePublished",
        ("datatype",),
        replace(schema("datePublished"), Literal("2018-05-04")),
    ),
    Mutation(
        "an impossible date",
        "PressRelease-datePublished",
        ("datatype",),
        replace(schema("datePublished"), Literal("2018-02-31", datatype=DATE)),
    ),
    Mutation(
        "no date (a Warning)",
        "PressRelease-datePublishedRecommended",
        ("minCount", "severity"),
        replace(schema("datePublished"), None),
    ),
    Mutation(
        "a State as person",
        "PressRelease-mentionsPerson",
        ("class",),
        replace(osce("mentionsPerson"), URIRef(ID + "state/at")),
    ),
    Mutation(
        "text as structure",
        "PressRelease-mentionsStructure",
        ("class",),
        replace(osce("mentionsStructure"), Literal("OSCE")),
    ),
    Mutation(
        "a city as State",
        "PressRelease-mentionsState",
        ("node", "or", "class"),
        replace(osce("mentionsState"), URIRef(ID + "city/vienna")),
    ),
    Mutation(
        "a content type as field of work",
        "PressRelease-subject",
        ("node", "class"),
        replace(URIRef("http://purl.org/dc/terms/subject"), URIRef(ID + "content-type/news")),
    ),
    Mutation(
        "an upper-case digest",
        "SourceFile-sha256",
        ("pattern",),
        on_node("SourceFile", osce("sha256"), Literal("A" * 64)),
    ),
    Mutation(
        "a quotation no release quotes",
        "Quotation-release",
        ("minCount", "inversePath"),
        drop_inverse(osce("quotation")),
    ),
    Mutation(
        "an event reported by a city",
        "Event-release",
        ("class", "inversePath"),
        lambda t, r: [
            *t,
            (URIRef(ID + "city/vienna"), osce("reportsEvent"), subject_of_type(t, "Event")),
        ],
    ),
    Mutation(
        "an event ending before it starts",
        "Event-startDate",
        ("lessThanOrEquals",),
        on_node("Event", schema("endDate"), Literal("1990-01-01", datatype=DATE)),
    ),
    Mutation(
        "a role mention with neither title nor organisation",
        "RoleMentionShape",
        ("or", "minCount"),
        lambda t, r: [x for x in t if x[1] not in (osce("roleTitle"), osce("roleOrganisation"))],
    ),
    Mutation(
        "a release typed only by a subclass, without a headline",
        "PressRelease-headline",
        ("targetClass", "minCount"),
        only_subclass_type,
    ),
    Mutation(
        "a person with two English names",
        "Label-uniqueLang",
        ("uniqueLang",),
        add(
            about(
                "Person",
                "person/x",
                (LABEL, Literal("A", lang="en")),
                (LABEL, Literal("B", lang="en")),
            )
        ),
    ),
    Mutation(
        "a release giving a State a second English name",
        "Label-uniqueLang",
        ("uniqueLang",),
        lambda t, r: [*t, (URIRef(ID + "state/at"), RDFS.label, Literal("Ostmark", lang="en"))],
    ),
    Mutation(
        "a territory named only in Klingon",
        "Label-english",
        ("qualifiedValueShape", "qualifiedMinCount", "languageIn"),
        add(about("Territory", "territory/x", (LABEL, Literal("X", lang="tlh")))),
    ),
    Mutation(
        "a participating State named in Klingon",
        "Label-languages",
        ("languageIn",),
        add(about("ParticipatingState", "state/xx", (LABEL, Literal("X", lang="tlh")))),
    ),
    Mutation(
        "a city at latitude 100",
        "City-lat",
        ("maxInclusive",),
        add(
            about(
                "City",
                "city/x",
                (GEO + "lat", Literal("100.0", datatype=XSD.decimal)),
                (GEO + "long", Literal("0.0", datatype=XSD.decimal)),
            )
        ),
    ),
    Mutation(
        "a city at longitude -200",
        "City-long",
        ("minInclusive",),
        add(
            about(
                "City",
                "city/y",
                (GEO + "lat", Literal("1.0", datatype=XSD.decimal)),
                (GEO + "long", Literal("-200.0", datatype=XSD.decimal)),
            )
        ),
    ),
    Mutation(
        "a city with a latitude only",
        "CityCoordinatesShape",
        ("or", "and", "minCount", "maxCount"),
        add(about("City", "city/z", (GEO + "lat", Literal("1.0", datatype=XSD.decimal)))),
    ),
    Mutation(
        "a closed field operation without a closing date",
        "ClosedFieldOperationDateShape",
        ("or", "not", "hasValue", "severity"),
        add(about("FieldOperation", "field-operation/x", (OSCE + "active", Literal(False)))),
    ),
    Mutation(
        "a field of work in another scheme",
        "FieldOfWork-inScheme",
        ("hasValue",),
        add(
            about(
                "FieldOfWork",
                "field-of-work/x",
                (SKOS + "inScheme", URIRef(ID + "scheme/event-types")),
                (SKOS + "prefLabel", Literal("X", lang="en")),
            )
        ),
    ),
    Mutation(
        "a concept labelled without a language",
        "Concept-prefLabel",
        ("datatype",),
        add(about(SKOS + "Concept", "concept/x", (SKOS + "prefLabel", Literal("X")))),
    ),
]


@pytest.fixture(scope="module")
def base_release(generated: list[Release], pyshacl_only: ValidationContext) -> Release:
    """A generated release with an event, a quotation and a role mention, and no result."""
    for name, triples in generated:
        types = {o for _, p, o in triples if p == RDF.type}
        wanted = {osce("Event"), osce("Quotation"), osce("RoleMention")} <= types
        if wanted and not validate_batch(pyshacl_only, [(name, triples)])[0].results:
            return name, triples
    raise AssertionError("no generated release has everything the mutations change")


def shape_parameters(shapes: Graph, node: Node) -> set[str]:
    """The sh: parameters a shape uses, itself or through the shapes it refers to."""
    found: set[str] = set()
    pending, seen = [node], {node}
    while pending:
        current = pending.pop()
        for p, o in shapes.predicate_objects(current):
            found.add(str(p).removeprefix(str(SH)))
            nested = list(Collection(shapes, o)) if p in (SH["or"], SH["and"]) else [o]
            if p in (SH.path,):
                nested = [o]
            for n in nested:
                if n not in seen and (n, None, None) in shapes:
                    seen.add(n)
                    pending.append(n)
    return found


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.name)
def test_a_release_broken_this_way_is_left_to_pyshacl(
    mutation: Mutation,
    base_release: Release,
    context: ValidationContext,
    pyshacl_only: ValidationContext,
) -> None:
    name, triples = base_release
    assert clean(context, triples)
    broken = mutation.change(list(triples), URIRef(subject_of_type(triples, "PressRelease")))
    verdict = validate_batch(pyshacl_only, [(name, broken)])[0]
    shapes = {str(r.source_shape).removeprefix(SHAPES) for r in results_of(verdict.results)}
    assert mutation.shape in shapes, f"pySHACL reported {shapes}"  # the mutation does break it
    assert_foreseen(context, name, broken, verdict, decided=True)
    used = shape_parameters(context.shapes, URIRef(SHAPES + mutation.shape))
    targets = {
        str(p).removeprefix(str(SH))
        for s in context.shapes.subjects(SH.property, URIRef(SHAPES + mutation.shape))
        for p in context.shapes.predicates(s)
    }
    assert set(mutation.parameters) <= used | targets
    assert not clean(context, broken)
    assert readable(validate_batch(context, [(name, broken)])) == readable([verdict])


def test_the_mutations_exercise_every_constraint_parameter_the_shapes_use(
    context: ValidationContext,
) -> None:
    ignored = {"path", "property", "message", "name", "description", "qualifiedValueShapesDisjoint"}
    used = {
        str(p).removeprefix(str(SH))
        for p in set(context.shapes.predicates())
        if str(p).startswith(str(SH))
    } - ignored
    covered = {p for m in MUTATIONS for p in m.parameters}
    assert used - covered == set()


# -- whole builds: the same outputs with and without the pre-check ------------------------------


def read_with_violations(path: Path) -> list[ReleaseRecord]:
    """The real reader, with every third release given a date that is not a date."""
    records = read_releases(path, gazetteer=default_gazetteer(DEFAULT_BASE))
    return [
        dataclasses.replace(r, date="the eighth of October") if r.item % 3 == 1 else r
        for r in records
    ]


def build_outputs(out: Path) -> dict[str, object]:
    """What a build published: the dumps and the quarantine (bytes), the report's results and
    the summary's counts. The report's Turtle is compared by its results: rdflib orders its
    blank nodes differently from run to run, with or without the pre-check."""
    outputs: dict[str, object] = {
        str(p.relative_to(out)): p.read_bytes()
        for p in sorted((out / "dumps").iterdir())
        if p.is_file()
    }
    outputs["quarantine"] = (out / "report" / "quarantine.json").read_bytes()
    report = Graph().parse(out / "report" / "validation.ttl")
    outputs["report"] = sorted(
        tuple(str(x) for x in dataclasses.astuple(r)) for r in read_results(report)
    )
    summary = json.loads((out / "report" / "summary.json").read_text())
    outputs["summary"] = {
        k: v for k, v in summary.items() if k not in ("build_id", "seconds", "timings")
    }
    return outputs


def test_a_build_writes_the_same_outputs_with_and_without_the_precheck(tmp_path: Path) -> None:
    inputs = (bundled_samples_root(), *FIXTURES, generate(tmp_path / "generated", 150))
    outputs = {}
    for setting in ("1", "0"):
        out = tmp_path / f"precheck-{setting}"
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv(SOURCE_DATE_EPOCH, "1700000000")
            patch.setenv(PRECHECK_ENV, setting)
            result = build(
                BuildOptions(inputs=inputs, out_dir=out, read=read_with_violations, jobs=2)
            )
        assert sum(e["stage"] == "validate" for e in result.quarantined) >= 3
        outputs[setting] = build_outputs(out)
    assert outputs["1"].keys() == outputs["0"].keys()
    for name, value in outputs["1"].items():
        assert value == outputs["0"][name], name
    report = outputs["1"]["report"]
    assert isinstance(report, list) and any("Warning" in r for r in report)
    dump = outputs["1"]["dumps/osce-kg.nq.gz"]
    assert isinstance(dump, bytes) and gzip.decompress(dump).count(b"\n") > 1000


def test_a_pickled_context_compiles_its_precheck_again(
    context: ValidationContext, base_release: Release
) -> None:
    """Build workers may get the context pickled; compiled closures do not pickle."""
    copy = pickle.loads(pickle.dumps(context))
    assert copy.precheck is not None
    assert clean(copy, base_release[1])
