"""Writes every entity document of a build as static files, byte for byte what the server answers.

``OUT/current -> .exports/<build-id>``: ``page/{kind}/{key}.html`` and
``data/{kind}/{key}.{ttl,nt,jsonld,rdf,trig,nq}`` (the first page of incoming links; later pages
and any other query stay with the server, and so do the data documents of an entity with more
than one page of incoming links: their Link header names the next page, which nginx cannot add),
``headers.conf`` (the headers every answer of the app carries, for nginx) and ``export.json``.

Documents are made by the functions the server's views answer with, called directly (no request
goes through the app): each entity's statements are asked once and serialised into every form,
the label statements of linked things are asked once per process, and ``--jobs`` processes
(each with the store open read-only) share the entities.

Every file's modification time is the build's time, so nginx's Last-Modified is the server's and
its ETag (mtime and size) changes only with the build. Files are written without fsync: a new
export is written beside the old one and published whole by swapping one symlink, and a partial
one is never served.
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
from kg.rdf.uris import entity_iri, split_entity_path
from server import DEFAULTS, create_app, urls
from server.conneg import Offer
from server.documents import entity_quads, self_description, serialise_documents
from server.entity_view import ENTITY_FORMATS, EntityView, incoming_links, render_page
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
    #: entities with more than one page of incoming links: their data documents are left to
    #: the server (its Link header names the next page, which the static site cannot add)
    paged: int = 0


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

    ``jobs`` above 1 renders in that many processes, each with an app of the same settings
    reading the store on its own."""
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
    stamp = build.built_at.timestamp()
    try:
        _make_folders(partial, entities)
        if jobs > 1:
            _export_in_processes(app, entities, partial, jobs, summary, on_entity)
        else:
            writer = DocumentWriter(app, partial, build.build_id)
            for start in range(0, len(entities), ENTITIES_PER_TASK):
                task = entities[start : start + ENTITIES_PER_TASK]
                _add(summary, writer.write(task))
                if on_entity is not None:
                    on_entity(start + len(task), len(entities))
        summary.entities = len(entities)
        _write_site_headers(app.test_client(), partial / HEADERS_FILE)
        manifest = json.dumps(asdict(summary), indent=2, sort_keys=True) + "\n"
        (partial / MANIFEST).write_text(manifest, encoding="utf-8")
        for written in (partial / MANIFEST, partial / HEADERS_FILE):
            os.utime(written, (stamp, stamp))  # every file of an export dates from its build
        shutil.rmtree(final, ignore_errors=True)
        partial.rename(final)
    except OSError as error:
        shutil.rmtree(partial, ignore_errors=True)
        raise ExportError(f"{partial}: writing the export failed ({error})") from error
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)  # nothing half-written stays behind
        raise
    publish_export(out_dir, final)
    return summary


def _make_folders(folder: Path, entities: list[Entity]) -> None:
    """``page/{kind}`` and ``data/{kind}`` for every kind, made once before any file."""
    for kind in sorted({entity.kind for entity in entities}):
        (folder / "page" / kind).mkdir(parents=True, exist_ok=True)
        (folder / "data" / kind).mkdir(parents=True, exist_ok=True)


def _add(summary: ExportSummary, part: ExportSummary) -> None:
    summary.files += part.files
    summary.bytes += part.bytes
    summary.skipped.update(part.skipped)
    summary.paged += part.paged


#: Entities one process renders per task (small enough to spread the slow ones, big enough
#: that handing out tasks costs nothing)
ENTITIES_PER_TASK = 50
#: The document writer of an export process (made once per process by ``_start_process``)
_PROCESS_WRITER: list[DocumentWriter] = []


def _start_process(config: dict[str, object], folder: Path, build_id: str) -> None:
    _PROCESS_WRITER[:] = [DocumentWriter(create_app(config), folder, build_id)]


def _export_task(entities: list[Entity]) -> ExportSummary:
    """One process's share: the documents of ``entities``, from its own app."""
    return _PROCESS_WRITER[0].write(entities)


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
    config.update(WARM_START=False, TESTING=False, DOCUMENT_CACHE_BYTES=0)
    tasks = [
        entities[start : start + ENTITIES_PER_TASK]
        for start in range(0, len(entities), ENTITIES_PER_TASK)
    ]
    done = 0
    context = multiprocessing.get_context("spawn")  # a clean process, never a threaded fork
    with ProcessPoolExecutor(
        jobs,
        mp_context=context,
        initializer=_start_process,
        initargs=(config, folder, summary.build_id),
    ) as executor:
        futures = {executor.submit(_export_task, task): task for task in tasks}
        for future in as_completed(futures):
            _add(summary, future.result())
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


class DocumentWriter:
    """Writes entities' documents with the functions the server's views answer them with,
    called directly (no request goes through the app): the HTML page as ``page_document``
    makes it, and the data documents from one set of statements per entity, serialised in
    each form with the document's own description."""

    def __init__(self, app: Flask, folder: Path, build_id: str) -> None:
        self.app = app
        self.folder = folder
        self.build_id = build_id

    def write(self, entities: list[Entity]) -> ExportSummary:
        """Writes the documents of ``entities``; what was written, and what was not."""
        build = served_build(self.app)
        if build.build_id != self.build_id:
            raise ExportError(f"a new build ({build.build_id}) was published during the export")
        summary = ExportSummary(self.build_id)
        stamp = build.built_at.timestamp()
        for entity in entities:
            for relative, body in self.documents(entity, summary):
                _write_file(self.folder / relative, body, stamp)
                summary.files += 1
                summary.bytes += len(body)
        return summary

    def documents(self, entity: Entity, summary: ExportSummary) -> Iterator[tuple[str, bytes]]:
        """(file path, bytes) of each document of ``entity`` the server answers 200 for."""
        paths = document_paths(entity)
        page_path = next(iter(paths))
        with self.app.test_request_context(page_path):
            try:
                node = ox.NamedNode(str(entity_iri(entity.kind, entity.key, base=urls.base())))
            except ValueError:  # not an entity URI of the dataset: the server answers 404
                for url in paths:
                    _skip(summary, url, 404)
                return
            view = EntityView.build(node, entity.kind, entity.key, 1)
            yield paths[page_path], render_page(view).encode("utf-8")
            incoming = incoming_links(node, 1)
            if incoming.more:
                summary.paged += 1
                return
            quads = entity_quads(node, incoming)
            data = [url for url in paths if url != page_path]
            abouts = described_forms(data, node)
            bodies = serialise_documents(quads, abouts, node)
            for url, offer in zip(data, abouts, strict=True):
                yield paths[url], bodies[offer]


def described_forms(urls_of_forms: list[str], node: ox.NamedNode) -> dict[Offer, list[ox.Triple]]:
    """What each data document (``/data/{kind}/{key}.{ext}``, in ``ENTITY_FORMATS`` order) says
    about itself: ``self_description`` of the first, its subject renamed for the others."""
    first = urls.base() + urls_of_forms[0].lstrip("/")
    about = self_description(first, node)
    subject = ox.NamedNode(first)
    described = {}
    for url, offer in zip(urls_of_forms, ENTITY_FORMATS, strict=True):
        document = ox.NamedNode(urls.base() + url.lstrip("/"))
        described[offer] = [
            ox.Triple(document, t.predicate, t.object) if t.subject == subject else t for t in about
        ]
    return described


def _skip(summary: ExportSummary, url: str, status: int) -> None:
    log.warning("%s answered %s; left to the server", url, status)
    summary.skipped[url] = status


def _write_file(path: Path, body: bytes, stamp: float) -> None:
    """Writes ``body`` (no fsync: the export is published whole by one rename, and a crash
    before it leaves only a partial folder the next export removes) dated ``stamp``."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(body)
        while view:
            view = view[os.write(descriptor, view) :]
        os.utime(descriptor, (stamp, stamp))
    finally:
        os.close(descriptor)


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
