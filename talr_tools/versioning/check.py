"""``talr version check``: every changed rule against the rule of the same id at the base.

Codes (stable; one finding per problem, ``path:line:col: VERnnn message``):

======  ===================================================================================
VER001  content changed since the base and ``talr.version`` not increased
VER002  version increased by more than 1 over the base (one bump per release)
VER003  version decreased
VER004  rule id changed (the file held another rule id at the base) without linking the old id
VER005  rule deleted without being deprecated first (base ``status: deprecated``) and without
        a successor that links it with Sigma ``related`` of type obsolete, renamed or merged
VER006  new rule not at version 1
VER007  version bumped but ``modified`` not set, or not later than the base's ``modified``
        (equal is accepted only when the base's date is today: a second change the same day)
VER008  version bumped but the changelog has no entry for the new version
VER009  version bumped but the content did not change (only formatting, comments, key order
        or fields that do not count, see :mod:`talr_tools.canonical`)
VER010  the main branch already holds this version (or a later one) of the rule with other
        content: another branch bumped it since the merge-base; merge main and bump again
VER011  a changed rule file carries the id of another rule file (a copied file)
======  ===================================================================================

A rule without ``talr.version`` is at version 1. Rules that do not parse are reported with
the loader's own codes (``TALRnnn``), since they cannot be compared.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import git

from talr_tools.loader import parse_rule_bytes
from talr_tools.model import Finding, Rule, as_date
from talr_tools.versioning.base import Base
from talr_tools.versioning.changes import ChangeSet
from talr_tools.versioning.gitrepo import RuleRepo
from talr_tools.versioning.summary import rule_version

SUCCESSOR_TYPES = frozenset({"obsolete", "renamed", "merged"})


@dataclass(frozen=True)
class Comparison:
    """One rule id present at the base and now."""

    rule_id: str
    base_path: str
    base: Rule
    path: str
    current: Rule

    @property
    def changed(self) -> bool:
        """Whether the content hash differs."""
        return self.base.content_hash != self.current.content_hash

    @property
    def base_version(self) -> int:
        """Version at the base."""
        return rule_version(self.base)

    @property
    def version(self) -> int:
        """Version now."""
        return rule_version(self.current)


def compare_pairs(changes: ChangeSet) -> list[Comparison]:
    """Rules present on both sides, matched by id (whatever their paths)."""
    pairs = []
    for rule_id, (path, current) in sorted(changes.current.by_id.items()):
        found = changes.base.by_id.get(rule_id)
        if found is not None:
            pairs.append(Comparison(rule_id, found[0], found[1], path, current))
    return pairs


@dataclass
class CheckResult:
    """The base compared with and the problems found."""

    base: Base
    findings: list[Finding]
    compared: int


def version_check(root: Path, base_ref: str | None = None, *, staged: bool = False,
                  fetch: bool = False) -> CheckResult:
    """Check the working tree (or the index with ``staged``) of the rule repository at ``root``."""
    from talr_tools.versioning.base import resolve_base
    from talr_tools.versioning.changes import collect_changes
    from talr_tools.versioning.gitrepo import open_rule_repo

    rrepo = open_rule_repo(root)
    base = resolve_base(rrepo, base_ref, fetch=fetch)
    changes = collect_changes(rrepo, base, staged=staged)
    return CheckResult(base, check_changes(rrepo, base, changes), len(changes.current.by_path))


def check_changes(rrepo: RuleRepo, base: Base, changes: ChangeSet) -> list[Finding]:
    """Every versioning problem of ``changes`` (empty: the change is correctly versioned)."""
    findings = list(changes.current.findings)
    for pair in compare_pairs(changes):
        findings.extend(_check_pair(pair, base))
    for rule_id, (path, rule) in sorted(changes.current.by_id.items()):
        if rule_id in changes.base.by_id:
            continue
        elsewhere = _unchanged_holder(rrepo, base, changes, rule_id)
        if elsewhere is not None:
            findings.append(_at(path, rule, ("id",), "VER011",
                                f"rule id {rule_id} is also the id of {elsewhere}; a rule id names one rule"))
        elif rule_version(rule) != 1:
            findings.append(_at(path, rule, ("talr", "version"), "VER006",
                                f"new rule {rule_id} is at version {rule_version(rule)}; a new rule starts at 1"))
    for path, rule in changes.current.duplicates:
        first = changes.current.by_id[str(rule.id)][0]
        findings.append(_at(path, rule, ("id",), "VER011",
                            f"rule id {rule.id} is also the id of {first}; a rule id names one rule"))
    findings.extend(_check_disappeared(rrepo, base, changes))
    findings.extend(_check_upstream(rrepo, base, changes))
    return sorted(findings, key=lambda f: (f.path, f.line or 0, f.col or 0, f.code))


def _check_pair(pair: Comparison, base: Base) -> list[Finding]:
    old, new, rule = pair.base_version, pair.version, pair.current
    out: list[Finding] = []
    where = ("talr", "version")
    if new < old:
        out.append(_at(pair.path, rule, where, "VER003", f"version decreased from {old} to {new}"))
    elif new > old + 1:
        out.append(_at(pair.path, rule, where, "VER002",
                       f"version jumped from {old} to {new} since {base.label}; a change bumps once, to {old + 1}"))
    elif new == old and pair.changed:
        out.append(_at(pair.path, rule, where, "VER001",
                       f"content changed since {base.label} but version is still {old}; "
                       f"run `talr version bump`"))
    if new != old + 1:
        return out
    if not pair.changed:
        out.append(_at(pair.path, rule, where, "VER009",
                       f"version bumped to {new} but the content did not change since {base.label} "
                       "(formatting, comments and key order do not count)"))
    modified = as_date(rule.primary.data.get("modified"))
    base_modified = as_date(pair.base.primary.data.get("modified"))
    if modified is None:
        out.append(_at(pair.path, rule, ("modified",), "VER007",
                       f"version bumped to {new} but `modified` is not set"))
    elif base_modified is not None and (modified < base_modified or (
            modified == base_modified and base_modified < dt.datetime.now(dt.UTC).date())):
        relation = "before" if modified < base_modified else "the same as"
        out.append(_at(pair.path, rule, ("modified",), "VER007",
                       f"modified {modified} is {relation} the base's {base_modified}; "
                       "set it to the date of this change"))
    if not any(entry.version == new for entry in rule.talr.changelog):
        out.append(_at(pair.path, rule, ("talr", "changelog"), "VER008",
                       f"version bumped to {new} but talr.changelog has no entry for version {new}"))
    return out


def _unchanged_holder(rrepo: RuleRepo, base: Base, changes: ChangeSet, rule_id: str) -> str | None:
    """Path of an unchanged base rule whose id is ``rule_id`` (a copied file), found by ``git grep``."""
    if base.commit is None:
        return None
    sha = base.commit.hexsha
    try:
        out = rrepo.repo.git.grep("-l", "-z", "-F", "-e", rule_id, sha, "--", *rrepo.pathspecs)
    except git.GitCommandError:  # exit 1: no match
        return None
    for hit in out.split("\0"):
        path = hit.removeprefix(f"{sha}:")
        if not path or path in changes.base.by_path or not rrepo.is_rule_path(path):
            continue
        blob = base.commit.tree / path
        rule = parse_rule_bytes(rrepo.read_blob(blob.hexsha), Path(path)).rule
        if rule is not None and rule.id == rule_id:
            return path
    return None


def _check_upstream(rrepo: RuleRepo, base: Base, changes: ChangeSet) -> list[Finding]:
    """Bumps that collide with a bump made on the main branch since the merge-base (VER010).

    Only the bumped rules are looked up in the main branch's tree, at their current and base
    paths (a rule also moved on main is not found: the merge then shows it).
    """
    upstream = base.upstream
    if upstream is None or base.commit is None or upstream == base.commit:
        return []
    out: list[Finding] = []
    for pair in compare_pairs(changes):
        if pair.version != pair.base_version + 1:
            continue
        for path in dict.fromkeys((pair.path, pair.base_path)):
            try:
                blob = upstream.tree / path
            except KeyError:
                continue
            result = parse_rule_bytes(rrepo.read_blob(blob.hexsha), Path(path))
            theirs = result.rule
            if (theirs is None or theirs.id != pair.rule_id or rule_version(theirs) < pair.version
                    or theirs.content_hash == pair.current.content_hash):
                continue
            name = base.reason.removeprefix("merge-base with ")
            out.append(_at(pair.path, pair.current, ("talr", "version"), "VER010",
                           f"{name} already has version {rule_version(theirs)} of this rule with other content "
                           f"(bumped on another branch since {base.label}); merge {name} and bump again"))
            break
    return out


def _check_disappeared(rrepo: RuleRepo, base: Base, changes: ChangeSet) -> list[Finding]:
    """Base rules whose id is gone: id changes and deletions."""
    out: list[Finding] = []
    for rule_id, (path, old) in sorted(changes.base.by_id.items()):
        if rule_id in changes.current.by_id or path in changes.current.unreadable:
            continue  # still there, or unreadable now (reported with the loader's code)
        if old.status == "deprecated" or _has_successor(rrepo, changes, rule_id):
            continue
        replacement = changes.current.by_path.get(path)
        if replacement is not None and replacement.id is not None:
            out.append(_at(path, replacement, ("id",), "VER004",
                           f"rule id changed from {rule_id} to {replacement.id}; keep the id, or deprecate "
                           f"{rule_id} and link it from the new rule (related: type renamed/obsolete/merged)"))
        else:
            out.append(Finding(path, None, None, "VER005",
                               f"rule {rule_id} deleted without being deprecated first (status: deprecated "
                               "in a release) or linked from a successor (related: type obsolete/renamed/merged)"))
    return out


def _has_successor(rrepo: RuleRepo, changes: ChangeSet, rule_id: str) -> bool:
    """Whether a current rule links ``rule_id`` with ``related`` type obsolete/renamed/merged."""
    if any(_links(rule, rule_id) for rule in changes.current.by_path.values()):
        return True
    args = ["-l", "-z", "-F", "-e", rule_id]
    if changes.staged:
        args.insert(0, "--cached")
    try:
        out = rrepo.repo.git.grep(*args, "--", *rrepo.pathspecs)
    except git.GitCommandError:  # exit 1: no match
        return False
    for path in out.split("\0"):
        if not path or path in changes.current.by_path or not rrepo.is_rule_path(path):
            continue
        data = (rrepo.repo.git.show(f":{path}").encode("utf-8") if changes.staged
                else (rrepo.workdir / path).read_bytes())
        result = parse_rule_bytes(data, Path(path))
        if result.rule is not None and _links(result.rule, rule_id):
            return True
    return False


def _links(rule: Rule, rule_id: str) -> bool:
    for doc in rule.documents:
        related = doc.data.get("related")
        if isinstance(related, list):
            for item in related:
                if (isinstance(item, Mapping) and str(item.get("id")) == rule_id
                        and item.get("type") in SUCCESSOR_TYPES):
                    return True
    return False


def _at(path: str, rule: Rule, key: Sequence[str | int], code: str, message: str) -> Finding:
    line, col = rule.primary.key_position(list(key))
    return Finding(path, line, col, code, message)
