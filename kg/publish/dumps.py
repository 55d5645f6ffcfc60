"""Writes the deterministic dump files of a build: Turtle, N-Triples, N-Quads and SHA256SUMS."""

from __future__ import annotations

import gzip
import hashlib
import io
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

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


def gzip_file(source: Path, target: Path, *, head: Iterable[bytes] = ()) -> None:
    """Gzips ``head`` then the bytes of ``source`` into ``target``, as :func:`write_gzip` does
    (no file name, mtime 0), a megabyte at a time: equal bytes in, equal bytes out."""
    with (
        target.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as gz,
    ):
        for part in head:
            gz.write(part)
        with source.open("rb") as handle:
            shutil.copyfileobj(handle, gz, 1 << 20)


def write_rdf_dumps(
    folder: Path, quads: Path, triples: Path, *, prefixes: Mapping[str, str], counts: DumpCounts
) -> list[DumpFile]:
    """Writes the three dumps into ``folder`` from the sorted distinct quads and triples files.

    N-Triples and N-Quads are those files compressed; the Turtle is the merge of all graphs,
    written by pyoxigraph from the sorted triples (streamed), with its prefix lines sorted
    (pyoxigraph writes them in hash-map order, which changes from one process to the next).
    """
    turtle = folder / "osce-kg.ttl.tmp"
    ox.serialize(
        ox.parse(path=str(triples), format=ox.RdfFormat.N_TRIPLES),
        output=str(turtle),
        format=ox.RdfFormat.TURTLE,
        prefixes=dict(prefixes),
    )
    with turtle.open("rb") as handle:
        head = []
        for line in handle:
            if not line.startswith(b"@prefix "):
                rest = line
                break
            head.append(line)
        else:
            rest = b""
        body = folder / "osce-kg.ttl.body"
        with body.open("wb") as target:
            target.write(rest)
            shutil.copyfileobj(handle, target, 1 << 20)
    turtle.unlink()
    written = []
    for name, source, prefix, count in (
        (TURTLE_DUMP, body, sorted(head), counts.triples),
        (NTRIPLES_DUMP, triples, [], counts.triples),
        (NQUADS_DUMP, quads, [], counts.quads),
    ):
        gzip_file(source, folder / name, head=prefix)
        written.append(describe_file(folder / name, statements=count))
    body.unlink()
    return written


@dataclass(frozen=True)
class DumpCounts:
    """How many statements the dumps hold."""

    triples: int
    quads: int


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
