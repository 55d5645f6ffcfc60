"""Writes N realistic, deterministic press releases as JSON Lines, for benchmarks at scale.

The releases read like the OSCE's: a dateline in a capital, an institution or field operation as
source, fields of work from the shipped vocabulary, several participating States named in the
body (Austria and Ukraine often, as on the real site), a quotation. The same N and seed give the
same bytes, so two runs benchmark the same graph.

    python benchmarks/generate.py 20000 releases.jsonl
    osce-kg build --out build-20k releases.jsonl
"""

from __future__ import annotations

import argparse
import csv
import json
import random
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

REFERENCE = Path(__file__).resolve().parent.parent / "kg" / "data" / "reference"

FIELDS_OF_WORK = (
    "Arms control", "Border management", "Combating trafficking in human beings",
    "Conflict prevention and resolution", "Countering terrorism", "Democratization",
    "Economic activities", "Education", "Elections", "Environmental activities",
    "Gender equality", "Good governance", "Human rights", "Media freedom and development",
    "Migration", "National minority issues", "Policing", "Roma and Sinti", "Rule of law",
    "Tolerance and non-discrimination", "Youth",
)  # fmt: skip
CONTENT_TYPES = ("Press release", "News", "Statement", "Press release", "Press release")
SOURCES = (
    "Office for Democratic Institutions and Human Rights",
    "High Commissioner on National Minorities",
    "Representative on Freedom of the Media",
    "OSCE Parliamentary Assembly",
    "OSCE Secretariat",
    "OSCE Chairpersonship",
    "OSCE Special Monitoring Mission to Ukraine",
    "OSCE Mission to Bosnia and Herzegovina",
    "OSCE Mission to Serbia",
    "OSCE Programme Office in Bishkek",
)
TOPICS = (
    "workshop on {field}", "conference on {field}", "training course on {field}",
    "round table on {field}", "visit focused on {field}", "report on {field}",
)  # fmt: skip
VERBS = ("opens", "concludes", "hosts", "supports", "presents", "welcomes")
FIRST = 2005
YEARS = 20


def participating_states() -> list[str]:
    """The names of the participating States, from the shipped facts table."""
    with (REFERENCE / "participating_states.tsv").open(encoding="utf-8") as table:
        return [row["name"] for row in csv.DictReader(table, delimiter="\t")]


def release(number: int, rng: random.Random, states: list[str]) -> dict[str, object]:
    """One release: title, date, place, source, fields of work and a body of paragraphs."""
    day = date(FIRST, 1, 1) + timedelta(days=rng.randrange(YEARS * 365))
    fields = rng.sample(FIELDS_OF_WORK, rng.choice((1, 1, 2, 3)))
    # Austria (the seat) and Ukraine appear in many releases: entities of high in-degree
    named = rng.sample(states, rng.randint(1, 4))
    for popular, share in (("Austria", 0.15), ("Ukraine", 0.2)):
        if rng.random() < share and popular not in named:
            named.append(popular)
    host = named[0]
    topic = rng.choice(TOPICS).format(field=fields[0].lower())
    source = rng.choice(SOURCES)
    title = f"{source.removeprefix('OSCE ')} {rng.choice(VERBS)} {topic} in {host} ({number})"
    dateline = f"VIENNA, {day.day} {day.strftime('%B')} {day.year} –"
    paragraphs = [
        f"{dateline} The {source} today {rng.choice(VERBS)} a {topic} with participants from "
        + ", ".join(named)
        + ".",
        f"The event brought together officials, civil society and experts from {host} "
        f"to discuss {', '.join(f.lower() for f in fields)}.",
        f"“Co-operation between participating States is essential,” the Head of the "
        f"{source} said. “We will continue our work on {fields[-1].lower()}.”",
    ]
    return {
        "content_type": rng.choice(CONTENT_TYPES),
        "title": title,
        "date": day.isoformat(),
        "place": "Vienna",
        "sources": [source],
        "fields_of_work": fields,
        "paragraphs": paragraphs,
        "url": f"https://example.org/release/{number}",
    }


def releases(count: int, seed: int = 12) -> Iterator[dict[str, object]]:
    """``count`` releases, the same ones for the same seed."""
    rng = random.Random(seed)
    states = participating_states()
    for number in range(1, count + 1):
        yield release(number, rng, states)


def write_releases(path: Path, count: int, seed: int = 12, *, per_file: int = 0) -> list[Path]:
    """Writes ``count`` releases as JSON Lines to ``path`` (a file, or a folder of files of
    ``per_file`` releases each when ``per_file`` > 0); returns the files written."""
    written: list[Path] = []
    lines = [json.dumps(r, ensure_ascii=False) for r in releases(count, seed)]
    if per_file <= 0:
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return [path]
    path.mkdir(parents=True, exist_ok=True)
    for start in range(0, count, per_file):
        part = path / f"releases-{start // per_file:05d}.jsonl"
        part.write_text("\n".join(lines[start : start + per_file]) + "\n", encoding="utf-8")
        written.append(part)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int, help="how many releases")
    parser.add_argument("out", type=Path, help="the JSON Lines file (or folder with --per-file)")
    parser.add_argument("--seed", type=int, default=12, help="random seed (default: 12)")
    parser.add_argument(
        "--per-file", type=int, default=0, help="releases per file, in a folder (default: one file)"
    )
    options = parser.parse_args()
    files = write_releases(options.out, options.count, options.seed, per_file=options.per_file)
    print(f"wrote {options.count} releases to {len(files)} file(s) under {options.out}")


if __name__ == "__main__":
    main()
