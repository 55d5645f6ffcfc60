"""A rebuild reuses what did not change (the previous build as it is, each file's segment, the
previous store, the compressed chunks of the dumps) and must still write exactly what a build
from scratch of the same inputs writes: the same dump bytes, VoID and SHA256SUMS, the same
quads in the store, the same quarantine and validation report."""

from __future__ import annotations

import gzip
import importlib.util
import json
import random
import shutil
import sqlite3
import subprocess
import sys
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph
from rdflib.compare import isomorphic

import kg.publish.build
import kg.publish.chunks
import kg.publish.fingerprint
import kg.validation.shacl
from kg.ingest.inputs import SOURCE_DATE_EPOCH
from kg.publish.build import BuildOptions, BuildResult, build
from kg.resources import shapes_dir

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "data" / "build" / "releases"
EPOCH = "1700000000"
FILES, PER_FILE = 3, 12


def _bench() -> object:
    spec = importlib.util.spec_from_file_location("bench_build", ROOT / "benchmarks/bench_build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def write_inputs(folder: Path) -> Path:
    """Generated releases (the benchmark's generator) in a few files, and a fixture file with a
    release that cannot be read (so the quarantine is not empty)."""
    bench = _bench()
    folder.mkdir(parents=True)
    rng = random.Random(7)
    places, names = bench.offices(), bench.states()  # type: ignore[attr-defined]
    for number in range(FILES):
        lines = []
        for item in range(PER_FILE):
            record = bench.release(number * PER_FILE + item, rng, places, names)  # type: ignore[attr-defined]
            record.pop("event_type_hint")
            lines.append(json.dumps(record, ensure_ascii=False))
        (folder / f"archive-{number}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    shutil.copy2(FIXTURES / "newsroom-2019.jsonl", folder / "newsroom-2019.jsonl")
    return folder


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of a few subjects, so that even these small dumps have many gzip members."""
    monkeypatch.setattr(kg.publish.chunks, "CHUNK_MODULUS", 8)
    monkeypatch.setenv(SOURCE_DATE_EPOCH, EPOCH)


@pytest.fixture(scope="module")
def first(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """(inputs, build directory) of a first build from scratch."""
    root = tmp_path_factory.mktemp("first")
    inputs = write_inputs(root / "releases")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(kg.publish.chunks, "CHUNK_MODULUS", 8)
        patch.setenv(SOURCE_DATE_EPOCH, EPOCH)
        build(BuildOptions(inputs=(inputs,), out_dir=root / "out"))
    yield inputs, root / "out"


@pytest.fixture
def inputs(first: tuple[Path, Path]) -> Path:
    """The first build's input folder, as it was for the first build (a test changes it).

    The same folder each time: a release's record names the file it came from by its path.
    """
    folder, out = first
    pristine = out.parent / "pristine"
    if not pristine.exists():
        shutil.copytree(folder, pristine)
    shutil.rmtree(folder)
    shutil.copytree(pristine, folder)
    return folder


def run(inputs: Path, out: Path) -> BuildResult:
    return build(BuildOptions(inputs=(inputs,), out_dir=out))


def rebuild_and_scratch(
    first: tuple[Path, Path], inputs: Path, tmp_path: Path, change: Callable[[Path], None]
) -> tuple[BuildResult, BuildResult]:
    """Changes the first build's inputs, rebuilds into a copy of its directory and builds the
    same inputs from scratch; returns (rebuild, scratch)."""
    out = tmp_path / "out"
    shutil.copytree(first[1], out, symlinks=True)
    change(inputs)
    return run(inputs, out), run(inputs, tmp_path / "scratch")


def assert_same_build(rebuilt: BuildResult, scratch: BuildResult) -> None:
    """The two builds published the same dumps, store quads, quarantine and report."""
    one, other = rebuilt.out_dir, scratch.out_dir
    assert dump_bytes(one) == dump_bytes(other)
    assert store_quads(one) == store_quads(other)
    assert named_graphs(one) == named_graphs(other)
    assert search_entries(one) == search_entries(other)
    assert json.loads((one / "report/quarantine.json").read_text()) == json.loads(
        (other / "report/quarantine.json").read_text()
    )
    assert isomorphic(
        Graph().parse(one / "report/validation.ttl"), Graph().parse(other / "report/validation.ttl")
    )
    for count in ("releases", "quarantined", "graphs", "quads", "triples", "warnings"):
        assert getattr(rebuilt.summary, count) == getattr(scratch.summary, count), count
    assert as_json(rebuilt.quarantined) == as_json(scratch.quarantined)


def as_json(value: object) -> object:
    """``value`` as JSON gives it back (tuples and lists alike)."""
    return json.loads(json.dumps(value, default=str))


def dump_bytes(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((out / "dumps").iterdir())}


def store_quads(out: Path) -> set[str]:
    store = ox.Store.read_only(str(out / "store"))
    quads = {str(q) for q in store}
    assert not any("_:" in q for q in quads)  # blank nodes would need an isomorphism test
    return quads


def search_entries(out: Path) -> dict[str, tuple[object, ...]]:
    """What the label search index holds of each IRI: whether it is a term, its names and its
    classes (the full-text index checked against the names)."""
    connection = sqlite3.connect(out / "current/search/labels.sqlite")
    try:
        connection.execute("INSERT INTO names_fts(names_fts) VALUES ('integrity-check')")
        entries: dict[str, tuple[object, ...]] = {}
        for entity, iri, term in connection.execute("SELECT id, iri, term FROM entities"):
            names = connection.execute(
                "SELECT text, lang, folded, preferred FROM names WHERE entity = ?", (entity,)
            ).fetchall()
            types = connection.execute(
                "SELECT class, direct FROM types WHERE entity = ?", (entity,)
            ).fetchall()
            entries[iri] = (term, sorted(names), sorted(types))
        hits = connection.execute(
            "SELECT count(*) FROM names_fts WHERE names_fts MATCH 'osce'"
        ).fetchone()
        entries["(hits)"] = tuple(hits)
        return entries
    finally:
        connection.close()


def named_graphs(out: Path) -> set[str]:
    return {str(g) for g in ox.Store.read_only(str(out / "store")).named_graphs()}


def edit_line(path: Path, index: int, edit: Callable[[dict[str, object]], object]) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[index])
    edit(record)
    lines[index] = json.dumps(record, ensure_ascii=False)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def gzip_members(path: Path) -> int:
    data, members = path.read_bytes(), 0
    while data:
        reader = zlib.decompressobj(wbits=31)
        reader.decompress(data)
        assert reader.eof
        data, members = reader.unused_data, members + 1
    return members


def test_an_unchanged_rebuild_takes_the_published_build_without_reading_anything(
    first: tuple[Path, Path], inputs: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    shutil.copytree(first[1], out, symlinks=True)
    before = dump_bytes(out)

    again = run(inputs, out)

    assert set(again.summary.timings) == {"fingerprint", "copy"}  # nothing loaded or converted
    assert (again.summary.converted, again.summary.validated) == (0, 0)
    assert dump_bytes(out) == before
    assert again.quarantined and again.exit_code == 1  # the quarantine is still reported
    assert store_quads(out) == store_quads(first[1])


def test_changing_one_release_patches_the_store_and_writes_what_a_scratch_build_writes(
    first: tuple[Path, Path], inputs: Path, tmp_path: Path
) -> None:
    def change(inputs: Path) -> None:
        edit_line(inputs / "archive-1.jsonl", 3, lambda r: r.update(body=f"{r['body']} Later."))

    rebuilt, scratch = rebuild_and_scratch(first, inputs, tmp_path, change)

    assert_same_build(rebuilt, scratch)
    assert "store patch" in rebuilt.summary.timings  # not loaded again
    assert "dumps patch" in rebuilt.summary.timings  # only the chunks the change reaches
    assert (rebuilt.summary.converted, rebuilt.summary.validated) == (1, 1)


def test_adding_a_release_gives_what_a_scratch_build_gives(
    first: tuple[Path, Path], inputs: Path, tmp_path: Path
) -> None:
    def change(inputs: Path) -> None:
        path = inputs / "archive-2.jsonl"
        line = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
        line["title"] = "A new release about the rule of law"
        with path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(line, ensure_ascii=False) + "\n")

    rebuilt, scratch = rebuild_and_scratch(first, inputs, tmp_path, change)

    assert_same_build(rebuilt, scratch)
    before = json.loads((first[1] / "report/summary.json").read_text())["releases"]
    assert rebuilt.summary.releases == scratch.summary.releases == before + 1
    assert {"store patch", "dumps patch"} <= set(rebuilt.summary.timings)


def test_removing_a_release_and_a_file_gives_what_a_scratch_build_gives(
    first: tuple[Path, Path], inputs: Path, tmp_path: Path
) -> None:
    def change(inputs: Path) -> None:
        path = inputs / "archive-0.jsonl"
        lines = path.read_text(encoding="utf-8").splitlines()
        path.write_text("\n".join(lines[1:]) + "\n", encoding="utf-8")
        (inputs / "newsroom-2019.jsonl").unlink()

    rebuilt, scratch = rebuild_and_scratch(first, inputs, tmp_path, change)

    assert_same_build(rebuilt, scratch)
    assert not rebuilt.quarantined


def test_a_release_that_becomes_unreadable_is_quarantined_as_from_scratch(
    first: tuple[Path, Path], inputs: Path, tmp_path: Path
) -> None:
    def change(inputs: Path) -> None:
        path = inputs / "archive-1.jsonl"
        lines = path.read_text(encoding="utf-8").splitlines()
        lines[5] = lines[5][: len(lines[5]) // 2]  # cut in the middle
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    rebuilt, scratch = rebuild_and_scratch(first, inputs, tmp_path, change)

    assert_same_build(rebuilt, scratch)
    assert {(e["file"], e["item"]) for e in rebuilt.quarantined} >= {("archive-1.jsonl", 5)}


def test_a_release_repeating_an_earlier_files_release_is_left_out_as_from_scratch(
    first: tuple[Path, Path], inputs: Path, tmp_path: Path
) -> None:
    """The repeat is in a file whose segment did not change: its cached run is filtered."""

    def change(inputs: Path) -> None:
        later = json.loads((inputs / "archive-2.jsonl").read_text().splitlines()[4])
        edit_line(
            inputs / "archive-0.jsonl",
            2,
            lambda r: r.update(title=later["title"], date=later["date"]),
        )

    rebuilt, scratch = rebuild_and_scratch(first, inputs, tmp_path, change)

    assert_same_build(rebuilt, scratch)
    repeats = [e for e in rebuilt.quarantined if "same date and title" in str(e["reason"])]
    assert [(e["file"], e["item"]) for e in repeats] == [("archive-2.jsonl", 4)]
    assert rebuilt.summary.converted == 1  # archive-2 came from its segment


def test_changed_shapes_validate_everything_again_and_give_what_a_scratch_build_gives(
    first: tuple[Path, Path], inputs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shapes = tmp_path / "shapes"
    shutil.copytree(Path(str(shapes_dir())), shapes)
    with (shapes / "common.ttl").open("a", encoding="utf-8") as handle:
        handle.write(
            '\n<urn:x-test:shape> <http://www.w3.org/2000/01/rdf-schema#comment> "new" .\n'
        )
    for module in (kg.validation.shacl, kg.publish.fingerprint):
        monkeypatch.setattr(module, "shapes_dir", lambda: shapes)
    kg.publish.fingerprint.code_fingerprint.cache_clear()
    try:
        rebuilt, scratch = rebuild_and_scratch(first, inputs, tmp_path, lambda _: None)
    finally:
        kg.publish.fingerprint.code_fingerprint.cache_clear()

    assert_same_build(rebuilt, scratch)
    assert rebuilt.summary.converted == 0
    assert rebuilt.summary.validated == scratch.summary.validated > 0


def test_a_rebuild_killed_while_patching_the_store_leaves_the_served_build_and_resumes(
    first: tuple[Path, Path], inputs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    shutil.copytree(first[1], out, symlinks=True)
    served = (out / "current").resolve()
    quads = store_quads(out)
    edit_line(inputs / "archive-2.jsonl", 0, lambda r: r.update(body=f"{r['body']} Again."))

    def killed(*_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(kg.publish.build, "apply_patch", killed)
    with pytest.raises(KeyboardInterrupt):
        run(inputs, out)
    monkeypatch.undo()
    monkeypatch.setattr(kg.publish.chunks, "CHUNK_MODULUS", 8)
    monkeypatch.setenv(SOURCE_DATE_EPOCH, EPOCH)

    assert (out / "current").resolve() == served and store_quads(out) == quads
    resumed = run(inputs, out)
    assert resumed.summary.converted == 0  # the changed file's segment was kept
    assert_same_build(resumed, run(inputs, tmp_path / "scratch"))


def test_every_gzip_reader_reads_the_chunked_dumps(first: tuple[Path, Path]) -> None:
    out = first[1]
    for name in ("osce-kg.ttl.gz", "osce-kg.nt.gz", "osce-kg.nq.gz"):
        path = out / "dumps" / name
        assert gzip_members(path) > 3  # really several members
        with gzip.open(path, "rb") as handle:
            data = handle.read()
        assert subprocess.run(["gzip", "-dc", str(path)], capture_output=True).stdout == data
    nquads = gzip.decompress((out / "dumps/osce-kg.nq.gz").read_bytes())
    lines = nquads.splitlines()
    assert lines == sorted(set(lines))  # the canonical order, across members
    turtle = gzip.decompress((out / "dumps/osce-kg.ttl.gz").read_bytes())
    parsed = {str(t) for t in ox.parse(turtle, format=ox.RdfFormat.TURTLE)}
    ntriples = gzip.decompress((out / "dumps/osce-kg.nt.gz").read_bytes())
    assert parsed == {str(t) for t in ox.parse(ntriples, format=ox.RdfFormat.N_TRIPLES)}
    if shutil.which("rapper"):
        command = f"zcat {out / 'dumps/osce-kg.ttl.gz'} | rapper -i turtle -c - urn:x:base"
        counted = subprocess.run(command, shell=True, capture_output=True, text=True)
        assert counted.returncode == 0, counted.stderr
        assert f"returned {len(parsed)} triples" in counted.stderr


def test_a_rebuild_whose_caches_were_removed_still_writes_what_a_scratch_build_writes(
    first: tuple[Path, Path], inputs: Path, tmp_path: Path
) -> None:
    """Without the chunk cache the dumps are written in full; a segment missing a file is made
    again from the file: slower, never wrong."""

    def change(folder: Path) -> None:
        shutil.rmtree(tmp_path / "out" / ".cache" / "chunks")
        for turtle in (tmp_path / "out" / ".cache" / "runs").glob("*.nt"):
            turtle.unlink()
        edit_line(folder / "archive-0.jsonl", 1, lambda r: r.update(body=f"{r['body']} More."))

    rebuilt, scratch = rebuild_and_scratch(first, inputs, tmp_path, change)

    assert_same_build(rebuilt, scratch)
    assert "dumps" in rebuilt.summary.timings and "dumps patch" not in rebuilt.summary.timings
