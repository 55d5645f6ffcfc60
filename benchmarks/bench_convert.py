"""Conversion speed: `osce-kg build` on the bundled samples and on 2,000 generated releases.

Prints wall-clock seconds for each build and releases per second, and the ratio of the
per-release time on the generated releases to the per-release time on the bundled samples
measured in the same run (the baseline), so runs on different machines compare.
Run: python benchmarks/bench_convert.py [N]
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STRUCTURES = (
    "OSCE Mission to Moldova",
    "OSCE Programme Office in Dushanbe",
    "OSCE Mission to Serbia",
    "OSCE Centre in Ashgabat",
    "OSCE Mission to Skopje",
)
CITIES = ("Chisinau", "Dushanbe", "Belgrade", "Ashgabat", "Skopje", "Vienna")
LEADS = (
    "{city_up}, {day} {month} {year} – A two-day workshop on {topic} organized by the {structure} "
    "with the United Nations Development Programme ended in {city} today.",
    "{city_up}, {day} {month} {year} (OSCE) - The OSCE Permanent Council today heard a report by "
    "Ambassador {person}, Head of the {structure}, on {topic}.",
    "{city_up}, {day} {month} {year} – The {structure} and the Council of Europe signed a "
    "memorandum on {topic} at a ceremony in {city} on Monday.",
)
TOPICS = (
    "border security",
    "media freedom",
    "gender equality",
    "police reform",
    "water management",
)
PEOPLE = ("Ana Petrescu", "Ivan Horvat", "Leyla Aliyeva", "Tomas Berg", "Marta Novak")
OSCE_KG = str(Path(sys.executable).with_name("osce-kg"))
MONTHS = ("March", "April", "May", "June", "October", "November")


def generated_releases(count: int, seed: int = 9) -> list[str]:
    """``count`` JSON Lines releases built from a few templates with random fillers."""
    rng = random.Random(seed)
    lines = []
    for index in range(count):
        city = rng.choice(CITIES)
        values = {
            "city": city,
            "city_up": city.upper(),
            "day": rng.randint(1, 28),
            "month": rng.choice(MONTHS),
            "year": rng.randint(1995, 2025),
            "structure": rng.choice(STRUCTURES),
            "topic": rng.choice(TOPICS),
            "person": rng.choice(PEOPLE),
        }
        lead = rng.choice(LEADS).format(**values)
        quote = f"“We will continue this work,” said {rng.choice(PEOPLE)}, a participant."
        record = {
            "content_type": "News",
            "title": f"Release {index}: {values['topic']} in {city}",
            "date": f"{values['day']} {values['month']} {values['year']}",
            "sources": [values["structure"]],
            "fields_of_work": [],
            "paragraphs": [lead, quote],
        }
        lines.append(json.dumps(record, ensure_ascii=False))
    return lines


def timed_build(inputs: list[str], out: Path) -> float:
    """Seconds one `osce-kg build` of ``inputs`` into ``out`` takes (exit 0 or 1 both count)."""
    command = [OSCE_KG, "build", "--no-progress", "--out", str(out), *inputs]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"build failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return seconds


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        sample_seconds = timed_build([], root / "sample-build")
        summary = json.loads((root / "sample-build/current/report/summary.json").read_text())
        sample_releases = int(summary.get("releases") or 0) + int(summary.get("quarantined") or 0)
        data = root / "generated.jsonl"
        data.write_text("\n".join(generated_releases(count)) + "\n", encoding="utf-8")
        generated_seconds = timed_build([str(data)], root / "generated-build")
    per_sample = sample_seconds / max(sample_releases, 1)
    per_generated = generated_seconds / count
    print(f"bundled samples: {sample_seconds:.2f} s for {sample_releases} releases")
    print(
        f"generated:       {generated_seconds:.2f} s for {count} releases "
        f"({count / generated_seconds:.1f}/s)"
    )
    print(
        "per-release time, generated / samples (baseline, same run): "
        f"{per_generated / per_sample:.2f}"
    )


if __name__ == "__main__":
    main()
