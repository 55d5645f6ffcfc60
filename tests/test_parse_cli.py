"""Tests of `osce-kg parse`: JSON Lines output, the readable summary and the exit status."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from kg.cli import cli
from kg.extraction.records import RECORD_KEYS

RELEASES = Path(__file__).parent / "data" / "releases"
SEED = RELEASES / "seed-dushanbe-2018.txt"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["parse", *args])
    return result.exit_code, result.stdout, result.stderr


def test_json_prints_one_object_per_release_with_exactly_the_record_keys() -> None:
    code, out, _ = run(str(SEED), "--json")
    assert code == 0
    [line] = out.splitlines()
    record = json.loads(line)
    assert list(record) == list(RECORD_KEYS)
    assert record["date"] == "2018-05-04"
    assert record["event"]["start_date"] == "2018-05-03"
    assert "Tuula Yrjölä" in line  # UTF-8 as written, not \u escapes


def test_several_files_and_a_broken_release_give_exit_status_1() -> None:
    files = [
        RELEASES / name
        for name in ("seed-dushanbe-2018.txt", "newsroom-listing.txt", "scraped.jsonl")
    ]
    code, out, _ = run("--json", *map(str, files))
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 1
    assert len(records) == 1 + 4 + 3
    errors = [r["error"] for r in records if r["error"]]
    assert len(errors) == 2
    assert any("newsroom-listing.txt" in e and "'title'" in e for e in errors)
    assert any("scraped.jsonl:2:" in e for e in errors)


def test_all_good_files_give_exit_status_0(tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    good.write_text(
        json.dumps({"title": "T", "date": "2020-01-02", "body": "VIENNA, 2 Jan. 2020 – Fine."})
        + "\n",
        encoding="utf-8",
    )
    code, out, _ = run("--json", str(good), str(SEED))
    assert code == 0
    assert [json.loads(line)["date"] for line in out.splitlines()] == ["2020-01-02", "2018-05-04"]


def test_without_json_a_readable_summary(tmp_path: Path) -> None:
    unlinked = tmp_path / "unlinked.jsonl"
    unlinked.write_text(
        json.dumps(
            {
                "content_type": "News",
                "title": "A release from an office the reference data does not know",
                "date": "4 May 2018",
                "sources": ["OSCE Space Office"],
                "body": "VIENNA, 4 May 2018 – The office opened.",
            }
        )
        + "\n",
        encoding="utf-8",
    )
    code, out, _ = run(str(SEED), str(RELEASES / "scraped.jsonl"), str(unlinked))
    assert code == 1
    assert "Press release: Need for strong co-operation" in out
    assert "person: Thomas Greminger (Secretary General, OSCE), quoted" in out
    assert "event: conference 'Countering Terrorism and Preventing Violent Extremism'" in out
    assert "ERROR: " in out and "scraped.jsonl:2:" in out
    assert "sources: OSCE Chairpersonship\n" in out  # the standing body of the reference data
    assert "sources: OSCE Space Office (unlinked)" in out  # not in the reference data
    assert out.rstrip().endswith("1 unusable release(s)")


def test_a_missing_file_is_a_usage_error() -> None:
    code, _, err = run(str(RELEASES / "no-such-file.txt"))
    assert code == 2
    assert "no-such-file.txt" in err


def test_no_file_is_a_usage_error() -> None:
    code, _, _ = run()
    assert code == 2
