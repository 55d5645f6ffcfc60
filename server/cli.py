"""The ``osce-kg`` console script: the library's commands plus ``serve``."""

# kg never imports server; this module adds the server's command to kg's group.

from __future__ import annotations

import logging
import signal
import socket
import sys
from pathlib import Path

import click

from kg.cli import cli
from kg.cli.build import ConversionBar
from kg.errors import ConfigError, OsceKgError
from kg.publish.layout import CURRENT
from kg.settings import Settings

log = logging.getLogger(__name__)


def build_sample(build_dir: Path) -> None:
    """Makes a first build of the bundled sample releases in ``build_dir``."""
    from kg.publish.build import BuildOptions, build

    click.echo(f"No build in {build_dir} yet: building the bundled sample first.", err=True)
    bar = ConversionBar(enabled=True)
    try:
        options = BuildOptions(
            out_dir=build_dir, base=Settings.from_environ().base, on_progress=bar
        )
        result = build(options)
    except OsceKgError as error:
        raise click.ClickException(
            f"building the bundled sample into {build_dir} failed: {error}"
        ) from error
    finally:
        bar.close()
    click.echo(
        f"Built {result.summary.releases} releases ({result.summary.triples} triples, "
        f"{len(result.quarantined)} quarantined; see {build_dir}/report/).",
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
@click.option(
    "--store",
    "store_mode",
    type=click.Choice(["disk", "memory"]),
    default=None,
    help="Serve from the build's store on disk (default) or from a copy in memory (faster "
    "queries; memory for the web process and each query worker, reported at start).",
)
@click.pass_context
def serve_command(
    ctx: click.Context, build_dir: Path, host: str, port: int, store_mode: str | None
) -> None:
    """Serve a built knowledge graph: SPARQL endpoint, entity URIs, dumps and pages.

    With no build in DIR yet, builds the bundled sample first. This uses werkzeug's server;
    in production run gunicorn over server:create_app() (see the README).
    """
    from werkzeug.serving import run_simple

    from server import create_app
    from server.framing import StrictFramingRequestHandler
    from server.store import served_build

    current = build_dir / CURRENT
    if not current.exists() and not current.is_symlink():  # a dangling link is a broken build
        build_sample(build_dir)
    try:
        settings = {"BUILD_DIR": str(build_dir)}
        if store_mode is not None:
            settings["STORE"] = store_mode
        app = create_app(settings)
        check_port_free(host, port)
    except OsceKgError as error:
        click.echo(f"Error: {error}", err=True)
        ctx.exit(2)
    click.echo(
        f"Build {served_build(app).build_id}: {served_build(app).store_facts.describe()}.", err=True
    )
    click.echo(f"Serving {build_dir} at http://{host}:{port}/ (Ctrl-C stops).", err=True)
    # SIGTERM ends the server like Ctrl-C does, so exit handlers stop the query workers.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    run_simple(host, port, app, threaded=True, request_handler=StrictFramingRequestHandler)


def check_port_free(host: str, port: int) -> None:
    """Fails with a clear error when ``host:port`` cannot be listened on (taken, unknown host)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        family, kind, proto, _, address = infos[0]
        with socket.socket(family, kind, proto) as probe:
            # As the server will: a port left in TIME_WAIT by an earlier run is free.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as error:
        reason = error.strerror or str(error)
        raise ConfigError(
            f"cannot listen on {host}:{port} ({reason}); if the port is in use, stop what "
            f"listens there or choose another with --port"
        ) from error


def main() -> None:
    """Entry point of the ``osce-kg`` console script."""
    cli()
