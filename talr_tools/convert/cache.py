"""The conversion cache: cell outcomes and rule summaries in one SQLite file.

``<cache>/convert/cells.sqlite`` holds two key/value tables:

* ``cells``: one row per rule, key = sha256(rule content hash, plugin fingerprint) -> for each
  (target, pipelines, output format): the outcome (converted + query count, or the error
  message). One row per rule rather than per cell keeps a warm run to a few thousand rows
  instead of tens of thousands; writes merge into the row. What the rule
  *declares* (expected failures) is not in the key, so editing ``talr.conversion`` does not
  convert anything again; the plugin fingerprint covers pySigma's and every plugin
  distribution's version, so an upgrade converts everything again.
* ``rules``: key = sha256 of the file's bytes -> what the matrix needs of a rule (id, title,
  content hash, logsources, expected failures), so an unchanged file is not even parsed.

Both tables note the day each row was last written or read (``used``); when a run has read
rows not yet marked that day, it marks them as it closes and deletes the rows nobody has
used for :data:`KEEP_DAYS` days (old versions of rules, rules since deleted, outcomes under
plugins since upgraded). A run that only reads rows already marked that day writes nothing.

Why SQLite rather than one file per cell: tens of thousands of cells, read in a few
queries; writes are transactions (a reader never sees half an entry, a crash loses at
most the batch being written), and WAL mode plus a busy timeout let two runs share the
file. A malformed entry is ignored (a miss); a file that is not a database is moved
aside and rebuilt.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from talr_tools.convert.cells import Outcome

SCHEMA_VERSION = "3"  # 3: messages of plugins whose failure text grew with each failure (see .fastpath)
_BATCH = 500
_SEP = "\x1e"
_SCAN_ABOVE = 5000
_TABLES = ("cells", "rules")
KEEP_DAYS = 30  # a row nobody has read or written for this many days is deleted


def day_number(day: datetime.date | None = None) -> int:
    """Days since 1970-01-01 (``day`` or today): what the ``used`` column holds."""
    return ((day or datetime.date.today()) - datetime.date(1970, 1, 1)).days


def rule_key(content_hash: str, fingerprint: str) -> str:
    """The cache row of one rule: its content hash under one set of installed plugins."""
    return hashlib.sha256(f"{SCHEMA_VERSION}\x1f{content_hash}\x1f{fingerprint}".encode()).hexdigest()


def cell_key(row: str, target: str, pipelines: Iterable[str], fmt: str) -> str:
    """The cache key of one cell: the rule's row, then backend, pipelines and output format."""
    return f"{row}{_SEP}{target}\x1f{','.join(pipelines)}\x1f{fmt}"


def _has_used_column(db: sqlite3.Connection, table: str) -> bool:
    return any(column[1] == "used" for column in db.execute(f"PRAGMA table_info({table})"))


class ConvertCache:
    """Key/value access to the cache file; ``ConvertCache(None)`` is a cache that stores nothing.

    ``today`` (a :func:`day_number`) is for tests; runs use the current date.
    """

    def __init__(self, folder: Path | None, *, today: int | None = None) -> None:
        self._db: sqlite3.Connection | None = None
        self._today = day_number() if today is None else today
        self._stale: dict[str, set[str]] = {table: set() for table in _TABLES}
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

    def _open(self, path: Path) -> sqlite3.Connection:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, timeout=30, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            for table in _TABLES:
                db.execute(
                    f"CREATE TABLE IF NOT EXISTS {table} "
                    "(key TEXT PRIMARY KEY, value TEXT NOT NULL, used INTEGER NOT NULL DEFAULT 0)"
                )
                self._add_used_column(db, table)
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def _add_used_column(self, db: sqlite3.Connection, table: str) -> None:
        """Give a table from an older TALR its ``used`` column (its rows count as used today)."""
        if _has_used_column(db, table):
            return
        try:
            db.execute(f"ALTER TABLE {table} ADD COLUMN used INTEGER NOT NULL DEFAULT {int(self._today)}")
        except sqlite3.OperationalError:  # another run added it first
            if not _has_used_column(db, table):
                raise

    @property
    def enabled(self) -> bool:
        """Whether entries are stored."""
        return self._db is not None

    def close(self) -> None:
        """Mark the rows read today and delete the ones unused for :data:`KEEP_DAYS` days; close."""
        if self._db is None:
            return
        if any(self._stale.values()):
            self._mark_and_prune()
        self._db.close()
        self._db = None

    def _mark_and_prune(self) -> None:
        assert self._db is not None
        try:
            self._db.execute("BEGIN IMMEDIATE")
            for table, keys in self._stale.items():
                self._db.executemany(f"UPDATE {table} SET used = ? WHERE key = ?", [(self._today, k) for k in keys])
                self._db.execute(f"DELETE FROM {table} WHERE used < ?", (self._today - KEEP_DAYS,))
            self._db.execute("COMMIT")
        except sqlite3.Error:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")
        for keys in self._stale.values():
            keys.clear()

    def _get_json(self, table: str, keys: list[str]) -> dict[str, dict[str, Any]]:
        """Values of ``keys`` decoded as JSON objects; malformed entries are left out."""
        found: dict[str, dict[str, Any]] = {}
        for key, raw in self._get_many(table, keys):
            try:
                value = json.loads(raw)
            except ValueError:
                continue
            if isinstance(value, dict):
                found[key] = value
        return found

    def _get_many(self, table: str, keys: list[str]) -> Iterator[tuple[str, str]]:
        """Raw values of ``keys`` (those present)."""
        if self._db is None:
            return
        if len(keys) > _SCAN_ABOVE:
            # Reading the whole table is several times faster than thousands of key lookups.
            wanted = set(keys)
            try:
                everything = self._db.execute(f"SELECT key, value, used FROM {table}").fetchall()
            except sqlite3.Error:
                return
            yield from self._note_use(table, [row for row in everything if row[0] in wanted])
            return
        for start in range(0, len(keys), _BATCH):
            chunk = keys[start : start + _BATCH]
            marks = ",".join("?" * len(chunk))
            try:
                rows = self._db.execute(f"SELECT key, value, used FROM {table} WHERE key IN ({marks})", chunk)
                fetched = rows.fetchall()
            except sqlite3.Error:
                return
            yield from self._note_use(table, fetched)

    def _note_use(self, table: str, rows: list[tuple[Any, Any, Any]]) -> Iterator[tuple[str, str]]:
        """``(key, value)`` of ``rows``; the keys not yet marked as used today are noted for :meth:`close`."""
        stale = self._stale[table]
        for key, value, used in rows:
            if isinstance(value, str):
                if used != self._today:
                    stale.add(key)
                yield key, value

    def _put_many(self, table: str, rows: list[tuple[str, str]]) -> None:
        if self._db is None:
            return
        if not rows:
            return
        try:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                f"INSERT OR REPLACE INTO {table} (key, value, used) VALUES (?, ?, ?)",
                [(key, value, self._today) for key, value in rows],
            )
            self._db.execute("COMMIT")
        except sqlite3.Error:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")

    def get_outcomes(self, keys: list[str]) -> dict[str, Outcome]:
        """Cached outcomes of cell ``keys`` (see :func:`cell_key`); malformed entries are left out."""
        rows = self._get_json("cells", list({k.split(_SEP, 1)[0] for k in keys}))
        found: dict[str, Outcome] = {}
        shared: dict[tuple[Any, ...], Outcome] = {}  # most outcomes are alike: build each once
        for key in keys:
            row, sub = key.split(_SEP, 1)
            raw_outcome = rows.get(row, {}).get(sub)
            if not isinstance(raw_outcome, list):
                continue
            alike = tuple(raw_outcome)
            outcome = shared.get(alike)
            if outcome is None:
                try:
                    outcome = shared[alike] = Outcome.from_json(raw_outcome)
                except (ValueError, TypeError):
                    continue
            found[key] = outcome
        return found

    def put_outcomes(self, items: Iterable[tuple[str, Outcome]]) -> None:
        """Store outcomes, merged into their rules' rows, in one transaction."""
        if self._db is None:
            return
        grouped: dict[str, dict[str, Any]] = {}
        for key, outcome in items:
            row, sub = key.split(_SEP, 1)
            grouped.setdefault(row, {})[sub] = outcome.to_json()
        if not grouped:
            return
        try:
            self._db.execute("BEGIN IMMEDIATE")  # read-merge-write under the write lock
            for row, raw in self._get_many("cells", list(grouped)):
                try:
                    old = json.loads(raw)
                except ValueError:
                    continue
                if isinstance(old, dict):
                    grouped[row] = {**old, **grouped[row]}
            self._db.executemany(
                "INSERT OR REPLACE INTO cells (key, value, used) VALUES (?, ?, ?)",
                [(row, json.dumps(value, separators=(",", ":")), self._today) for row, value in grouped.items()],
            )
            self._db.execute("COMMIT")
        except sqlite3.Error:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")

    def get_summaries(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        """Cached rule summaries by file-hash key (malformed entries are left out)."""
        return self._get_json("rules", keys)

    def put_summaries(self, items: Iterable[tuple[str, dict[str, Any]]]) -> None:
        """Store rule summaries in one transaction."""
        self._put_many("rules", [(k, json.dumps(v, separators=(",", ":"), default=str)) for k, v in items])
