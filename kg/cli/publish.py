"""The ``osce-kg publish`` command: loads a build into a SPARQL Graph Store (named graphs kept)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from kg.cli.progress import CountBar
from kg.errors import OsceKgError
from kg.publish.gsp import DEFAULT_CHUNK_TRIPLES, GraphStore, publish_store
from kg.publish.layout import CURRENT, BuildLayout

#: where the password for --user is read from (never from the command line, which others see)
PASSWORD_ENV = "OSCE_KG_PUBLISH_PASSWORD"
#: the failed graphs listed in the summary; the log names them all
LISTED_FAILURES = 20


@click.command("publish")
@click.argument("build_dir", metavar="BUILD", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--to",
    "url",
    required=True,
    help="The store's SPARQL 1.1 Graph Store Protocol address, e.g. http://127.0.0.1:7878/store "
    "(Oxigraph) or http://127.0.0.1:8890/sparql-graph-crud-auth (Virtuoso).",
)
@click.option("--user", default=None, help=f"User to write as; the password is ${PASSWORD_ENV}.")
@click.option(
    "--auth",
    "auth_scheme",
    type=click.Choice(["digest", "basic"]),
    default="digest",
    show_default=True,
    help="How --user authenticates (Virtuoso: digest).",
)
@click.option(
    "--graph-parameter",
    default="graph",
    show_default=True,
    help="The query parameter naming the graph (the standard's is graph; Virtuoso also "
    "reads graph-uri).",
)
@click.option(
    "--chunk-triples",
    default=DEFAULT_CHUNK_TRIPLES,
    show_default=True,
    type=click.IntRange(1),
    help="Triples per request; larger graphs are sent in several requests.",
)
@click.option(
    "--timeout", default=300.0, show_default=True, type=float, help="Seconds per request."
)
@click.pass_context
def publish_command(
    ctx: click.Context,
    build_dir: Path,
    url: str,
    user: str | None,
    auth_scheme: str,
    graph_parameter: str,
    chunk_triples: int,
    timeout: float,
) -> None:
    """Load BUILD (a directory `osce-kg build --out` wrote) into an external SPARQL store.

    Every named graph of the build is stored under its own IRI (a graph that is there already
    is replaced). Then `osce-kg serve --build BUILD --sparql-endpoint QUERY-URL` answers from
    that store. Exit status: 0 all graphs stored, 1 some failed (listed; re-run to replace
    them), 2 the store could not be used at all.
    """
    layout = BuildLayout(Path(os.path.realpath(build_dir / CURRENT)))
    if not layout.store.is_dir():
        click.echo(
            f"Error: {build_dir}/current: no completed build there; run "
            f"`osce-kg build --out {build_dir}` first",
            err=True,
        )
        ctx.exit(2)
    target = GraphStore(
        url,
        user=user,
        password=os.environ.get(PASSWORD_ENV),
        auth_scheme=auth_scheme,
        graph_parameter=graph_parameter,
        timeout=timeout,
        chunk_triples=chunk_triples,
    )
    try:
        with CountBar("publishing", "graph") as bar:
            report = publish_store(layout.store, target, on_graph=bar)
    except OsceKgError as error:
        click.echo(f"Error: {error}", err=True)
        ctx.exit(2)
    click.echo(
        f"Stored {report.graphs} graphs ({report.triples} triples, {report.requests} requests) "
        f"of build {layout.build_id} in {url} in {report.seconds:.1f} s."
    )
    if report.failed:
        click.echo(f"{len(report.failed)} graphs failed:", err=True)
        for graph, why in list(report.failed.items())[:LISTED_FAILURES]:
            click.echo(f"  {graph}: {why}", err=True)
        ctx.exit(1)
