"""The conversion cache keeps what runs use and deletes what nobody used for KEEP_DAYS days."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from talr_tools.convert.cache import KEEP_DAYS, ConvertCache, cell_key, day_number, rule_key
from talr_tools.convert.cells import Outcome

DAY = day_number()
CELL_A = cell_key(rule_key("hash-a", "plugins-1"), "splunk", ["splunk_windows"], "default")
CELL_B = cell_key(rule_key("hash-b", "plugins-1"), "splunk", ["splunk_windows"], "default")
OK = Outcome(True, "", 1)


def run(folder: Path, day: int, *, read: Sequence[str] = (), write: Sequence[str] = ()) -> dict[str, Outcome]:
    """One run on ``day``: store ``write``, read ``read``, close (which marks and prunes)."""
    cache = ConvertCache(folder, today=day)
    try:
        cache.put_outcomes([(key, OK) for key in write])
        cache.put_summaries([(f"summary-{key}", {"id": key}) for key in write])
        found = cache.get_outcomes(list(read))
        cache.get_summaries([f"summary-{key}" for key in read])
        return found
    finally:
        cache.close()


def used_days(folder: Path, table: str = "cells") -> list[int]:
    db = sqlite3.connect(folder / "convert" / "cells.sqlite")
    try:
        return sorted(day for (day,) in db.execute(f"SELECT used FROM {table}"))
    finally:
        db.close()


def test_rows_nobody_used_for_keep_days_are_deleted_and_used_ones_kept(tmp_path: Path) -> None:
    run(tmp_path, DAY, write=[CELL_A, CELL_B])
    assert run(tmp_path, DAY + 20, read=[CELL_A]) == {CELL_A: OK}  # A read again on day 20: marked
    assert used_days(tmp_path) == [DAY, DAY + 20]
    assert used_days(tmp_path, "rules") == [DAY, DAY + 20]
    found = run(tmp_path, DAY + KEEP_DAYS + 1, read=[CELL_A, CELL_B])  # B untouched for KEEP_DAYS + 1 days
    assert found == {CELL_A: OK, CELL_B: OK}  # still there when read (deleted only as the run closes)...
    assert used_days(tmp_path) == [DAY + KEEP_DAYS + 1] * 2  # ...and read, so both marked again
    run(tmp_path, DAY + 2 * KEEP_DAYS + 2, read=[CELL_A])  # now B is unused for KEEP_DAYS + 1 days
    assert run(tmp_path, DAY + 2 * KEEP_DAYS + 2, read=[CELL_B]) == {}
    assert used_days(tmp_path) == [DAY + 2 * KEEP_DAYS + 2]
    assert used_days(tmp_path, "rules") == [DAY + 2 * KEEP_DAYS + 2]


def test_a_run_that_reads_only_rows_marked_today_writes_nothing(tmp_path: Path) -> None:
    run(tmp_path, DAY, write=[CELL_A])
    database = tmp_path / "convert" / "cells.sqlite"
    db = sqlite3.connect(database)
    changes = db.execute("PRAGMA data_version").fetchone()[0]
    run(tmp_path, DAY, read=[CELL_A])
    assert db.execute("PRAGMA data_version").fetchone()[0] == changes  # no other connection wrote
    run(tmp_path, DAY + 1, read=[CELL_A])
    assert db.execute("PRAGMA data_version").fetchone()[0] != changes  # a new day: marked
    db.close()


def test_a_cache_from_before_the_used_column_is_upgraded_and_kept(tmp_path: Path) -> None:
    database = tmp_path / "convert" / "cells.sqlite"
    database.parent.mkdir(parents=True)
    db = sqlite3.connect(database)
    db.execute("CREATE TABLE cells (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute("CREATE TABLE rules (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    row, sub = CELL_A.split("\x1e", 1)
    db.execute("INSERT INTO cells VALUES (?, ?)", (row, json.dumps({sub: [True, "", 1]})))
    db.commit()
    db.close()
    first, second = ConvertCache(tmp_path, today=DAY), ConvertCache(tmp_path, today=DAY)  # two runs at once
    try:
        assert first.get_outcomes([CELL_A]) == {CELL_A: OK}
        assert second.get_outcomes([CELL_A]) == {CELL_A: OK}
    finally:
        first.close()
        second.close()
    assert used_days(tmp_path) == [DAY]
    assert not (tmp_path / "convert" / "cells.corrupt").exists()
