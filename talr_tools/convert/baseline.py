"""``test-convert --base REF``: tell regressions from failures that were already there.

The rule files under the same paths are read from the base commit's tree (git blobs,
through GitPython, parsed with the shared loader) and run through the same matrix (their
cells come from the cache when the base was tested before). Rules are matched by Sigma
``id`` (by title when a rule has none), so a moved or renamed file is still the same rule.

Each failing cell of the current matrix is then labelled:

* ``regression``: the same rule converted on this target at the base;
* ``pre-existing``: it failed (or was declared to fail) at the base already;
* ``new-rule``: the rule is not at the base;
* ``new-failure``: the cell was skipped at the base (e.g. the pipeline mapping changed).

Only ``pre-existing`` failures stop counting for the exit code: a pull request is blocked
by what it breaks, not by the debt it inherits. A cell that failed at the base and
converts now is labelled ``fixed``.
"""

from __future__ import annotations

from pathlib import Path

from talr_tools.convert.cells import CellState, Matrix
from talr_tools.convert.rules import RuleSource, display_path
from talr_tools.errors import TalrError
from talr_tools.gitblobs import read_blobs, tree_blobs


def base_sources(paths: list[Path], ref: str, *, max_size: int, display_base: Path | None) -> list[RuleSource]:
    """Rule files under ``paths`` as they are in commit ``ref`` (paths shown like the working tree's)."""
    import git

    start = paths[0] if paths else Path.cwd()
    try:
        repo = git.Repo(start if start.is_dir() else start.parent, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
        raise TalrError(f"{start}: not inside a git repository (needed for --base)") from exc
    try:
        commit = repo.commit(ref)
    except (git.BadName, git.GitCommandError, ValueError) as exc:
        raise TalrError(f"--base {ref}: no such commit in {repo.working_tree_dir}") from exc
    root = Path(str(repo.working_tree_dir)).resolve()
    folders = []
    for path in paths:
        try:
            rel = path.resolve().relative_to(root)
        except ValueError as exc:
            raise TalrError(f"{path}: outside the git repository {root} (needed for --base)") from exc
        folders.append("" if rel == Path(".") else rel.as_posix())
    blobs = {path: blob for path, blob in tree_blobs(repo, commit.hexsha, folders).items() if blob.size <= max_size}
    data = read_blobs(repo, (blob.hexsha for blob in blobs.values()))
    sources = [RuleSource(display_path(root / path, display_base), data[blob.hexsha]) for path, blob in blobs.items()]
    return sorted(sources, key=lambda s: s.display)


def compare(current: Matrix, base: Matrix, ref: str) -> None:
    """Label ``current``'s cells against the ``base`` matrix (see the module docstring)."""
    current.base = ref
    by_key: dict[tuple[str, str], CellState] = {}
    rule_keys = {c.rule_id or f"title:{c.title}" for c in base.cells}
    for cell in base.cells:
        by_key.setdefault((cell.rule_id or f"title:{cell.title}", cell.target), cell.state)
    for cell in current.cells:
        key = cell.rule_id or f"title:{cell.title}"
        before = by_key.get((key, cell.target))
        if not cell.failing:
            pass
        elif key not in rule_keys:
            cell.baseline = "new-rule"
        elif cell.state is CellState.UNEXPECTED_FAILURE and before in (CellState.OK, CellState.STALE_EXPECTATION):
            cell.baseline = "regression"
        elif before is cell.state or (
            cell.state is CellState.UNEXPECTED_FAILURE and before is CellState.EXPECTED_FAILURE
        ):
            cell.baseline = "pre-existing"
        else:
            cell.baseline = "new-failure"
        if cell.state is CellState.OK and before in (CellState.UNEXPECTED_FAILURE, CellState.EXPECTED_FAILURE):
            cell.baseline = "fixed"
