"""Tests of ``osce-kg build``: layout, store, dumps, VoID, quarantine, determinism, kills."""

from __future__ import annotations

import dataclasses
import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from rdflib import Dataset, Graph, Literal, URIRef

from kg.cli import cli
from kg.errors import BuildError
from kg.extraction.pipeline import read_releases
from kg.extraction.records import ReleaseRecord
from kg.ingest.inputs import SOURCE_DATE_EPOCH
from kg.publish.build import BuildOptions, BuildResult, build
from kg.publish.dumps import read_checksums, sha256_file
from kg.publish.layout import build_lock
from kg.publish.void import SPDX, dataset_iri
from kg.rdf.uris import DEFAULT_BASE, graph_iri, release_key
from kg.rdf.vocab import DCAT, OSCE, PROV, SD, VOID, XSD
from tests.conftest import paused_build_command, wait_for_pause

DATA = Path(__file__).parent / "data" / "build"
EPOCH = "1700000000"  # 2023-11-14T22:13:20Z
DUMPS = ("osce-kg.ttl.gz", "osce-kg.nt.gz", "osce-kg.nq.gz")
GOOD_TITLES = {
    ("2019-03-14", "OSCE trains border officers in Dushanbe on countering terrorism"),
    ("2019-06-05", "Secretary General visits Vienna youth forum"),
    ("2020-09-21", "OSCE Chairpersonship statement on the International Day of Peace"),
    ("2020-10-08", "Media freedom seminar for journalists held in Skopje"),
}
BUILD_COMMAND = (sys.executable, "-c", "from kg.cli import cli; cli()", "build")
SKOPJE = ("2020-10-08", "Media freedom seminar for journalists held in Skopje")


def release_graph(date: str, title: str) -> URIRef:
    return graph_iri("release", release_key(date, title), base=DEFAULT_BASE)


def copy_inputs(folder: Path) -> Path:
    shutil.copytree(DATA / "releases", folder)
    return folder


def copy_build(out: Path, copy: Path) -> Path:
    """A copy of a build directory (links kept), to rebuild into without touching the original."""
    shutil.copytree(out, copy, symlinks=True)
    return copy


def run_build(inputs: Path, out: Path, **options: object) -> BuildResult:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(SOURCE_DATE_EPOCH, EPOCH)
        return build(BuildOptions(inputs=(inputs,), out_dir=out, **options))  # type: ignore[arg-type]


def dump_bytes(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((out / "dumps").iterdir())}


def store_graphs(out: Path) -> set[str]:
    store = ox.Store.read_only(str(out / "store"))
    return {g.value for g in store.named_graphs() if isinstance(g, ox.NamedNode)}


def select(store: ox.Store, query: str, **bindings: ox.Literal) -> list[ox.QuerySolution]:
    """The rows of a SELECT over the union of all graphs, values bound by substitution."""
    solutions = store.query(
        query,
        use_default_graph_as_union=True,
        substitutions={ox.Variable(name): value for name, value in bindings.items()},
    )
    assert isinstance(solutions, ox.QuerySolutions)
    return list(solutions)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, BuildResult]:
    """One build of the fixture releases: (inputs, build directory, summary)."""
    root = tmp_path_factory.mktemp("built")
    inputs = copy_inputs(root / "releases")
    result = run_build(inputs, root / "out")
    return inputs, root / "out", result


def read_with_a_bad_date(path: Path) -> list[ReleaseRecord]:
    """The real reader, except that the Skopje release gets a date that is not an ISO date."""
    records = read_releases(path)
    return [
        dataclasses.replace(r, date="the eighth of October") if r.title == SKOPJE[1] else r
        for r in records
    ]


@pytest.fixture(scope="module")
def violating(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BuildResult]:
    """A build where one release violates a shape, with an extra RDF file."""
    root = tmp_path_factory.mktemp("violating")
    result = run_build(
        DATA / "releases" / "newsroom-2020.jsonl",
        root / "out",
        read=read_with_a_bad_date,
        extra_rdf=(DATA / "extra.ttl",),
    )
    return root / "out", result


def test_build_directory_follows_the_contract(built: tuple[Path, Path, BuildResult]) -> None:
    _, out, result = built
    current = out / "current"
    assert current.is_symlink()
    assert os.readlink(current) == f".builds/{result.summary.build_id}"
    for name in ("store", "dumps", "report"):
        assert os.readlink(out / name) == f"current/{name}"
    assert sorted(p.name for p in (out / "dumps").iterdir()) == sorted(
        [*DUMPS, "SHA256SUMS", "void.ttl"]
    )
    assert sorted(p.name for p in (out / "report").iterdir()) == [
        "quarantine.json",
        "summary.json",
        "validation.ttl",
    ]


def test_store_holds_one_named_graph_per_release_besides_the_shipped_graphs(
    built: tuple[Path, Path, BuildResult],
) -> None:
    _, out, result = built
    expected = {
        str(graph_iri(name, base=DEFAULT_BASE))
        for name in ("ontology", "vocabularies", "reference")
    }
    expected |= {str(release_graph(*release)) for release in GOOD_TITLES}
    assert store_graphs(out) == expected
    assert result.summary.releases == 4
    assert result.summary.graphs == 7


def test_union_default_graph_answers_queries_across_graphs(
    built: tuple[Path, Path, BuildResult],
) -> None:
    _, out, _ = built
    store = ox.Store.read_only(str(out / "store"))
    query = """
        PREFIX osce: <https://w3id.org/osce-kg/ontology#>
        PREFIX schema: <https://schema.org/>
        PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        SELECT ?title ?label WHERE {
            ?r osce:source ?s ; schema:headline ?title . ?s rdfs:label ?label
        }
    """
    rows = select(store, query, label=ox.Literal("OSCE Secretariat", language="en"))
    titles = {row["title"].value for row in rows}
    assert titles == {
        "Secretary General visits Vienna youth forum",
        "OSCE Chairpersonship statement on the International Day of Peace",
    }


# rdflib 7.6's own Dataset.parse uses its deprecated default_context internally
@pytest.mark.filterwarnings("ignore:Dataset.default_context is deprecated:DeprecationWarning")
def test_dumps_parse_with_rdflib_and_agree(built: tuple[Path, Path, BuildResult]) -> None:
    _, out, result = built
    dumps = out / "dumps"
    nt = Graph().parse(data=gzip.decompress((dumps / "osce-kg.nt.gz").read_bytes()), format="nt")
    ttl = Graph().parse(
        data=gzip.decompress((dumps / "osce-kg.ttl.gz").read_bytes()), format="turtle"
    )
    nq = Dataset()
    nq.parse(data=gzip.decompress((dumps / "osce-kg.nq.gz").read_bytes()), format="nquads")
    assert len(nt) == len(ttl) == result.summary.triples > 1000
    assert sum(1 for _ in nq.quads((None, None, None, None))) == result.summary.quads
    graphs = {str(g.identifier) for g in nq.graphs() if len(g)}
    assert graphs == store_graphs(out)


def test_dumps_are_sorted_canonical_and_gzipped_without_name_or_time(
    built: tuple[Path, Path, BuildResult],
) -> None:
    _, out, _ = built
    raw = (out / "dumps" / "osce-kg.nq.gz").read_bytes()
    assert raw[4:8] == b"\0\0\0\0"  # gzip mtime 0
    assert raw[3] & 0x08 == 0  # no FNAME flag
    lines = gzip.decompress(raw).decode("utf-8").splitlines()
    assert lines == sorted(lines)
    assert len(lines) == len(set(lines))


def test_rapper_parses_the_dumps(built: tuple[Path, Path, BuildResult], tmp_path: Path) -> None:
    rapper = shutil.which("rapper")
    if rapper is None:
        pytest.skip("rapper (Debian package raptor2-utils) is not installed")
    _, out, result = built
    expected = {
        "ntriples": result.summary.triples,
        "turtle": result.summary.triples,
        "nquads": result.summary.quads,
    }
    for name, syntax in (
        ("osce-kg.nt.gz", "ntriples"),
        ("osce-kg.ttl.gz", "turtle"),
        ("osce-kg.nq.gz", "nquads"),
    ):
        plain = tmp_path / name.removesuffix(".gz")
        plain.write_bytes(gzip.decompress((out / "dumps" / name).read_bytes()))
        result = subprocess.run(
            [rapper, "-i", syntax, "-c", str(plain)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert f"returned {expected[syntax]} triples" in result.stderr


def test_sha256sums_match_the_files(built: tuple[Path, Path, BuildResult]) -> None:
    _, out, _ = built
    sums = read_checksums(out / "dumps" / "SHA256SUMS")
    assert sorted(sums) == sorted([*DUMPS, "void.ttl"])
    for name, digest in sums.items():
        assert sha256_file(out / "dumps" / name) == digest


def test_void_describes_counts_graphs_classes_dates_and_downloads(
    built: tuple[Path, Path, BuildResult],
) -> None:
    _, out, result = built
    void = Graph().parse(out / "dumps" / "void.ttl", format="turtle")
    dataset = dataset_iri(base=DEFAULT_BASE)
    assert void.value(dataset, VOID.triples) == Literal(
        result.summary.triples, datatype=XSD.integer
    )
    when = Literal("2023-11-14T22:13:20Z", datatype=XSD.dateTime)
    assert void.value(dataset, PROV.generatedAtTime) == when
    subsets = {
        str(void.value(s, SD.name)): int(str(void.value(s, VOID.triples)))
        for s in void.objects(dataset, VOID.subset)
    }
    assert set(subsets) == store_graphs(out)
    assert sum(subsets.values()) == result.summary.quads
    assert len(list(void.objects(dataset, VOID.classPartition))) > 10
    sums = read_checksums(out / "dumps" / "SHA256SUMS")
    for distribution in void.objects(dataset, DCAT.distribution):
        url = str(void.value(distribution, DCAT.downloadURL))
        assert url.startswith(f"{DEFAULT_BASE}dumps/")
        checksum = void.value(distribution, SPDX.checksum)
        assert str(void.value(checksum, SPDX.checksumValue)) == sums[url.rsplit("/", 1)[1]]


def test_an_unparsable_release_is_quarantined_with_its_reason(
    built: tuple[Path, Path, BuildResult],
) -> None:
    _, out, result = built
    entries = json.loads((out / "report" / "quarantine.json").read_text())
    assert [(e["file"], e["item"], e["stage"]) for e in entries] == [
        ("newsroom-2019.jsonl", 2, "parse")
    ]
    assert "newsroom-2019.jsonl:3:" in entries[0]["reason"]  # file and line
    assert "not a complete JSON object" in entries[0]["reason"]
    assert entries[0]["record"]["error"] == entries[0]["reason"]
    assert result.exit_code == 1
    nt = gzip.decompress((out / "dumps" / "osce-kg.nt.gz").read_bytes()).decode()
    assert "A release cut in the middle" not in nt


def test_a_release_violating_a_shape_is_quarantined_and_absent(
    violating: tuple[Path, BuildResult],
) -> None:
    out, result = violating
    entries = json.loads((out / "report" / "quarantine.json").read_text())
    assert [(e["file"], e["item"], e["stage"]) for e in entries] == [
        ("newsroom-2020.jsonl", 1, "validate")
    ]
    entry = entries[0]
    assert entry["field"] == "https://schema.org/datePublished"
    assert entry["shacl_results"] and entry["reason"]
    assert entry["record"]["date"] == "the eighth of October"
    skopje = release_graph(*SKOPJE)
    assert str(skopje) not in store_graphs(out)
    nq = gzip.decompress((out / "dumps" / "osce-kg.nq.gz").read_bytes()).decode()
    assert SKOPJE[1] not in nq
    assert result.summary.releases == 1 and result.exit_code == 1
    report = Graph().parse(out / "report" / "validation.ttl", format="turtle")
    assert len(report) > 0


def test_extra_rdf_is_its_own_named_graph_with_stable_blank_nodes(
    violating: tuple[Path, BuildResult],
) -> None:
    out, _ = violating
    extras = [g for g in store_graphs(out) if "/graph/extra/" in g]
    assert len(extras) == 1
    nq = gzip.decompress((out / "dumps" / "osce-kg.nq.gz").read_bytes()).decode()
    assert "An extra statement published with --rdf" in nq


def test_unchanged_rebuild_is_byte_identical_and_converts_nothing(
    built: tuple[Path, Path, BuildResult], tmp_path: Path
) -> None:
    inputs, out, first = built
    copy = copy_build(out, tmp_path / "out")
    before = dump_bytes(copy)
    result = CliRunner().invoke(
        cli,
        ["build", str(inputs), "--out", str(copy), "--no-progress"],
        env={SOURCE_DATE_EPOCH: EPOCH},
    )
    assert result.exit_code == 1, result.output  # the truncated line stays quarantined
    assert "0 converted, 2 from cache" in result.output
    assert "QUARANTINED newsroom-2019.jsonl item 2 [parse" in result.output
    assert dump_bytes(copy) == before
    assert os.readlink(copy / "current") != os.readlink(out / "current")
    summary = json.loads((copy / "report" / "summary.json").read_text())
    assert summary["converted"] == 0 and summary["reused"] == 2
    assert summary["releases"] == first.summary.releases


def test_incremental_build_converts_only_changed_files_and_drops_removed_ones(
    built: tuple[Path, Path, BuildResult], tmp_path: Path
) -> None:
    _, out, _ = built
    inputs = copy_inputs(tmp_path / "releases")
    copy = copy_build(out, tmp_path / "out")
    (inputs / "newsroom-2020.jsonl").unlink()
    changed = inputs / "newsroom-2019.jsonl"
    changed.write_text(changed.read_text().replace("Twenty border officers", "Thirty officers"))
    result = run_build(inputs, copy)
    assert (result.summary.converted, result.summary.reused) == (1, 0)
    graphs = store_graphs(copy)
    assert str(release_graph(*SKOPJE)) not in graphs
    assert graphs == {
        str(graph_iri(name, base=DEFAULT_BASE))
        for name in ("ontology", "vocabularies", "reference")
    } | {str(release_graph(*r)) for r in GOOD_TITLES if r[0].startswith("2019")}
    nt = gzip.decompress((copy / "dumps" / "osce-kg.nt.gz").read_bytes()).decode()
    assert "Thirty officers" in nt and "Twenty border officers" not in nt
    assert len(list((copy / ".cache").glob("*.json"))) == 1  # entries of gone files are pruned


def test_a_broken_extra_rdf_file_stops_the_build_and_publishes_nothing(
    built: tuple[Path, Path, BuildResult], tmp_path: Path
) -> None:
    inputs, out, _ = built
    copy = copy_build(out, tmp_path / "out")
    before = os.readlink(copy / "current")
    result = CliRunner().invoke(
        cli, ["build", str(inputs), "--out", str(copy), "--rdf", str(DATA / "broken.ttl")]
    )
    assert result.exit_code == 2
    assert "broken.ttl:4:" in result.output
    assert os.readlink(copy / "current") == before


@pytest.fixture
def killed_build(
    built: tuple[Path, Path, BuildResult], tmp_path: Path
) -> Iterator[tuple[Path, Path, subprocess.Popen[bytes]]]:
    """A build started in a subprocess and paused just before it would publish."""
    inputs, out, _ = built
    copy = copy_build(out, tmp_path / "out")
    marker = tmp_path / "paused"
    env = {**os.environ, SOURCE_DATE_EPOCH: EPOCH}
    process = subprocess.Popen(
        [*paused_build_command("publish", marker), str(inputs), "--out", str(copy)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_pause(marker, process)
        yield inputs, copy, process
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def test_killed_build_leaves_the_previous_build_usable_and_a_rerun_succeeds(
    built: tuple[Path, Path, BuildResult],
    killed_build: tuple[Path, Path, subprocess.Popen[bytes]],
) -> None:
    _, original, _ = built
    inputs, out, process = killed_build
    before = os.readlink(out / "current")
    assert len(list((out / ".builds").iterdir())) == 2  # the unfinished one is there
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)

    assert os.readlink(out / "current") == before
    assert dump_bytes(out) == dump_bytes(original)
    for name, digest in read_checksums(out / "dumps" / "SHA256SUMS").items():
        assert sha256_file(out / "dumps" / name) == digest
    assert store_graphs(out) == store_graphs(original)

    env = {**os.environ, SOURCE_DATE_EPOCH: EPOCH}
    rerun = subprocess.run(
        [*BUILD_COMMAND, str(inputs), "--out", str(out), "--no-progress"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert rerun.returncode == 1, rerun.stderr  # 1: the truncated line is quarantined
    assert os.readlink(out / "current") != before
    # another process, same inputs: the same bytes (no dependence on hash seeds or paths)
    assert dump_bytes(out) == dump_bytes(original)
    assert len(list((out / ".builds").iterdir())) == 2  # the new one and the one it replaced


def test_the_bundled_sample_builds_with_the_seed_fully_mapped(tmp_path: Path) -> None:
    """The default build: every sample except the deliberately broken ones is published."""
    result = CliRunner().invoke(cli, ["build", "--out", str(tmp_path / "out"), "--no-progress"])
    assert result.exit_code == 0, result.output  # the demo builds clean, nothing quarantined
    out = tmp_path / "out"
    summary = json.loads((out / "report" / "summary.json").read_text())
    entries = json.loads((out / "report" / "quarantine.json").read_text())
    assert summary["releases"] >= 40
    assert entries == []

    store = ox.Store.read_only(str(out / "store"))
    query = """
        PREFIX osce: <https://w3id.org/osce-kg/ontology#>
        PREFIX schema: <https://schema.org/>
        SELECT ?dateline ?start ?end ?type ?organiser ?partner WHERE {
            ?release osce:dateline ?dateline ; osce:reportsEvent ?event .
            ?event schema:startDate ?start ; schema:endDate ?end ; osce:eventType ?type ;
                schema:organizer ?organiser ; osce:inCooperationWith ?partner .
        }
    """
    rows = select(store, query, dateline=ox.Literal("DUSHANBE, 4 May 2018"))
    assert rows, "the seed's event is missing"
    base = DEFAULT_BASE
    assert {(r["start"].value, r["end"].value, r["type"].value) for r in rows} == {
        ("2018-05-03", "2018-05-04", f"{base}id/event-type/conference")
    }
    assert {r["organiser"].value for r in rows} == {f"{base}id/state/tj"}
    partners = {r["partner"].value for r in rows}
    assert {f"{base}id/organisation/united-nations", f"{base}id/organisation/european-union"} <= (
        partners
    )


def test_a_second_build_into_a_locked_directory_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with build_lock(out), pytest.raises(BuildError, match="another build is writing"):
        build(BuildOptions(inputs=(DATA / "releases",), out_dir=out))
    assert not (out / "current").exists()


def test_a_build_under_another_base_links_release_mentions_under_that_base(tmp_path: Path) -> None:
    """The name index the build links with mints under the build's base, like the reference
    graph: a mention never points at an IRI of the default base that the build does not hold."""
    base = "https://example.org/osce/"
    seed = Path(__file__).parent / "data" / "releases" / "seed-dushanbe-2018.txt"
    build(BuildOptions(inputs=(seed,), out_dir=tmp_path / "out", base=base))
    store = ox.Store.read_only(str(tmp_path / "out" / "store"))
    query = f"SELECT ?thing WHERE {{ ?release <{OSCE.mentionsState}> ?thing }}"
    mentioned = {row["thing"].value for row in select(store, query)}
    assert f"{base}id/state/tj" in mentioned
    assert all(iri.startswith(base) for iri in mentioned), mentioned
