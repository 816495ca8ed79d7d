"""Where a build reads its rules: a git tree (a commit), the working tree, or a plain folder.

Every file is parsed once with :func:`talr_tools.loader.parse_rule_bytes`. A file that does not
parse, a rule without a Sigma id and two files with the same id stop the build with a one-line
error naming the file (a release must not silently drop a rule).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from talr_tools.errors import TalrError
from talr_tools.gitblobs import read_blobs, tree_blobs
from talr_tools.loader import LoadResult, iter_rule_files, load_rule, parse_rule_bytes
from talr_tools.model import Rule

if TYPE_CHECKING:
    import git


@dataclass
class SourceRule:
    """One parsed rule and its path relative to the repository (or the plain folder)."""

    rule: Rule
    path: str
    blob: str | None = None  # git blob sha when read from a commit


def rules_from_tree(repo: git.Repo, rev: str, folders: list[str],
                    parse: Callable[[list[tuple[bytes, str]]], list[LoadResult]] | None = None) -> list[SourceRule]:
    """The rules of ``folders`` (repository-relative) in the tree of commit ``rev``.

    ``parse`` parses (bytes, path) pairs in order (default: here, with :func:`parse_rule_bytes`).
    """
    blobs = tree_blobs(repo, rev, folders)
    paths = sorted(blobs)
    data = read_blobs(repo, (blobs[p].hexsha for p in paths))
    items = [(data[blobs[p].hexsha], p) for p in paths]
    results = parse(items) if parse is not None else [parse_rule_bytes(d, Path(p), display=p) for d, p in items]
    rules = _checked(results, paths)
    for source in rules:
        source.blob = blobs[source.path].hexsha
    return rules


def rules_at(repo: git.Repo, rev: str, folders: list[str], known: dict[str, Rule]) -> dict[str, Rule]:
    """Every rule of ``folders`` in commit ``rev`` by Sigma id, leniently (files that do not parse
    are skipped). ``known`` maps blob shas to rules already parsed, so unchanged files are not re-read."""
    rules: dict[str, Rule] = {}
    blobs = tree_blobs(repo, rev, folders)
    data = read_blobs(repo, (b.hexsha for b in blobs.values() if b.hexsha not in known))
    for path, blob in sorted(blobs.items()):
        rule = known.get(blob.hexsha)
        if rule is None:
            rule = parse_rule_bytes(data[blob.hexsha], Path(path), display=path).rule
        if rule is not None and rule.id is not None:
            rules.setdefault(rule.id, rule)
    return rules


def rules_from_folders(paths: Iterable[Path], base: Path, max_size: int) -> list[SourceRule]:
    """The rules under ``paths`` on disk, with paths shown relative to ``base``."""
    paths = list(paths)
    check_exist(paths)
    files = list(iter_rule_files(paths))
    shown = [display_path(f, base) for f in files]
    results = [load_rule(f, display=s, max_size=max_size) for f, s in zip(files, shown, strict=True)]
    return _checked(results, shown)


def check_exist(paths: list[Path]) -> None:
    """A one-line error for the first rule folder or file that does not exist."""
    for path in paths:
        if not path.exists():
            raise TalrError(f"{path}: no such rule folder or file")


def display_path(path: Path, base: Path) -> str:
    """``path`` relative to ``base`` (posix), or as given when it is elsewhere."""
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        pass
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _checked(results: list[LoadResult], shown: list[str]) -> list[SourceRule]:
    rules: list[SourceRule] = []
    by_id: dict[str, str] = {}
    for result, path in zip(results, shown, strict=True):
        if result.rule is None:
            first = result.findings[0].render() if result.findings else f"{path}: cannot read rule"
            raise TalrError(f"{first} (a release build needs every rule file to parse)")
        rule_id = result.rule.id
        if rule_id is None:
            raise TalrError(f"{path}:{result.rule.primary.line}:1: rule has no Sigma id, it cannot be published")
        if rule_id.lower() in by_id:
            raise TalrError(f"{path}: rule id {rule_id} is also used by {by_id[rule_id.lower()]}")
        by_id[rule_id.lower()] = path
        rules.append(SourceRule(rule=result.rule, path=path))
    return rules
