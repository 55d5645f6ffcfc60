"""Lays out a build directory and publishes a finished build by swapping one symlink atomically.

``DIR/current -> .builds/<build-id>``; ``DIR/store``, ``DIR/dumps`` and ``DIR/report`` point
through ``current``. A build is written into its own ``.builds/<build-id>`` and becomes
visible only when ``current`` is replaced with ``os.replace``, so a build that dies midway
leaves the previous one in place. The build that ``current`` replaced is kept (a server
may still have it open); older ones and leftovers of killed builds are removed.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import shutil
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from kg.errors import BuildError
from kg.publish.dumps import SUMS_FILE, VOID_FILE

log = logging.getLogger(__name__)

BUILDS = ".builds"
CURRENT = "current"
CACHE = ".cache"
LOCK = ".lock"
STORE = "store"
DUMPS = "dumps"
REPORT = "report"
VALIDATION_FILE = "validation.ttl"
QUARANTINE_FILE = "quarantine.json"
SUMMARY_FILE = "summary.json"
SEARCH_FOLDER = "search"
SEARCH_FILE = "labels.sqlite"
RUNS_FILE = "runs.json"
CHUNKS_FILE = "chunks.json"
#: the stable entry points of a build directory, each through ``current``
LINKS = (STORE, DUMPS, REPORT)


@dataclass(frozen=True)
class BuildLayout:
    """Where the parts of one build are, under its folder ``DIR/.builds/<build-id>``.

    The contract between the build, which writes them, and the server, which reads them.
    """

    root: Path

    @property
    def build_id(self) -> str:
        """The build's folder name."""
        return self.root.name

    @property
    def store(self) -> Path:
        """The pyoxigraph store (a RocksDB folder)."""
        return self.root / STORE

    @property
    def dumps(self) -> Path:
        """The dump files, their checksums and the VoID description."""
        return self.root / DUMPS

    @property
    def report(self) -> Path:
        """The validation report, the quarantine and the summary."""
        return self.root / REPORT

    @property
    def void_file(self) -> Path:
        """``dumps/void.ttl``: the VoID and DCAT description of the build and its dumps."""
        return self.dumps / VOID_FILE

    @property
    def checksums_file(self) -> Path:
        """``dumps/SHA256SUMS``: the digest of every dump file."""
        return self.dumps / SUMS_FILE

    @property
    def summary_file(self) -> Path:
        """``report/summary.json`` (a kg.publish.summary.BuildSummary)."""
        return self.report / SUMMARY_FILE

    @property
    def validation_file(self) -> Path:
        """``report/validation.ttl``: the SHACL report of the build."""
        return self.report / VALIDATION_FILE

    @property
    def search_index(self) -> Path:
        """``search/labels.sqlite``: the label search index (kg.publish.search_index)."""
        return self.root / SEARCH_FOLDER / SEARCH_FILE

    @property
    def runs_file(self) -> Path:
        """``runs.json``: the cached runs (``kg.publish.runs``) the store was made of."""
        return self.root / RUNS_FILE

    @property
    def chunks_file(self) -> Path:
        """``chunks.json``: the chunks of the dumps (``kg.publish.dumps.DumpChunks``)."""
        return self.root / CHUNKS_FILE

    @property
    def quarantine_file(self) -> Path:
        """``report/quarantine.json``: every release the build did not publish, with why."""
        return self.report / QUARANTINE_FILE


def new_build_id() -> str:
    """A build id that sorts by time and does not collide between processes."""
    return (
        time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        + f"-{os.getpid()}-{time.time_ns() % 10**9:09d}"
    )


def prepare_build_folder(out_dir: Path, build_id: str) -> Path:
    """Creates ``DIR/.builds/<build-id>`` (and DIR itself) and returns it."""
    folder = out_dir / BUILDS / build_id
    folder.mkdir(parents=True, exist_ok=False)
    return folder


@contextlib.contextmanager
def build_lock(out_dir: Path) -> Iterator[None]:
    """Holds an exclusive lock on DIR so two builds never write the same directory at once.

    The lock dies with the process, so a killed build never blocks the next one.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    with (out_dir / LOCK).open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                raise BuildError(
                    f"{out_dir}: another build is writing this directory; "
                    "wait for it to finish or use another --out"
                ) from exc
            raise
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def published_folder(out_dir: Path) -> Path | None:
    """The build folder ``DIR/current`` points to, or None before the first build."""
    link = out_dir / CURRENT
    if not link.is_symlink():
        return None
    return Path(os.path.realpath(link))


def publish_build(out_dir: Path, build_folder: Path) -> None:
    """Makes ``build_folder`` the current build with one atomic rename, then tidies up."""
    previous = published_folder(out_dir)
    target = os.path.relpath(build_folder, out_dir)
    temporary = out_dir / f".{CURRENT}.{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    # the entry links first: they fail on a foreign DIR/store before anything is published
    _ensure_entry_links(out_dir)
    os.symlink(target, temporary)
    os.replace(temporary, out_dir / CURRENT)
    _sync_directory(out_dir)
    prune_builds(out_dir, keep={build_folder.name} | ({previous.name} if previous else set()))
    _remove_stale_links(out_dir)
    log.info("published build %s", build_folder.name)


def check_build_directory(out_dir: Path, inputs: Iterable[Path] = ()) -> None:
    """Raises BuildError, before a build spends any time, when DIR is not a build directory
    osce-kg may write: a file; a folder with things in it that osce-kg did not make (a
    ``current``, ``store``, ``dumps`` or ``report`` that is not a link, or no build at all);
    or a folder the inputs are in, or inside an input folder (a build would read itself)."""
    if out_dir.exists() and not out_dir.is_dir():
        raise BuildError(f"{out_dir}: --out is a file, not a folder; give a build directory")
    _check_apart_from_inputs(out_dir, inputs)
    for name in (CURRENT, *LINKS):
        link = out_dir / name
        if link.exists() and not link.is_symlink():
            raise BuildError(
                f"{link} exists and is not a link osce-kg made, so {out_dir} is not a build "
                "directory; move it away or give another --out"
            )
    if (
        out_dir.is_dir()
        and not (out_dir / CURRENT).is_symlink()
        and not (out_dir / BUILDS).is_dir()
    ):
        foreign = sorted(p.name for p in out_dir.iterdir() if p.name not in (LOCK, CACHE))
        if foreign:
            raise BuildError(
                f"{out_dir} is not empty and holds no osce-kg build ({', '.join(foreign[:3])}"
                f"{', ...' if len(foreign) > 3 else ''}); give an empty or new folder as --out"
            )


def _check_apart_from_inputs(out_dir: Path, inputs: Iterable[Path]) -> None:
    out = Path(os.path.realpath(out_dir))
    for given in inputs:
        source = Path(os.path.realpath(given))
        if source == out or out in source.parents or source in out.parents:
            raise BuildError(
                f"--out {out_dir} and the input {given} overlap (one is inside the other), so "
                "the build would read its own output; give a build directory outside the inputs"
            )


def _ensure_entry_links(out_dir: Path) -> None:
    check_build_directory(out_dir)
    for name in LINKS:
        link = out_dir / name
        if link.is_symlink() and os.readlink(link) == f"{CURRENT}/{name}":
            continue
        temporary = out_dir / f".{name}.{os.getpid()}"
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        os.symlink(f"{CURRENT}/{name}", temporary)
        os.replace(temporary, link)


def prune_builds(out_dir: Path, *, keep: set[str]) -> list[str]:
    """Removes every build folder except ``keep`` (including leftovers of killed builds)."""
    removed: list[str] = []
    builds = out_dir / BUILDS
    if not builds.is_dir():
        return removed
    for folder in sorted(builds.iterdir()):
        if folder.name in keep:
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder.name)
    if removed:
        log.info("removed old builds: %s", ", ".join(removed))
    return removed


def _remove_stale_links(out_dir: Path) -> None:
    """Removes temporary links a killed build left before its rename (``.current.<pid>``)."""
    for name in (CURRENT, *LINKS):
        for link in out_dir.glob(f".{name}.*"):
            if link.is_symlink() and link.name.rsplit(".", 1)[-1].isdigit():
                with contextlib.suppress(FileNotFoundError):
                    link.unlink()


def discard_build(build_folder: Path) -> None:
    """Removes an unfinished build folder (after an error; nothing was published)."""
    shutil.rmtree(build_folder, ignore_errors=True)


def _sync_directory(folder: Path) -> None:
    """Flushes the directory entry of the new link to disk, so a crash cannot undo the swap."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
