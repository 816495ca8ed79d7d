"""Which commit a change is compared with (the *base*), and shallow-clone safety.

Default base, first that applies:

1. the merge-base of ``HEAD`` with ``origin/main`` (or ``main`` when there is no
   ``origin/main``). On ``main`` itself the merge-base is ``HEAD``, so the working tree (or
   index) is compared with ``HEAD``: the uncommitted change is what is checked.
2. the last release tag ``v*`` reachable from ``HEAD`` (``git describe --match 'v*'``);
3. the root commit.

A shallow clone (GitHub Actions' default) may lack the base: when the merge-base cannot be
found, or only the shallow boundary would be left as "root", this is an error (exit 2) that
says exactly what to fetch, or, with ``fetch=True``, the history is fetched from ``origin``
(``git fetch --unshallow``) and the base resolved again. A shallow clone never silently
compares with a wrong base.
"""

from __future__ import annotations

from dataclasses import dataclass

import git

from talr_tools.errors import TalrError
from talr_tools.versioning.gitrepo import RuleRepo

UPSTREAMS = ("origin/main", "main")
FETCH_HINT = (
    "run `git fetch --unshallow origin +refs/heads/main:refs/remotes/origin/main` "
    "(GitHub Actions: actions/checkout with fetch-depth: 0), or pass --fetch, or name the base with --base"
)


@dataclass(frozen=True)
class Base:
    """The commit compared with (None: the repository has no commit yet) and how it was chosen."""

    commit: git.Commit | None
    reason: str
    upstream: git.Commit | None = None  # the main branch tip, when the base is a merge-base with it

    @property
    def label(self) -> str:
        """Short text naming the base in messages."""
        return self.commit.hexsha[:10] if self.commit is not None else "(no commit)"


def resolve_base(rrepo: RuleRepo, ref: str | None = None, *, fetch: bool = False) -> Base:
    """The base commit for ``ref`` (None: the default rules above)."""
    try:
        return _resolve(rrepo, ref)
    except _ShallowError as exc:
        if not fetch:
            raise TalrError(f"{rrepo.workdir}: shallow clone: {exc}; {FETCH_HINT}") from None
        _fetch_history(rrepo)
        try:
            return _resolve(rrepo, ref)
        except _ShallowError as again:
            raise TalrError(f"{rrepo.workdir}: still missing after fetching: {again}") from None


class _ShallowError(Exception):
    """The base is beyond the shallow boundary."""


def _resolve(rrepo: RuleRepo, ref: str | None) -> Base:
    repo = rrepo.repo
    shallow = rrepo.is_shallow
    if ref is not None:
        try:
            return Base(repo.commit(ref), f"--base {ref}")
        except (git.BadName, ValueError, git.GitCommandError) as exc:
            if shallow:
                raise _ShallowError(f"base {ref!r} is not in the local history") from exc
            raise TalrError(f"--base {ref}: no such commit, branch or tag in {rrepo.workdir}") from exc
    if not repo.head.is_valid():
        return Base(None, "no commit yet")
    head = repo.head.commit
    for upstream in UPSTREAMS:
        try:
            other = repo.commit(upstream)
        except (git.BadName, ValueError, git.GitCommandError):
            continue
        bases = repo.merge_base(head, other)
        if bases and isinstance(bases[0], git.Commit):
            return Base(bases[0], f"merge-base with {upstream}", other)
        if shallow:
            raise _ShallowError(f"the merge-base of HEAD and {upstream} is not in the local history")
        break
    try:
        tag = repo.git.describe("--tags", "--abbrev=0", "--match", "v*", "HEAD")
        return Base(repo.commit(tag), f"last release tag {tag}")
    except git.GitCommandError:
        pass
    if shallow:
        raise _ShallowError("no main branch or release tag to compare with, and the root commit is missing")
    roots = repo.git.rev_list("--max-parents=0", "HEAD").split()
    return Base(repo.commit(roots[-1]), "root commit")


def _fetch_history(rrepo: RuleRepo) -> None:
    """Fetch the full history and ``main`` from ``origin`` (the remote the clone came from)."""
    repo = rrepo.repo
    if "origin" not in [r.name for r in repo.remotes]:
        raise TalrError(f"{rrepo.workdir}: shallow clone without an 'origin' remote to fetch from; {FETCH_HINT}")
    try:
        repo.git.fetch("--quiet", "--unshallow", "origin", "+refs/heads/main:refs/remotes/origin/main")
    except git.GitCommandError as exc:
        detail = (exc.stderr or "").strip().splitlines()
        raise TalrError(f"{rrepo.workdir}: git fetch --unshallow origin failed: "
                        f"{detail[-1] if detail else exc}") from exc
