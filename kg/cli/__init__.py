"""The ``osce-kg`` command line: one click group, one command per job."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import click

from kg import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="osce-kg")
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
def cli(verbose: int) -> None:
    """osce-kg: build, validate and serve the OSCE knowledge graph."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


@cli.command("validate")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--report",
    "report_file",
    type=click.Path(dir_okay=False, writable=True),
    help="Also write the SHACL validation report as Turtle to this file.",
)
@click.option(
    "--with-reference",
    is_flag=True,
    help="Add the reference graph to the FILEs, so links to States and structures resolve.",
)
@click.pass_context
def validate_command(
    ctx: click.Context, files: tuple[str, ...], report_file: str | None, with_reference: bool
) -> None:
    """Validate RDF FILEs (default: the reference graph and ontology) against the SHACL shapes.

    Exit status: 0 conforms (warnings allowed), 1 does not conform, 2 bad input or usage
    (an unreadable FILE is named with its line and column; the other FILEs are still validated).
    """
    from kg.errors import OsceKgError
    from kg.settings import Settings
    from kg.validation.shacl import validate_files
    from kg.validation.text_report import render_report

    try:
        base = Settings.from_environ().base
        found = validate_files(files, with_reference=with_reference, base=base)
    except OsceKgError as exc:
        click.echo(f"Error: {exc}", err=True)
        ctx.exit(2)
    for error in found.errors:  # the other files were validated
        click.echo(f"Error: {error}", err=True)
    report = found.report
    if report is None:
        ctx.exit(2)
    click.echo(render_report(report, found.data, assignment=found.assignment), nl=False)
    if report_file:
        report.report_graph.serialize(destination=report_file, format="turtle")
        click.echo(f"SHACL report written to {report_file}")
    ctx.exit(2 if found.errors else 0 if report.conforms else 1)


@cli.command("evaluate")
@click.argument("folder", required=False, type=click.Path(exists=True, file_okay=False))
@click.option(
    "--min-f1",
    type=click.FloatRange(0, 1),
    default=0.95,
    show_default=True,
    help="The F1 every field must reach for exit status 0.",
)
@click.option("--details", is_flag=True, help="Also list every mismatch with its file and item.")
@click.option("--json", "as_json", is_flag=True, help="Print the scores as one JSON object.")
@click.pass_context
def evaluate_command(
    ctx: click.Context, folder: str | None, min_f1: float, details: bool, as_json: bool
) -> None:
    """Score `parse` against the gold records under FOLDER (default: the bundled samples).

    Prints precision, recall and F1 per field. Exit status: 0 every field reaches --min-f1,
    1 some field does not, 2 usage error or a missing or malformed gold file.
    """
    # imported here, not above: reading and extraction take a sixth of a second to import,
    # which every other command (and --help) would pay
    from kg.errors import OsceKgError
    from kg.extraction.evaluate import describe_mismatches, evaluate_folder, render_table, summarise
    from kg.ingest.inputs import bundled_samples_root

    try:
        result = evaluate_folder(Path(folder) if folder else bundled_samples_root())
    except OsceKgError as exc:
        click.echo(f"Error: {exc}", err=True)
        ctx.exit(2)
    for problem in (*result.gold_errors, *result.parse_failures):
        click.echo(f"Error: {problem}", err=True)
    if result.releases == 0:  # a table of zeros would read as a pass
        click.echo(
            "Error: no release could be scored: no gold records were found for the release "
            "files (gold of <dir>/<file> is gold/<dir>/<file>.json; see docs/extraction.md)",
            err=True,
        )
        ctx.exit(2)
    if as_json:
        payload = result.to_json(min_f1, details=details)
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        click.echo(render_table(result, min_f1))
        if details and result.mismatches:
            click.echo("\nMismatches:\n" + describe_mismatches(result.mismatches))
        click.echo("\n" + summarise(result, min_f1))
    ctx.exit(2 if result.gold_errors else 0 if result.passed(min_f1) else 1)


from kg.cli.build import build_command  # noqa: E402

cli.add_command(build_command)

from kg.cli.parse import parse_command  # noqa: E402

cli.add_command(parse_command)

from kg.cli.publish import publish_command  # noqa: E402

cli.add_command(publish_command)


def main() -> None:
    """Entry point of the library commands (without ``serve``)."""
    cli()
