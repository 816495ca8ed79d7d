"""talr version check on real git repositories: what needs a bump and what does not."""

from __future__ import annotations

from pathlib import Path

import git
import pytest

from talr_tools.versioning.check import version_check
from tests.test_version_support import commit, correlation_text, init_rule_repo, move, put, rule_text

RID = "11111111-1111-4111-8111-111111111111"
NEW = "44444444-4444-4444-8444-444444444444"
BUMPED = rule_text(RID, version=2, image="\\bad.exe", modified="2024-06-01",
                   changelog=[(2, "2024-06-01", "Catch bad.exe")])


@pytest.fixture
def repo(git_repo: git.Repo) -> git.Repo:
    """main holds rules/a.yml at version 1; HEAD is on branch ``feature``."""
    init_rule_repo(git_repo)
    put(git_repo, "rules/a.yml", rule_text(RID, version=1, modified="2024-02-01"))
    commit(git_repo, "add rule")
    git_repo.git.checkout("-q", "-b", "feature")
    return git_repo


def root_of(repo: git.Repo) -> Path:
    return Path(repo.working_tree_dir or ".")


def codes(repo: git.Repo, **kwargs: object) -> list[tuple[str, str]]:
    result = version_check(root_of(repo), **kwargs)  # type: ignore[arg-type]
    return [(f.path, f.code) for f in result.findings]


def test_rename_plus_edit_without_bump_is_reported_at_new_path(repo: git.Repo) -> None:
    move(repo, "rules/a.yml", "rules/win/b.yml")
    put(repo, "rules/win/b.yml", rule_text(RID, version=1, image="\\bad.exe", modified="2024-02-01"))
    commit(repo, "move and tune")
    assert codes(repo) == [("rules/win/b.yml", "VER001")]
    put(repo, "rules/win/b.yml", BUMPED)
    assert codes(repo) == []


def test_rename_only_needs_no_bump(repo: git.Repo) -> None:
    move(repo, "rules/a.yml", "rules/moved/renamed.yml")
    commit(repo, "move")
    assert codes(repo) == []


def test_comment_only_and_key_order_only_edits_need_no_bump(repo: git.Repo) -> None:
    text = rule_text(RID, version=1, modified="2024-02-01", comment="  # tuned later")
    lines = text.splitlines(keepends=True)
    # key order: move `level` to the top and re-indent nothing else
    level = next(line for line in lines if line.startswith("level:"))
    lines.remove(level)
    put(repo, "rules/a.yml", "# a comment on top\n" + level + "".join(lines))
    commit(repo, "cosmetics")
    assert codes(repo) == []


def test_detection_change_is_reported_with_position(repo: git.Repo) -> None:
    put(repo, "rules/a.yml", rule_text(RID, version=1, image="\\bad.exe", modified="2024-02-01"))
    result = version_check(root_of(repo))
    [finding] = result.findings
    assert finding.code == "VER001" and finding.path == "rules/a.yml"
    text = (root_of(repo) / "rules/a.yml").read_text().splitlines()
    assert text[finding.line - 1].strip() == "version: 1"  # type: ignore[operator]
    assert result.base.commit == repo.commit("main")


def test_version_jump_decrease_and_new_rule_not_at_1(repo: git.Repo) -> None:
    put(repo, "rules/a.yml", rule_text(RID, version=3, image="\\bad.exe", modified="2024-06-01",
                                       changelog=[(3, "2024-06-01", "x")]))
    put(repo, "rules/new.yml", rule_text(NEW, version=2))
    assert codes(repo) == [("rules/a.yml", "VER002"), ("rules/new.yml", "VER006")]
    put(repo, "rules/a.yml", rule_text(RID, version=0, modified="2024-02-01"))
    put(repo, "rules/new.yml", rule_text(NEW))  # no talr block: version 1
    assert codes(repo) == [("rules/a.yml", "VER003")]


def test_bump_needs_modified_and_changelog(repo: git.Repo) -> None:
    put(repo, "rules/a.yml", rule_text(RID, version=2, image="\\bad.exe"))
    assert codes(repo) == [("rules/a.yml", "VER007"), ("rules/a.yml", "VER008")]
    put(repo, "rules/a.yml", rule_text(RID, version=2, image="\\bad.exe", modified="2024-01-15",
                                       changelog=[(2, "2024-01-15", "n")]))
    result = version_check(root_of(repo))
    assert [(f.code, f.message) for f in result.findings] == [
        ("VER007", "modified 2024-01-15 is before the base's 2024-02-01; set it to the date of this change")]
    put(repo, "rules/a.yml", rule_text(RID, version=2, image="\\bad.exe", modified="2024-02-01",
                                       changelog=[(2, "2024-02-01", "n")]))
    assert codes(repo) == [("rules/a.yml", "VER007")]  # left unchanged from the base


def test_id_change_with_successor_link_is_a_new_rule(repo: git.Repo) -> None:
    put(repo, "rules/a.yml", rule_text(NEW, version=1, related=[(RID, "renamed")]))
    assert codes(repo) == []
    put(repo, "rules/a.yml", rule_text(NEW, version=2, related=[(RID, "renamed")]))
    assert codes(repo) == [("rules/a.yml", "VER006")]


def test_json_output(repo: git.Repo, run_talr) -> None:  # type: ignore[no-untyped-def]
    import json

    put(repo, "rules/a.yml", rule_text(RID, version=1, image="\\bad.exe", modified="2024-02-01"))
    done = run_talr("version", "check", "--format", "json", cwd=root_of(repo))
    assert done.returncode == 1
    data = json.loads(done.stdout)
    assert data["base"] == repo.commit("main").hexsha and data["base_reason"] == "merge-base with main"
    lines = (root_of(repo) / "rules/a.yml").read_text().splitlines()
    line = lines.index("    version: 1") + 1
    assert [(f["path"], f["code"], f["line"]) for f in data["findings"]] == [("rules/a.yml", "VER001", line)]


def test_repository_without_commits_checks_every_rule_as_new(git_repo: git.Repo) -> None:
    root = root_of(git_repo)
    (root / "talr.toml").write_text('rule_dirs = ["rules"]\n')
    put(git_repo, "rules/a.yml", rule_text(RID, version=1))
    put(git_repo, "rules/b.yml", rule_text(NEW, version=4))
    assert codes(git_repo) == [("rules/b.yml", "VER006")]
    assert codes(git_repo, staged=True) == [("rules/b.yml", "VER006")]


def test_bump_without_content_change_is_reported(repo: git.Repo) -> None:
    put(repo, "rules/a.yml", rule_text(RID, version=2, modified="2024-06-01",
                                       changelog=[(2, "2024-06-01", "nothing")]))
    assert codes(repo) == [("rules/a.yml", "VER009")]


def test_deleted_rule_without_deprecation_is_reported(repo: git.Repo) -> None:
    repo.index.remove(["rules/a.yml"], working_tree=True)
    commit(repo, "delete")
    assert codes(repo) == [("rules/a.yml", "VER005")]


def test_deleting_a_deprecated_rule_is_fine(git_repo: git.Repo) -> None:
    init_rule_repo(git_repo)
    put(git_repo, "rules/a.yml", rule_text(RID, version=1, status="deprecated"))
    commit(git_repo, "deprecated in a release")
    git_repo.git.checkout("-q", "-b", "feature")
    git_repo.index.remove(["rules/a.yml"], working_tree=True)
    commit(git_repo, "delete")
    assert codes(git_repo) == []


def test_deleting_with_a_successor_that_links_it_is_fine(repo: git.Repo) -> None:
    repo.index.remove(["rules/a.yml"], working_tree=True)
    put(repo, "rules/successor.yml", rule_text(NEW, version=1, related=[(RID, "obsolete")]))
    assert codes(repo) == []


def test_successor_committed_earlier_is_found_by_grep(repo: git.Repo) -> None:
    repo.git.checkout("-q", "main")
    put(repo, "rules/successor.yml", rule_text(NEW, version=1, related=[(RID, "renamed")]))
    commit(repo, "successor first")
    repo.git.checkout("-q", "-B", "feature")
    repo.index.remove(["rules/a.yml"], working_tree=True)
    assert codes(repo) == []


def test_changed_id_is_reported(repo: git.Repo) -> None:
    put(repo, "rules/a.yml", rule_text(NEW, version=1, modified="2024-02-01"))
    result = version_check(root_of(repo))
    assert [(f.code, f.line) for f in result.findings] == [("VER004", 2)]
    assert RID in result.findings[0].message and NEW in result.findings[0].message


def test_multi_document_rule_change_in_second_document(repo: git.Repo) -> None:
    put(repo, "rules/a.yml", rule_text(RID, version=1, modified="2024-02-01") + "---\n" + correlation_text(RID, "1h"))
    commit(repo, "add correlation")
    repo.git.branch("-f", "main", "HEAD")
    put(repo, "rules/a.yml", rule_text(RID, version=1, modified="2024-02-01") + "---\n" + correlation_text(RID, "2h"))
    assert codes(repo) == [("rules/a.yml", "VER001")]


def test_staged_content_is_checked_not_the_working_tree(repo: git.Repo) -> None:
    put(repo, "rules/a.yml", BUMPED)  # staged: a correct bump
    (root_of(repo) / "rules/a.yml").write_text(rule_text(RID, version=1, image="\\worse.exe"))
    assert codes(repo, staged=True) == []
    assert codes(repo) == [("rules/a.yml", "VER001")]
    put(repo, "rules/a.yml", rule_text(RID, version=1, image="\\worse.exe"))  # now staged wrong
    (root_of(repo) / "rules/a.yml").write_text(BUMPED)
    assert codes(repo, staged=True) == [("rules/a.yml", "VER001")]
    assert codes(repo) == []


def test_untracked_new_rule_is_checked_but_not_when_staged(repo: git.Repo) -> None:
    (root_of(repo) / "rules/new.yml").write_text(rule_text(NEW, version=5))
    assert codes(repo) == [("rules/new.yml", "VER006")]
    assert codes(repo, staged=True) == []


def test_detached_head(repo: git.Repo) -> None:
    put(repo, "rules/a.yml", rule_text(RID, version=1, image="\\bad.exe", modified="2024-02-01"))
    commit(repo, "tune")
    repo.git.checkout("-q", "--detach", "HEAD")
    assert repo.head.is_detached
    assert codes(repo) == [("rules/a.yml", "VER001")]


def test_on_main_the_working_tree_is_compared_with_head(repo: git.Repo) -> None:
    repo.git.checkout("-q", "main")
    assert codes(repo) == []
    put(repo, "rules/a.yml", rule_text(RID, version=1, image="\\bad.exe"))
    result = version_check(root_of(repo))
    assert result.base.commit == repo.head.commit
    assert [f.code for f in result.findings] == ["VER001"]


def test_explicit_base_and_release_tag_fallback(git_repo: git.Repo) -> None:
    init_rule_repo(git_repo)
    put(git_repo, "rules/a.yml", rule_text(RID, version=1))
    commit(git_repo, "add")
    git_repo.create_tag("v1.0")
    put(git_repo, "rules/a.yml", rule_text(RID, version=1, image="\\bad.exe"))
    commit(git_repo, "tune")
    git_repo.git.checkout("-q", "-b", "release")
    git_repo.git.branch("-D", "main")  # no main: the last v* tag is the base
    result = version_check(Path(git_repo.working_tree_dir or "."))
    assert result.base.reason == "last release tag v1.0"
    assert [f.code for f in result.findings] == ["VER001"]
    assert version_check(Path(git_repo.working_tree_dir or "."), "HEAD").findings == []


def test_two_branches_bumping_the_same_rule_then_merged_is_reported(repo: git.Repo) -> None:
    repo.git.checkout("-q", "-b", "other", "main")
    put(repo, "rules/a.yml", rule_text(RID, version=2, image="\\other.exe", modified="2024-06-01",
                                       changelog=[(2, "2024-06-01", "other")]))
    commit(repo, "other bumps")
    repo.git.checkout("-q", "main")
    repo.git.merge("-q", "--no-ff", "other", "-m", "merge other")
    repo.git.checkout("-q", "feature")
    put(repo, "rules/a.yml", BUMPED)
    commit(repo, "feature bumps")
    result = version_check(root_of(repo))  # before merging main: the collision is seen on main's tip
    assert [(f.code, f.path) for f in result.findings] == [("VER010", "rules/a.yml")]
    assert result.findings[0].message.startswith("main already has version 2 of this rule with other content")
    assert version_check(root_of(repo), "main~1").findings == []  # against the old base alone it is right
    repo.git.merge("-q", "main", "-m", "merge main", "-X", "ours")  # now both bumps meet at version 2
    put(repo, "rules/a.yml", rule_text(RID, version=2, image="\\bad.exe", title="Both", modified="2024-06-01",
                                       changelog=[(2, "2024-06-01", "Catch bad.exe")]))
    commit(repo, "resolve")
    result = version_check(root_of(repo))
    assert [(f.code, f.path) for f in result.findings] == [("VER001", "rules/a.yml")]
    assert "version is still 2" in result.findings[0].message


def test_rule_folder_in_a_subfolder_of_the_repository(git_repo: git.Repo) -> None:
    root = root_of(git_repo)
    (root / "detections").mkdir()
    (root / "detections/talr.toml").write_text('rule_dirs = ["sigma"]\n')
    put(git_repo, "detections/sigma/a.yml", rule_text(RID, version=1))
    put(git_repo, "other/not-a-rule.yml", rule_text(NEW, version=9))  # outside the rule folders
    commit(git_repo, "add")
    git_repo.git.checkout("-q", "-b", "feature")
    put(git_repo, "detections/sigma/a.yml", rule_text(RID, version=1, image="\\bad.exe"))
    put(git_repo, "other/not-a-rule.yml", rule_text(NEW, version=12))
    result = version_check(root / "detections")
    assert [(f.path, f.code) for f in result.findings] == [("detections/sigma/a.yml", "VER001")]


def test_reindent_and_requote_need_no_bump(repo: git.Repo) -> None:
    text = rule_text(RID, version=1, modified="2024-02-01")
    reindented = "\n".join(
        line.replace("    ", "  ") for line in text.splitlines()
    ).replace("'\\\\evil.exe'", '"\\\\\\\\evil.exe"') + "\n"
    assert reindented != text
    put(repo, "rules/a.yml", reindented)
    assert codes(repo) == []


def test_copied_rule_with_same_id_is_reported(repo: git.Repo) -> None:
    put(repo, "rules/copy.yml", rule_text(RID, version=1, modified="2024-02-01", image="\\copy.exe"))
    result = version_check(root_of(repo))
    assert [(f.path, f.code) for f in result.findings] == [("rules/copy.yml", "VER011")]
    assert result.findings[0].line == 2 and "rules/a.yml" in result.findings[0].message


def test_two_changed_files_with_one_id_are_reported(repo: git.Repo) -> None:
    put(repo, "rules/a.yml", rule_text(RID, version=1, modified="2024-02-01", comment="  # touched"))
    put(repo, "rules/b.yml", rule_text(RID, version=1, modified="2024-02-01", image="\\copy.exe"))
    result = version_check(root_of(repo))
    assert [(f.path, f.code) for f in result.findings] == [("rules/b.yml", "VER011")]


def test_github_annotations(repo: git.Repo, run_talr) -> None:  # type: ignore[no-untyped-def]
    put(repo, "rules/a.yml", rule_text(RID, version=1, image="\\bad.exe", modified="2024-02-01"))
    done = run_talr("version", "check", "--format", "github", cwd=root_of(repo))
    assert done.returncode == 1
    lines = (root_of(repo) / "rules/a.yml").read_text().splitlines()
    line = lines.index("    version: 1") + 1
    assert done.stdout.startswith(f"::error file=rules/a.yml,line={line},col=5,title=VER001::VER001 content changed")
