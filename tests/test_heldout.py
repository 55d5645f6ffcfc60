"""The held-out set: releases the parser was not developed on must still parse to their gold."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.extraction.evaluate import (
    Evaluation,
    describe_mismatches,
    evaluate_folder,
    find_release_files,
)

HELDOUT = Path(__file__).parent / "data" / "heldout"
MIN_F1 = 0.9


@pytest.fixture(scope="module")
def evaluation() -> Evaluation:
    return evaluate_folder(HELDOUT)


def test_the_heldout_set_covers_every_format_and_enough_releases(evaluation: Evaluation) -> None:
    formats = {path.parent.name for path in find_release_files(HELDOUT)}
    assert formats == {"text", "html", "listing", "jsonl"}
    assert evaluation.releases >= 15
    assert evaluation.gold_errors == ()
    assert evaluation.parse_failures == ()


def test_every_field_reaches_the_minimum_f1_on_the_heldout_set(evaluation: Evaluation) -> None:
    failing = evaluation.failing_fields(MIN_F1)
    scores = {s.field: round(s.f1, 3) for s in evaluation.scores}
    assert not failing, (
        f"F1 below {MIN_F1}: {', '.join(f'{f}={scores[f]}' for f in failing)}\n"
        + describe_mismatches(evaluation.mismatches)
    )


def test_every_field_is_scored_on_real_items(evaluation: Evaluation) -> None:
    # a field with no gold items would pass trivially; each must be exercised by the set
    scored = {s.field: s.tp + s.fn for s in evaluation.scores}
    for name, items in scored.items():
        if name != "error":
            assert items > 0, name
