"""Helpers for the versioning tests (no tests here): rule texts and commits in real git repos."""

from __future__ import annotations

import textwrap
from pathlib import Path

import git

TALR_TOML = 'rule_dirs = ["rules"]\n'


def rule_text(
    rule_id: str,
    *,
    version: int | None = None,
    title: str = "Suspicious process",
    image: str = "\\\\evil.exe",
    status: str = "test",
    modified: str | None = None,
    changelog: list[tuple[int, str, str]] | None = None,
    comment: str = "",
    related: list[tuple[str, str]] | None = None,
) -> str:
    """A small Sigma rule with an optional ``talr:`` block."""
    lines = [f"title: {title}", f"id: {rule_id}"]
    if related:
        lines.append("related:")
        for rid, kind in related:
            lines += [f"    - id: {rid}", f"      type: {kind}"]
    lines += [f"status: {status}", "description: Detects a suspicious process.", "author: Test", "date: 2024-01-01"]
    if modified:
        lines.append(f"modified: {modified}")
    lines += [
        "logsource:",
        "    category: process_creation",
        "    product: windows",
        "detection:",
        "    selection:",
        f"        Image|endswith: '{image}'{comment}",
        "    condition: selection",
        "level: high",
    ]
    if version is not None:
        lines += ["talr:", f"    version: {version}"]
        if changelog:
            lines.append("    changelog:")
            for v, date, note in changelog:
                lines += [f"        - version: {v}", f"          date: {date}", f"          note: {note}"]
    return "\n".join(lines) + "\n"


def init_rule_repo(repo: git.Repo) -> Path:
    """Add ``talr.toml`` and an initial commit; returns the working tree."""
    root = Path(repo.working_tree_dir or ".")
    (root / "talr.toml").write_text(TALR_TOML, encoding="utf-8")
    (root / ".gitignore").write_text(".talr-cache/\n", encoding="utf-8")
    repo.index.add(["talr.toml", ".gitignore"])
    repo.index.commit("init")
    return root


def put(repo: git.Repo, rel: str, text: str) -> Path:
    """Write ``text`` to repo-relative ``rel`` and stage it."""
    root = Path(repo.working_tree_dir or ".")
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    repo.index.add([rel])
    return path


def commit(repo: git.Repo, message: str) -> str:
    """Commit everything staged (through the git CLI, so hooks-free and index-exact)."""
    repo.git.commit("-q", "-m", message, "--allow-empty")
    return repo.head.commit.hexsha


def move(repo: git.Repo, old: str, new: str) -> None:
    """``git mv old new`` (creating the target folder)."""
    root = Path(repo.working_tree_dir or ".")
    (root / new).parent.mkdir(parents=True, exist_ok=True)
    repo.git.mv(old, new)


def correlation_text(rule_id: str, timespan: str) -> str:
    """A correlation document (event_count over rule ``rule_id``) with the given timespan."""
    return ("title: Many\nid: 33333333-3333-4333-8333-333333333333\ncorrelation:\n    type: event_count\n"
            f"    rules:\n        - {rule_id}\n    group-by:\n        - User\n    timespan: {timespan}\n"
            "    condition:\n        gte: 5\nlevel: high\n")
