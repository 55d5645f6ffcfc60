"""Tests of kg.extraction.evaluate and `osce-kg evaluate`, on small gold sets and the samples."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Sequence
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import kg.extraction.evaluate
from kg.cli import cli
from kg.errors import InputError
from kg.extraction.evaluate import (
    describe_mismatches,
    evaluate_folder,
    find_release_files,
    gold_path_for,
    load_gold,
    render_table,
)
from kg.extraction.records import ReleaseRecord

SAMPLES = Path(str(resources.files("kg.data.samples")))
BROKEN = Path(__file__).parent / "data" / "broken-samples"


def record(**values: Any) -> dict[str, Any]:
    """A gold or parsed record: empty lists and nulls except the given values."""
    return {**ReleaseRecord(source_file="", reader="").to_json(), **values}


def headed_record(content_type: str, title: str, date: str, place: str) -> dict[str, Any]:
    """A record with the heading of a release and nothing else."""
    return record(content_type=content_type, title=title, date=date, place=place)


def person(name: str, role: str | None, organisation: str | None, quoted: bool) -> dict[str, Any]:
    return {"name": name, "role": role, "organisation": organisation, "quoted": quoted}


def event(type_: str, start: str, end: str, place: str, name: str | None = None) -> dict[str, Any]:
    return {"name": name, "type": type_, "start_date": start, "end_date": end, "place": place}


GOLD_A = headed_record(
    "Press release",
    "Conference on countering terrorism concludes in Dushanbe",
    "2018-05-04",
    "Dushanbe",
) | {
    "sources": ["OSCE Programme Office in Dushanbe"],
    "states_mentioned": ["Tajikistan", "Afghanistan"],
    "persons": [person("Thomas Greminger", "Secretary General", "OSCE", True)],
    "event": event("conference", "2018-05-03", "2018-05-04", "Dushanbe"),
}
GOLD_B = headed_record(
    "News", "Seminar on local self-government held in Chisinau", "1998-10-07", "Chisinau"
) | {"states_mentioned": ["Moldova"]}


def make_folder(root: Path, files: dict[str, list[dict[str, Any]]]) -> Path:
    """A sample folder: each release file (its text is irrelevant here) with its gold file."""
    for name, gold in files.items():
        release = root / name
        release.parent.mkdir(parents=True, exist_ok=True)
        release.write_text(f"release file {name}\n", encoding="utf-8")
        gold_file = gold_path_for(root, release)
        gold_file.parent.mkdir(parents=True, exist_ok=True)
        gold_file.write_text(json.dumps(gold), encoding="utf-8")
    return root


def fake_parser(
    answers: dict[str, list[dict[str, Any]]],
) -> Callable[[Path], Sequence[dict[str, Any]]]:
    """A stand-in for kg.extraction.pipeline.read_releases that answers by file name."""

    def parse(path: Path) -> list[dict[str, Any]]:
        return answers[path.name]

    return parse


def scores(folder: Path, parse: Callable[[Path], Sequence[dict[str, Any]]]) -> dict[str, Any]:
    return {s.field: s for s in evaluate_folder(folder, parse).scores}


def test_a_perfect_parse_scores_one_on_every_field(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, {"text/a.txt": [GOLD_A], "listing/b.txt": [GOLD_B, GOLD_A]})
    result = evaluate_folder(folder, fake_parser({"a.txt": [GOLD_A], "b.txt": [GOLD_B, GOLD_A]}))
    assert result.files == 2 and result.releases == 3
    assert all(s.f1 == 1.0 for s in result.scores)
    assert result.mismatches == ()
    by_field = {s.field: s for s in result.scores}
    assert (by_field["states_mentioned"].tp, by_field["states_mentioned"].fp) == (5, 0)
    assert by_field["persons"].tp == 2 and by_field["event.start_date"].tp == 2


def test_a_wrong_value_lowers_precision_and_recall_as_computed_by_hand(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, {"text/a.txt": [GOLD_A], "text/b.txt": [GOLD_B]})
    wrong_a = {**GOLD_A, "states_mentioned": ["Tajikistan", "Uzbekistan", "Kazakhstan"]}
    wrong_b = {**GOLD_B, "place": "Chisinau, Moldova"}
    by_field = scores(folder, fake_parser({"a.txt": [wrong_a], "b.txt": [wrong_b]}))
    # states: gold {Tajikistan, Afghanistan} + {Moldova}; parsed {Tajikistan, Uzbekistan,
    # Kazakhstan} + {Moldova}: TP 2, FP 2, FN 1 -> P 2/4, R 2/3, F1 2*P*R/(P+R) = 4/7
    states = by_field["states_mentioned"]
    assert (states.tp, states.fp, states.fn) == (2, 2, 1)
    assert states.precision == pytest.approx(0.5)
    assert states.recall == pytest.approx(2 / 3)
    assert states.f1 == pytest.approx(4 / 7)
    # a wrong scalar is one false positive and one false negative: TP 1, FP 1, FN 1 -> 0.5
    place = by_field["place"]
    assert (place.tp, place.fp, place.fn) == (1, 1, 1)
    assert place.precision == place.recall == place.f1 == pytest.approx(0.5)
    assert by_field["title"].f1 == 1.0


def test_persons_are_scored_on_all_attributes_and_on_names(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, {"text/a.txt": [GOLD_A]})
    wrong_role = {**GOLD_A, "persons": [person("Thomas Greminger", "Head", "OSCE", True)]}
    by_field = scores(folder, fake_parser({"a.txt": [wrong_role]}))
    assert (by_field["persons"].tp, by_field["persons"].fp, by_field["persons"].fn) == (0, 1, 1)
    assert (by_field["persons.name"].tp, by_field["persons.name"].fp) == (1, 0)


def test_the_event_is_scored_per_sub_field(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, {"text/a.txt": [GOLD_A], "text/b.txt": [GOLD_B]})
    late = {**GOLD_A, "event": event("conference", "2018-05-03", "2018-05-05", "Dushanbe")}
    invented = {**GOLD_B, "event": event("seminar", "1998-10-06", "1998-10-07", "Chisinau")}
    by_field = scores(folder, fake_parser({"a.txt": [late], "b.txt": [invented]}))
    assert (by_field["event.type"].tp, by_field["event.type"].fp) == (1, 1)
    end = by_field["event.end_date"]
    assert (end.tp, end.fp, end.fn) == (0, 2, 1)
    assert by_field["event.name"].f1 == 1.0  # null in gold and output: nothing to score


def test_an_error_record_is_scored_on_error_only(tmp_path: Path) -> None:
    broken_gold = record(title="Truncated page", error="truncated file")
    folder = make_folder(tmp_path, {"broken/x.txt": [broken_gold], "broken/y.txt": [broken_gold]})
    caught = record(error="file ends in the middle of the body")  # wording does not matter
    missed = record(title="Truncated page", date="2020-01-01")
    by_field = scores(folder, fake_parser({"x.txt": [caught], "y.txt": [missed]}))
    assert (by_field["error"].tp, by_field["error"].fp, by_field["error"].fn) == (1, 0, 1)
    assert by_field["date"].fp == 0 and by_field["title"].tp == 0


def test_releases_the_parser_misses_or_invents_count_against_it(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, {"jsonl/a.jsonl": [GOLD_A, GOLD_B]})
    by_field = scores(folder, fake_parser({"a.jsonl": [GOLD_A]}))
    assert (by_field["title"].tp, by_field["title"].fn) == (1, 1)
    by_field = scores(folder, fake_parser({"a.jsonl": [GOLD_A, GOLD_B, GOLD_B]}))
    assert (by_field["title"].tp, by_field["title"].fp) == (2, 1)


def test_a_missing_gold_file_is_a_clear_error_and_the_rest_is_scored(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, {"text/a.txt": [GOLD_A]})
    (folder / "text" / "lonely.txt").write_text("no gold for me\n", encoding="utf-8")
    result = evaluate_folder(folder, fake_parser({"a.txt": [GOLD_A]}))
    assert result.files == 1
    [problem] = result.gold_errors
    assert "gold/text/lonely.txt.json" in problem and "gold file not found" in problem
    assert not result.passed(0.95)


def test_a_gold_file_with_wrong_keys_is_rejected(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, {"text/a.txt": [{**GOLD_A, "dateline": "DUSHANBE"}]})
    with pytest.raises(InputError, match="dateline"):
        load_gold(gold_path_for(folder, folder / "text" / "a.txt"))


def test_a_crashing_parser_is_reported_and_its_gold_counts_as_missed(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, {"text/a.txt": [GOLD_A], "text/b.txt": [GOLD_B]})

    def parse(path: Path) -> list[dict[str, Any]]:
        if path.name == "a.txt":
            raise ValueError("cannot read the dateline")
        return [GOLD_B]

    result = evaluate_folder(folder, parse)
    assert result.parse_failures == (
        "text/a.txt: the parser failed: ValueError: cannot read the dateline",
    )
    title = {s.field: s for s in result.scores}["title"]
    assert (title.tp, title.fn) == (1, 1)


def test_release_files_are_found_outside_the_gold_folder_only(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, {"text/a.txt": [GOLD_A], "html/b.html": [GOLD_B]})
    (folder / "README.md").write_text("# samples\n", encoding="utf-8")
    (folder / "README.txt").write_text("samples\n", encoding="utf-8")
    assert [p.relative_to(folder).as_posix() for p in find_release_files(folder)] == [
        "html/b.html",
        "text/a.txt",
    ]


@pytest.fixture
def fake_default_parser(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[dict[str, Any]]]:
    """Makes `osce-kg evaluate` use a fake parser whose answers the test fills in."""
    answers: dict[str, list[dict[str, Any]]] = {}
    monkeypatch.setattr(kg.extraction.evaluate, "read_releases", fake_parser(answers))
    return answers


def test_cli_exits_0_and_prints_the_table_when_every_field_reaches_min_f1(
    tmp_path: Path, fake_default_parser: dict[str, list[dict[str, Any]]]
) -> None:
    folder = make_folder(tmp_path, {"text/a.txt": [GOLD_A]})
    fake_default_parser["a.txt"] = [GOLD_A]
    result = CliRunner().invoke(cli, ["evaluate", str(folder)])
    assert result.exit_code == 0, result.output
    assert re.search(
        r"^states_mentioned\s+2\s+0\s+0\s+1\.000\s+1\.000\s+1\.000$", result.output, re.M
    )
    assert "every field >= 0.95" in result.output


def test_cli_exits_1_and_lists_mismatches_when_a_field_falls_short(
    tmp_path: Path, fake_default_parser: dict[str, list[dict[str, Any]]]
) -> None:
    folder = make_folder(tmp_path, {"text/a.txt": [GOLD_A]})
    fake_default_parser["a.txt"] = [{**GOLD_A, "place": "Dushanbe, Tajikistan"}]
    result = CliRunner().invoke(cli, ["evaluate", str(folder), "--details"])
    assert result.exit_code == 1, result.output
    assert "text/a.txt #0 place: missing 'Dushanbe'; extra 'Dushanbe, Tajikistan'" in result.output
    assert "below F1 0.95: place" in result.output
    lenient = CliRunner().invoke(cli, ["evaluate", str(folder), "--min-f1", "0"])
    assert lenient.exit_code == 0, lenient.output


def test_cli_json_output(
    tmp_path: Path, fake_default_parser: dict[str, list[dict[str, Any]]]
) -> None:
    folder = make_folder(tmp_path, {"text/a.txt": [GOLD_A]})
    fake_default_parser["a.txt"] = [{**GOLD_A, "states_mentioned": ["Tajikistan"]}]
    result = CliRunner().invoke(cli, ["evaluate", str(folder), "--json", "--details"])
    assert result.exit_code == 1
    payload = json.loads(result.output)
    states = next(f for f in payload["fields"] if f["field"] == "states_mentioned")
    assert states == {
        "field": "states_mentioned",
        "tp": 1,
        "fp": 0,
        "fn": 1,
        "precision": 1.0,
        "recall": 0.5,
        "f1": 0.6667,
    }
    assert payload["passed"] is False
    assert payload["mismatches"] == [
        {
            "file": "text/a.txt",
            "item": 0,
            "field": "states_mentioned",
            "missing": ["afghanistan"],
            "extra": [],
        }
    ]


def test_cli_exits_2_on_a_missing_gold_file_or_folder(
    tmp_path: Path, fake_default_parser: dict[str, list[dict[str, Any]]]
) -> None:
    folder = make_folder(tmp_path, {"text/a.txt": [GOLD_A]})
    fake_default_parser["a.txt"] = [GOLD_A]
    (folder / "text" / "b.txt").write_text("no gold\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["evaluate", str(folder)])
    assert result.exit_code == 2
    assert "gold/text/b.txt.json: gold file not found" in result.output
    assert CliRunner().invoke(cli, ["evaluate", str(tmp_path / "nowhere")]).exit_code == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    assert CliRunner().invoke(cli, ["evaluate", str(empty)]).exit_code == 2


# --- the bundled samples -------------------------------------------------------------------


def reference_labels(table: str, column: str) -> set[str]:
    """One column of a packaged reference table (kg/data/reference)."""
    text = resources.files("kg.data.reference").joinpath(table).read_text(encoding="utf-8")
    return {row[column] for row in csv.DictReader(text.splitlines(), delimiter="\t")}


def bundled_gold() -> list[tuple[Path, list[dict[str, Any]]]]:
    return [(p, load_gold(gold_path_for(SAMPLES, p))) for p in find_release_files(SAMPLES)]


def test_every_bundled_sample_has_a_gold_file_with_one_record_per_release() -> None:
    files = bundled_gold()
    formats = {p.parent.name for p, _ in files}
    assert formats == {"text", "html", "listing", "jsonl"}
    good = [r for _, gold in files for r in gold if r["error"] is None]
    assert len(good) >= 35
    for path, gold in files:
        text = path.read_text(encoding="utf-8")
        if path.parent.name == "listing":
            assert len(gold) == text.count("\nPublishing date:"), path
        elif path.suffix == ".jsonl":
            assert len(gold) == len(text.splitlines()), path
        else:
            assert len(gold) == 1, path
    # the bundled demo builds clean: the broken inputs are test fixtures
    assert [r for _, gold in files for r in gold if r["error"]] == []


def test_the_broken_fixtures_each_have_gold_saying_why_they_are_rejected() -> None:
    files = [(p, load_gold(gold_path_for(BROKEN, p))) for p in find_release_files(BROKEN)]
    assert {p.parent.name for p, _ in files} == {"broken", "listing", "jsonl"}
    assert len(files) == 6
    assert all(len(gold) == 1 and gold[0]["error"] for _, gold in files)
    result = evaluate_folder(BROKEN)
    assert result.gold_errors == () and result.failing_fields(1.0) == []


def test_bundled_gold_records_are_consistent_with_the_reference_tables() -> None:
    states = reference_labels("participating_states.tsv", "name") | reference_labels(
        "partners.tsv", "partner_state"
    )
    structures = (
        reference_labels("institutions.tsv", "name")
        | reference_labels("secretariat_units.tsv", "name")
        | reference_labels("field_operations.tsv", "name")
        | reference_labels("bodies.tsv", "label")
        | {
            f"OSCE Chairpersonship {row['key']} ({row['state'].split(' (')[0]})"
            for row in csv.DictReader(
                resources.files("kg.data.reference")
                .joinpath("chairpersonships.tsv")
                .read_text(encoding="utf-8")
                .splitlines(),
                delimiter="\t",
            )
        }
    )
    organisations_tsv = resources.files("kg.data").joinpath("organisations.tsv")
    organisations = {
        row["label"]
        for row in csv.DictReader(
            organisations_tsv.read_text(encoding="utf-8").splitlines(), delimiter="\t"
        )
    }
    for path, gold in bundled_gold():
        for item, rec in enumerate(gold):
            where = f"{path.name} #{item}"
            assert set(rec["states_mentioned"]) <= states, where
            assert set(rec["osce_structures_mentioned"]) <= structures, where
            assert set(rec["sources"]) <= structures, where
            assert set(rec["other_organisations"]) <= organisations, where
            if rec["error"] is None:
                assert rec["title"] and rec["content_type"], where
                date.fromisoformat(rec["date"])
                for person_record in rec["persons"]:
                    assert set(person_record) == {"name", "role", "organisation", "quoted"}
                    organisation = person_record["organisation"]
                    assert organisation in structures | states | organisations | {"OSCE", None}
                if rec["event"]:
                    start, end = rec["event"]["start_date"], rec["event"]["end_date"]
                    assert date.fromisoformat(start) <= date.fromisoformat(end), where
                    assert start <= rec["date"], f"{where}: the event starts after the release"


def test_the_parser_reaches_f1_095_on_every_field_of_the_bundled_samples() -> None:
    result = evaluate_folder(SAMPLES)
    assert result.gold_errors == () and result.parse_failures == ()
    failing = result.failing_fields(0.95)
    assert failing == [], (
        render_table(result, 0.95)
        + "\n"
        + describe_mismatches(m for m in result.mismatches if m.field in failing)
    )


def test_release_files_without_any_gold_are_an_error_without_a_score_table(
    tmp_path: Path,
) -> None:
    """No gold at all scores nothing: a table of zeros and 'every field >= 0.95' would read as
    a pass."""
    (tmp_path / "text").mkdir()
    (tmp_path / "text" / "a.txt").write_text(
        "Press release\nA title\n\nVIENNA, 4 May 2018 - Body.\n", encoding="utf-8"
    )

    result = CliRunner().invoke(cli, ["evaluate", str(tmp_path)])

    assert result.exit_code == 2
    assert "no release could be scored" in result.output
    assert "every field" not in result.output
