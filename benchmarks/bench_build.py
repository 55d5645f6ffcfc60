"""Measures `osce-kg build` on generated archives: wall, peak memory, steps, releases per second.

Generates N realistic releases in JSON Lines (1,000 per file; deterministic: the same N always
gives the same bytes), every one with its own title and text so no cache can help: a dateline,
a content type, issuing structures, fields of work, States, a person with a title quoted, an
event with dates and a place. Then, for each N, runs `osce-kg build IN --out OUT` from scratch
in its own process and prints:

  wall seconds, CPU seconds (the build and its workers; on a shared machine the wall time depends
  on what else runs, so the mean load average is printed too), peak RSS of the build's whole
  process tree (the build and its workers, summed,
  sampled every 50 ms) and of its largest single process, the seconds of each step (from
  report/summary.json), releases per second, and ratios against the smallest N of the same run.
  From scratch, "store", "search" and "dumps" run at the same time: each is its own seconds,
  and "store+search+dumps" the wall seconds of the three together.

At the largest N it then runs an unchanged rebuild and a rebuild after changing one release,
and prints their wall and RSS with the ratio to the build from scratch. Asserts nothing.

    python benchmarks/bench_build.py --sizes 1000 5000            # while developing
    python benchmarks/bench_build.py                               # 1,000 5,000 20,000 50,000
    python benchmarks/bench_build.py --sizes 200000 --no-rebuilds  # the memory bound
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "kg" / "data" / "reference"
PER_FILE = 1000
DEFAULT_SIZES = (1000, 5000, 20000, 50000)
SAMPLE_SECONDS = 0.05

MONTHS = [date(2000, m, 1).strftime("%B") for m in range(1, 13)]
CONTENT_TYPES = ("Press release", "News", "Press release", "Statement", "News", "Weekly report")
FIELDS_OF_WORK = (
    "Arms control",
    "Border management",
    "Combating trafficking in human beings",
    "Conflict prevention and resolution",
    "Countering terrorism",
    "Democratization",
    "Economic activities",
    "Education",
    "Elections",
    "Environmental activities",
    "Gender equality",
    "Good governance",
    "Human rights",
    "Media freedom and development",
    "Migration",
    "National minority issues",
    "Policing",
    "Rule of law",
    "Tolerance and non-discrimination",
    "Youth",
)
EVENTS = (
    ("training course", "training"),
    ("workshop", "workshop"),
    ("conference", "conference"),
    ("round table", "round table"),
    ("seminar", "seminar"),
    ("meeting", "meeting"),
    ("forum", "forum"),
)
LENGTHS = ("one-day", "two-day", "three-day", "four-day", "five-day")
AUDIENCES = (
    "police officers",
    "journalists",
    "judges and prosecutors",
    "border guards",
    "civil society representatives",
    "young leaders",
    "election officials",
    "women entrepreneurs",
    "customs officers",
    "teachers",
    "municipal officials",
    "human rights defenders",
)
TOPICS = (
    "countering violent extremism",
    "media literacy",
    "cybersecurity of critical infrastructure",
    "gender-responsive policing",
    "combating money laundering",
    "the rights of national minorities",
    "safe management of small arms",
    "water governance in shared river basins",
    "preventing human trafficking",
    "transparent public procurement",
    "community policing",
    "election dispute resolution",
    "inclusive education",
    "hate crime reporting",
)
VERBS = ("stressed", "underlined", "noted", "emphasized", "highlighted")
CLOSINGS = (
    "The event is part of a long-term project supported by the OSCE.",
    "Participants discussed good practices from across the OSCE region.",
    "The course combined lectures with practical exercises and case studies.",
    "The participants agreed to continue the dialogue at a follow-up meeting.",
    "Experts from several participating States shared their experience.",
)


@dataclass(frozen=True)
class Office:
    """A field operation with its seat, host State and a head with the head's title."""

    name: str
    city: str
    state: str
    head: str
    title: str


def read_tsv(name: str) -> list[dict[str, str]]:
    with (REFERENCE / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def offices() -> list[Office]:
    """Field operations that have a seat city and a head in the facts tables."""
    heads: dict[str, tuple[str, str]] = {}
    for row in read_tsv("heads.tsv"):
        title = row["post"].split("(")[0].split("/")[0].strip()
        heads.setdefault(row["organisation"].strip(), (row["person"].strip(), title))
    found = []
    for row in read_tsv("field_operations.tsv"):
        city = row["seat_city"].split("(")[0].split(";")[0].strip()
        head = heads.get(row["name"].strip())
        if city and head and row["host_state"] and "," not in city:
            found.append(Office(row["name"].strip(), city, row["host_state"], *head))
    return found


def states() -> list[str]:
    return [row["name"] for row in read_tsv("participating_states.tsv") if row["name"]]


def release(number: int, rng: random.Random, places: list[Office], names: list[str]) -> dict:
    """One release as the JSON Lines reader takes it; ``number`` makes its title unique."""
    office = rng.choice(places)
    day = date(1999, 1, 1) + timedelta(days=rng.randrange(9500))
    written = f"{day.day} {MONTHS[day.month - 1]} {day.year}"
    event, event_type = rng.choice(EVENTS)
    length = rng.choice(LENGTHS)
    audience, topic = rng.choice(AUDIENCES), rng.choice(TOPICS)
    guests = rng.sample(names, 3)
    count = 10 + rng.randrange(90)
    title = f"{office.name} {event} on {topic} brings together {count} {audience} ({number})"
    surname = office.head.split()[-1]
    body = [
        f"{office.city.upper()}, {written} – The {office.name} today opened a {length} "
        f"{event} on {topic} for {count} {audience} from {guests[0]}, {guests[1]} and "
        f"{guests[2]}.",
        f"“Our work on {topic} depends on people like the {audience} here today, and on "
        f"the trust between them,” said {office.head}, {office.title} of the {office.name}. "
        f"{surname} {rng.choice(VERBS)} that {office.state} has made progress on {topic} "
        f"since {day.year - 1 - rng.randrange(5)}.",
        f"{rng.choice(CLOSINGS)} Item {number} of the generated archive, on "
        f"{audience} and {topic}, with {count} participants.",
    ]
    return {
        "content_type": rng.choice(CONTENT_TYPES),
        "title": title,
        "date": day.isoformat(),
        "place": office.city,
        "sources": [office.name],
        "fields_of_work": sorted(rng.sample(FIELDS_OF_WORK, 1 + rng.randrange(2))),
        "body": "\n\n".join(body),
        "url": f"https://example.org/osce-kg-bench/{number}",
        "event_type_hint": event_type,
    }


def generate(folder: Path, count: int, *, seed: int = 20261204) -> Path:
    """Writes ``count`` releases into ``folder`` (1,000 per file) unless already there."""
    done = folder / ".complete"
    if done.exists() and done.read_text() == str(count):
        _restore(folder)
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    rng = random.Random(seed)
    places, names = offices(), states()
    for start in range(0, count, PER_FILE):
        lines = []
        for number in range(start, min(count, start + PER_FILE)):
            item = release(number, rng, places, names)
            item.pop("event_type_hint")
            lines.append(json.dumps(item, ensure_ascii=False))
        (folder / f"archive-{start // PER_FILE:04d}.jsonl").write_text(
            "\n".join(lines) + "\n", encoding="utf-8"
        )
    done.write_text(str(count))
    return folder


def change_one_release(folder: Path) -> None:
    """Rewrites the body of the first release of the first file (a new sentence); the file's
    generated bytes are kept aside and put back by the next :func:`generate`."""
    path = sorted(folder.glob("*.jsonl"))[0]
    text = path.read_text(encoding="utf-8")
    kept = _kept(folder) / path.name
    if not kept.exists():
        kept.parent.mkdir(exist_ok=True)
        shutil.copy2(path, kept)
    lines = text.splitlines()
    first = json.loads(lines[0])
    first["body"] += f"\n\nUpdated at {time.time_ns()}."
    lines[0] = json.dumps(first, ensure_ascii=False)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _kept(folder: Path) -> Path:
    """Where the generated bytes of changed files wait (beside the inputs, not among them)."""
    return folder.with_name(folder.name + ".original")


def _restore(folder: Path) -> None:
    """Puts back the generated bytes of files :func:`change_one_release` changed."""
    kept = _kept(folder)
    if kept.is_dir():
        for path in kept.iterdir():
            shutil.copy2(path, folder / path.name)
        shutil.rmtree(kept)


@dataclass
class Run:
    """One measured build."""

    label: str
    releases: int
    wall: float
    tree_rss: int  # bytes, summed over the build's processes
    max_rss: int  # bytes, the largest single process
    exit_code: int
    cpu: float  # CPU seconds (user + system) of the build and its workers
    load: float  # the machine's mean 1-minute load average during the run
    timings: dict[str, float] = field(default_factory=dict)
    summary: dict = field(default_factory=dict)


def _tree_rss(pid: int) -> int:
    """The resident memory of ``pid`` and all its descendants, in bytes."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/status", encoding="ascii") as handle:
                for line in handle:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
                        break
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children", encoding="ascii") as handle:
                    pending.extend(int(child) for child in handle.read().split())
        except (OSError, ValueError):
            continue
    return total


def run_build(label: str, inputs: Path, out: Path, extra: list[str]) -> Run:
    command = [str(Path(sys.executable).with_name("osce-kg")), "build", str(inputs)]
    command += ["--out", str(out), "--no-progress", *extra]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    peak = [0]
    loads: list[float] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(SAMPLE_SECONDS):
            peak[0] = max(peak[0], _tree_rss(process.pid))
            loads.append(os.getloadavg()[0])

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output = process.stdout.read() if process.stdout else b""
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    stop.set()
    sampler.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0, 1):
        sys.stderr.write(output.decode("utf-8", "replace")[-3000:])
    summary_file = out / "current" / "report" / "summary.json"
    summary = json.loads(summary_file.read_text()) if summary_file.exists() else {}
    return Run(
        label,
        int(summary.get("releases", 0)),
        wall,
        peak[0],
        usage.ru_maxrss * 1024,
        process.returncode,
        usage.ru_utime + usage.ru_stime,
        sum(loads) / max(len(loads), 1),
        dict(summary.get("timings", {})),
        summary,
    )


def gib(size: int) -> str:
    return f"{size / 2**30:.2f}"


def print_runs(runs: list[Run], baseline: Run) -> None:
    steps = list(dict.fromkeys(s for r in runs for s in r.timings))
    head = ["run", "releases", "exit", "wall s", "CPU s", "load", "tree RSS GiB", "max proc GiB"]
    head += ["rel/s"]
    head += [f"{s} s" for s in steps] + ["s/rel vs base", "RSS vs base"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for run in runs:
        per = run.wall / max(run.releases, 1)
        base_per = baseline.wall / max(baseline.releases, 1)
        cells = [
            run.label,
            f"{run.releases:,}",
            str(run.exit_code),
            f"{run.wall:.1f}",
            f"{run.cpu:.1f}",
            f"{run.load:.1f}",
            gib(run.tree_rss),
            gib(run.max_rss),
            f"{run.releases / run.wall:.0f}",
        ]
        cells += [f"{run.timings.get(s, 0.0):.1f}" for s in steps]
        cells += [f"{per / base_per:.2f}", f"{run.tree_rss / max(baseline.tree_rss, 1):.2f}"]
        print("| " + " | ".join(cells) + " |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES))
    parser.add_argument("--workdir", type=Path, help="keep inputs and builds here (reused)")
    parser.add_argument("--no-rebuilds", action="store_true", help="skip the two rebuilds")
    parser.add_argument(
        "--rebuilds-only",
        action="store_true",
        help="keep the build of the largest N from an earlier run (--workdir): rebuild it once "
        "with one release changed (so the code in force wrote what the next builds reuse), "
        "then the two rebuilds",
    )
    parser.add_argument("--keep", action="store_true", help="keep the builds")
    parser.add_argument("--build-arg", action="append", default=[], help="passed to build")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-build-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"# osce-kg build on generated releases ({os.cpu_count()} cores); work in {workdir}")
    runs: list[Run] = []
    sizes = sorted(args.sizes)
    if args.rebuilds_only:
        count = sizes[-1]
        inputs = generate(workdir / f"releases-{count}", count)
        out = workdir / f"build-{count}"
        change_one_release(inputs)  # the code changed too: a build with chunks to patch from
        runs.append(run_build(f"{count:,} warm-up (code changed)", inputs, out, args.build_arg))
        sizes = []
    for count in sizes:
        inputs = generate(workdir / f"releases-{count}", count)
        out = workdir / f"build-{count}"
        shutil.rmtree(out, ignore_errors=True)
        runs.append(run_build(f"{count:,} from scratch", inputs, out, args.build_arg))
        last = runs[-1]
        print(
            f"  {last.label}: {last.wall:.1f} s wall, {last.cpu:.1f} s CPU, load {last.load:.1f}, "
            f"{gib(last.tree_rss)} GiB",
            flush=True,
        )
        if count != sizes[-1] and not args.keep:
            shutil.rmtree(out, ignore_errors=True)
    if not args.no_rebuilds:
        count = sorted(args.sizes)[-1]
        inputs, out = workdir / f"releases-{count}", workdir / f"build-{count}"
        runs.append(run_build(f"{count:,} unchanged rebuild", inputs, out, args.build_arg))
        change_one_release(inputs)
        runs.append(run_build(f"{count:,} one release changed", inputs, out, args.build_arg))
    print()
    print_runs(runs, runs[0])
    if not args.keep and args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
