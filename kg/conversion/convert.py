"""Converts one release file into release graphs (N-Triples), or says why a release is unusable."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kg.conversion.cache import CachedRelease, CacheEntry
from kg.conversion.mapping import SourceFile, map_release
from kg.errors import InputError
from kg.extraction.records import ReleaseRecord
from kg.ingest.inputs import InputFile
from kg.rdf.label_index import LabelIndex
from kg.rdf.quads import ntriples_text

log = logging.getLogger(__name__)

#: What reads one release file into records: kg.extraction.pipeline.read_releases, or a
#: stand-in with its shape.
ReadFunction = Callable[[Path], list[ReleaseRecord]]
_FIELD_IN_ERROR = re.compile(r"field '([^']+)'")


@dataclass(frozen=True)
class Converter:
    """What converting needs besides the file: the reader, the label index and the base IRI."""

    read: ReadFunction
    labels: LabelIndex
    base: str


def convert_file(source: InputFile, sha256: str, converter: Converter) -> CacheEntry:
    """Every release of one file, mapped to RDF; unusable ones carry their problem instead."""
    try:
        records = converter.read(source.path)
    except InputError as exc:
        return _file_problem(source, sha256, "read", exc.field, exc.describe())
    except OSError as exc:  # gone or unreadable since it was found
        return unreadable_file(source, exc)
    except Exception as exc:  # a reader bug must cost one file, not the whole build
        log.exception("reader failed on %s", source.path)
        return _file_problem(source, sha256, "read", None, f"the reader failed: {exc!r}")
    releases = tuple(_convert_record(record, source, sha256, converter) for record in records)
    if not releases:
        return _file_problem(source, sha256, "read", None, "the file holds no release")
    return CacheEntry(file_name=source.name, sha256=sha256, releases=releases)


def _convert_record(
    record: ReleaseRecord, source: InputFile, sha256: str, converter: Converter
) -> CachedRelease:
    data = record.to_dict()
    if record.error is not None or not record.title:
        reason = record.error or "the release has no title"
        return CachedRelease(None, data, "", _problem("parse", _field_of(reason, "title"), reason))
    try:
        mapped = map_release(
            record,
            SourceFile(name=source.name, sha256=sha256, reader=record.reader),
            converter.labels,
            base=converter.base,
        )
    except (ValueError, TypeError) as exc:
        log.exception("mapping failed on %s item %d", source.path, record.item)
        return CachedRelease(None, data, "", _problem("map", None, f"cannot map to RDF: {exc}"))
    for warning in mapped.warnings:
        log.info("%s item %d: %s", source.name, record.item, warning)
    data["warnings"] = [*data.get("warnings", ()), *mapped.warnings]
    return CachedRelease(mapped.key, data, ntriples_text(mapped.triples), None)


def unreadable_file(source: InputFile, error: OSError) -> CacheEntry:
    """The entry of a file that cannot be opened (a dangling link, no permission): quarantined."""
    problem = f"{source.path}: cannot read the file: {error.strerror or error}"
    hint = "check that it exists and that you may read it, or remove it"
    return _file_problem(source, "", "read", None, f"{problem} ({hint})")


def refused_file(source: InputFile, error: InputError) -> CacheEntry:
    """The entry of a file the build will not read (too large): quarantined at stage "read"."""
    return _file_problem(source, "", "read", error.field, error.describe())


def _file_problem(
    source: InputFile, sha256: str, stage: str, field: str | None, reason: str
) -> CacheEntry:
    record = {"source_file": str(source.path), "item": 0, "error": reason}
    release = CachedRelease(None, record, "", _problem(stage, field, reason))
    return CacheEntry(file_name=source.name, sha256=sha256, releases=(release,))


def _problem(stage: str, field: str | None, reason: str) -> dict[str, str | None]:
    return {"stage": stage, "field": field, "reason": reason}


def _field_of(reason: str, default: str | None) -> str | None:
    """The field an error message names (``InputError.describe()`` writes ``field 'x':``)."""
    match = _FIELD_IN_ERROR.search(reason)
    return match.group(1) if match else (default if "title" in reason.lower() else None)
