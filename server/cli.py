"""The ``osce-kg`` console script: the library's commands plus ``serve``.

``kg`` never imports ``server``; this module adds the server's command to ``kg``'s group.
"""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path

import click

from kg.cli import cli
from kg.errors import OsceKgError

log = logging.getLogger(__name__)


def build_sample(build_dir: Path) -> None:
    """Makes a first build of the bundled sample releases in ``build_dir``."""
    from kg.build import BuildOptions, build

    click.echo(f"No build in {build_dir} yet: building the bundled sample first.", err=True)
    try:
        summary = build(BuildOptions(out_dir=build_dir, progress=True))
    except OsceKgError as error:
        raise click.ClickException(
            f"building the bundled sample into {build_dir} failed: {error}"
        ) from error
    click.echo(
        f"Built {summary.releases} releases ({summary.triples} triples, "
        f"{len(summary.quarantined)} quarantined; see {build_dir}/report/).",
        err=True,
    )


@cli.command("serve")
@click.option(
    "--build",
    "build_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("build"),
    show_default=True,
    envvar="OSCE_KG_BUILD_DIR",
    help="The build directory to serve (what `osce-kg build --out` wrote).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option(
    "--port", default=8080, type=click.IntRange(0, 65535), show_default=True, help="TCP port."
)
def serve_command(build_dir: Path, host: str, port: int) -> None:
    """Serve a built knowledge graph: SPARQL endpoint, entity URIs, dumps and pages.

    With no build in DIR yet, builds the bundled sample first. This uses werkzeug's server;
    in production run gunicorn over server:create_app() (see the README).
    """
    from werkzeug.serving import run_simple

    from server import create_app

    if not (build_dir / "current").exists():
        build_sample(build_dir)
    try:
        app = create_app({"BUILD_DIR": str(build_dir)})
    except OsceKgError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Serving {build_dir} at http://{host}:{port}/ (Ctrl-C stops).", err=True)
    # SIGTERM ends the server like Ctrl-C does, so exit handlers stop the query workers.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    run_simple(host, port, app, threaded=True)


def main() -> None:
    """Entry point of the ``osce-kg`` console script."""
    cli()
