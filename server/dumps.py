"""Serves the build's files: the dumps, their VoID/DCAT description, the report and quarantine."""

from __future__ import annotations

import gzip
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import pyoxigraph as ox
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    jsonify,
    render_template,
    request,
    send_file,
)
from werkzeug.exceptions import RequestedRangeNotSatisfiable
from werkzeug.http import parse_range_header

from kg.publish.dumps import NTRIPLES_DUMP, TURTLE_DUMP, read_checksums
from kg.rdf.vocab import DCAT, DCTERMS, RDF
from server import conneg, urls
from server.documents import data_license, used_prefixes
from server.labels import Labeller
from server.prefixes import with_prefixes
from server.report_view import ReportFileError, read_quarantine, validation_view
from server.responses import (
    HTML,
    finish_document,
    finish_negotiated,
    negotiate_document,
    not_modified,
    rdf_response,
)
from server.store import Build, current_build

bp = Blueprint("dumps", __name__)

log = logging.getLogger(__name__)

COUNTS_KEY = "osce_kg_dump_counts"
JSON = conneg.Offer("json", "application/json")
MEDIA_TYPES = {".gz": "application/gzip", ".ttl": "text/turtle", "SHA256SUMS": "text/plain"}


@dataclass(frozen=True)
class DumpFile:
    """One downloadable file of the build, as listed on /dumps/."""

    name: str
    url: str
    bytes: int
    sha256: str | None
    statements: int | None

    @property
    def size(self) -> str:
        """The size as a person reads it (``1.5 MiB``); the exact bytes stay in ``bytes``."""
        return human_size(self.bytes)


def human_size(count: int) -> str:
    """Bytes in binary units with one decimal: ``512 bytes``, ``1.5 KiB``, ``2.0 MiB``."""
    if count < 1024:
        return f"{count} byte{'' if count == 1 else 's'}"
    size = float(count)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        size /= 1024
        if size < 1024 or unit == "TiB":
            break
    return f"{size:.1f} {unit}"


def count_statements(path: Path) -> int | None:
    """Triples (or quads) in a line-based dump (``.nt.gz``, ``.nq.gz``); None for other files."""
    if not path.name.endswith((".nt.gz", ".nq.gz")):
        return None
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        return sum(1 for line in lines if line.strip() and not line.startswith("#"))


_DUMP_SIZES_QUERY = with_prefixes(
    "SELECT ?url ?triples WHERE { ?dump dcat:downloadURL ?url ; void:triples ?triples }"
)


def declared_counts(void_file: Path) -> dict[str, int]:
    """Statements per dump file as the build's VoID description states them (void:triples)."""
    if not void_file.is_file():
        return {}
    store = ox.Store()
    try:
        store.load(path=str(void_file), format=ox.RdfFormat.TURTLE)
    except SyntaxError as error:
        log.warning("%s is not valid Turtle (%s); counting the dumps instead", void_file, error)
        return {}
    rows = store.query(_DUMP_SIZES_QUERY)
    assert isinstance(rows, ox.QuerySolutions)
    declared = {}
    for row in rows:
        if row["triples"].value.isdigit():
            declared[row["url"].value.rsplit("/", 1)[-1]] = int(row["triples"].value)
    return declared


def statement_counts(build: Build) -> dict[str, int]:
    """Statements per dump file: from the VoID description, else counted once and kept."""
    cached: tuple[str, dict[str, int]] | None = current_app.extensions.get(COUNTS_KEY)
    if cached is not None and cached[0] == build.build_id:
        return cached[1]
    counts = declared_counts(build.layout.void_file)
    for path in sorted(build.layout.dumps.glob("*")):
        counted = None if path.name in counts else count_statements(path)
        if counted is not None:
            counts[path.name] = counted
    if NTRIPLES_DUMP in counts:  # the Turtle dump holds the same triples
        counts.setdefault(TURTLE_DUMP, counts[NTRIPLES_DUMP])
    current_app.extensions[COUNTS_KEY] = (build.build_id, counts)  # per build: a new one recounts
    return counts


def list_dumps(build: Build) -> list[DumpFile]:
    """Every regular file in the build's dumps folder, with size, checksum and statements."""
    checksums = build.layout.checksums_file
    sums = read_checksums(checksums) if checksums.is_file() else {}
    counts = statement_counts(build)
    return [
        DumpFile(
            path.name,
            urls.dump_file_url(path.name),
            path.stat().st_size,
            sums.get(path.name),
            counts.get(path.name),
        )
        for path in sorted(build.layout.dumps.iterdir())
        if path.is_file()
    ]


@bp.get("/dumps/")
def index() -> Response:
    """The list of dump files, as HTML or JSON."""
    fmt = negotiate_document((HTML, JSON))
    etag = current_build().etag_for("dumps", fmt.key)
    cached = not_modified(etag)
    if cached is not None:
        return cached
    files = list_dumps(current_build())
    if fmt is JSON:
        body = jsonify(build=current_build().build_id, files=[asdict(f) for f in files])
    else:
        body = Response(render_template("dumps.html", files=files), content_type=HTML.content_type)
    return finish_document(body, etag, location=urls.dumps_url(), alternates=[])


@bp.get("/dumps/<path:name>")
def dump_file(name: str) -> Response:
    """One file of the dumps folder, with ETag, Last-Modified and Range; nothing outside it."""
    folder = current_build().layout.dumps
    listed = {path.name: path for path in folder.iterdir() if path.is_file()}
    if name not in listed:
        abort(404, f"no dump file {name!r}; see {urls.dumps_url()} for the list")
    path = listed[name]
    media_type = next(
        (t for end, t in MEDIA_TYPES.items() if path.name.endswith(end)), "application/octet-stream"
    )
    size = path.stat().st_size
    header = request.headers.get("Range")
    if _is_empty_suffix_range(header):
        raise RequestedRangeNotSatisfiable(length=size)
    environ = dict(request.environ)
    if header is not None and not _is_single_byte_range(header):
        # RFC 9110: ignore (200, whole file) a Range with another unit, several ranges
        # (no multipart answers here) or bad syntax, rather than answering 416.
        environ.pop("HTTP_RANGE", None)
    response = send_file(path, mimetype=media_type, conditional=False, etag=True, max_age=3600)
    try:
        response.make_conditional(environ, accept_ranges=True, complete_length=size)
    except RequestedRangeNotSatisfiable:
        response.close()
        raise
    del response.headers["Date"]  # the HTTP server adds its own
    return response


def _is_empty_suffix_range(header: str | None) -> bool:
    """``bytes=-0``: a suffix of no bytes, unsatisfiable by RFC 9110 (werkzeug sends it all)."""
    if header is None:
        return False
    unit, _, ranges = header.partition("=")
    spec = ranges.strip()
    return unit.strip().lower() == "bytes" and spec.startswith("-") and not spec[1:].strip("0")


def _is_single_byte_range(header: str) -> bool:
    """True for one well-formed byte range, the only kind answered with 206 here."""
    parsed = parse_range_header(header)
    return parsed is not None and parsed.units == "bytes" and len(parsed.ranges) == 1


def rdf_file_document(
    path: Path,
    what: str,
    url_of: Callable[..., str],
    added: Callable[[list[ox.Triple]], list[ox.Triple]] | None = None,
) -> Response:
    """A Turtle file of the build by negotiation: re-serialised RDF, or HTML showing the Turtle.
    ``added`` gives statements the server adds to the file's (shown in every form)."""
    fmt = negotiate_document()
    if not path.is_file():
        abort(404, f"this build has no {what}")
    etag = current_build().etag_for(path.name, fmt.key)
    cached = not_modified(etag)
    if cached is not None:
        return cached
    if fmt is HTML and added is None:
        text = path.read_text(encoding="utf-8")
        body = Response(
            render_template("turtle.html", title=what, turtle=text), content_type=HTML.content_type
        )
        return finish_negotiated(body, etag, fmt, url_of)
    try:
        triples = [quad.triple for quad in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE)]
    except SyntaxError:
        log.exception("%s is not valid Turtle", path)
        abort(500, f"the {what} file of this build is not valid Turtle; rebuild it")
    if added is not None:
        # grouped by subject, so the added statements sit with the rest of their subject's
        triples = sorted(
            dict.fromkeys([*triples, *added(triples)]),
            key=lambda t: (str(t.subject), str(t.predicate), str(t.object)),
        )
    if fmt is HTML:
        prefixes = used_prefixes(triples)
        text = (
            ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=prefixes) or b""
        ).decode()
        body = Response(
            render_template("turtle.html", title=what, turtle=text), content_type=HTML.content_type
        )
    else:
        body = rdf_response(triples, fmt)
    return finish_negotiated(body, etag, fmt, url_of)


_DCAT_DATASET = ox.NamedNode(str(DCAT.Dataset))
_DCAT_DISTRIBUTION = ox.NamedNode(str(DCAT.Distribution))
_LICENSE = ox.NamedNode(str(DCTERMS.license))
_TYPE = ox.NamedNode(str(RDF.type))


def licence_statements(triples: list[ox.Triple]) -> list[ox.Triple]:
    """``dcterms:license`` for the dataset and each distribution the VoID/DCAT description
    names, when it does not state one itself (the build's description has no licence)."""
    licence = data_license()
    if licence is None:
        return []
    licensed = {t.subject for t in triples if t.predicate == _LICENSE}
    described = {
        t.subject
        for t in triples
        if t.predicate == _TYPE and t.object in (_DCAT_DATASET, _DCAT_DISTRIBUTION)
    }
    return [
        ox.Triple(subject, _LICENSE, ox.NamedNode(licence))
        for subject in sorted(described - licensed, key=str)
    ]


@bp.get("/void")
def void() -> Response:
    """The VoID/DCAT description of the dataset and its dumps, with the data's licence."""
    return rdf_file_document(
        current_build().layout.void_file, "VoID description", urls.void_url, licence_statements
    )


@bp.get("/.well-known/void")
def well_known_void() -> Response:
    """The VoID description where RFC 5785 clients look for it (the same document as /void)."""
    return void()


@bp.get("/report/validation")
def validation_report() -> Response:
    """The SHACL validation report of the build: a page grouping the problems, or the RDF."""
    path = current_build().layout.validation_file
    if negotiate_document() is not HTML:
        return rdf_file_document(path, "SHACL validation report", urls.report_url)
    if not path.is_file():
        abort(404, "this build has no SHACL validation report")
    etag = current_build().etag_for("report-page", *request.accept_languages.values())
    cached = not_modified(etag)
    if cached is not None:
        return cached
    try:
        view = validation_view(path, Labeller.for_request())
    except ReportFileError as error:
        log.exception("cannot show the validation report")
        abort(500, str(error))
    summary = current_build().summary
    body = Response(
        render_template("report.html", view=view, summary=summary),
        content_type=HTML.content_type,
    )
    body.vary.add("Accept-Language")
    return finish_negotiated(body, etag, HTML, urls.report_url)


def quarantine_document(fmt: conneg.Offer) -> Response:
    """The releases this build did not publish and why, as HTML or JSON."""
    build = current_build()
    etag = build.etag_for("quarantine", fmt.key)
    cached = not_modified(etag)
    if cached is not None:
        return cached
    try:
        entries = read_quarantine(build.layout.quarantine_file)
    except ReportFileError as error:
        log.exception("cannot show the quarantine")
        abort(500, str(error))
    if fmt is JSON:
        body = jsonify(
            build=build.build_id,
            quarantined=len(entries),
            releases=[entry.to_json() for entry in entries],
        )
        location = urls.quarantine_url(extension="json")
        alternates = [(urls.quarantine_url(), HTML.media_type)]
    else:
        html = render_template("quarantine.html", entries=entries, build=build)
        body = Response(html, content_type=HTML.content_type)
        location = urls.quarantine_url()
        alternates = [(urls.quarantine_url(extension="json"), JSON.media_type)]
    return finish_document(body, etag, location=location, alternates=alternates)


@bp.get("/report/quarantine")
def quarantine() -> Response:
    """The quarantine by negotiation: HTML for a browser, JSON for ``Accept: application/json``."""
    return quarantine_document(negotiate_document((HTML, JSON)))


@bp.get("/report/quarantine.json")
def quarantine_json() -> Response:
    """The quarantine as JSON, whatever the Accept header says."""
    g.document_format = JSON
    return quarantine_document(JSON)
