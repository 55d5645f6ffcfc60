"""Writes the gzip dumps as content-defined chunks, each one gzip member, cached by content.

A gzip file may hold several members one after the other; every gzip reader (``gzip -dc``,
``zcat``, Python's ``gzip``) reads them as one stream. The dumps are cut into members at
*content-defined* places: before a line whose subject differs from the previous line's and
whose subject's CRC-32 is 0 modulo :data:`CHUNK_MODULUS` (or, in a run of subjects that never
hits that rule, at the first subject change past :data:`MAX_CHUNK_BYTES`). The places depend
only on the lines around them, so a build from scratch and a rebuild cut the same statements
into the same chunks, and a change to a few statements changes only the chunks holding them.

Each chunk's compressed member (and what the VoID counts in it) is kept in ``DIR/.cache/chunks``
by the SHA-256 of its uncompressed lines; a rebuild compresses only the chunks it has not seen.
A subject's statements are never split between chunks, so the Turtle body, written chunk by
chunk, is the Turtle of the whole merge (pyoxigraph starts each subject afresh).
"""

from __future__ import annotations

import bisect
import contextlib
import gzip
import hashlib
import json
import os
import threading
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import pyoxigraph as ox

from kg.rdf.vocab import RDF, SCHEMA, XSD

#: the folder in ``DIR/.cache`` that holds compressed chunks
CHUNKS = "chunks"
#: a chunk ends before a new subject whose CRC-32 is 0 modulo this (about 1 MB a chunk)
CHUNK_MODULUS = 512
#: ... or before the first new subject once it holds this many bytes
MAX_CHUNK_BYTES = 4 << 20
#: gzip level of every member (the dumps' level before they were chunked)
GZIP_LEVEL = 6
#: changes when a chunk's member or counts would change for the same lines
CHUNK_FORMAT = "osce-kg chunk 1"
_TYPE = f"<{RDF.type}>".encode()
_DATE_PUBLISHED = f"<{SCHEMA.datePublished}>".encode()
_DATE_SUFFIX = f'"^^<{XSD.date}> .\n'.encode()


@dataclass
class DatasetStats:
    """What the VoID says of a build's statements, summed over the chunks of the dumps."""

    quads: int = 0
    triples: int = 0
    subjects: int = 0
    #: statements per named graph
    graphs: Counter[str] = field(default_factory=Counter)
    #: distinct subjects per class (the merge holds each ``s rdf:type C`` once)
    classes: Counter[str] = field(default_factory=Counter)
    first_date: str | None = None
    last_date: str | None = None

    def add(self, counts: Mapping[str, Any]) -> None:
        """Adds one chunk's counts (subjects never straddle chunks, so they add up too)."""
        self.quads += int(counts.get("quads", 0))
        self.triples += int(counts.get("triples", 0))
        self.subjects += int(counts.get("subjects", 0))
        self.graphs.update(counts.get("graphs", {}))
        self.classes.update(counts.get("classes", {}))
        first, last = counts.get("first_date"), counts.get("last_date")
        if first is not None and (self.first_date is None or first < self.first_date):
            self.first_date = first
        if last is not None and (self.last_date is None or last > self.last_date):
            self.last_date = last


def gzip_member(data: bytes) -> bytes:
    """One gzip member of ``data``: no file name, mtime 0, level 6 (equal data, equal bytes)."""
    return gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0)


def chunks_of(path: Path) -> Iterator[bytes]:
    """The lines of a sorted N-Triples or N-Quads file, cut at content-defined subject changes."""
    with path.open("rb") as handle:
        yield from chunks_of_lines(handle)


def chunks_of_lines(source: Iterable[bytes]) -> Iterator[bytes]:
    """Sorted N-Triples or N-Quads lines, cut at content-defined subject changes."""
    crc32 = zlib.crc32
    modulus = CHUNK_MODULUS
    limit = MAX_CHUNK_BYTES
    lines: list[bytes] = []
    size = 0
    previous = b""
    for line in source:
        subject = line[: line.find(b" ")]
        if subject != previous:
            if lines and (crc32(subject) % modulus == 0 or size >= limit):
                yield b"".join(lines)
                lines, size = [], 0
            previous = subject
        lines.append(line)
        size += len(line)
    if lines:
        yield b"".join(lines)


def subject_of(line: bytes) -> bytes:
    """The subject of an N-Triples or N-Quads line, as written."""
    return line[: line.find(b" ")]


def chunk_rule() -> str:
    """The chunking rule in force: a previous build's chunks are reused only under the same."""
    return f"{CHUNK_FORMAT} {CHUNK_MODULUS} {MAX_CHUNK_BYTES} {GZIP_LEVEL}"


@dataclass(frozen=True)
class Chunk:
    """One chunk of a dump: its first subject, the name of its member in the cache, and (for
    the N-Triples chunks) the name of its Turtle member."""

    first: str
    name: str
    turtle: str | None = None


class ChunkCache:
    """Compressed chunks and their counts in ``DIR/.cache/chunks``, by kind and digest."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.used: set[str] = set()
        self.compressed = 0  # chunks compressed by this build (the others came from the cache)
        self.reused = 0
        self._lock = threading.Lock()  # members are made by several threads

    def stored(self, name: str) -> tuple[bytes, dict[str, Any]] | None:
        """The gzip member and counts stored under ``name``, or None."""
        gz, meta = self.folder / f"{name}.gz", self.folder / f"{name}.json"
        with contextlib.suppress(OSError, ValueError):
            counts = json.loads(meta.read_text(encoding="utf-8"))
            member = gz.read_bytes()
            if isinstance(counts, dict) and member:
                with self._lock:
                    self.used.add(name)
                    self.reused += 1
                return member, counts
        return None

    def has(self, name: str) -> bool:
        """Whether a member is stored under ``name``."""
        return (self.folder / f"{name}.gz").is_file() and (self.folder / f"{name}.json").is_file()

    def member(self, kind: str, data: bytes, make: Any) -> tuple[str, bytes, dict[str, Any]]:
        """The name, gzip member and counts of one chunk of ``kind``: from the cache, or
        ``make(data)`` (returning the uncompressed output and the counts), compressed and
        stored."""
        digest = hashlib.sha256(f"{CHUNK_FORMAT}\x1f{kind}\x1f".encode() + data).hexdigest()
        name = f"{kind}-{digest}"
        found = self.stored(name)
        if found is not None:
            return name, *found
        with self._lock:
            self.used.add(name)
        gz, meta = self.folder / f"{name}.gz", self.folder / f"{name}.json"
        output, counts = make(data)
        member = gzip_member(output)
        self.folder.mkdir(parents=True, exist_ok=True)
        suffix = f".tmp{os.getpid()}-{threading.get_ident()}"
        for path, content in ((gz, member), (meta, json.dumps(counts).encode())):
            temporary = path.with_name(path.name + suffix)
            temporary.write_bytes(content)
            os.replace(temporary, path)
        with self._lock:
            self.compressed += 1
        return name, member, counts

    def prune(self) -> int:
        """Removes the chunks this build did not use; returns how many files."""
        if not self.folder.is_dir():
            return 0
        removed = 0
        for path in self.folder.iterdir():
            if path.name.split(".", 1)[0] not in self.used:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                removed += 1
        return removed


class MemberWriter:
    """A dump file written member by member, with its size and SHA-256 as it goes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sha256 = hashlib.sha256()
        self.size = 0
        self._handle: BinaryIO = path.open("wb")
        self.members = 0

    def write(self, member: bytes) -> None:
        self._handle.write(member)
        self.sha256.update(member)
        self.size += len(member)
        self.members += 1

    def finish(self) -> None:
        """Ends the dump: an empty one still gets one (empty) member, to be a gzip file."""
        if self.members == 0:
            self.write(gzip_member(b""))

    def close(self) -> None:
        self._handle.close()


def quad_counts(data: bytes) -> tuple[bytes, dict[str, Any]]:
    """A chunk of N-Quads as it is, and its quads per named graph."""
    lines = data.splitlines(keepends=True)
    graphs = Counter(line[line.rindex(b" <") + 2 : -4] for line in lines)
    return data, {"quads": len(lines), "graphs": {g.decode("utf-8"): n for g, n in graphs.items()}}


def triple_counts(data: bytes) -> tuple[bytes, dict[str, Any]]:
    """A chunk of N-Triples as it is, and its triples, subjects, class members and dates."""
    triples = subjects = 0
    classes: Counter[str] = Counter()
    dates: list[bytes] = []
    previous = None
    for line in data.splitlines(keepends=True):
        triples += 1
        subject, predicate, rest = line.split(b" ", 2)
        if subject != previous:
            subjects += 1
            previous = subject
        if predicate == _TYPE and rest.startswith(b"<"):
            classes[rest[1 : rest.index(b">")].decode("utf-8")] += 1
        elif predicate == _DATE_PUBLISHED and rest.endswith(_DATE_SUFFIX):
            dates.append(rest[1 : -len(_DATE_SUFFIX)])
    counts: dict[str, Any] = {"triples": triples, "subjects": subjects, "classes": dict(classes)}
    if dates:
        counts["first_date"] = min(dates).decode("utf-8")
        counts["last_date"] = max(dates).decode("utf-8")
    return data, counts


def turtle_head(prefixes: Mapping[str, str]) -> bytes:
    """The sorted ``@prefix`` lines pyoxigraph writes before any statement."""
    probe = ox.Triple(ox.NamedNode("urn:x:s"), ox.NamedNode("urn:x:p"), ox.Literal("o"))
    text = ox.serialize([probe], format=ox.RdfFormat.TURTLE, prefixes=dict(prefixes))
    assert text is not None
    return b"".join(
        sorted(line for line in text.splitlines(keepends=True) if line.startswith(b"@prefix "))
    )


def turtle_body(prefixes: Mapping[str, str]) -> Any:
    """A function turning a chunk of N-Triples into its Turtle (without the prefix lines)."""
    given = dict(prefixes)

    def make(data: bytes) -> tuple[bytes, dict[str, Any]]:
        text = ox.serialize(
            ox.parse(data, format=ox.RdfFormat.N_TRIPLES),
            format=ox.RdfFormat.TURTLE,
            prefixes=given,
        )
        assert text is not None
        lines = text.splitlines(keepends=True)
        start = 0
        while start < len(lines) and lines[start].startswith(b"@prefix "):
            start += 1
        return b"".join(lines[start:]), {}

    return make


def patched_sequence(
    old: list[Chunk], removed: set[bytes], added: set[bytes], cache: ChunkCache
) -> list[int | bytes] | None:
    """The chunks of a dump after a change, from the previous build's chunks: an old chunk's
    index where the chunk stays as it was, new chunk lines where the change reaches; the same
    chunks cutting the changed dump from scratch would give. None when an old chunk's member is
    not in the cache (or there was none): then the dump is written in full.

    A changed line goes to the chunk of its subject. The lines from the last chunk start before
    it that still holds by the content rule (a CRC boundary whose subject is still there, or the
    start), to the next unchanged chunk starting at a CRC boundary, are cut again: chunks start
    there whatever comes before, so outside those stretches the old cuts stand.
    """
    if not old:
        return None
    firsts = [chunk.first.encode("utf-8") for chunk in old]
    buckets: dict[int, tuple[set[bytes], set[bytes]]] = {}
    for group, side in ((removed, 0), (added, 1)):
        for line in group:
            index = max(bisect.bisect_right(firsts, subject_of(line)) - 1, 0)
            buckets.setdefault(index, (set(), set()))[side].add(line)
    contents: dict[int, list[bytes]] = {}

    def lines_of(index: int) -> list[bytes] | None:
        if index not in contents:
            found = cache.stored(old[index].name)
            if found is None:
                return None
            lines = gzip.decompress(found[0]).splitlines(keepends=True)
            if index in buckets:
                gone, new = buckets[index]
                lines = sorted((set(lines) - gone) | new)
            contents[index] = lines
        return contents[index]

    def boundary(index: int) -> bool | None:
        if index == 0:
            return True
        if zlib.crc32(firsts[index]) % CHUNK_MODULUS != 0:
            return False
        if index not in buckets:
            return True
        lines = lines_of(index)
        if lines is None:
            return None
        return bool(lines) and subject_of(lines[0]) == firsts[index]

    regions: list[tuple[int, int]] = []
    for index in sorted(buckets):
        start = index
        while True:
            holds = boundary(start)
            if holds is None:
                return None
            if holds:
                break
            start -= 1
        end = index + 1
        while end < len(old) and (end in buckets or zlib.crc32(firsts[end]) % CHUNK_MODULUS != 0):
            end += 1
        if regions and start <= regions[-1][1]:
            regions[-1] = (min(regions[-1][0], start), max(regions[-1][1], end))
        else:
            regions.append((start, end))
    sequence: list[int | bytes] = []
    done = 0
    for start, end in regions:
        sequence.extend(range(done, start))
        lines: list[bytes] = []
        for index in range(start, end):
            found = lines_of(index)
            if found is None:
                return None
            lines.extend(found)
        sequence.extend(chunks_of_lines(lines))
        done = end
    sequence.extend(range(done, len(old)))
    for item in sequence:
        if isinstance(item, int):
            kept = old[item]
            if not all(cache.has(name) for name in (kept.name, kept.turtle) if name is not None):
                return None
    return sequence
