"""Writes the deterministic dump files of a build: Turtle, N-Triples, N-Quads and SHA256SUMS."""

from __future__ import annotations

import gzip
import hashlib
import io
import itertools
import json
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kg.errors import BuildError
from kg.publish.chunks import (
    Chunk,
    ChunkCache,
    DatasetStats,
    MemberWriter,
    chunk_rule,
    chunks_of,
    gzip_member,
    patched_sequence,
    quad_counts,
    subject_of,
    triple_counts,
    turtle_body,
    turtle_head,
)

TURTLE_DUMP = "osce-kg.ttl.gz"
NTRIPLES_DUMP = "osce-kg.nt.gz"
NQUADS_DUMP = "osce-kg.nq.gz"
VOID_FILE = "void.ttl"
SUMS_FILE = "SHA256SUMS"
#: threads making the dumps' gzip members (one per core of the development machine)
THREADS = 2
#: chunks made ahead of the one being written
AHEAD = 8

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


@dataclass(frozen=True)
class DumpChunks:
    """The chunks of a build's dumps (``chunks.json`` in its folder): what the next build
    patches its dumps from."""

    rule: str
    ntriples: tuple[Chunk, ...]  # each with its Turtle member
    nquads: tuple[Chunk, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "ntriples": [[c.first, c.name, c.turtle] for c in self.ntriples],
            "nquads": [[c.first, c.name] for c in self.nquads],
        }

    @classmethod
    def read(cls, path: Path) -> DumpChunks | None:
        """The chunks a build recorded, or None (none recorded, another rule, unreadable)."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data["rule"] != chunk_rule():
                return None
            return cls(
                data["rule"],
                tuple(Chunk(str(f), str(n), str(t)) for f, n, t in data["ntriples"]),
                tuple(Chunk(str(f), str(n)) for f, n in data["nquads"]),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None


#: one chunk of a dump to write: its lines (new) or an earlier build's chunk (kept as it was)
ChunkItem = bytes | Chunk


def write_rdf_dumps(
    folder: Path,
    quads: Path,
    triples: Path,
    *,
    prefixes: Mapping[str, str],
    cache: ChunkCache,
) -> tuple[list[DumpFile], DatasetStats, DumpChunks]:
    """Writes the three dumps into ``folder`` from the sorted distinct quads and triples files;
    returns them, what the VoID counts in them and their chunks.

    N-Triples and N-Quads are those files compressed; the Turtle is the merge of all graphs,
    written by pyoxigraph (its prefix lines sorted: pyoxigraph writes them in hash-map order,
    which changes from one process to the next). Each dump is a series of gzip members, one
    per content-defined chunk (``kg.publish.chunks``), each taken from ``cache`` when a build
    has compressed the same lines before.
    """
    return _write_dumps(folder, chunks_of(triples), chunks_of(quads), prefixes, cache)


def patch_rdf_dumps(
    folder: Path,
    previous: DumpChunks,
    quads: tuple[set[bytes], set[bytes]],
    triples: tuple[set[bytes], set[bytes]],
    *,
    prefixes: Mapping[str, str],
    cache: ChunkCache,
) -> tuple[list[DumpFile], DatasetStats, DumpChunks] | None:
    """Writes the dumps of a build whose statements differ from a previous build's by the
    (removed, added) lines of ``quads`` and of ``triples`` (the merge): the previous build's
    chunks where the change does not reach, new chunks where it does; the bytes a build from
    scratch writes. None when the previous chunks are not all in the cache."""
    ntriples = patched_sequence(list(previous.ntriples), *triples, cache)
    nquads = patched_sequence(list(previous.nquads), *quads, cache)
    if ntriples is None or nquads is None:
        return None
    return _write_dumps(
        folder,
        (i if isinstance(i, bytes) else previous.ntriples[i] for i in ntriples),
        (i if isinstance(i, bytes) else previous.nquads[i] for i in nquads),
        prefixes,
        cache,
    )


def _write_dumps(
    folder: Path,
    ntriples_chunks: Iterable[ChunkItem],
    nquads_chunks: Iterable[ChunkItem],
    prefixes: Mapping[str, str],
    cache: ChunkCache,
) -> tuple[list[DumpFile], DatasetStats, DumpChunks]:
    paths = (folder / TURTLE_DUMP, folder / NTRIPLES_DUMP, folder / NQUADS_DUMP)
    turtle, ntriples, nquads = (MemberWriter(p) for p in paths)
    listed_triples: list[Chunk] = []
    listed_quads: list[Chunk] = []
    try:
        body = turtle_body(prefixes)
        chunks = iter(ntriples_chunks)
        first = next(chunks, None)
        if first is not None:  # no statements, no prefixes (as pyoxigraph writes it)
            turtle.write(gzip_member(turtle_head(prefixes)))
            chunks = itertools.chain([first], chunks)
        stats = DatasetStats()
        quad_stats = DatasetStats()
        with ThreadPoolExecutor(THREADS, thread_name_prefix="dumps") as pool:
            made = _in_order(pool, chunks, [("nt", triple_counts), ("ttl", body)], cache)
            for item, members in made:
                _write_item(item, members, (ntriples, turtle), stats, listed_triples)
            made = _in_order(pool, iter(nquads_chunks), [("nq", quad_counts)], cache)
            for item, members in made:
                _write_item(item, members, (nquads,), quad_stats, listed_quads)
        stats.add({"quads": quad_stats.quads, "graphs": quad_stats.graphs})
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
    chunks_made = DumpChunks(chunk_rule(), tuple(listed_triples), tuple(listed_quads))
    return written, stats, chunks_made


#: one chunk's gzip member in one dump: (name in the cache, member, counts)
Member = tuple[str, bytes, dict[str, Any]]


def _in_order(
    pool: ThreadPoolExecutor,
    items: Iterator[ChunkItem],
    kinds: list[tuple[str, Any]],
    cache: ChunkCache,
) -> Iterator[tuple[ChunkItem, list[Member]]]:
    """Each chunk with its members, in order, made by ``pool`` up to :data:`AHEAD` chunks
    ahead of the one being written (zlib and SHA-256 let go of Python's lock: the threads
    compress in parallel; the memory held is a few chunks)."""
    pending: deque[tuple[ChunkItem, Future[list[Member]]]] = deque()
    for item in items:
        pending.append((item, pool.submit(_members, item, kinds, cache)))
        if len(pending) > AHEAD:
            done, future = pending.popleft()
            yield done, future.result()
    while pending:
        done, future = pending.popleft()
        yield done, future.result()


def _members(item: ChunkItem, kinds: list[tuple[str, Any]], cache: ChunkCache) -> list[Member]:
    """One chunk's member in each of its dumps: a new chunk compressed (or from the cache by
    its content), an earlier build's taken from the cache by name."""
    if isinstance(item, bytes):
        return [cache.member(kind, item, make) for kind, make in kinds]
    members = []
    for name in [item.name, item.turtle][: len(kinds)]:
        assert name is not None
        found = cache.stored(name)
        if found is None:  # checked before writing began; gone since: a clear error
            raise BuildError(f"the dump chunk {name} left the cache during the build; build again")
        members.append((name, *found))
    return members


def _write_item(
    item: ChunkItem,
    members: list[Member],
    writers: tuple[MemberWriter, ...],
    stats: DatasetStats,
    listed: list[Chunk],
) -> None:
    """Writes one chunk's members into their dumps, adds its counts and lists the chunk."""
    for writer, (_, member, counts) in zip(writers, members, strict=True):
        writer.write(member)
        stats.add(counts)
    if isinstance(item, bytes):
        names = [name for name, _, _ in members]
        first = subject_of(item).decode("utf-8")
        listed.append(Chunk(first, names[0], names[1] if len(names) > 1 else None))
    else:
        listed.append(item)


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
