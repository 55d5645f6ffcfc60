"""The ``osce-kg build`` command: runs a build and prints its summary."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click
from tqdm import tqdm

from kg.errors import OsceKgError
from kg.publish.layout import CURRENT
from kg.settings import Settings

if TYPE_CHECKING:
    from kg.publish.build import BuildResult

log = logging.getLogger(__name__)

#: quarantined releases listed in the summary; the report lists them all
LISTED_QUARANTINED = 20
#: the shell's exit status for a command stopped with Ctrl-C (128 + SIGINT)
EXIT_INTERRUPTED = 130


@click.command("build")
@click.argument("inputs", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--rdf",
    "extra_rdf",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Extra RDF file to publish as its own named graph (repeatable).",
)
@click.option(
    "--out",
    "out_dir",
    default=Path("build"),
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Build directory (DIR/current, DIR/store, DIR/dumps, DIR/report).",
)
@click.option(
    "--max-release-size",
    metavar="MB",
    type=click.FloatRange(min=0, min_open=True),
    help="Quarantine, unread, a release file larger than this (MB, 10**6 bytes; default: 10).",
)
@click.option(
    "--max-rdf-size",
    metavar="MB",
    type=click.FloatRange(min=0, min_open=True),
    help="Stop at an extra RDF file larger than this, decompressed (MB; default: 100).",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    help="Worker processes converting and validating files (default: one per core).",
)
@click.option("--progress/--no-progress", default=True, help="Progress bar on stderr.")
@click.pass_context
def build_command(
    ctx: click.Context,
    inputs: tuple[Path, ...],
    extra_rdf: tuple[Path, ...],
    out_dir: Path,
    max_release_size: float | None,
    max_rdf_size: float | None,
    jobs: int | None,
    progress: bool,
) -> None:
    """Build the knowledge graph from release files or folders (default: the bundled samples).

    Converts, validates with the SHACL shapes, quarantines rejected releases, loads the
    rest into an on-disk store, writes dumps and report, and publishes DIR/current
    atomically. Exit status: 0 all published, 1 something quarantined, 2 error,
    130 stopped with Ctrl-C (nothing published).
    """
    # imported here: they load rdflib, pyshacl, pyoxigraph
    from kg.ingest.inputs import MAX_RELEASE_BYTES
    from kg.publish.build import BuildOptions, build
    from kg.rdf.rdffiles import MAX_RDF_BYTES

    published_before = _published(out_dir)
    bar = ConversionBar(enabled=progress)
    try:
        options = BuildOptions(
            inputs=inputs,
            extra_rdf=extra_rdf,
            out_dir=out_dir,
            base=Settings.from_environ().base,
            on_progress=bar,
            max_release_bytes=_bytes(max_release_size, MAX_RELEASE_BYTES),
            max_rdf_bytes=_bytes(max_rdf_size, MAX_RDF_BYTES),
            jobs=jobs,
        )
        result = build(options)
    except KeyboardInterrupt:
        click.echo("Interrupted (Ctrl-C).", err=True)
        if _published(out_dir) == published_before:
            click.echo("Nothing was published; the previous build (if any) is unchanged.", err=True)
        else:  # stopped while tidying up after the swap
            click.echo(f"The new build was published: {out_dir}/current.", err=True)
        ctx.exit(EXIT_INTERRUPTED)
    except (OsceKgError, OSError) as exc:
        _fail(ctx, str(exc))
    except Exception as exc:  # a bug must still give exit 2 and leave the previous build
        log.exception("the build failed")
        _fail(ctx, f"internal error: {exc!r}")
    finally:
        bar.close()
    for line in summary_lines(result):
        click.echo(line)
    ctx.exit(result.exit_code)


def _bytes(megabytes: float | None, default: int) -> int:
    """A size limit given in MB (10**6 bytes) as bytes; ``default`` when not given."""
    return default if megabytes is None else max(1, round(megabytes * 1_000_000))


def _published(out_dir: Path) -> str | None:
    """Where ``DIR/current`` points, or None."""
    try:
        return os.readlink(out_dir / CURRENT)
    except OSError:
        return None


def _fail(ctx: click.Context, message: str) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    click.echo("Nothing was published; the previous build (if any) is unchanged.", err=True)
    ctx.exit(2)


class ConversionBar:
    """Draws a build's conversion progress (its on_progress callback) as a bar on stderr."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self._bar: tqdm[None] | None = None

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        if self._bar is None:  # disable=None: no bar when stderr is not a terminal
            self._bar = tqdm(total=total, desc="converting", unit="file", disable=None)
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        """Ends the bar (after the build, whether it finished or not)."""
        if self._bar is not None:
            self._bar.close()


def summary_lines(result: BuildResult) -> list[str]:
    """The summary a person reads at the end of a build."""
    summary, out_dir = result.summary, result.out_dir
    seconds = summary.seconds or 0.0
    lines = [
        f"Built {out_dir}/current -> .builds/{summary.build_id} in {seconds:.1f} s",
        f"  files: {summary.files} ({summary.converted} converted, {summary.reused} from cache)",
        f"  releases published: {summary.releases}; quarantined: {len(result.quarantined)}; "
        f"validated now: {summary.validated} (the others' verdicts from the cache)",
        f"  graphs: {summary.graphs}; triples: {summary.triples}; quads: {summary.quads}",
        f"  SHACL warnings: {summary.warnings}; violations outside releases: "
        f"{summary.violations_outside_releases}",
        "  steps: " + ", ".join(f"{k} {v:.1f} s" for k, v in summary.timings.items()),
    ]
    for entry in result.quarantined[:LISTED_QUARANTINED]:
        where = f"{entry['file']}" + (f" item {entry['item']}" if entry["item"] else "")
        field = f" field {entry['field']}" if entry["field"] else ""
        lines.append(f"  QUARANTINED {where} [{entry['stage']}{field}]: {entry['reason']}")
    if len(result.quarantined) > LISTED_QUARANTINED:
        lines.append(f"  ... and {len(result.quarantined) - LISTED_QUARANTINED} more")
    if result.quarantined:
        lines.append(f"  details: {out_dir}/report/quarantine.json")
    return lines
