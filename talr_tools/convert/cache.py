"""The conversion cache: cell outcomes and rule summaries in one SQLite file.

``<cache>/convert/cells.sqlite`` holds two key/value tables:

* ``cells``: key = sha256(rule content hash, target, pipelines, output format, plugin
  fingerprint) -> outcome (converted + query count, or the error message). What the rule
  *declares* (expected failures) is not in the key, so editing ``talr.conversion`` does not
  convert anything again; the plugin fingerprint covers pySigma's and every plugin
  distribution's version, so an upgrade converts everything again.
* ``rules``: key = sha256 of the file's bytes -> what the matrix needs of a rule (id, title,
  content hash, logsources, expected failures), so an unchanged file is not even parsed.

Why SQLite rather than one file per cell: tens of thousands of cells, read in a few
queries; writes are transactions (a reader never sees half an entry, a crash loses at
most the batch being written), and WAL mode plus a busy timeout let two runs share the
file. A malformed entry is ignored (a miss); a file that is not a database is moved
aside and rebuilt.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from talr_tools.convert.cells import Outcome

SCHEMA_VERSION = "1"
_BATCH = 500
_SCAN_ABOVE = 5000


def cell_key(content_hash: str, target: str, pipelines: Iterable[str], fmt: str, fingerprint: str) -> str:
    """The cache key of one cell."""
    text = "\x1f".join([SCHEMA_VERSION, content_hash, target, ",".join(pipelines), fmt, fingerprint])
    return hashlib.sha256(text.encode()).hexdigest()


class ConvertCache:
    """Key/value access to the cache file; ``ConvertCache(None)`` is a cache that stores nothing."""

    def __init__(self, folder: Path | None) -> None:
        self._db: sqlite3.Connection | None = None
        if folder is None:
            return
        path = folder / "convert" / "cells.sqlite"
        try:
            self._db = self._open(path)
        except sqlite3.DatabaseError:
            with contextlib.suppress(OSError):
                path.replace(path.with_suffix(".corrupt"))
            try:
                self._db = self._open(path)
            except (sqlite3.Error, OSError):
                self._db = None
        except OSError:
            self._db = None

    @staticmethod
    def _open(path: Path) -> sqlite3.Connection:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, timeout=30, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("CREATE TABLE IF NOT EXISTS cells (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            db.execute("CREATE TABLE IF NOT EXISTS rules (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    @property
    def enabled(self) -> bool:
        """Whether entries are stored."""
        return self._db is not None

    def close(self) -> None:
        """Close the database."""
        if self._db is not None:
            self._db.close()
            self._db = None

    def _get_many(self, table: str, keys: list[str]) -> Iterator[tuple[str, str]]:
        """Raw values of ``keys`` (those present)."""
        if self._db is None:
            return
        if len(keys) > _SCAN_ABOVE:
            # Reading the whole table is several times faster than thousands of key lookups.
            wanted = set(keys)
            try:
                everything = self._db.execute(f"SELECT key, value FROM {table}").fetchall()
            except sqlite3.Error:
                return
            yield from ((k, v) for k, v in everything if k in wanted and isinstance(v, str))
            return
        for start in range(0, len(keys), _BATCH):
            chunk = keys[start : start + _BATCH]
            marks = ",".join("?" * len(chunk))
            try:
                rows = self._db.execute(f"SELECT key, value FROM {table} WHERE key IN ({marks})", chunk)
                fetched = rows.fetchall()
            except sqlite3.Error:
                return
            yield from ((k, v) for k, v in fetched if isinstance(v, str))

    def _put_many(self, table: str, rows: list[tuple[str, str]]) -> None:
        if self._db is None:
            return
        if not rows:
            return
        try:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(f"INSERT OR REPLACE INTO {table} (key, value) VALUES (?, ?)", rows)
            self._db.execute("COMMIT")
        except sqlite3.Error:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")

    def get_outcomes(self, keys: list[str]) -> dict[str, Outcome]:
        """Cached outcomes of ``keys`` (malformed entries are left out)."""
        found: dict[str, Outcome] = {}
        for key, raw in self._get_many("cells", keys):
            try:
                found[key] = Outcome.from_text(raw)
            except ValueError:
                continue
        return found

    def put_outcomes(self, items: Iterable[tuple[str, Outcome]]) -> None:
        """Store outcomes in one transaction."""
        self._put_many("cells", [(k, o.to_text()) for k, o in items])

    def get_summaries(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        """Cached rule summaries by file-hash key (malformed entries are left out)."""
        found: dict[str, dict[str, Any]] = {}
        for key, raw in self._get_many("rules", keys):
            try:
                value = json.loads(raw)
            except ValueError:
                continue
            if isinstance(value, dict):
                found[key] = value
        return found

    def put_summaries(self, items: Iterable[tuple[str, dict[str, Any]]]) -> None:
        """Store rule summaries in one transaction."""
        self._put_many("rules", [(k, json.dumps(v, separators=(",", ":"), default=str)) for k, v in items])
