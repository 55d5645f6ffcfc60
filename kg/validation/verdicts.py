"""Keeps each release's validation verdict in DIR/.cache/verdicts.sqlite, by the hash of its
graph, the shapes, the ontology and the context: an unchanged release is not validated again.

SQLite (from the standard library) because build workers read and write it at the same time
and a build killed midway must leave every committed verdict usable by the next run.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path

from kg.validation.batches import ReleaseVerdict

log = logging.getLogger(__name__)

VERDICTS_FILE = "verdicts.sqlite"
_QUERY_CHUNK = 500


class VerdictCache:
    """The verdicts of one build directory's cache folder; safe to open in several processes."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / VERDICTS_FILE
        self._db = sqlite3.connect(self.path, timeout=120, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS verdicts (key TEXT PRIMARY KEY, verdict TEXT NOT NULL)"
        )

    def get_many(self, keys: Iterable[str]) -> dict[str, ReleaseVerdict]:
        """The verdicts stored for ``keys`` (missing or unreadable ones are left out)."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, ReleaseVerdict] = {}
        for start in range(0, len(wanted), _QUERY_CHUNK):
            chunk = wanted[start : start + _QUERY_CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT key, verdict FROM verdicts WHERE key IN ({marks})",
                chunk,
            )
            for key, text in rows:
                try:
                    found[key] = ReleaseVerdict.from_json(json.loads(text))
                except (ValueError, KeyError, AssertionError) as exc:
                    log.warning("ignoring an unreadable verdict %s: %s", key, exc)
        return found

    def put_many(self, verdicts: Mapping[str, ReleaseVerdict]) -> None:
        """Stores verdicts in one transaction (a killed build keeps all or none of them)."""
        rows = [(key, json.dumps(v.to_json(), ensure_ascii=False)) for key, v in verdicts.items()]
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR REPLACE INTO verdicts VALUES (?, ?)", rows)

    def keep_only(self, used: Iterable[str]) -> int:
        """Removes the verdicts not in ``used`` (releases gone or changed); returns how many."""
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute("CREATE TEMP TABLE IF NOT EXISTS used (key TEXT PRIMARY KEY)")
            self._db.execute("DELETE FROM used")
            self._db.executemany("INSERT OR IGNORE INTO used VALUES (?)", ((k,) for k in used))
            removed = self._db.execute(
                "DELETE FROM verdicts WHERE key NOT IN (SELECT key FROM used)"
            ).rowcount
        return int(removed)

    def close(self) -> None:
        self._db.close()
