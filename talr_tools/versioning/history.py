"""Every version of every rule, read from git history in one pass.

``git log --raw`` over the rule folders (one process, oldest commit first, merges shown
against their first parent) lists the blobs each commit wrote; only those blobs are read,
each once, and their summaries are cached by blob sha (:mod:`.summary`). One ``git log``
replaces a GitPython ``Commit.diff`` per commit (one process per commit), which is why this
module asks GitPython to run ``git log`` rather than walking commits object by object.

A version of a rule is *introduced* by the first commit (in topological order) whose blob
of that rule (matched by id, whatever its path) carries that ``talr.version``. A rule with no
``talr:`` block or no version is at version 1. When two commits on different branches each
introduce the same version with different content (two branches bumped the same rule and
were merged), :func:`read_history` with ``collisions=True`` reports it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import git

from talr_tools.errors import TalrError
from talr_tools.versioning.gitrepo import RuleRepo, open_rule_repo
from talr_tools.versioning.summary import BlobSummary, SummaryCache

_NULL_SHA = "0" * 40


@dataclass(frozen=True)
class VersionRecord:
    """One version of one rule, as first committed."""

    version: int
    commit: str
    committed_at: dt.datetime
    author: str
    note: str
    path: str


@dataclass(frozen=True)
class _Change:
    commit: str
    committed_at: dt.datetime
    author: str
    path: str
    blob: str


@dataclass(frozen=True)
class VersionCollision:
    """The same version of a rule introduced twice with different content."""

    rule_id: str
    version: int
    commits: tuple[str, ...]


@dataclass
class RuleHistory:
    """The result of one pass: records per rule id, plus collisions found on the way."""

    records: dict[str, list[VersionRecord]]
    collisions: list[VersionCollision]


def rule_version_history(
    repo_root: Path, rev: str = "HEAD", rule_ids: set[str] | None = None
) -> dict[str, list[VersionRecord]]:
    """``{rule id: [VersionRecord, ...]}`` for the history of ``rev`` (sorted by version).

    ``repo_root`` is the rule repository (its ``talr.toml`` gives the rule folders); with
    ``rule_ids`` only those rules are returned, and blobs not mentioning any of them are
    not parsed.
    """
    return read_history(open_rule_repo(repo_root), rev, rule_ids).records


def read_history(
    rrepo: RuleRepo, rev: str = "HEAD", rule_ids: set[str] | None = None, *, collisions: bool = False
) -> RuleHistory:
    """Like :func:`rule_version_history`, on an open repository; ``collisions=True`` also finds them."""
    cache = SummaryCache(rrepo.config.cache_dir)
    wanted = [i.encode("utf-8") for i in rule_ids] if rule_ids is not None else None
    first: dict[tuple[str, int], tuple[_Change, str]] = {}
    notes: dict[str, dict[int, str]] = {}
    clashes: dict[tuple[str, int], list[str]] = {}
    for change in _changes(rrepo, rev):
        summary = cache.get(change.blob)
        if summary is None:
            data = rrepo.read_blob(change.blob)
            if wanted is not None and not any(w in data for w in wanted):
                continue
            summary = BlobSummary.of_bytes(data, Path(change.path))
            cache.put(change.blob, summary)
        if summary.id is None or (rule_ids is not None and summary.id not in rule_ids):
            continue
        key = (summary.id, summary.version)
        seen = first.get(key)
        if seen is None:
            first[key] = (change, summary.content_hash)
        elif (collisions and seen[1] != summary.content_hash
              and not rrepo.repo.is_ancestor(rrepo.repo.commit(seen[0].commit), rrepo.repo.commit(change.commit))):
            clashes.setdefault(key, [seen[0].commit]).append(change.commit)
        notes.setdefault(summary.id, {}).update(summary.notes)
    cache.save()
    records: dict[str, list[VersionRecord]] = {}
    for (rule_id, version), (change, _digest) in first.items():
        records.setdefault(rule_id, []).append(
            VersionRecord(
                version=version,
                commit=change.commit,
                committed_at=change.committed_at,
                author=change.author,
                note=notes.get(rule_id, {}).get(version, ""),
                path=change.path,
            )
        )
    for rule_records in records.values():
        rule_records.sort(key=lambda r: (r.version, r.committed_at))
    found = [VersionCollision(rid, v, tuple(c)) for (rid, v), c in sorted(clashes.items())]
    return RuleHistory(records=records, collisions=found)


def resolve_rule_id(rrepo: RuleRepo, rule: str, rev: str, cwd: Path) -> str:
    """The rule id named by ``rule``: a rule file (working tree, else ``rev``'s tree) or an id."""
    from talr_tools.loader import load_rule, parse_rule_bytes

    candidate = (cwd / rule).resolve()
    result = None
    if candidate.is_file():
        result = load_rule(candidate)
    elif rule.endswith((".yml", ".yaml")):
        try:
            rel = candidate.relative_to(rrepo.workdir).as_posix()
            blob = rrepo.repo.commit(rev).tree / rel
            result = parse_rule_bytes(blob.data_stream.read(), Path(rel))
        except (ValueError, KeyError) as exc:
            raise TalrError(f"{rule}: no such rule file in the working tree or in {rev}") from exc
    if result is None:
        return rule
    if result.rule is None or result.rule.id is None:
        detail = result.findings[0].render() if result.findings else f"{rule}: rule has no id"
        raise TalrError(detail)
    return result.rule.id


def _changes(rrepo: RuleRepo, rev: str) -> Iterator[_Change]:
    """Blobs written to rule files by each commit reachable from ``rev``, oldest commit first."""
    if rev == "HEAD" and not rrepo.repo.head.is_valid():
        return  # no commit yet: no history
    try:
        rrepo.repo.commit(rev)
    except (git.BadName, ValueError, git.GitCommandError) as exc:
        raise TalrError(f"{rev}: no such commit, branch or tag in {rrepo.workdir}") from exc
    out = rrepo.repo.git.log(
        rev, "--reverse", "--topo-order", "--raw", "--no-abbrev", "--no-renames", "-z",
        "--diff-merges=first-parent", "--format=%x1e%H%x1f%ct%x1f%an", "--", *rrepo.pathspecs,
        strip_newline_in_stdout=False,
    )
    for chunk in out.split("\x1e"):
        if not chunk:
            continue
        header, _, rest = chunk.partition("\0")
        commit, timestamp, author = header.split("\x1f", 2)
        when = dt.datetime.fromtimestamp(int(timestamp), tz=dt.UTC)
        fields = rest.lstrip("\n").split("\0")
        i = 0
        while i + 1 < len(fields):
            meta, path = fields[i], fields[i + 1]
            i += 2
            if not meta.startswith(":"):
                continue
            parts = meta[1:].split(" ")
            new_sha, status = parts[3], parts[4]
            if status.startswith("D") or new_sha == _NULL_SHA or not rrepo.is_rule_path(path):
                continue
            yield _Change(commit, when, author, PurePosixPath(path).as_posix(), new_sha)
