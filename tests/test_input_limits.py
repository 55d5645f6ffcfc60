"""What one input can cost a build: linear reading of long words, size caps on release files
and extra RDF (gzipped too), and extra RDF with an IRI the store cannot hold."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kg.extraction.pipeline import read_releases
from kg.ingest.inputs import bundled_samples_root
from kg.ingest.raw import truncation_problem

SAMPLE_TEXT = sorted((bundled_samples_root() / "text").glob("*.txt"))[0]
LONG = 50_000


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
