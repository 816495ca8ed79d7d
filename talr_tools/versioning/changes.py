"""The rules a change touches: base and current versions of every changed rule file.

Candidates come from one GitPython tree diff between the base commit and the working tree
(or the index with ``staged=True``), plus untracked rule files (working tree only), so an
unchanged rule is never read. Renames are not detected by git (``--no-renames``): rules
are matched by id, so a moved file is a deleted path plus an added path holding the same id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import git

from talr_tools.loader import load_rule, parse_rule_bytes
from talr_tools.model import Finding, Rule
from talr_tools.versioning.base import Base
from talr_tools.versioning.gitrepo import RuleRepo


@dataclass
class Side:
    """The rules on one side (base or current) of the changed paths, by path and by id."""

    by_path: dict[str, Rule] = field(default_factory=dict)
    by_id: dict[str, tuple[str, Rule]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    unreadable: set[str] = field(default_factory=set)
    duplicates: list[tuple[str, Rule]] = field(default_factory=list)  # a second file with a known id

    def add(self, path: str, rule: Rule) -> None:
        """Record ``rule`` found at repo-relative ``path``."""
        self.by_path[path] = rule
        if rule.id is None:
            return
        if rule.id in self.by_id:
            self.duplicates.append((path, rule))
        else:
            self.by_id[rule.id] = (path, rule)


@dataclass
class ChangeSet:
    """Base and current rules of every rule path that differs between base and now."""

    base: Side
    current: Side
    staged: bool


def collect_changes(rrepo: RuleRepo, base: Base, *, staged: bool = False) -> ChangeSet:
    """Read the changed rule files on both sides (each file once)."""
    base_side, current_side = Side(), Side()
    max_size = rrepo.config.lint.max_file_size
    current_paths: dict[str, str | None] = {}  # path -> index blob sha (None: read the file)
    if base.commit is None:
        current_paths = _all_current(rrepo, staged)
    else:
        other = git.Diffable.INDEX if staged else None
        for diff in base.commit.diff(other, paths=tuple(rrepo.pathspecs), no_renames=True):
            if diff.a_blob is not None and diff.a_path and rrepo.is_rule_path(diff.a_path):
                _add_blob(rrepo, base_side, diff.a_path, diff.a_blob.hexsha)
            if diff.change_type != "D" and diff.b_path and rrepo.is_rule_path(diff.b_path):
                current_paths[diff.b_path] = diff.b_blob.hexsha if staged and diff.b_blob else None
        if not staged:
            current_paths.update(dict.fromkeys(_untracked(rrepo)))
    for path, sha in sorted(current_paths.items()):
        if sha is not None:
            _add_blob(rrepo, current_side, path, sha)
            continue
        result = load_rule(rrepo.workdir / path, display=path, max_size=max_size)
        if result.rule is not None:
            current_side.add(path, result.rule)
        else:
            current_side.findings.extend(result.findings)
            current_side.unreadable.add(path)
    return ChangeSet(base=base_side, current=current_side, staged=staged)


def _add_blob(rrepo: RuleRepo, side: Side, path: str, sha: str) -> None:
    result = parse_rule_bytes(rrepo.read_blob(sha), Path(path), display=path)
    if result.rule is not None:
        side.add(path, result.rule)
    else:
        side.findings.extend(result.findings)
        side.unreadable.add(path)


def _untracked(rrepo: RuleRepo) -> list[str]:
    out = rrepo.repo.git.ls_files("--others", "--exclude-standard", "-z", "--", *rrepo.pathspecs)
    return [p for p in out.split("\0") if p and rrepo.is_rule_path(p)]


def _all_current(rrepo: RuleRepo, staged: bool) -> dict[str, str | None]:
    """Every rule path when there is no base commit (all rules are new)."""
    if staged:
        entries = rrepo.repo.index.entries.items()
        return {str(path): entry.hexsha for (path, _stage), entry in entries if rrepo.is_rule_path(str(path))}
    out = rrepo.repo.git.ls_files("--cached", "--others", "--exclude-standard", "-z", "--", *rrepo.pathspecs)
    return {p: None for p in out.split("\0") if p and rrepo.is_rule_path(p)
            and (rrepo.workdir / p).is_file()}
