"""Writes every entity document of a build as static files, byte for byte what the server answers.

``OUT/current -> .exports/<build-id>``: ``page/{kind}/{key}.html`` and
``data/{kind}/{key}.{ttl,nt,jsonld,rdf,trig,nq}`` (the first page of incoming links; later pages
and any other query stay with the server), ``headers.conf`` (the headers every answer of the app
carries, for nginx) and ``export.json``. Every file's modification time is the build's time, so
nginx's Last-Modified is the server's and its ETag (mtime and size) changes only with the build. A
new export is written beside the old one and published by swapping one symlink.
"""

from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing
import os
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyoxigraph as ox
from flask import Flask
from flask.testing import FlaskClient

from kg.errors import OsceKgError
from kg.rdf.uris import split_entity_path
from server import DEFAULTS, create_app, urls
from server.entity_view import ENTITY_FORMATS
from server.pool import close_query_pool
from server.store import select, served_build

log = logging.getLogger(__name__)

EXPORTS = ".exports"
CURRENT = "current"
MANIFEST = "export.json"
HEADERS_FILE = "headers.conf"

#: Headers the app puts on every answer; the static site must send the same ones.
SITE_HEADERS = (
    "Access-Control-Allow-Origin",
    "Access-Control-Expose-Headers",
    "Content-Security-Policy",
    "X-Content-Type-Options",
    "X-Frame-Options",
    "Referrer-Policy",
)

_SUBJECTS = "SELECT DISTINCT ?s WHERE { ?s ?p ?o FILTER(isIRI(?s)) }"


class ExportError(OsceKgError):
    """The static export could not be written."""


@dataclass(frozen=True)
class Entity:
    """One thing with an entity URI: ``/id/{kind}/{key}``."""

    kind: str
    key: str


@dataclass
class ExportSummary:
    """What an export wrote: for the command's summary and ``export.json``."""

    build_id: str
    entities: int = 0
    files: int = 0
    bytes: int = 0
    #: documents the server did not answer 200 for, with its status (none in a sound build)
    skipped: dict[str, int] = field(default_factory=dict)


def entities_of(app: Flask) -> Iterator[Entity]:
    """Every entity of the build the app serves, sorted by kind and key."""
    with app.app_context():
        prefix = urls.base() + "id/"
        found = set()
        for row in select(_SUBJECTS, {}):
            subject = row["s"]
            if isinstance(subject, ox.NamedNode) and subject.value.startswith(prefix):
                parts = split_entity_path(subject.value[len(prefix) :])
                if parts is not None:
                    found.add(Entity(*parts))
    yield from sorted(found, key=lambda e: (e.kind, e.key))


def document_paths(entity: Entity) -> dict[str, str]:
    """URL path -> file path (relative to the export) of each document of an entity."""
    paths = {f"/page/{entity.kind}/{entity.key}": f"page/{entity.kind}/{entity.key}.html"}
    for offer in ENTITY_FORMATS:
        name = f"{entity.key}.{offer.key}"
        paths[f"/data/{entity.kind}/{name}"] = f"data/{entity.kind}/{name}"
    return paths


def export_static(
    app: Flask,
    out_dir: Path,
    *,
    on_entity: Callable[[int, int], None] | None = None,
    jobs: int = 1,
) -> ExportSummary:
    """Writes the documents of the build ``app`` serves into ``OUT/.exports/<build-id>`` and makes
    it ``OUT/current``; returns what was written. ``on_entity(done, total)`` reports progress.

    ``jobs`` above 1 renders in that many processes, each with an app of the same settings."""
    build = served_build(app)
    summary = ExportSummary(build.build_id)
    exports = out_dir / EXPORTS
    final = exports / build.build_id
    partial = exports / f".{build.build_id}.{os.getpid()}.partial"
    try:
        exports.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir()
    except OSError as error:
        raise ExportError(f"{out_dir}: cannot write the export there ({error})") from error
    entities = list(entities_of(app))
    client = app.test_client()
    stamp = build.built_at.timestamp()
    try:
        if jobs > 1:
            _export_in_processes(app, entities, partial, jobs, summary, on_entity)
        else:
            for done, entity in enumerate(entities, 1):
                _write_documents(client, entity, partial, stamp, summary)
                if on_entity is not None:
                    on_entity(done, len(entities))
        summary.entities = len(entities)
        _write_site_headers(client, partial / HEADERS_FILE)
        manifest = json.dumps(asdict(summary), indent=2, sort_keys=True) + "\n"
        (partial / MANIFEST).write_text(manifest, encoding="utf-8")
        for written in (partial / MANIFEST, partial / HEADERS_FILE):
            os.utime(written, (stamp, stamp))  # every file of an export dates from its build
        shutil.rmtree(final, ignore_errors=True)
        partial.rename(final)
    except OSError as error:
        shutil.rmtree(partial, ignore_errors=True)
        raise ExportError(f"{partial}: writing the export failed ({error})") from error
    publish_export(out_dir, final)
    return summary


#: Entities one process renders per task (small enough to spread the slow ones, big enough
#: that handing out tasks costs nothing)
ENTITIES_PER_TASK = 50
#: The app of an export process (made once per process by ``_start_process``)
_PROCESS_APP: list[Flask] = []


def _start_process(config: dict[str, object]) -> None:
    _PROCESS_APP[:] = [create_app(config)]


def _export_task(entities: list[Entity], folder: Path, build_id: str) -> ExportSummary:
    """One process's share: the documents of ``entities``, from its own app."""
    app = _PROCESS_APP[0]
    build = served_build(app)
    if build.build_id != build_id:
        raise ExportError(f"a new build ({build.build_id}) was published during the export")
    summary = ExportSummary(build_id)
    client = app.test_client()
    for entity in entities:
        _write_documents(client, entity, folder, build.built_at.timestamp(), summary)
    return summary


def _export_in_processes(
    app: Flask,
    entities: list[Entity],
    folder: Path,
    jobs: int,
    summary: ExportSummary,
    on_entity: Callable[[int, int], None] | None,
) -> None:
    """Renders the entities' documents in ``jobs`` processes, adding up what each wrote."""
    config = {key: app.config[key] for key in (*DEFAULTS, "BASE")}
    config.update(WARM_START=False, TESTING=False)
    tasks = [
        entities[start : start + ENTITIES_PER_TASK]
        for start in range(0, len(entities), ENTITIES_PER_TASK)
    ]
    done = 0
    context = multiprocessing.get_context("spawn")  # a clean process, never a threaded fork
    with ProcessPoolExecutor(
        jobs, mp_context=context, initializer=_start_process, initargs=(config,)
    ) as executor:
        futures = {
            executor.submit(_export_task, task, folder, summary.build_id): task for task in tasks
        }
        for future in as_completed(futures):
            part = future.result()
            summary.files += part.files
            summary.bytes += part.bytes
            summary.skipped.update(part.skipped)
            done += len(futures[future])
            if on_entity is not None:
                on_entity(done, len(entities))


def export_build(
    build_dir: Path,
    out_dir: Path,
    *,
    on_entity: Callable[[int, int], None] | None = None,
    jobs: int = 1,
) -> ExportSummary:
    """``export_static`` for the build in ``build_dir`` (its ``current``), with the settings of
    the environment (``OSCE_KG_*``), as ``osce-kg serve`` would serve it."""
    app = create_app({"BUILD_DIR": str(build_dir), "WARM_START": False})  # asks no /sparql
    try:
        return export_static(app, out_dir, on_entity=on_entity, jobs=jobs)
    finally:
        close_query_pool(app)


def _write_documents(
    client: FlaskClient, entity: Entity, folder: Path, stamp: float, summary: ExportSummary
) -> None:
    """Fetches each document of an entity from the app and writes its bytes."""
    for url, relative in document_paths(entity).items():
        response = client.get(url)
        try:
            if response.status_code != 200:
                log.warning("%s answered %s; left to the server", url, response.status_code)
                summary.skipped[url] = response.status_code
                continue
            body = response.get_data()
        finally:
            response.close()
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        os.utime(path, (stamp, stamp))
        summary.files += 1
        summary.bytes += len(body)


def _write_site_headers(client: FlaskClient, path: Path) -> None:
    """``headers.conf``: nginx ``add_header`` lines for the headers the app sends everywhere."""
    response = client.get("/healthz")
    response.close()
    lines = ["# written by `osce-kg export-static`: the headers every answer of the app carries"]
    for name in SITE_HEADERS:
        value = response.headers.get(name)
        if value is None:
            continue
        if '"' in value or "\n" in value:
            raise ExportError(f"the {name} header holds a quote or newline nginx cannot take")
        lines.append(f'add_header {name} "{value}" always;')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def publish_export(out_dir: Path, folder: Path) -> None:
    """Makes ``folder`` ``OUT/current`` with one atomic rename; keeps it and the export it
    replaced (nginx may still be sending its files), removes older ones."""
    link = out_dir / CURRENT
    previous = Path(os.path.realpath(link)).name if link.is_symlink() else None
    temporary = out_dir / f".{CURRENT}.{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    os.symlink(os.path.relpath(folder, out_dir), temporary)
    os.replace(temporary, link)
    keep = {folder.name, previous}
    for old in (out_dir / EXPORTS).iterdir():
        if old.name not in keep:  # older exports, and partial ones of killed runs
            shutil.rmtree(old, ignore_errors=True)
    log.info("published export %s", folder.name)
