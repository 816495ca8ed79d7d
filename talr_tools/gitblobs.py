"""Reading rule files out of git commits: tree walks and blob contents in bulk.

Shared by every command that reads rules at a commit instead of the working tree
(``talr build``, ``talr test-convert --base``). Blobs are read through one
``git cat-file --batch`` process, not one round trip each (26 s -> 4.5 s on the corpus).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from talr_tools.errors import TalrError
from talr_tools.loader import RULE_SUFFIXES

if TYPE_CHECKING:
    import git


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


def resolve_commit(repo: git.Repo, rev: str) -> git.Commit:
    """The commit ``rev`` names, or a one-line error."""
    import git

    try:
        return repo.commit(rev)
    except (git.BadName, ValueError, git.GitCommandError) as exc:
        raise TalrError(f"{rev}: not a commit in {repo.working_tree_dir}: {exc}".splitlines()[0]) from None
