"""Writes the deterministic dump files of a build: Turtle, N-Triples, N-Quads and SHA256SUMS."""

from __future__ import annotations

import gzip
import hashlib
import io
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from kg.publish.chunks import (
    ChunkCache,
    DatasetStats,
    MemberWriter,
    chunks_of,
    gzip_member,
    quad_counts,
    triple_counts,
    turtle_body,
    turtle_head,
    write_members,
)

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
    folder: Path,
    quads: Path,
    triples: Path,
    *,
    prefixes: Mapping[str, str],
    cache: ChunkCache,
) -> tuple[list[DumpFile], DatasetStats]:
    """Writes the three dumps into ``folder`` from the sorted distinct quads and triples files;
    returns them and what the VoID counts in them.

    N-Triples and N-Quads are those files compressed; the Turtle is the merge of all graphs,
    written by pyoxigraph (its prefix lines sorted: pyoxigraph writes them in hash-map order,
    which changes from one process to the next). Each dump is a series of gzip members, one
    per content-defined chunk (``kg.publish.chunks``), each taken from ``cache`` when a build
    has compressed the same lines before.
    """
    turtle_path, ntriples_path, nquads_path = (
        folder / TURTLE_DUMP,
        folder / NTRIPLES_DUMP,
        folder / NQUADS_DUMP,
    )
    turtle, ntriples, nquads = (MemberWriter(p) for p in (turtle_path, ntriples_path, nquads_path))
    try:
        head = turtle_head(prefixes)
        outputs = [("nt", ntriples, triple_counts), ("ttl", turtle, turtle_body(prefixes))]
        chunks = chunks_of(triples)
        first = next(chunks, None)
        if first is not None:  # no statements, no prefixes (as pyoxigraph writes it)
            turtle.write(gzip_member(head))
            chunks = itertools.chain([first], chunks)
        stats = write_members(chunks, outputs, cache)
        stats.add(
            _quad_stats(write_members(chunks_of(quads), [("nq", nquads, quad_counts)], cache))
        )
        for writer in (turtle, ntriples, nquads):
            writer.finish()
    finally:
        for writer in (turtle, ntriples, nquads):
            writer.close()
    written = [
        _described(turtle, stats.triples),
        _described(ntriples, stats.triples),
        _described(nquads, stats.quads),
    ]
    return written, stats


def _quad_stats(stats: DatasetStats) -> dict[str, object]:
    return {"quads": stats.quads, "graphs": stats.graphs}


def _described(writer: MemberWriter, statements: int) -> DumpFile:
    name = writer.path.name
    return DumpFile(
        name=name,
        media_type=MEDIA_TYPES.get(name, "application/octet-stream"),
        byte_size=writer.size,
        sha256=writer.sha256.hexdigest(),
        statements=statements,
        compressed=True,
    )


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
