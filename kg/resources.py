"""Locates the files shipped inside the installed distribution (ontology, shapes, data)."""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

_SOURCE_ROOT = Path(__file__).resolve().parent.parent


def _shipped(package: str, source_folder: str) -> Traversable:
    """A folder shipped as ``package`` in a wheel, or the top-level source folder it comes from.

    In a wheel ``ontology/`` and ``shapes/`` are the subpackages ``kg.ontology`` and
    ``kg.shapes``; in a source checkout (or an editable install) they stay at the top level.
    """
    try:
        return resources.files(package)
    except ModuleNotFoundError:
        folder = _SOURCE_ROOT / source_folder
        if not folder.is_dir():
            raise
        return folder


def ontology_dir() -> Traversable:
    """The folder of ontology Turtle files (top-level ``ontology/`` in the source tree)."""
    return _shipped("kg.ontology", "ontology")


def shapes_dir() -> Traversable:
    """The folder of SHACL shape files (top-level ``shapes/`` in the source tree)."""
    return _shipped("kg.shapes", "shapes")


def reference_dir() -> Traversable:
    """The folder of curated facts tables."""
    return resources.files("kg.data.reference")


def samples_dir() -> Traversable:
    """The folder of bundled sample releases and their gold records."""
    return resources.files("kg.data.samples")


def turtle_files(folder: Traversable) -> list[Traversable]:
    """The ``.ttl`` files of a shipped folder, sorted by name for deterministic builds."""
    return sorted(
        (f for f in folder.iterdir() if f.is_file() and f.name.endswith(".ttl")),
        key=lambda f: f.name,
    )
