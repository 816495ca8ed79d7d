"""talr history RULE: versions of one rule by id or path, following renames, text and JSON."""

from __future__ import annotations

import json
from pathlib import Path

import git

from tests.test_version_support import commit, init_rule_repo, move, put, rule_text

RID = "11111111-1111-4111-8111-111111111111"


def build(repo: git.Repo) -> tuple[Path, list[str]]:
    root = init_rule_repo(repo)
    put(repo, "rules/a.yml", rule_text(RID, version=1))
    c1 = commit(repo, "add")
    move(repo, "rules/a.yml", "rules/win/renamed.yml")
    put(repo, "rules/win/renamed.yml", rule_text(RID, version=2, image="\\b.exe", modified="2024-05-01",
                                                 changelog=[(2, "2024-05-01", "Catch b.exe")]))
    c2 = commit(repo, "rename and bump")
    return root, [c1, c2]


def test_history_by_path_follows_rename_in_json(git_repo: git.Repo, run_talr) -> None:  # type: ignore[no-untyped-def]
    root, commits = build(git_repo)
    result = run_talr("history", "rules/win/renamed.yml", "--format", "json", cwd=root)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["id"] == RID
    assert [(v["version"], v["commit"], v["path"], v["note"]) for v in data["versions"]] == [
        (1, commits[0], "rules/a.yml", ""),
        (2, commits[1], "rules/win/renamed.yml", "Catch b.exe"),
    ]
    assert all(v["author"] == "Test Author" and v["date"].endswith("+00:00") for v in data["versions"])


def test_history_by_id_in_text(git_repo: git.Repo, run_talr) -> None:  # type: ignore[no-untyped-def]
    root, commits = build(git_repo)
    result = run_talr("history", RID, cwd=root)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"rule {RID}"
    assert lines[1].startswith(f"v1  {commits[0][:10]}  ") and lines[1].endswith("Test Author  rules/a.yml")
    assert lines[2].startswith(f"v2  {commits[1][:10]}  ")
    assert lines[2].endswith("Test Author  rules/win/renamed.yml  Catch b.exe")


def test_history_of_deleted_file_path_reads_rev_tree(git_repo: git.Repo, run_talr) -> None:  # type: ignore[no-untyped-def]
    root, _commits = build(git_repo)
    (root / "rules/win/renamed.yml").unlink()
    result = run_talr("history", "rules/win/renamed.yml", "--format", "json", cwd=root)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["id"] == RID


def test_history_reports_collision_of_two_branches(git_repo: git.Repo, run_talr) -> None:  # type: ignore[no-untyped-def]
    root = init_rule_repo(git_repo)
    put(git_repo, "rules/a.yml", rule_text(RID, version=1))
    commit(git_repo, "add")
    for branch, image in (("x", "\\x.exe"), ("y", "\\y.exe")):
        git_repo.git.checkout("-q", "-b", branch, "main")
        put(git_repo, "rules/a.yml", rule_text(RID, version=2, image=image))
        commit(git_repo, f"{branch} bumps")
    git_repo.git.checkout("-q", "main")
    git_repo.git.merge("-q", "--no-ff", "x", "-m", "merge x")
    git_repo.git.merge("-q", "--no-ff", "y", "-m", "merge y", "-X", "theirs")
    result = run_talr("history", RID, "--format", "json", cwd=root)
    assert [c["version"] for c in json.loads(result.stdout)["collisions"]] == [2]
    text = run_talr("history", RID, cwd=root)
    assert "warning: version 2 was introduced separately by" in text.stderr


def test_unknown_rule_and_bad_format_are_errors(git_repo: git.Repo, run_talr) -> None:  # type: ignore[no-untyped-def]
    root, _ = build(git_repo)
    unknown = run_talr("history", "99999999-9999-4999-8999-999999999999", cwd=root)
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == ("talr: error: 99999999-9999-4999-8999-999999999999: no rule with id "
                                      "99999999-9999-4999-8999-999999999999 in the history of HEAD")
    missing = run_talr("history", "rules/nope.yml", cwd=root)
    assert missing.returncode == 2 and "no such rule file" in missing.stderr
    bad = run_talr("history", RID, "--format", "xml", cwd=root)
    assert bad.returncode == 2 and "use text or json" in bad.stderr
