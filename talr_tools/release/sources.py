"""Where a build reads its rules: a git tree (a commit), the working tree, or a plain folder.

Every file is parsed once with :func:`talr_tools.loader.parse_rule_bytes`. A file that does not
parse, a rule without a Sigma id and two files with the same id stop the build with a one-line
error naming the file (a release must not silently drop a rule).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from talr_tools.errors import TalrError
from talr_tools.loader import RULE_SUFFIXES, LoadResult, iter_rule_files, load_rule, parse_rule_bytes
from talr_tools.model import Rule

if TYPE_CHECKING:
    import git

@dataclass
class SourceRule:
    """One parsed rule and its path relative to the repository (or the plain folder)."""

    rule: Rule
    path: str
    blob: str | None = None  # git blob sha when read from a commit


def open_repo(root: Path) -> git.Repo | None:
    """The git repository holding ``root``, or ``None`` for a plain folder."""
    import git

    try:
        return git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None


def repo_relative(repo: git.Repo, path: Path) -> str:
    """``path`` relative to the repository's working tree, posix style ("" for the root)."""
    top = Path(repo.working_tree_dir or ".").resolve()
    try:
        rel = path.resolve().relative_to(top)
    except ValueError:
        raise TalrError(f"{path}: not inside the git repository {top}") from None
    return "" if str(rel) == "." else rel.as_posix()


def tree_blobs(repo: git.Repo, rev: str, folders: list[str]) -> dict[str, Any]:
    """Rule blobs (``*.yml``/``*.yaml``, hidden folders skipped) of ``folders`` in commit ``rev``, by path."""
    commit = resolve_commit(repo, rev)
    found: dict[str, Any] = {}
    for folder in folders:
        try:
            tree = commit.tree / folder if folder else commit.tree
        except KeyError:
            continue
        if tree.type == "blob":
            found[folder] = tree
            continue
        for entry in tree.traverse():
            item: Any = entry
            if item.type != "blob" or PurePosixPath(item.path).suffix not in RULE_SUFFIXES:
                continue
            inner = PurePosixPath(item.path).relative_to(folder) if folder else PurePosixPath(item.path)
            if not any(part.startswith(".") for part in inner.parts[:-1]):
                found[item.path] = item
    return found


def read_blobs(repo: git.Repo, shas: Iterable[str]) -> dict[str, bytes]:
    """The contents of many blobs, read through one ``git cat-file --batch`` (not one round trip each)."""
    wanted = sorted(set(shas))
    if not wanted:
        return {}
    process = repo.git.cat_file("--batch", as_process=True, istream=subprocess.PIPE)
    out, _err = process.proc.communicate(("\n".join(wanted) + "\n").encode("ascii"))
    blobs: dict[str, bytes] = {}
    at = 0
    for _ in wanted:
        end = out.index(b"\n", at)
        sha, kind, *rest = out[at:end].decode("ascii").split()
        if kind == "missing":
            at = end + 1
            continue
        size = int(rest[0])
        blobs[sha] = out[end + 1 : end + 1 + size]
        at = end + 1 + size + 1
    return blobs


class TreeReader:
    """Path -> blob-sha look-ups in many commits; each git tree object is parsed once (cached by sha)."""

    def __init__(self, repo: git.Repo) -> None:
        self.repo = repo
        self._roots: dict[str, str] = {}
        self._trees: dict[str, dict[str, tuple[str, bool]]] = {}

    def blob_sha(self, commit: str, path: str) -> str | None:
        """The sha of the blob at ``path`` in ``commit``, or ``None`` when there is none."""
        if commit not in self._roots:
            self._roots[commit] = self.repo.commit(commit).tree.hexsha
        sha, is_tree = self._roots[commit], True
        for part in path.split("/"):
            if not is_tree:
                return None
            found = self._entries(sha).get(part)
            if found is None:
                return None
            sha, is_tree = found
        return None if is_tree else sha

    def _entries(self, tree_sha: str) -> dict[str, tuple[str, bool]]:
        entries = self._trees.get(tree_sha)
        if entries is None:
            data = self.repo.odb.stream(bytes.fromhex(tree_sha)).read()
            entries = {}
            at = 0
            while at < len(data):  # "<mode> <name>\0<20-byte sha>" repeated
                space = data.index(b" ", at)
                nul = data.index(b"\0", space)
                mode, name = data[at:space], data[space + 1 : nul].decode("utf-8", "surrogateescape")
                entries[name] = (data[nul + 1 : nul + 21].hex(), mode == b"40000")
                at = nul + 21
            self._trees[tree_sha] = entries
        return entries


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


def resolve_commit(repo: git.Repo, rev: str) -> git.Commit:
    """The commit ``rev`` names, or a one-line error."""
    import git

    try:
        return repo.commit(rev)
    except (git.BadName, ValueError, git.GitCommandError) as exc:
        raise TalrError(f"{rev}: not a commit in {repo.working_tree_dir}: {exc}".splitlines()[0]) from None


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
