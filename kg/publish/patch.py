"""Makes a build's store from the previous build's store when only a few files changed.

The previous store is copied with its immutable table files hard-linked (so neither build can
change the other's), then patched: the quads of the runs the previous build had and this one
has not are removed, those of the runs this one has and the previous had not are added, and
the default graph (the RDF merge of the named graphs) follows: a triple of an added quad is
added to it, and a triple of a removed quad leaves it only when no named graph still holds it.
The store then holds the quads a bulk load of the same runs would give.

Blank nodes are given new labels by a bulk load, so a patch cannot name them: runs with blank
nodes are loaded in full, as are changes too large to be worth patching.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from kg.publish.runs import Run
from kg.rdf.vocab import RDF

RDF_TYPE = str(RDF.type)

#: a change larger than this share of the build's quads is bulk-loaded, not patched
PATCH_SHARE = 0.25


@dataclass(frozen=True)
class StorePatch:
    """What a patch removes and adds: N-Quads lines of named graphs."""

    removed: frozenset[str]
    added: frozenset[str]


def copy_store(source: Path, target: Path) -> None:
    """Copies a closed store folder: the immutable table files (``.sst``) as hard links, the
    rest (manifest, options, logs) as copies, so changing the copy never changes the source."""
    target.mkdir(parents=True)
    for path in source.iterdir():
        if path.suffix == ".sst":
            try:
                os.link(path, target / path.name)
            except OSError:  # another file system: copy
                shutil.copy2(path, target / path.name)
        elif path.is_file():
            shutil.copy2(path, target / path.name)


def plan_patch(old: Sequence[Run], new: Sequence[Run]) -> StorePatch | None:
    """The patch from a store of the ``old`` runs to one of the ``new`` runs, or None when a
    bulk load is the better way (blank nodes, or a large share of the quads changed)."""
    old_ids = {run.id for run in old}
    new_ids = {run.id for run in new}
    gone = [run for run in old if run.id not in new_ids]
    fresh = [run for run in new if run.id not in old_ids]
    total = sum(run.quads.stat().st_size for run in new)
    if sum(run.quads.stat().st_size for run in fresh) > 2 * PATCH_SHARE * max(total, 1):
        return None  # no need to read them: too much is new
    removed = _lines(gone)
    added = _lines(fresh)
    patch = StorePatch(frozenset(removed - added), frozenset(added - removed))
    changed = sum(len(line) for line in (*patch.removed, *patch.added))
    if changed > PATCH_SHARE * max(total, 1):
        return None
    if any("_:" in line for line in (*patch.removed, *patch.added)):
        return None  # a blank node's label in the store is not the one in the run
    return patch


def _lines(runs: Iterable[Run]) -> set[str]:
    lines: set[str] = set()
    for run in runs:
        with run.quads.open("r", encoding="utf-8") as handle:
            lines.update(handle)
    return lines


@dataclass(frozen=True)
class PatchApplied:
    """What a patch changed: the IRIs whose statements changed (subjects, predicates and
    classes), and the (removed, added) lines of the quads and of the merge's triples."""

    touched: set[str]
    quads: tuple[set[bytes], set[bytes]]
    triples: tuple[set[bytes], set[bytes]]


def apply_patch(store_folder: Path, patch: StorePatch) -> PatchApplied:
    """Applies a patch to the (copied) store in ``store_folder``; says what changed."""
    store = ox.Store(str(store_folder))
    removed = _quads(patch.removed)
    added = _quads(patch.added)
    default = ox.DefaultGraph()
    new_triples = {
        _triple_line(line)
        for line, quad in added
        if ox.Quad(quad.subject, quad.predicate, quad.object, default) not in store
    }
    for _, quad in removed:
        store.remove(quad)
    store.extend(quad for _, quad in added)
    for graph in {quad.graph_name for _, quad in removed}:
        if next(iter(store.quads_for_pattern(None, None, None, graph)), None) is None:
            store.remove_graph(graph)  # a bulk load names no graph without quads
    gone_triples = set()
    for line, quad in removed:
        if not any(
            not isinstance(found.graph_name, ox.DefaultGraph)
            for found in store.quads_for_pattern(quad.subject, quad.predicate, quad.object)
        ):
            store.remove(ox.Quad(quad.subject, quad.predicate, quad.object, default))
            gone_triples.add(_triple_line(line))
    store.extend(ox.Quad(q.subject, q.predicate, q.object, default) for _, q in added)
    store.flush()
    del store
    return PatchApplied(
        _touched(quad for _, quad in removed + added),
        ({line.encode() for line, _ in removed}, {line.encode() for line, _ in added}),
        (gone_triples, new_triples),
    )


def _triple_line(quad_line: str) -> bytes:
    """The N-Triples line of a named graph's N-Quads line (as the runs' triples files have it)."""
    return (quad_line[: quad_line.rindex(" <")] + " .\n").encode("utf-8")


def _touched(quads: Iterable[ox.Quad]) -> set[str]:
    """The IRIs a search index may say something else of once these quads changed."""
    found: set[str] = set()
    for quad in quads:
        if isinstance(quad.subject, ox.NamedNode):
            found.add(quad.subject.value)
        found.add(quad.predicate.value)
        if quad.predicate.value == RDF_TYPE and isinstance(quad.object, ox.NamedNode):
            found.add(quad.object.value)
    return found


def _quads(lines: Iterable[str]) -> list[tuple[str, ox.Quad]]:
    """Each N-Quads line with its quad (one statement a line)."""
    ordered = sorted(lines)
    data = "".join(ordered).encode("utf-8")
    quads = list(ox.parse(data, format=ox.RdfFormat.N_QUADS))
    return list(zip(ordered, quads, strict=True))
