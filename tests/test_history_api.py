"""rule_version_history: versions of rules from real git history, following renames by id."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import git

from talr_tools.versioning.gitrepo import open_rule_repo
from talr_tools.versioning.history import read_history, rule_version_history
from tests.test_version_support import commit, init_rule_repo, move, put, rule_text

RID = "11111111-1111-4111-8111-111111111111"
OTHER = "22222222-2222-4222-8222-222222222222"


def test_versions_follow_rename_by_id(git_repo: git.Repo) -> None:
    root = init_rule_repo(git_repo)
    put(git_repo, "rules/a.yml", rule_text(RID, version=1))
    c1 = commit(git_repo, "add rule")
    put(git_repo, "rules/a.yml", rule_text(RID, version=1, title="Renamed title"))
    commit(git_repo, "edit without bump")  # same version: not a new record
    move(git_repo, "rules/a.yml", "rules/windows/b.yml")
    put(git_repo, "rules/windows/b.yml", rule_text(
        RID, version=2, image="\\bad.exe", modified="2024-02-01",
        changelog=[(2, "2024-02-01", "Catch bad.exe")]))
    c3 = commit(git_repo, "move and bump")

    history = rule_version_history(root)

    records = history[RID]
    assert [r.version for r in records] == [1, 2]
    assert records[0].commit == c1 and records[0].path == "rules/a.yml"
    assert records[1].commit == c3 and records[1].path == "rules/windows/b.yml"
    assert records[1].note == "Catch bad.exe" and records[0].note == ""
    assert records[1].author == "Test Author"
    assert records[1].committed_at.tzinfo is not None
    expected = dt.datetime.fromtimestamp(git_repo.commit(c3).committed_date, tz=dt.UTC)
    assert records[1].committed_at == expected


def test_rule_without_talr_block_is_version_1_and_filter_by_id(git_repo: git.Repo) -> None:
    root = init_rule_repo(git_repo)
    put(git_repo, "rules/a.yml", rule_text(RID))
    put(git_repo, "rules/o.yml", rule_text(OTHER, version=3))
    c1 = commit(git_repo, "two rules")

    everything = rule_version_history(root)
    only = rule_version_history(root, rule_ids={OTHER})

    assert [(r.version, r.commit) for r in everything[RID]] == [(1, c1)]
    assert set(only) == {OTHER} and only[OTHER][0].version == 3


def test_rev_limits_history_and_multi_document_uses_primary(git_repo: git.Repo) -> None:
    root = init_rule_repo(git_repo)
    corr = (
        "title: Many\nid: 33333333-3333-4333-8333-333333333333\ncorrelation:\n    type: event_count\n"
        f"    rules:\n        - {RID}\n    group-by: [User]\n    timespan: 1h\n    condition:\n        gte: 5\n"
        "level: high\n"
    )
    put(git_repo, "rules/multi.yml", rule_text(RID, version=1) + "---\n" + corr)
    c1 = commit(git_repo, "multi")
    put(git_repo, "rules/multi.yml", rule_text(RID, version=2, changelog=[(2, "2024-03-01", "n")])
        + "---\n" + corr)
    commit(git_repo, "bump")

    assert [r.version for r in rule_version_history(root)[RID]] == [1, 2]
    at_first = rule_version_history(root, rev=c1)
    assert [r.version for r in at_first[RID]] == [1]
    assert "33333333-3333-4333-8333-333333333333" not in at_first


def test_two_branches_bumping_same_rule_is_a_collision(git_repo: git.Repo) -> None:
    root = init_rule_repo(git_repo)
    put(git_repo, "rules/a.yml", rule_text(RID, version=1))
    commit(git_repo, "add")
    git_repo.git.checkout("-q", "-b", "feature-a")
    put(git_repo, "rules/a.yml", rule_text(RID, version=2, image="\\a.exe"))
    ca = commit(git_repo, "a bumps")
    git_repo.git.checkout("-q", "main")
    git_repo.git.checkout("-q", "-b", "feature-b")
    put(git_repo, "rules/a.yml", rule_text(RID, version=2, title="B title"))
    cb = commit(git_repo, "b bumps")
    git_repo.git.checkout("-q", "main")
    git_repo.git.merge("-q", "--no-ff", "feature-a", "-m", "merge a")
    git_repo.git.merge("-q", "--no-ff", "feature-b", "-m", "merge b", "-X", "theirs")

    result = read_history(open_rule_repo(root), collisions=True)

    assert [(c.rule_id, c.version) for c in result.collisions] == [(RID, 2)]
    assert set(result.collisions[0].commits) == {ca, cb}
    # without collision detection the first bump in topological order holds version 2
    assert result.records[RID][1].commit in {ca, cb}


def test_edits_after_bump_on_one_branch_are_no_collision(git_repo: git.Repo) -> None:
    root = init_rule_repo(git_repo)
    put(git_repo, "rules/a.yml", rule_text(RID, version=1))
    commit(git_repo, "add")
    put(git_repo, "rules/a.yml", rule_text(RID, version=2, image="\\a.exe"))
    commit(git_repo, "bump")
    put(git_repo, "rules/a.yml", rule_text(RID, version=2, image="\\b.exe"))
    commit(git_repo, "more work before release")

    assert read_history(open_rule_repo(root), collisions=True).collisions == []


def test_blob_summaries_are_cached_by_sha(git_repo: git.Repo) -> None:
    root = init_rule_repo(git_repo)
    put(git_repo, "rules/a.yml", rule_text(RID, version=1))
    commit(git_repo, "add")
    blob = git_repo.head.commit.tree / "rules" / "a.yml"

    first = rule_version_history(root)
    cache_file = root / ".talr-cache" / "versioning" / "blobs-v1.json"
    cached = json.loads(cache_file.read_text())
    assert cached[blob.hexsha][0] == RID
    # a poisoned entry proves the second run reads the cache instead of the blob
    cached[blob.hexsha][0] = OTHER
    cache_file.write_text(json.dumps(cached))
    second = rule_version_history(root)
    assert set(first) == {RID} and set(second) == {OTHER}


def test_not_a_git_repository_is_a_user_error(tmp_path: Path) -> None:
    import pytest

    from talr_tools.errors import TalrError

    with pytest.raises(TalrError, match="not inside a git repository"):
        rule_version_history(tmp_path)


def test_no_commit_yet_is_empty_and_bad_rev_is_a_user_error(git_repo: git.Repo) -> None:
    import pytest

    from talr_tools.errors import TalrError

    root = Path(git_repo.working_tree_dir or ".")
    (root / "talr.toml").write_text('rule_dirs = ["rules"]\n')
    assert rule_version_history(root) == {}
    put(git_repo, "rules/a.yml", rule_text(RID, version=1))
    commit(git_repo, "add")
    with pytest.raises(TalrError, match="no-such-rev: no such commit, branch or tag"):
        rule_version_history(root, rev="no-such-rev")
