"""``talr version bump``: raise the version of every rule changed since the base, once.

A rule is bumped when its content hash differs from the rule of the same id at the base
and its version is still the base's (so a second run bumps nothing). Rules new since the
base stay at version 1; rules already at base + 1 or beyond are left to ``version check``.
A rule without ``talr:`` block at the base is at version 1: the bump adds a ``talr:``
block with ``version: 2`` and a changelog entry.

The changelog note is ``message``, else the subject of the newest commit since the base
that touched the rule's file. When a rule's change is not committed yet and no message is
given, nothing is written and the error asks for ``-m``: TALR never invents a note.
All files are planned first and written afterwards (atomically), so an error leaves
every file untouched.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from talr_tools.atomic import write_text_atomic
from talr_tools.errors import TalrError
from talr_tools.model import Finding
from talr_tools.versioning.base import Base, resolve_base
from talr_tools.versioning.changes import collect_changes
from talr_tools.versioning.check import Comparison, compare_pairs
from talr_tools.versioning.edit import bump_text
from talr_tools.versioning.gitrepo import RuleRepo, open_rule_repo


@dataclass(frozen=True)
class Bump:
    """One rule bumped: where, from which version to which, with which note."""

    path: str
    rule_id: str
    old: int
    new: int
    note: str


@dataclass
class BumpResult:
    """The base compared with and the rules bumped (empty: nothing to do)."""

    base: Base
    bumps: list[Bump]
    unreadable: list[Finding] = field(default_factory=list)  # changed files that do not parse


def version_bump(root: Path, base_ref: str | None = None, *, message: str | None = None,
                 today: dt.date | None = None, fetch: bool = False, dry_run: bool = False) -> BumpResult:
    """Bump every changed, not yet bumped rule of the working tree at ``root``."""
    rrepo = open_rule_repo(root)
    base = resolve_base(rrepo, base_ref, fetch=fetch)
    changes = collect_changes(rrepo, base)
    day = today or dt.datetime.now(dt.UTC).date()
    todo = [p for p in compare_pairs(changes) if p.changed and p.version == p.base_version]
    planned: list[tuple[Bump, str]] = []
    for pair in todo:
        note = message if message else _commit_subject(rrepo, base, pair)
        new = pair.base_version + 1
        text = bump_text(pair.current.text, pair.rule_id, new, day, note)
        planned.append((Bump(pair.path, pair.rule_id, pair.base_version, new, note), text))
    if not dry_run:
        for bump, text in planned:
            write_text_atomic(rrepo.workdir / bump.path, text)
    return BumpResult(base=base, bumps=[b for b, _ in planned], unreadable=list(changes.current.findings))


def _commit_subject(rrepo: RuleRepo, base: Base, pair: Comparison) -> str:
    """Subject of the newest commit since the base touching the rule's file (current or old path)."""
    if base.commit is not None and rrepo.repo.head.is_valid():
        rev = f"{base.commit.hexsha}..HEAD"
        for commit in rrepo.repo.iter_commits(rev, paths=sorted({pair.path, pair.base_path}), max_count=1):
            message = commit.message if isinstance(commit.message, str) else commit.message.decode()
            subject = message.strip().splitlines()[0] if message.strip() else ""
            if subject:
                return subject
    raise TalrError(f"{pair.path}: the change to rule {pair.rule_id} is not committed since "
                    f"{base.label}, so there is no commit subject for the changelog; give the note with -m TEXT")
