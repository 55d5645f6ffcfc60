"""The build validates each release on its own (with the slice of the context it links to) and
caches each verdict: it must decide exactly what one pySHACL pass over everything decides, write
the same dumps, and validate again only what changed."""

from __future__ import annotations

import dataclasses
import gzip
import json
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Dataset, Graph, Literal, URIRef

import kg.publish.build
from kg.conversion.convert import Converter, convert_file
from kg.extraction.linking import default_gazetteer
from kg.extraction.pipeline import read_releases
from kg.extraction.records import ReleaseRecord
from kg.ingest.inputs import SOURCE_DATE_EPOCH, bundled_samples_root, collect_release_files
from kg.publish.build import BuildOptions, BuildResult, build
from kg.publish.graphs import load_extra_rdf, load_source_graphs
from kg.rdf.quads import (
    graph_quads,
    ntriples_quads,
    parse_ntriples,
    serialize_rdf,
    sort_quads,
    turtle_bytes,
)
from kg.rdf.uris import DEFAULT_BASE, graph_iri
from kg.rdf.vocab import PREFIXES, RDFS
from kg.validation.shacl import ValidationResult, load_shapes, read_results, validate_dataset
from server.query import QueryJob, union_default_graph
from server.worker import run_query

TESTS = Path(__file__).parent / "data"
BROKEN = TESTS / "broken-samples"
EXTRA = TESTS / "build" / "extra.ttl"
EPOCH = "1700000000"


def read_with_violations(path: Path) -> list[ReleaseRecord]:
    """The real reader, except that every third release gets a date that is not a date (a
    Violation of the release shape), so the validation has something to quarantine."""
    records = read_releases(path, gazetteer=default_gazetteer(DEFAULT_BASE))
    return [
        dataclasses.replace(r, date="the eighth of October") if r.item % 3 == 1 else r
        for r in records
    ]


@dataclasses.dataclass(frozen=True)
class OnePass:
    """What the build did before it validated per release: everything in one pySHACL pass."""

    failing: frozenset[str]  # release keys with a Violation
    results: frozenset[tuple[str, ...]]
    dumps: dict[str, bytes]


def result_key(result: ValidationResult) -> tuple[str, ...]:
    fields = dataclasses.astuple(result)
    return tuple(str(x) for x in fields)


def one_pass(inputs: tuple[Path, ...], extras: tuple[Path, ...]) -> OnePass:
    """Converts, validates all graphs together and writes the dumps in memory, as before."""
    base = DEFAULT_BASE
    sources = load_source_graphs(base=base)
    extra = load_extra_rdf(extras, base=base)
    converter = Converter(read_with_violations, sources.labels(), base)
    releases: dict[str, str] = {}
    for source in collect_release_files(inputs):
        for release in convert_file(source, source.sha256(), converter).releases:
            if release.problem is None and release.key and release.key not in releases:
                releases[release.key] = release.ntriples
    dataset = Dataset()
    named = [*sources.named(base), *sorted(extra.items())]
    for name, graph in named:
        for triple in graph:
            dataset.graph(name).add(triple)
    for key, text in releases.items():
        target = dataset.graph(graph_iri("release", key, base=base))
        for triple in parse_ntriples(text):
            target.add(triple)
    report = validate_dataset(dataset, shapes=load_shapes(), ontology=sources.ontology)
    failing = report.assignment.failing_graphs()
    quads = [
        q
        for number, (name, graph) in enumerate(named)
        for q in graph_quads(graph, name, bnode_prefix=f"g{number}x")
    ]
    for key, text in releases.items():
        if graph_iri("release", key, base=base) not in failing:
            quads.extend(ntriples_quads(text, graph_iri("release", key, base=base)))
    ordered = sort_quads(quads)
    unique = {str(q.triple): q.triple for q in ordered}
    triples = [unique[k] for k in sorted(unique)]
    return OnePass(
        failing=frozenset(k for k in releases if graph_iri("release", k, base=base) in failing),
        results=frozenset(result_key(r) for r in report.report.results),
        dumps={
            "osce-kg.nq.gz": serialize_rdf(ordered, ox.RdfFormat.N_QUADS),
            "osce-kg.nt.gz": serialize_rdf(triples, ox.RdfFormat.N_TRIPLES),
            "osce-kg.ttl.gz": turtle_bytes(triples, PREFIXES),
        },
    )


def run(inputs: tuple[Path, ...], out: Path, **options: object) -> BuildResult:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(SOURCE_DATE_EPOCH, EPOCH)
        return build(
            BuildOptions(inputs=inputs, out_dir=out, read=read_with_violations, **options)  # type: ignore[arg-type]
        )


@pytest.mark.parametrize(
    ("name", "inputs", "extras"),
    [
        ("samples", (bundled_samples_root(),), ()),
        ("fixtures", (TESTS / "releases", BROKEN, TESTS / "build" / "releases"), (EXTRA,)),
    ],
)
def test_per_release_validation_decides_and_publishes_what_one_pass_does(
    name: str, inputs: tuple[Path, ...], extras: tuple[Path, ...], tmp_path: Path
) -> None:
    expected = one_pass(inputs, extras)
    result = run(inputs, tmp_path / name, extra_rdf=extras, jobs=2)

    validated = {e["release_key"] for e in result.quarantined if e["stage"] == "validate"}
    assert validated == expected.failing
    assert len(expected.failing) >= 3  # the test has something to compare
    report = Graph().parse(tmp_path / name / "report" / "validation.ttl")
    assert {result_key(r) for r in read_results(report)} == expected.results
    for dump, data in expected.dumps.items():
        written = gzip.decompress((tmp_path / name / "dumps" / dump).read_bytes())
        assert written == data, dump


def test_the_broken_fixtures_are_each_quarantined_with_their_reason(tmp_path: Path) -> None:
    result = build(BuildOptions(inputs=(BROKEN,), out_dir=tmp_path / "out"))
    assert result.exit_code == 1
    files = sorted(str(e["file"]) for e in result.quarantined)
    inputs = [p for p in BROKEN.rglob("*.*") if "gold" not in p.parts and p.name != "README.md"]
    assert files == sorted(str(p.relative_to(BROKEN)) for p in inputs)
    assert len(files) == 6
    assert all(e["stage"] in ("read", "parse") and e["reason"] for e in result.quarantined)


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    """Release files to rebuild from: the build fixtures and the extraction fixtures."""
    shutil.copytree(TESTS / "build" / "releases", tmp_path / "in" / "build")
    shutil.copytree(TESTS / "releases", tmp_path / "in" / "releases")
    return tmp_path / "in"


def usable(result: BuildResult) -> int:
    """Releases that reached validation (published or quarantined by a shape)."""
    summary = result.summary
    assert summary.releases is not None
    return summary.releases + sum(1 for e in result.quarantined if e["stage"] == "validate")


def test_an_unchanged_rebuild_takes_every_file_and_verdict_from_the_caches(
    archive: Path, tmp_path: Path
) -> None:
    first = run((archive,), tmp_path / "out")
    assert first.summary.validated == usable(first) > 0

    again = run((archive,), tmp_path / "out")

    assert (again.summary.converted, again.summary.validated) == (0, 0)
    assert json.dumps(again.quarantined) == json.dumps(first.quarantined)  # as the report has it
    assert again.summary.dumps == first.summary.dumps


def test_changing_one_release_validates_only_that_release(archive: Path, tmp_path: Path) -> None:
    run((archive,), tmp_path / "out")
    listing = archive / "build" / "newsroom-2019.jsonl"
    lines = listing.read_text(encoding="utf-8").splitlines(keepends=True)
    assert len(lines) >= 2  # the other releases of the file keep their verdicts
    record = json.loads(lines[0])
    record["body"] += "\n\nA sentence added later."
    lines[0] = json.dumps(record, ensure_ascii=False) + "\n"
    listing.write_text("".join(lines), encoding="utf-8")

    again = run((archive,), tmp_path / "out")

    assert (again.summary.converted, again.summary.validated) == (1, 1)
    nt = gzip.decompress((tmp_path / "out" / "dumps" / "osce-kg.nt.gz").read_bytes())
    assert b"A sentence added later." in nt


def test_changing_the_shapes_validates_every_release_again(
    archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = run((archive,), tmp_path / "out")
    shapes = load_shapes()
    shapes.add((URIRef("urn:x-test:shape"), RDFS.comment, Literal("a changed shapes graph")))
    monkeypatch.setattr(kg.publish.build, "load_shapes", lambda: shapes)

    again = run((archive,), tmp_path / "out")

    assert again.summary.converted == 0
    assert again.summary.validated == usable(first)


def test_a_build_killed_midway_keeps_the_served_build_and_resumes_from_the_cache(
    archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = run((archive,), tmp_path / "out")
    (archive / "releases" / "scraped.jsonl").write_text(
        (TESTS / "build" / "releases" / "newsroom-2020.jsonl").read_text(encoding="utf-8")
    )

    def killed(*_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(kg.publish.build, "_make_store", killed)
    with pytest.raises(KeyboardInterrupt):
        run((archive,), tmp_path / "out", jobs=1)
    assert (tmp_path / "out" / "current").resolve().name == first.summary.build_id
    monkeypatch.undo()

    resumed = run((archive,), tmp_path / "out")
    assert (resumed.summary.converted, resumed.summary.validated) == (0, 0)


def test_the_default_graph_is_the_merge_each_triple_once(archive: Path, tmp_path: Path) -> None:
    """Every release graph and the reference graph state the same source-file and type triples
    in places; the default graph holds each once, as the RDF merge does (not the bag a union of
    the named graphs is), and the server reads it that way."""
    result = run((archive,), tmp_path / "out")
    store = ox.Store.read_only(str(tmp_path / "out" / "store"))
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    job = QueryJob(count, "application/sparql-results+json", None, None, max_rows=10)

    merged = run_query(store, job)
    bag = store.query("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")

    assert isinstance(merged, ox.QuerySolutions) and isinstance(bag, ox.QuerySolutions)
    triples = int(next(iter(merged))[0].value)  # type: ignore[union-attr]
    assert triples == result.summary.triples
    quads = int(next(iter(bag))[0].value)  # type: ignore[union-attr]
    assert quads == result.summary.quads > triples  # some triples are in several graphs
    assert not union_default_graph(store)
    assert result.summary.default_graph == "merge"
