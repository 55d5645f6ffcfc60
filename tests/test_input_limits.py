"""What one input can cost a build: linear reading of long words, size caps on release files
and extra RDF (gzipped too), and extra RDF with an IRI the store cannot hold."""

from __future__ import annotations

import gzip
import json
import tracemalloc
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from kg.cli import cli
from kg.errors import InputError
from kg.extraction.pipeline import read_releases
from kg.extraction.records import ReleaseRecord
from kg.ingest.inputs import MAX_RELEASE_BYTES, SOURCE_DATE_EPOCH, bundled_samples_root
from kg.ingest.raw import truncation_problem
from kg.publish.build import BuildOptions, build
from kg.publish.graphs import load_extra_rdf
from kg.rdf.rdffiles import MAX_RDF_BYTES
from kg.rdf.uris import DEFAULT_BASE

SAMPLE_TEXT = sorted((bundled_samples_root() / "text").glob("*.txt"))[0]
LONG = 50_000
RELEASES = Path(__file__).parent / "data" / "build" / "releases"
EPOCH = "1700000000"


@pytest.mark.parametrize(
    ("word", "cut"),
    [("A" * LONG, False), ("a" * LONG, True), ("Ab" * (LONG // 2), True), ("É" * LONG, False)],
)
def test_a_body_ending_in_a_very_long_word_is_judged_like_a_short_one(word: str, cut: bool) -> None:
    short = word[:2]
    assert (truncation_problem([f"It ended {short}"]) is not None) is cut
    assert (truncation_problem([f"It ended {word}"]) is not None) is cut


def test_a_release_ending_in_a_50000_letter_word_reads_like_one_ending_in_a_short_word(
    tmp_path: Path,
) -> None:
    text = SAMPLE_TEXT.read_text(encoding="utf-8").rstrip("\n")
    records = {}
    for name, word in (("long", "A" * LONG), ("short", "AAAA")):
        path = tmp_path / name / "release.txt"
        path.parent.mkdir()
        path.write_text(f"{text} {word}\n", encoding="utf-8")
        (record,) = read_releases(path)
        data = record.to_dict()
        data.pop("source_file")
        records[name] = json.dumps(data, sort_keys=True).replace(word, "WORD")

    assert records["long"] == records["short"]
    assert json.loads(records["long"])["error"] is None


def gzip_bomb(path: Path, gigabytes: int = 1) -> Path:
    """About 1 MB of gzip that decompresses to ``gigabytes`` GB of newlines (1024 members of
    1 MiB each, concatenated: a gzip reader reads them as one stream)."""
    member = gzip.compress(b"\n" * 2**20, mtime=0)
    path.write_bytes(member * 1024 * gigabytes)
    return path


def build_cli(*arguments: str | Path) -> Result:
    env = {SOURCE_DATE_EPOCH: EPOCH}
    return CliRunner().invoke(cli, ["build", "--no-progress", *map(str, arguments)], env=env)


def test_a_release_file_over_the_limit_is_quarantined_unread_and_the_build_goes_on(
    tmp_path: Path,
) -> None:
    big, small = RELEASES / "newsroom-2019.jsonl", RELEASES / "newsroom-2020.jsonl"
    assert big.stat().st_size > 1000 > small.stat().st_size
    out = tmp_path / "out"

    result = build(
        BuildOptions(inputs=(big, small), out_dir=out, max_release_bytes=1000, read=refuse_big)
    )

    (entry,) = result.quarantined
    assert (entry["file"], entry["stage"]) == ("newsroom-2019.jsonl", "read")
    reason = str(entry["reason"])
    assert str(big) in reason
    assert f"{big.stat().st_size:,} bytes" in reason
    assert "limit of 0.001 MB" in reason
    assert "--max-release-size" in reason
    assert result.summary.releases == len(read_releases(small)) > 0
    assert (out / "current").is_symlink()


def refuse_big(path: Path) -> list[ReleaseRecord]:
    """The build's reader, which must never be handed a file over the limit."""
    assert path.name != "newsroom-2019.jsonl", "a file over the limit was read"
    return read_releases(path)


def test_the_release_size_limit_is_a_build_option_and_a_raised_limit_reads_the_file(
    tmp_path: Path,
) -> None:
    source = RELEASES / "newsroom-2019.jsonl"
    out = tmp_path / "out"

    refused = build_cli(source, "--out", out, "--max-release-size", "0.001")
    read = build_cli(source, "--out", out, "--max-release-size", "0.01")

    assert refused.exit_code == 1, refused.output
    assert "QUARANTINED newsroom-2019.jsonl [read]" in refused.output
    assert "more than the limit of 0.001 MB" in refused.output
    assert read.exit_code in (0, 1), read.output
    assert "releases published: 0" in refused.output
    assert "releases published: 0" not in read.output


def test_the_documented_defaults_are_the_limits_in_the_code() -> None:
    help_text = " ".join(CliRunner().invoke(cli, ["build", "--help"]).output.split())

    assert f"default: {MAX_RELEASE_BYTES // 1_000_000})" in help_text
    assert f"(MB; default: {MAX_RDF_BYTES // 1_000_000})" in help_text
    assert BuildOptions().max_release_bytes == MAX_RELEASE_BYTES
    assert BuildOptions().max_rdf_bytes == MAX_RDF_BYTES


def test_a_gzip_bomb_is_refused_while_it_is_decompressed(tmp_path: Path) -> None:
    bomb = gzip_bomb(tmp_path / "extra.nt.gz")
    assert bomb.stat().st_size < 1_200_000

    tracemalloc.start()
    try:
        with pytest.raises(InputError) as caught:
            load_extra_rdf([bomb], base=DEFAULT_BASE, max_bytes=1_000_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert peak < 20_000_000  # never the gigabyte it holds
    message = str(caught.value)
    assert message.startswith(f"{bomb}: decompressed, the file holds more than the limit of 1 MB")
    assert "--max-rdf-size" in message


def test_a_gzip_bomb_passed_with_rdf_stops_the_build_before_anything_is_published(
    tmp_path: Path,
) -> None:
    bomb = gzip_bomb(tmp_path / "extra.nt.gz")
    out = tmp_path / "out"

    result = build_cli(RELEASES / "newsroom-2020.jsonl", "--out", out, "--rdf", bomb)

    assert result.exit_code == 2
    assert f"{bomb}: decompressed, the file holds more than the limit of 100 MB" in result.output
    assert "Nothing was published" in result.output
    assert not (out / "current").exists()


def test_a_plain_extra_rdf_file_over_the_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "extra.nt"
    path.write_text("\n" * 2_000, encoding="utf-8")

    with pytest.raises(InputError, match=r"the file holds more than the limit of 0\.001 MB"):
        load_extra_rdf([path], base=DEFAULT_BASE, max_bytes=1_000)
    assert load_extra_rdf([path], base=DEFAULT_BASE, max_bytes=2_000) != {}


BAD_IRI_TURTLE = """\
@prefix ex: <http://example.org/> .
ex:a ex:p ex:b .
ex:a ex:q <http://example.org/b"c> .
"""


def test_an_iri_with_a_quote_in_extra_rdf_is_an_input_error_naming_file_and_line(
    tmp_path: Path,
) -> None:
    path = tmp_path / "extra.ttl"
    path.write_text(BAD_IRI_TURTLE, encoding="utf-8")

    with pytest.raises(InputError) as caught:
        load_extra_rdf([path], base=DEFAULT_BASE)

    assert caught.value.line == 3
    assert str(caught.value).startswith(f'{path}:3: the IRI <http://example.org/b"c> is not')


def test_an_iri_with_a_quote_passed_with_rdf_ends_the_build_with_exit_2_and_no_traceback(
    tmp_path: Path,
) -> None:
    path = tmp_path / "extra.ttl"
    path.write_text(BAD_IRI_TURTLE, encoding="utf-8")
    out = tmp_path / "out"

    result = build_cli(RELEASES / "newsroom-2020.jsonl", "--out", out, "--rdf", path)

    assert result.exit_code == 2
    assert f"Error: {path}:3: the IRI" in result.output
    assert "internal error" not in result.output
    assert "Traceback" not in result.output
    assert not (out / "current").exists()
