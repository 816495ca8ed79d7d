"""Shallow clones (GitHub Actions' default) never pass silently: fetch, or say what to fetch."""

from __future__ import annotations

from pathlib import Path

import git
import pytest

from talr_tools.errors import TalrError
from talr_tools.versioning.check import version_check
from tests.test_version_support import commit, init_rule_repo, put, rule_text

RID = "11111111-1111-4111-8111-111111111111"


@pytest.fixture
def origin(git_repo: git.Repo, tmp_path: Path) -> Path:
    """A bare "remote" on disk: main has 3 commits after the fork, feature tunes the rule unbumped."""
    init_rule_repo(git_repo)
    put(git_repo, "rules/a.yml", rule_text(RID, version=1))
    commit(git_repo, "add rule")
    git_repo.git.checkout("-q", "-b", "feature")
    put(git_repo, "rules/a.yml", rule_text(RID, version=1, image="\\bad.exe"))
    commit(git_repo, "tune without bump")
    git_repo.git.checkout("-q", "main")
    for i in range(3):
        put(git_repo, f"rules/other{i}.yml", rule_text(f"2222222{i}-2222-4222-8222-222222222222"))
        commit(git_repo, f"other {i}")
    bare = tmp_path / "origin.git"
    git.Repo.clone_from(git_repo.working_tree_dir, bare, bare=True)
    return bare


def shallow_clone(origin: Path, dest: Path, *args: str) -> git.Repo:
    repo = git.Repo.clone_from(f"file://{origin}", dest, multi_options=["--depth=1", *args])
    assert (Path(repo.git_dir) / "shallow").is_file()
    return repo


def test_missing_merge_base_is_an_error_saying_what_to_fetch(origin: Path, tmp_path: Path, run_talr) -> None:  # type: ignore[no-untyped-def]
    clone = shallow_clone(origin, tmp_path / "ci", "--branch=feature", "--no-single-branch")
    root = Path(clone.working_tree_dir or ".")
    with pytest.raises(TalrError, match=r"shallow clone: the merge-base of HEAD and origin/main is not in "
                                        r"the local history; run `git fetch --unshallow origin"):
        version_check(root)
    result = run_talr("version", "check", cwd=root)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "fetch-depth: 0" in result.stderr


def test_fetch_option_fetches_the_history_and_checks(origin: Path, tmp_path: Path, run_talr) -> None:  # type: ignore[no-untyped-def]
    clone = shallow_clone(origin, tmp_path / "ci", "--branch=feature", "--no-single-branch")
    root = Path(clone.working_tree_dir or ".")
    result = run_talr("version", "check", "--fetch", cwd=root)
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith("rules/a.yml:") and "VER001" in result.stdout
    assert not (Path(clone.git_dir) / "shallow").exists()


def test_single_branch_pr_checkout_without_main_is_an_error(origin: Path, tmp_path: Path) -> None:
    clone = shallow_clone(origin, tmp_path / "ci", "--branch=feature")
    with pytest.raises(TalrError, match="no main branch or release tag to compare with"):
        version_check(Path(clone.working_tree_dir or "."))
    # naming a base that is present works without fetching
    assert version_check(Path(clone.working_tree_dir or "."), "HEAD").findings == []


def test_shallow_clone_of_main_compares_with_head(origin: Path, tmp_path: Path) -> None:
    clone = shallow_clone(origin, tmp_path / "ci", "--branch=main")
    result = version_check(Path(clone.working_tree_dir or "."))
    assert result.base.commit == clone.head.commit and result.findings == []
