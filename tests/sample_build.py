"""A real build of the bundled samples, made once per test session, for the browse, search and
reconciliation tests (they need the six languages, the facets and the build's search index)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from kg.ingest.inputs import SOURCE_DATE_EPOCH
from kg.publish.build import BuildOptions, build
from kg.rdf.uris import DEFAULT_BASE
from server import create_app
from server.pool import close_query_pool

_BUILDS: dict[Path, Path] = {}


def sample_build(factory: pytest.TempPathFactory) -> Path:
    """``osce-kg build`` of the bundled samples into a session folder (built on first use)."""
    root = factory.getbasetemp()
    if root not in _BUILDS:
        out = factory.mktemp("sample-build") / "out"
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv(SOURCE_DATE_EPOCH, "1704412800")
            logging.getLogger("kg").setLevel(logging.ERROR)  # the broken samples are expected
            build(BuildOptions(out_dir=out))
        _BUILDS[root] = out
    return _BUILDS[root]


def sample_app(build_dir: Path, cache_dir: Path) -> Iterator[Flask]:
    """The server over a build, its own search indexes written to ``cache_dir``."""
    app = create_app(
        {
            "TESTING": True,
            "BUILD_DIR": str(build_dir),
            "BASE": DEFAULT_BASE,
            "SEARCH_CACHE_DIR": str(cache_dir),
        }
    )
    yield app
    close_query_pool(app)
