"""Builds with the inputs an operator really has: clashing names, empty folders, foreign
build directories, Ctrl-C and a full disk."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

import kg.publish.build
import kg.publish.chunks
import kg.publish.work
from kg.cli import cli
from kg.errors import BuildError, InputError
from kg.extraction.pipeline import read_releases
from kg.ingest.inputs import SOURCE_DATE_EPOCH, bundled_samples_root, collect_release_files
from kg.publish.build import BuildOptions, BuildResult, build
from kg.publish.chunks import MemberWriter
from kg.publish.layout import build_lock
from kg.publish.summary import BuildSummary
from kg.rdf.rdffiles import load_rdf_files
from kg.rdf.vocab import OSCE, RDFS
from tests.conftest import paused_build_command, wait_for_pause

RELEASES = Path(__file__).parent / "data" / "build" / "releases"
SAMPLES = bundled_samples_root()
EPOCH = "1700000000"


def run_build(inputs: tuple[Path, ...], out: Path) -> BuildResult:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(SOURCE_DATE_EPOCH, EPOCH)
        return build(BuildOptions(inputs=inputs, out_dir=out))


@pytest.fixture(scope="module")
def first_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BuildResult]:
    """A finished build of one fixture file, to copy and then fail to replace."""
    out = tmp_path_factory.mktemp("edge") / "out"
    return out, run_build((RELEASES / "newsroom-2019.jsonl",), out)


def copy_build(first_build: tuple[Path, BuildResult], tmp_path: Path) -> Path:
    out = tmp_path / "out"
    shutil.copytree(first_build[0], out, symlinks=True)
    return out


def test_files_with_the_same_name_in_two_folders_are_both_read(tmp_path: Path) -> None:
    for folder, source in (("a", "newsroom-2019.jsonl"), ("b", "newsroom-2020.jsonl")):
        (tmp_path / folder).mkdir()
        shutil.copy(RELEASES / source, tmp_path / folder / "news.jsonl")

    files = collect_release_files([tmp_path / "a", tmp_path / "b"])

    assert [f.name for f in files] == ["a/news.jsonl", "b/news.jsonl"]
    assert [f.path for f in files] == [tmp_path / "a" / "news.jsonl", tmp_path / "b" / "news.jsonl"]
    given_as_files = collect_release_files(
        [tmp_path / "b" / "news.jsonl", tmp_path / "a" / "news.jsonl"]
    )
    assert [f.name for f in given_as_files] == ["a/news.jsonl", "b/news.jsonl"]


def test_the_same_file_given_twice_is_read_once(tmp_path: Path) -> None:
    shutil.copy(RELEASES / "newsroom-2019.jsonl", tmp_path / "news.jsonl")

    files = collect_release_files([tmp_path, tmp_path / "news.jsonl", tmp_path])

    assert [f.name for f in files] == ["news.jsonl"]


def test_a_folder_without_release_files_is_refused_with_its_name(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("saved pages go elsewhere\n", encoding="utf-8")

    with pytest.raises(InputError) as caught:
        collect_release_files([RELEASES, tmp_path])

    message = str(caught.value)
    assert str(tmp_path) in message
    assert "no release file" in message and ".jsonl" in message


def test_a_wrong_folder_does_not_replace_the_published_build(
    first_build: tuple[Path, BuildResult], tmp_path: Path
) -> None:
    out = copy_build(first_build, tmp_path)
    before = os.readlink(out / "current")
    (tmp_path / "empty").mkdir()

    result = CliRunner().invoke(cli, ["build", str(tmp_path / "empty"), "--out", str(out)])

    assert result.exit_code == 2
    assert "no release file" in result.output
    assert os.readlink(out / "current") == before


def test_a_foreign_folder_in_the_build_directory_stops_the_build_before_it_starts(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    (out / "report").mkdir(parents=True)
    (out / "report" / "notes.txt").write_text("mine\n", encoding="utf-8")

    with pytest.raises(BuildError, match="report exists and is not a link"):
        run_build((RELEASES / "newsroom-2019.jsonl",), out)

    assert not (out / "current").exists()
    assert not (out / "current").is_symlink()  # no link left pointing at a removed build
    assert (out / "report" / "notes.txt").read_text(encoding="utf-8") == "mine\n"


def test_ctrl_c_says_so_exits_130_and_keeps_the_previous_build(
    first_build: tuple[Path, BuildResult], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = copy_build(first_build, tmp_path)
    before = os.readlink(out / "current")

    def interrupted(*_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(kg.publish.build, "_make_store", interrupted)
    result = CliRunner().invoke(
        cli, ["build", str(RELEASES / "newsroom-2020.jsonl"), "--out", str(out)]
    )

    assert result.exit_code == 130  # not 1, which means "something was quarantined"
    assert "Interrupted" in result.output and "previous build" in result.output
    assert os.readlink(out / "current") == before
    assert sorted(p.name for p in (out / ".builds").iterdir()) == [Path(before).name]
    monkeypatch.undo()
    rerun = run_build((RELEASES / "newsroom-2020.jsonl",), out)  # the lock was released
    assert os.readlink(out / "current") == f".builds/{rerun.summary.build_id}"


def test_a_full_disk_while_writing_dumps_names_the_file_and_keeps_the_build(
    first_build: tuple[Path, BuildResult], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = copy_build(first_build, tmp_path)
    before = os.readlink(out / "current")
    dumps_before = {p.name: p.read_bytes() for p in (out / "dumps").iterdir()}

    def disk_full(writer: MemberWriter, member: bytes) -> None:
        writer._handle.write(member[: len(member) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(writer.path))

    monkeypatch.setattr(kg.publish.chunks.MemberWriter, "write", disk_full)
    result = CliRunner().invoke(
        cli, ["build", str(RELEASES / "newsroom-2020.jsonl"), "--out", str(out)]
    )

    assert result.exit_code == 2
    assert "No space left on device" in result.output and "osce-kg.ttl.gz" in result.output
    assert "Nothing was published" in result.output
    assert os.readlink(out / "current") == before
    assert {p.name: p.read_bytes() for p in (out / "dumps").iterdir()} == dumps_before
    assert len(list((out / ".builds").iterdir())) == 1  # the half-written build is gone


def test_a_long_quarantine_is_summed_up_not_listed_in_full(tmp_path: Path) -> None:
    from kg.cli.build import LISTED_QUARANTINED, summary_lines

    entry = {"file": "x.txt", "item": 0, "stage": "parse", "field": "date", "reason": "bad"}
    summary = BuildSummary(
        build_id="b",
        build_time="2023-11-14T22:13:20Z",
        files=500,
        converted=500,
        reused=0,
        releases=0,
        quarantined=500,
        graphs=3,
        quads=0,
        triples=0,
        violations_outside_releases=0,
        warnings=0,
        seconds=1.0,
    )
    quarantined = tuple(dict(entry, item=i) for i in range(500))

    lines = summary_lines(BuildResult(summary, tmp_path, quarantined))

    assert sum("QUARANTINED" in line for line in lines) == LISTED_QUARANTINED
    assert any(f"and {500 - LISTED_QUARANTINED} more" in line for line in lines)
    assert lines[-1].endswith("report/quarantine.json")


def test_summary_json_names_the_base_the_build_minted_under(
    first_build: tuple[Path, BuildResult],
) -> None:
    out, _ = first_build
    summary = json.loads((out / "report" / "summary.json").read_text(encoding="utf-8"))

    assert summary["base"] == "https://w3id.org/osce-kg/"


def test_an_empty_file_is_called_empty(tmp_path: Path) -> None:
    (tmp_path / "saved.txt").write_bytes(b"")
    (tmp_path / "blank.jsonl").write_text("\n  \n", encoding="utf-8")

    for name in ("saved.txt", "blank.jsonl"):
        [record] = read_releases(tmp_path / name)
        assert record.error is not None
        assert record.error.startswith(f"{tmp_path / name}: the file is empty")


def test_a_windows_1252_text_file_is_named_with_line_column_and_what_to_do(
    tmp_path: Path,
) -> None:
    text = (SAMPLES / "text" / "2005-11-14-almaty-border-training.txt").read_text(encoding="utf-8")
    path = tmp_path / "saved.txt"
    path.write_bytes(text.replace("\n", "\r\n").encode("cp1252"))
    line = text[: text.index("–")].count("\n") + 1
    column = len(text[: text.index("–")].split("\n")[-1]) + 1

    [record] = read_releases(path)

    assert record.error is not None
    assert record.error.startswith(f"{path}:{line}:{column}: the file is not UTF-8 text")
    assert "0x96" in record.error and "Windows-1252" in record.error


def test_an_html_page_in_the_charset_it_declares_is_read(tmp_path: Path) -> None:
    page = SAMPLES / "html" / "2008-11-27-dushanbe-journalists-training.html"
    html = page.read_text(encoding="utf-8")
    assert "–" in html  # the test needs a character that is encoded differently
    path = tmp_path / "saved.html"
    path.write_bytes(
        html.replace('<meta charset="utf-8">', '<meta charset="windows-1252">').encode("cp1252")
    )

    [expected] = read_releases(page)
    [record] = read_releases(path)

    assert record.error is None
    assert (record.title, record.date, record.paragraphs) == (
        expected.title,
        expected.date,
        expected.paragraphs,
    )


def test_linked_folders_are_followed_once_and_a_link_loop_ends(tmp_path: Path) -> None:
    archive = tmp_path / "archive" / "2019"
    archive.mkdir(parents=True)
    shutil.copy(RELEASES / "newsroom-2019.jsonl", archive / "news.jsonl")
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    shutil.copy(RELEASES / "newsroom-2020.jsonl", inputs / "news-2020.jsonl")
    (inputs / "2019").symlink_to(archive, target_is_directory=True)
    (archive / "up").symlink_to(inputs, target_is_directory=True)  # a loop

    files = collect_release_files([inputs])

    assert [f.name for f in files] == ["2019/news.jsonl", "news-2020.jsonl"]


def test_a_build_directory_inside_the_input_folder_is_not_read_as_input(tmp_path: Path) -> None:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    shutil.copy(RELEASES / "newsroom-2019.jsonl", inputs / "news.jsonl")
    out = inputs / "build"
    (out / ".builds" / "1" / "report").mkdir(parents=True)
    (out / ".builds" / "1" / "report" / "stray.jsonl").write_text("{}\n", encoding="utf-8")
    (out / "current").symlink_to(".builds/1", target_is_directory=True)

    assert [f.name for f in collect_release_files([inputs])] == ["news.jsonl"]


def test_a_json_line_with_a_unicode_line_separator_in_a_string_is_one_release(
    tmp_path: Path,
) -> None:
    release = {
        "content_type": "Press release",
        "title": "OSCE trains border officers\u2028in Dushanbe",
        "date": "14 March 2019",
        "body": "DUSHANBE, 14 March 2019 – The OSCE trained border officers.\u2029It ended today.",
    }
    path = tmp_path / "scraped.jsonl"
    path.write_text(json.dumps(release, ensure_ascii=False) + "\r\n", encoding="utf-8")

    [record] = read_releases(path)

    assert record.error is None
    assert record.title == "OSCE trains border officers in Dushanbe"


def test_a_dangling_link_among_the_inputs_is_quarantined_and_the_rest_published(
    tmp_path: Path,
) -> None:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    shutil.copy(RELEASES / "newsroom-2019.jsonl", inputs / "news.jsonl")
    (inputs / "moved.txt").symlink_to(tmp_path / "archive" / "moved.txt")

    result = run_build((inputs,), tmp_path / "out")

    [entry] = [e for e in result.quarantined if e["file"] == "moved.txt"]
    assert entry["stage"] == "read"
    assert "cannot read the file: No such file or directory" in str(entry["reason"])
    assert result.summary.releases is not None and result.summary.releases >= 1


def test_same_named_files_keep_apart_in_the_cache_and_the_published_source_files(
    tmp_path: Path,
) -> None:
    for folder, source in (("a", "newsroom-2019.jsonl"), ("b", "newsroom-2020.jsonl")):
        (tmp_path / folder).mkdir()
        shutil.copy(RELEASES / source, tmp_path / folder / "news.jsonl")
    alone = run_build((tmp_path / "a",), tmp_path / "alone")

    summary = run_build((tmp_path / "a", tmp_path / "b"), tmp_path / "out").summary

    assert summary.files == 2 and summary.converted == 2
    assert summary.releases is not None and alone.summary.releases is not None
    assert summary.releases > alone.summary.releases
    store = ox.Store.read_only(str(tmp_path / "out" / "store"))
    rows = store.query(
        "SELECT ?label WHERE { ?file a osce:SourceFile ; rdfs:label ?label }",
        use_default_graph_as_union=True,
        prefixes={"osce": str(OSCE), "rdfs": str(RDFS)},
    )
    assert isinstance(rows, ox.QuerySolutions)
    labels = {str(row["label"].value) for row in rows}
    assert {"a/news.jsonl", "b/news.jsonl"} <= labels


@pytest.mark.parametrize("epoch", ["soon", "-5", "99999999999999999999"])
def test_an_unusable_source_date_epoch_is_refused_before_converting(
    epoch: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SOURCE_DATE_EPOCH, epoch)
    converted: list[Path] = []
    monkeypatch.setattr(
        kg.publish.work, "convert_file", lambda source, *_: converted.append(source)
    )

    result = CliRunner().invoke(
        cli, ["build", str(RELEASES / "newsroom-2019.jsonl"), "--out", str(tmp_path / "out")]
    )

    assert result.exit_code == 2
    assert f"field 'SOURCE_DATE_EPOCH': {epoch!r} is not a whole number" in result.output
    assert "internal error" not in result.output
    assert converted == []


@pytest.mark.parametrize("suffix", [".ttl", ".nt"])
def test_an_extra_rdf_file_in_latin_1_is_named_with_line_and_column(
    suffix: str, tmp_path: Path
) -> None:
    path = tmp_path / f"extra{suffix}"
    path.write_bytes(
        b'<http://example.org/a> <http://example.org/p> "a" .\n'
        b'<http://example.org/b> <http://example.org/p> "caf\xe9" .\n'
    )

    with pytest.raises(InputError) as caught:
        load_rdf_files([path])

    assert str(caught.value).startswith(f"{path}:2:51: the file is not UTF-8 text: byte 0xe9")
    assert "save it again as UTF-8" in str(caught.value)


def test_a_real_ctrl_c_during_conversion_exits_130_and_releases_the_lock(
    first_build: tuple[Path, BuildResult], tmp_path: Path
) -> None:
    out = copy_build(first_build, tmp_path)
    before = os.readlink(out / "current")
    marker = tmp_path / "paused"
    env = {**os.environ, SOURCE_DATE_EPOCH: EPOCH}
    arguments = [str(RELEASES / "newsroom-2020.jsonl"), "--out", str(out)]
    process = subprocess.Popen(
        [*paused_build_command("convert", marker), *arguments],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # a shell may start tests with Ctrl-C ignored; the build must see it
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        wait_for_pause(marker, process)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)

    assert process.returncode == 130, stderr
    assert "Interrupted (Ctrl-C)" in stderr and "Traceback" not in stderr
    assert os.readlink(out / "current") == before
    with build_lock(out):  # free again
        pass


def test_a_non_empty_folder_osce_kg_did_not_make_is_refused_as_out(tmp_path: Path) -> None:
    out = tmp_path / "documents"
    out.mkdir()
    (out / "thesis.odt").write_text("mine\n", encoding="utf-8")

    result = CliRunner().invoke(
        cli, ["build", str(RELEASES / "newsroom-2019.jsonl"), "--out", str(out)]
    )

    assert result.exit_code == 2
    assert "is not empty and holds no osce-kg build" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["thesis.odt"]


@pytest.mark.parametrize("out_name", [".", "built"])
def test_an_out_folder_that_overlaps_the_inputs_is_refused(tmp_path: Path, out_name: str) -> None:
    """`build rel --out rel` (or --out inside rel) would make the build read its own output."""
    releases = tmp_path / "rel"
    releases.mkdir()
    shutil.copy(RELEASES / "newsroom-2019.jsonl", releases)

    result = CliRunner().invoke(cli, ["build", str(releases), "--out", str(releases / out_name)])

    assert result.exit_code == 2
    assert "overlap" in result.output
    assert sorted(p.name for p in releases.iterdir()) == ["newsroom-2019.jsonl"]
