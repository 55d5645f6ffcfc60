"""Locates the files shipped inside the installed distribution (ontology, shapes, data)."""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable


def ontology_dir() -> Traversable:
    """The folder of ontology Turtle files (top-level ``ontology/`` in the source tree)."""
    return resources.files("kg.ontology")


def shapes_dir() -> Traversable:
    """The folder of SHACL shape files (top-level ``shapes/`` in the source tree)."""
    return resources.files("kg.shapes")


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
