"""The labels of linked things, asked once per build: a document rendered again (the document
cache off) is the same bytes without asking the store again, and a new build's labels show."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from kg.rdf.uris import DEFAULT_BASE
from server.labels import label_cache
from tests.conftest import SERVER_DATA, make_test_build
from tests.test_cache import publish

OFFICE_DATA = "/data/field-operation/programme-office-in-dushanbe.ttl"
OFFICE_TRIG = "/data/field-operation/programme-office-in-dushanbe.trig"
OFFICE_PAGE = "/page/field-operation/programme-office-in-dushanbe"


@pytest.fixture
def uncached_app(tmp_path: Path) -> Iterator[Flask]:
    """An app without a document cache (every request renders) that looks for a new build on
    every request."""
    from server import create_app
    from server.pool import close_query_pool

    out = make_test_build(tmp_path / "build")
    app = create_app(
        {
            "TESTING": True,
            "BUILD_DIR": str(out),
            "BASE": DEFAULT_BASE,
            "BUILD_CHECK_INTERVAL": 0,
            "DOCUMENT_CACHE_BYTES": 0,
        }
    )
    yield app
    close_query_pool(app)


def test_a_document_rendered_again_uses_the_kept_labels_and_is_the_same(
    uncached_app: Flask,
) -> None:
    client = uncached_app.test_client()
    first = {path: client.get(path).data for path in (OFFICE_DATA, OFFICE_TRIG, OFFICE_PAGE)}
    assert b"Tajikistan" in first[OFFICE_DATA]
    misses = label_cache(uncached_app).stats().misses
    again = {path: client.get(path).data for path in first}
    assert again == first
    stats = label_cache(uncached_app).stats()
    assert stats.misses == misses  # no label asked of the store a second time
    assert stats.hits > 0


def test_a_new_build_shows_its_own_labels(uncached_app: Flask, tmp_path: Path) -> None:
    client = uncached_app.test_client()
    for path in (OFFICE_DATA, OFFICE_TRIG, OFFICE_PAGE):
        assert "Tajikistan" in client.get(path).get_data(as_text=True)
    renamed = tmp_path / "renamed.trig"
    text = (SERVER_DATA / "sample.trig").read_text(encoding="utf-8")
    renamed.write_text(text.replace('"Tajikistan"@en', '"Tadzhikistan"@en'), encoding="utf-8")
    publish(renamed, tmp_path / "build", "20240108T000000Z-labels")
    for path in (OFFICE_DATA, OFFICE_TRIG, OFFICE_PAGE):
        body = client.get(path).get_data(as_text=True)
        assert "Tadzhikistan" in body, path
        assert "Tajikistan" not in body, path
