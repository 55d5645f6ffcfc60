"""The ``osce-kg`` console script: the library's commands plus ``serve``."""

# kg never imports server; this module adds the server's command to kg's group.

from __future__ import annotations

import functools
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from kg.cli import cli
from kg.cli.build import ConversionBar
from kg.cli.progress import CountBar
from kg.errors import ConfigError, OsceKgError
from kg.publish.layout import CURRENT
from kg.settings import Settings

if TYPE_CHECKING:
    from flask import Flask

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


F = TypeVar("F", bound=Callable[..., Any])


def build_dir_option(help_text: str) -> Callable[[F], F]:
    """``--build DIR`` (default ``build``, or $OSCE_KG_BUILD_DIR): the build directory a command
    works on, what ``osce-kg build --out`` wrote."""
    return click.option(
        "--build",
        "build_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path("build"),
        show_default=True,
        envvar="OSCE_KG_BUILD_DIR",
        help=help_text,
    )


@cli.command("serve")
@build_dir_option("The build directory to serve (what `osce-kg build --out` wrote).")
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
@click.option(
    "--sparql-endpoint",
    default=None,
    envvar="OSCE_KG_SPARQL_ENDPOINT",
    help="Answer /sparql and the entity documents from this external SPARQL store's query URL "
    "(loaded with `osce-kg publish`), with the same limits; dumps and reports still come "
    "from --build.",
)
@click.pass_context
def serve_command(
    ctx: click.Context,
    build_dir: Path,
    host: str,
    port: int,
    store_mode: str | None,
    sparql_endpoint: str | None,
) -> None:
    """Serve a built knowledge graph: SPARQL endpoint, entity URIs, dumps and pages.

    With no build in DIR yet, builds the bundled sample first. This uses waitress, threads in
    one process; in production run gunicorn over server:create_app() behind nginx (see the
    README).
    """
    from server import create_app
    from server.store import served_build

    current = build_dir / CURRENT
    if not current.exists() and not current.is_symlink():  # a dangling link is a broken build
        build_sample(build_dir)
    try:
        settings = {"BUILD_DIR": str(build_dir)}
        if store_mode is not None:
            settings["STORE"] = store_mode
        if sparql_endpoint:
            settings["SPARQL_ENDPOINT"] = sparql_endpoint
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
    http_server(app, host, port).run()


#: Threads answering requests: more than queries may run at once (SPARQL_MAX_QUERIES, 16), so
#: pages and kept answers never wait behind queries (as the shipped gunicorn settings).
SERVE_THREADS = 32
#: Connections held open at once (idle keep-alive ones included); more wait to be accepted.
SERVE_CONNECTIONS = 1000


def http_server(app: Flask, host: str, port: int) -> Any:
    """waitress serving ``app`` on ``host:port``: HTTP/1.1 with keep-alive, requests read
    whole by one I/O thread (a slow client holds no worker thread), answered by
    ``SERVE_THREADS`` threads in this process (so the query limits are counted once),
    ambiguous framing refused with 400 (``server.framing``), bodies over
    ``MAX_CONTENT_LENGTH`` refused with 413 before they are read."""
    import waitress

    from server.framing import use_strict_framing

    largest_body = app.config.get("MAX_CONTENT_LENGTH")
    server = waitress.create_server(
        app,
        host=host,
        port=port,
        threads=SERVE_THREADS,
        connection_limit=SERVE_CONNECTIONS,
        asyncore_use_poll=True,  # select() stops at 1024 descriptors
        # the app decides whom to believe about the client's address (TRUSTED_PROXIES)
        clear_untrusted_proxy_headers=False,
        max_request_body_size=int(largest_body) + 1 if largest_body else 1 << 30,
    )
    use_strict_framing(server)
    return server


@cli.command("export-static")
@click.argument("out_dir", metavar="OUT", type=click.Path(file_okay=False, path_type=Path))
@build_dir_option("The build directory whose entity documents to write.")
@click.option(
    "--jobs",
    default=os.cpu_count() or 1,
    show_default="the machine's cores",
    type=click.IntRange(1, 64),
    help="Processes rendering documents at once (up to the machine's cores).",
)
@click.pass_context
def export_static_command(ctx: click.Context, out_dir: Path, build_dir: Path, jobs: int) -> None:
    """Write every entity's HTML page and RDF documents as static files into OUT.

    The files are the bytes the server answers; OUT/current points to the newest export.
    Serve them with server/deploy/nginx-static.conf (see the README).
    """

    from server.export import export_build

    try:
        with CountBar("exporting", "entity") as bar:
            summary = export_build(build_dir, out_dir, on_entity=bar, jobs=jobs)
    except OsceKgError as error:
        click.echo(f"Error: {error}", err=True)
        ctx.exit(2)
    click.echo(
        f"Exported {summary.entities} entities of build {summary.build_id}: {summary.files} "
        f"files, {summary.bytes} bytes, in {out_dir}/current."
    )
    if summary.paged:
        click.echo(
            f"  the data documents of {summary.paged} entities with more than one page of "
            "incoming links are left to the server"
        )
    for url, status in summary.skipped.items():
        click.echo(f"  {url} answered {status}; left to the server", err=True)


def port_range(text: str) -> range:
    """``8101-8120`` -> range(8101, 8121)."""
    first, _, last = text.partition("-")
    try:
        ports = range(int(first), int(last or first) + 1)
    except ValueError as error:
        raise click.BadParameter(f"{text!r} is not a port range like 8101-8120") from error
    if not ports or ports.start < 1 or ports.stop > 65536:
        raise click.BadParameter(f"{text!r} is not a port range like 8101-8120")
    return ports


@cli.command("rollout")
@build_dir_option("The build directory whose current build to roll out.")
@click.option(
    "--deploy",
    "deploy_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Where the replicas' build copies, the static export, logs and replicas.json live.",
)
@click.option("--replicas", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--ports", default="8101-8120", show_default=True, help="Ports the replicas may listen on."
)
@click.option(
    "--nginx-site",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The nginx site file to write (nginx's configuration includes it).",
)
@click.option(
    "--nginx-pid",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("/run/nginx.pid"),
    show_default=True,
    help="nginx's pid file: nginx is reloaded through it (not running: the site is written).",
)
@click.option("--listen", default="80", show_default=True, help="nginx's listen address.")
@click.option(
    "--server",
    type=click.Choice(["serve", "gunicorn"]),
    default="serve",
    show_default=True,
    help="Each replica runs `osce-kg serve` or gunicorn with the shipped settings.",
)
@click.option(
    "--jobs",
    default=os.cpu_count() or 1,
    show_default="the machine's cores",
    type=click.IntRange(1, 64),
    help="Processes writing the static export (the old replicas serve meanwhile: fewer leave "
    "them more of the machine).",
)
@click.pass_context
def rollout_command(
    ctx: click.Context,
    build_dir: Path,
    deploy_dir: Path,
    replicas: int,
    ports: str,
    nginx_site: Path,
    nginx_pid: Path,
    listen: str,
    server: str,
    jobs: int,
) -> None:
    """Roll the current build out to new replicas behind nginx, then stop the old ones.

    Starts REPLICAS servers, each over its own copy of the build, exports the static
    documents, switches nginx's upstream with a reload, waits for nginx's old workers to
    finish their requests, and stops the old replicas by their pids. No request fails.
    """
    from server.deploy.rollout import RolloutPlan, rollout
    from server.export import export_build

    plan = RolloutPlan(
        build_dir=build_dir,
        deploy_dir=deploy_dir,
        replicas=replicas,
        ports=port_range(ports),
        site_file=nginx_site,
        nginx_pid_file=nginx_pid,
        listen=listen,
        server=server,
    )
    try:
        result = rollout(plan, export=functools.partial(export_build, jobs=jobs))
    except OsceKgError as error:
        click.echo(f"Error: {error}", err=True)
        ctx.exit(2)
    ports_now = ", ".join(str(r.port) for r in result.started)
    click.echo(
        f"Build {result.build_id} is served by {len(result.started)} replicas (ports "
        f"{ports_now}); stopped {len(result.stopped)} old ones in {result.seconds:.1f} s."
    )
    if not result.reloaded:
        click.echo(f"nginx is not running: start it with {nginx_site} in its configuration.")


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
