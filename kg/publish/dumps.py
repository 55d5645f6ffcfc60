"""Writes the deterministic dump files of a build: Turtle, N-Triples, N-Quads and SHA256SUMS."""

from __future__ import annotations

import gzip
import hashlib
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from kg.rdf.quads import serialize_rdf, turtle_bytes

TURTLE_DUMP = "osce-kg.ttl.gz"
NTRIPLES_DUMP = "osce-kg.nt.gz"
NQUADS_DUMP = "osce-kg.nq.gz"
VOID_FILE = "void.ttl"
SUMS_FILE = "SHA256SUMS"

#: media types of the files a build publishes in dumps/, by file name
MEDIA_TYPES = {
    TURTLE_DUMP: "text/turtle",
    NTRIPLES_DUMP: "application/n-triples",
    NQUADS_DUMP: "application/n-quads",
    VOID_FILE: "text/turtle",
}


@dataclass(frozen=True)
class DumpFile:
    """One written dump: its name, size, checksum and how many statements it holds."""

    name: str
    media_type: str
    byte_size: int
    sha256: str
    statements: int
    compressed: bool


def write_gzip(path: Path, data: bytes) -> None:
    """Gzips ``data`` into ``path`` without file name and with mtime 0: equal data, equal bytes."""
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=6) as gz:
        gz.write(data)
    path.write_bytes(buffer.getvalue())


def sha256_file(path: Path) -> str:
    """The hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def describe_file(path: Path, *, statements: int) -> DumpFile:
    """The :class:`DumpFile` record of a file already written."""
    return DumpFile(
        name=path.name,
        media_type=MEDIA_TYPES.get(path.name, "application/octet-stream"),
        byte_size=path.stat().st_size,
        sha256=sha256_file(path),
        statements=statements,
        compressed=path.name.endswith(".gz"),
    )


def write_rdf_dumps(
    folder: Path, quads: list[ox.Quad], *, prefixes: Mapping[str, str]
) -> list[DumpFile]:
    """Writes the three dumps of ``quads`` (already in canonical order) into ``folder``.

    N-Triples and N-Quads are canonical and sorted; the Turtle is the union of all graphs,
    written by pyoxigraph from the sorted triples, so it is as deterministic as its input.
    """
    triples = _union_triples(quads)
    nquads = serialize_rdf(quads, ox.RdfFormat.N_QUADS)
    ntriples = serialize_rdf(triples, ox.RdfFormat.N_TRIPLES)
    turtle = turtle_bytes(triples, prefixes)
    written = []
    for name, data, count in (
        (TURTLE_DUMP, turtle, len(triples)),
        (NTRIPLES_DUMP, ntriples, len(triples)),
        (NQUADS_DUMP, nquads, len(quads)),
    ):
        write_gzip(folder / name, data)
        written.append(describe_file(folder / name, statements=count))
    return written


def _union_triples(quads: Iterable[ox.Quad]) -> list[ox.Triple]:
    """The distinct triples of all graphs, sorted by their N-Triples text."""
    unique = {str(q.triple): q.triple for q in quads}
    return [unique[key] for key in sorted(unique)]


def write_checksums(folder: Path, names: Iterable[str]) -> Path:
    """Writes ``SHA256SUMS`` (the ``sha256sum`` format, sorted by name) for the named files."""
    lines = [f"{sha256_file(folder / name)}  {name}\n" for name in sorted(names)]
    path = folder / SUMS_FILE
    path.write_text("".join(lines), encoding="utf-8")
    return path


def read_checksums(path: Path) -> dict[str, str]:
    """``SHA256SUMS`` as {file name: hex digest} (``sha256sum`` format; ``*`` binary marks and
    extra spaces are allowed, as other tools write them)."""
    sums = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        digest, _, name = line.strip().partition(" ")
        if digest and name.strip():
            sums[name.strip().lstrip("*")] = digest
    return sums
