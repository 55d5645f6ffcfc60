"""The ``osce-kg`` command line: one click group, one command per job."""

from __future__ import annotations

import logging

import click

from kg import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="osce-kg")
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
def cli(verbose: int) -> None:
    """osce-kg: build, validate and serve the OSCE knowledge graph."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


def main() -> None:
    """Entry point of the library commands (without ``serve``)."""
    cli()
