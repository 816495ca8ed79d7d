"""``iter_rule_files`` (sped up for lint): sorted, hidden folders skipped, each file once."""

from __future__ import annotations

import os
from pathlib import Path

from talr_tools.loader import iter_rule_files


def test_walk_order_filters_and_dedup(tmp_path: Path) -> None:
    for name in ["b/z.yml", "b/a.yaml", "a.yml", "B/x.yml", ".hidden/h.yml", "b/.git/c.yml", "notes.txt",
                 "b/c/.dot.yml", "b/c/d.yml"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("title: x\n", encoding="utf-8")
    os.symlink(tmp_path / "a.yml", tmp_path / "b" / "link.yml")
    found = [p.relative_to(tmp_path).as_posix() for p in iter_rule_files([tmp_path, tmp_path / "a.yml",
                                                                           tmp_path / "notes.txt"])]
    assert found == ["B/x.yml", "a.yml", "b/a.yaml", "b/c/.dot.yml", "b/c/d.yml", "b/z.yml", "notes.txt"]


def test_missing_path_is_yielded_for_the_caller_to_report(tmp_path: Path) -> None:
    assert list(iter_rule_files([tmp_path / "nope.yml"])) == [tmp_path / "nope.yml"]
