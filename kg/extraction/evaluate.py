"""Scores parsed release records against gold records: precision, recall and F1 per field."""

from __future__ import annotations

import json
import logging
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kg.errors import InputError
from kg.extraction.pipeline import read_releases
from kg.extraction.records import (
    MENTION_KEYS,
    RECORD_KEYS,
    TEXT_KEYS,
    EventMention,
    ReleaseRecord,
    json_keys,
)
from kg.ingest.formats import is_release_file

log = logging.getLogger(__name__)

GOLD_FOLDER = "gold"

#: ``error`` is scored apart: only whether there is one counts, and it is the last row.
SCALAR_FIELDS = tuple(key for key in TEXT_KEYS if key != "error")
LIST_FIELDS = MENTION_KEYS
EVENT_FIELDS = json_keys(EventMention)
#: Every row of the score table, in the order it is printed.
SCORED_FIELDS = (
    *SCALAR_FIELDS,
    *LIST_FIELDS,
    "persons",
    "persons.name",
    *(f"event.{name}" for name in EVENT_FIELDS),
    "error",
)

Record = Mapping[str, Any]
#: What parses one saved file: ``kg.extraction.pipeline.read_releases`` or a stand-in like it.
ParseFunction = Callable[[Path], Sequence[ReleaseRecord | Record]]


@dataclass(frozen=True)
class FieldScore:
    """True positives, false positives and false negatives of one field over all releases."""

    field: str
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        """Share of extracted items that are right (1.0 when nothing was extracted nor expected)."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else float(self.fn == 0)

    @property
    def recall(self) -> float:
        """Share of gold items that were extracted (1.0 when the gold has none)."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def to_json(self) -> dict[str, Any]:
        """The score as a JSON object (rates rounded to four places)."""
        return {
            "field": self.field,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
        }


@dataclass(frozen=True)
class Mismatch:
    """Where a parsed release differs from its gold record in one field."""

    file: str
    item: int
    field: str
    missing: tuple[str, ...]  # in the gold, not extracted (false negatives)
    extra: tuple[str, ...]  # extracted, not in the gold (false positives)

    def describe(self) -> str:
        """One line a person can act on: file, item, field, what is missing and what is extra."""
        parts = []
        if self.missing:
            parts.append("missing " + ", ".join(repr(v) for v in self.missing))
        if self.extra:
            parts.append("extra " + ", ".join(repr(v) for v in self.extra))
        return f"{self.file} #{self.item} {self.field}: {'; '.join(parts)}"

    def to_json(self) -> dict[str, Any]:
        """The mismatch as a JSON object."""
        return {
            "file": self.file,
            "item": self.item,
            "field": self.field,
            "missing": list(self.missing),
            "extra": list(self.extra),
        }


@dataclass(frozen=True)
class Evaluation:
    """The result of comparing the parser with the gold records of a folder."""

    scores: tuple[FieldScore, ...]
    mismatches: tuple[Mismatch, ...] = ()
    files: int = 0
    releases: int = 0
    gold_errors: tuple[str, ...] = field(default=())  # missing or malformed gold files
    parse_failures: tuple[str, ...] = field(default=())  # files the parser raised an error on

    def failing_fields(self, min_f1: float) -> list[str]:
        """The fields whose F1 is below ``min_f1``."""
        return [s.field for s in self.scores if s.f1 < min_f1]

    def passed(self, min_f1: float) -> bool:
        """Every field reaches ``min_f1`` and every gold file could be read."""
        return not self.failing_fields(min_f1) and not self.gold_errors

    def to_json(self, min_f1: float, *, details: bool = False) -> dict[str, Any]:
        """The evaluation as ``osce-kg evaluate --json`` prints it."""
        result: dict[str, Any] = {
            "files": self.files,
            "releases": self.releases,
            "min_f1": min_f1,
            "passed": self.passed(min_f1),
            "fields": [s.to_json() for s in self.scores],
            "gold_errors": list(self.gold_errors),
            "parse_failures": list(self.parse_failures),
        }
        if details:
            result["mismatches"] = [m.to_json() for m in self.mismatches]
        return result


def find_release_files(folder: Path) -> list[Path]:
    """Release files under ``folder`` (not in ``gold/``, not README files), sorted by path."""
    gold = folder / GOLD_FOLDER
    return sorted(
        path
        for path in folder.rglob("*")
        if path.is_file()
        and is_release_file(path.name)
        and gold not in path.parents
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    )


def gold_path_for(folder: Path, release_file: Path) -> Path:
    """``gold/<format>/<file name>.json`` next to ``<format>/<file name>``."""
    relative = release_file.relative_to(folder)
    return folder / GOLD_FOLDER / relative.parent / (relative.name + ".json")


def load_gold(path: Path) -> list[dict[str, Any]]:
    """The gold records of one file; raises InputError when missing or malformed."""
    if not path.is_file():
        raise InputError(
            path,
            None,
            "gold file not found",
            hint="write the expected records there as a JSON list (see docs/extraction.md)",
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(
            path, None, f"not valid UTF-8 JSON: {error}", hint="fix the JSON"
        ) from error
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise InputError(path, None, "not a JSON list of objects", hint="one object per release")
    for index, record in enumerate(data):
        keys = tuple(record)
        if set(keys) != set(RECORD_KEYS):
            wrong = sorted(set(keys) ^ set(RECORD_KEYS))
            raise InputError(
                path,
                ", ".join(wrong),
                f"record {index} does not have exactly the record keys",
                hint="use exactly: " + ", ".join(RECORD_KEYS),
            )
    return data


def evaluate_folder(folder: Path, parse: ParseFunction | None = None) -> Evaluation:
    """Parses every release file under ``folder`` and scores it against its gold file.

    A missing or malformed gold file is listed in ``gold_errors``, a file the parser fails on
    in ``parse_failures`` (its gold items then count as not found); the other files are still
    scored.
    """
    parse = parse or read_releases
    release_files = find_release_files(folder)
    if not release_files:
        raise InputError(
            folder, None, "no release files found", hint="see kg/data/samples/README.md"
        )
    tally = _Tally()
    for path in release_files:
        name = path.relative_to(folder).as_posix()
        try:
            gold = load_gold(gold_path_for(folder, path))
        except InputError as error:
            tally.gold_errors.append(error.describe())
            continue
        try:
            parsed = [_as_json(record) for record in parse(path)]
        except Exception as error:  # a crashing parser is a finding to report, not a reason to stop
            log.debug("parsing %s failed", path, exc_info=True)
            failure = f"{name}: the parser failed: {type(error).__name__}: {error}"
            tally.parse_failures.append(failure)
            parsed = []
        tally.add_file(name, gold, parsed)
    return tally.evaluation()


class _Tally:
    """Counts of one evaluation run while the files are scored."""

    def __init__(self) -> None:
        self.counts = {name: [0, 0, 0] for name in SCORED_FIELDS}
        self.mismatches: list[Mismatch] = []
        self.gold_errors: list[str] = []
        self.parse_failures: list[str] = []
        self.files = 0
        self.releases = 0

    def add_file(self, name: str, gold: Sequence[Record], parsed: Sequence[Record]) -> None:
        """Scores one file's parsed records against its gold records, matched by position."""
        self.files += 1
        self.releases += len(gold)
        for item in range(max(len(gold), len(parsed))):
            expected = gold[item] if item < len(gold) else _EMPTY
            actual = parsed[item] if item < len(parsed) else _EMPTY
            for score_field, missing, extra, hits in compare_records(expected, actual):
                count = self.counts[score_field]
                count[0] += hits
                count[1] += len(extra)
                count[2] += len(missing)
                if missing or extra:
                    self.mismatches.append(Mismatch(name, item, score_field, missing, extra))

    def evaluation(self) -> Evaluation:
        """The finished evaluation."""
        return Evaluation(
            scores=tuple(FieldScore(name, *self.counts[name]) for name in SCORED_FIELDS),
            mismatches=tuple(self.mismatches),
            files=self.files,
            releases=self.releases,
            gold_errors=tuple(self.gold_errors),
            parse_failures=tuple(self.parse_failures),
        )


Comparison = tuple[str, tuple[str, ...], tuple[str, ...], int]


def compare_records(gold: Record, parsed: Record) -> list[Comparison]:
    """Per scored field: (field, missing items, extra items, number of matching items).

    A gold record with an ``error`` is only scored on ``error``: what else a parser says
    about unusable input is not measured.
    """
    results = [_compare_sets("error", _error_items(gold), _error_items(parsed))]
    if gold.get("error"):
        return results
    for name in SCALAR_FIELDS:
        results.append(_compare_sets(name, _scalar_items(gold, name), _scalar_items(parsed, name)))
    for name in LIST_FIELDS:
        results.append(_compare_sets(name, _list_items(gold, name), _list_items(parsed, name)))
    results.append(_compare_sets("persons", _person_items(gold), _person_items(parsed)))
    results.append(
        _compare_sets("persons.name", _person_items(gold, True), _person_items(parsed, True))
    )
    for name in EVENT_FIELDS:
        results.append(
            _compare_sets(f"event.{name}", _event_items(gold, name), _event_items(parsed, name))
        )
    order = {name: index for index, name in enumerate(SCORED_FIELDS)}
    return sorted(results, key=lambda result: order[result[0]])


def normalise(value: object) -> str:
    """The form in which values are compared: NFC, single spaces, no outer space."""
    return " ".join(unicodedata.normalize("NFC", str(value)).split())


def _compare_sets(name: str, gold: set[str], parsed: set[str]) -> Comparison:
    return name, tuple(sorted(gold - parsed)), tuple(sorted(parsed - gold)), len(gold & parsed)


def _scalar_items(record: Record, name: str) -> set[str]:
    value = record.get(name)
    return {normalise(value)} if value not in (None, "") else set()


def _list_items(record: Record, name: str) -> set[str]:
    # list items are compared without regard to case: "Cyber/ICT Security" = "Cyber/ICT security"
    return {normalise(v).casefold() for v in record.get(name) or () if normalise(v)}


def _person_items(record: Record, names_only: bool = False) -> set[str]:
    items = set()
    for person in record.get("persons") or ():
        name = normalise(person.get("name") or "")
        if names_only:
            items.add(name)
            continue
        role, organisation = person.get("role"), person.get("organisation")
        items.add(
            f"{name} | role={normalise(role) if role else None} | "
            f"organisation={normalise(organisation) if organisation else None} | "
            f"quoted={bool(person.get('quoted'))}"
        )
    return items


def _event_items(record: Record, name: str) -> set[str]:
    event = record.get("event")
    return _scalar_items(event, name) if isinstance(event, Mapping) else set()


def _error_items(record: Record) -> set[str]:
    # only whether there is an error counts, not its wording
    return {"error"} if record.get("error") else set()


_EMPTY: Record = {key: None for key in RECORD_KEYS}


def _as_json(record: ReleaseRecord | Record) -> Record:
    return record.to_json() if isinstance(record, ReleaseRecord) else record


def render_table(evaluation: Evaluation, min_f1: float) -> str:
    """The score table: field, TP, FP, FN, P, R, F1, and a mark on fields below ``min_f1``."""
    width = max(len(name) for name in SCORED_FIELDS)
    lines = [f"{'field':<{width}}  {'TP':>5} {'FP':>5} {'FN':>5}  {'P':>6} {'R':>6} {'F1':>6}"]
    for s in evaluation.scores:
        mark = "  < min" if s.f1 < min_f1 else ""
        lines.append(
            f"{s.field:<{width}}  {s.tp:>5} {s.fp:>5} {s.fn:>5}  "
            f"{s.precision:>6.3f} {s.recall:>6.3f} {s.f1:>6.3f}{mark}"
        )
    return "\n".join(lines)


def describe_mismatches(mismatches: Iterable[Mismatch]) -> str:
    """One line per mismatch, grouped by file and item as they come."""
    return "\n".join(m.describe() for m in mismatches)


def summarise(evaluation: Evaluation, min_f1: float) -> str:
    """One line: how much was scored and which fields fall below ``min_f1``."""
    failing = evaluation.failing_fields(min_f1)
    verdict = f"below F1 {min_f1}: {', '.join(failing)}" if failing else f"every field >= {min_f1}"
    return f"{evaluation.files} files, {evaluation.releases} gold releases; {verdict}"
