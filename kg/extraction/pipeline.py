"""Reads a release file and extracts its releases: the read -> extract step every command uses."""

from __future__ import annotations

import logging
from pathlib import Path

from kg.extraction.extract import extract_release
from kg.extraction.gazetteer import Gazetteer
from kg.extraction.linking import default_gazetteer
from kg.extraction.records import ReleaseRecord
from kg.ingest.formats import read_raw

log = logging.getLogger(__name__)


def read_releases(path: Path, gazetteer: Gazetteer | None = None) -> list[ReleaseRecord]:
    """Every release in one saved file, extracted and linked, in file order.

    ``gazetteer`` defaults to the names of the reference data under the default base IRI.
    Raises OSError when the file cannot be opened; a release that cannot be used has
    ``error`` set and the others still come back.
    """
    if gazetteer is None:
        gazetteer = default_gazetteer()
    records = [extract_release(raw, gazetteer) for raw in read_raw(Path(path))]
    for record in records:
        if record.error:
            log.info("%s", record.error)
    return records
