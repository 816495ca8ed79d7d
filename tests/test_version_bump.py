"""talr version bump: one bump per change, comments kept, idempotent, nothing half-written."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import git
import pytest

from talr_tools.errors import TalrError
from talr_tools.fmt import format_text
from talr_tools.loader import load_rule
from talr_tools.versioning.bump import version_bump
from talr_tools.versioning.check import version_check
from tests.test_version_support import commit, correlation_text, init_rule_repo, move, put, rule_text

RID = "11111111-1111-4111-8111-111111111111"
OTHER = "22222222-2222-4222-8222-222222222222"
DAY = dt.date(2025, 3, 4)


@pytest.fixture
def repo(git_repo: git.Repo) -> git.Repo:
    init_rule_repo(git_repo)
    put(git_repo, "rules/a.yml", rule_text(RID, version=1, modified="2024-02-01",
                                           comment="  # keep this comment"))
    put(git_repo, "rules/plain.yml", rule_text(OTHER))
    commit(git_repo, "add rules")
    git_repo.git.checkout("-q", "-b", "feature")
    return git_repo


def root_of(repo: git.Repo) -> Path:
    return Path(repo.working_tree_dir or ".")


def test_several_commits_one_bump_idempotent(repo: git.Repo) -> None:
    root = root_of(repo)
    for i, image in enumerate(("\\x.exe", "\\y.exe", "\\z.exe")):
        put(repo, "rules/a.yml", rule_text(RID, version=1, modified="2024-02-01", image=image,
                                           comment="  # keep this comment"))
        commit(repo, f"Tune image step {i}")

    first = version_bump(root, today=DAY)
    after_first = (root / "rules/a.yml").read_text()
    second = version_bump(root, today=DAY)

    assert [(b.path, b.old, b.new, b.note) for b in first.bumps] == [
        ("rules/a.yml", 1, 2, "Tune image step 2")]
    assert second.bumps == []
    assert (root / "rules/a.yml").read_text() == after_first
    rule = load_rule(root / "rules/a.yml").rule
    assert rule is not None
    assert rule.talr.version == 2
    assert rule.primary.data["modified"] == DAY
    assert [(e.version, e.date, e.note) for e in rule.talr.changelog] == [(2, DAY, "Tune image step 2")]
    assert version_check(root).findings == []


def test_bump_keeps_comments_and_is_fmt_clean(repo: git.Repo) -> None:
    root = root_of(repo)
    path = root / "rules/a.yml"
    path.write_text("# header comment\n" + rule_text(RID, version=1, modified="2024-02-01", image="\\q.exe",
                                                      comment="  # keep this comment"))
    version_bump(root, message="Catch q.exe", today=DAY)
    text = path.read_text()
    assert text.startswith("# header comment\n")
    assert "Image|endswith: '\\q.exe'  # keep this comment\n" in text
    assert format_text(text) == text


def test_rule_without_talr_block_gets_one_at_version_2(repo: git.Repo) -> None:
    root = root_of(repo)
    put(repo, "rules/plain.yml", rule_text(OTHER, image="\\new.exe"))
    result = version_bump(root, message="Tune", today=DAY)
    assert [(b.rule_id, b.old, b.new) for b in result.bumps] == [(OTHER, 1, 2)]
    rule = load_rule(root / "rules/plain.yml").rule
    assert rule is not None and rule.talr.version == 2
    assert rule.primary.data["modified"] == DAY
    assert version_check(root).findings == []


def test_uncommitted_change_without_message_writes_nothing(repo: git.Repo) -> None:
    root = root_of(repo)
    put(repo, "rules/a.yml", rule_text(RID, version=1, modified="2024-02-01", image="\\u.exe"))
    commit(repo, "Tune a")
    before_a = (root / "rules/a.yml").read_text()
    (root / "rules/plain.yml").write_text(rule_text(OTHER, image="\\uncommitted.exe"))
    before_plain = (root / "rules/plain.yml").read_text()
    with pytest.raises(TalrError, match=r"rules/plain.yml: .*give the note with -m"):
        version_bump(root, today=DAY)
    assert (root / "rules/a.yml").read_text() == before_a
    assert (root / "rules/plain.yml").read_text() == before_plain


def test_rename_only_and_cosmetic_edits_are_not_bumped(repo: git.Repo) -> None:
    root = root_of(repo)
    move(repo, "rules/a.yml", "rules/elsewhere/a.yml")
    put(repo, "rules/plain.yml", "# only a comment\n" + rule_text(OTHER))
    commit(repo, "move and comment")
    assert version_bump(root, today=DAY).bumps == []


def test_rename_plus_edit_bumps_at_new_path_with_commit_subject(repo: git.Repo) -> None:
    root = root_of(repo)
    move(repo, "rules/a.yml", "rules/elsewhere/a.yml")
    put(repo, "rules/elsewhere/a.yml", rule_text(RID, version=1, modified="2024-02-01", image="\\m.exe"))
    commit(repo, "Move and widen the rule")
    result = version_bump(root, today=DAY)
    assert [(b.path, b.note) for b in result.bumps] == [("rules/elsewhere/a.yml", "Move and widen the rule")]


def test_multi_document_bump_edits_primary_document_only(repo: git.Repo) -> None:
    root = root_of(repo)
    put(repo, "rules/a.yml", rule_text(RID, version=1, modified="2024-02-01") + "---\n" + correlation_text(RID, "1h"))
    commit(repo, "add correlation")
    repo.git.branch("-f", "main", "HEAD")
    put(repo, "rules/a.yml", rule_text(RID, version=1, modified="2024-02-01") + "---\n" + correlation_text(RID, "2h"))
    version_bump(root, message="Longer window", today=DAY)
    rule = load_rule(root / "rules/a.yml").rule
    assert rule is not None and len(rule.documents) == 2
    assert rule.talr.version == 2 and "talr" not in rule.documents[1].data
    assert "modified" not in rule.documents[1].data
    assert rule.documents[1].data["correlation"]["timespan"] == "2h"
    assert version_check(root).findings == []


def test_cli_bump_prints_changes_and_check_exit_codes(repo: git.Repo, run_talr) -> None:  # type: ignore[no-untyped-def]
    root = root_of(repo)
    put(repo, "rules/a.yml", rule_text(RID, version=1, modified="2024-02-01", image="\\c.exe"))
    commit(repo, "Tune via CLI")
    failed = run_talr("version", "check", cwd=root)
    assert failed.returncode == 1
    assert failed.stdout.startswith("rules/a.yml:") and " VER001 " in failed.stdout
    bumped = run_talr("version", "bump", cwd=root)
    assert bumped.returncode == 0, bumped.stderr
    assert bumped.stdout.strip() == f"rules/a.yml: bumped {RID} v1 -> v2: Tune via CLI"
    again = run_talr("version", "bump", cwd=root)
    assert again.returncode == 0 and again.stdout == ""
    ok = run_talr("version", "check", cwd=root)
    assert ok.returncode == 0 and ok.stdout == ""


def test_cli_bad_base_and_missing_message_are_one_line_errors(repo: git.Repo, run_talr) -> None:  # type: ignore[no-untyped-def]
    root = root_of(repo)
    bad = run_talr("version", "check", "--base", "no-such-ref", cwd=root)
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        f"talr: error: --base no-such-ref: no such commit, branch or tag in {root.resolve()}"]
    (root / "rules/plain.yml").write_text(rule_text(OTHER, image="\\uncommitted.exe"))
    missing = run_talr("version", "bump", cwd=root)
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1 and "-m TEXT" in missing.stderr


def test_cli_outside_git_and_broken_rule(tmp_path: Path, repo: git.Repo, run_talr) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "plain").mkdir()
    outside = run_talr("version", "check", cwd=tmp_path / "plain")
    assert outside.returncode == 2 and "not inside a git repository" in outside.stderr
    root = root_of(repo)
    (root / "rules/a.yml").write_text("title: [unclosed\n")
    broken = run_talr("version", "check", cwd=root)
    assert broken.returncode == 1
    assert broken.stdout.startswith("rules/a.yml:") and "TALR005" in broken.stdout
    assert "VER005" not in broken.stdout  # unreadable is not deleted


def test_dry_run_writes_nothing(repo: git.Repo, run_talr) -> None:  # type: ignore[no-untyped-def]
    root = root_of(repo)
    put(repo, "rules/a.yml", rule_text(RID, version=1, modified="2024-02-01", image="\\d.exe"))
    before = (root / "rules/a.yml").read_text()
    done = run_talr("version", "bump", "--dry-run", "-m", "Try", cwd=root)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"rules/a.yml: would bump {RID} v1 -> v2: Try"
    assert (root / "rules/a.yml").read_text() == before


def test_cli_bump_reports_unreadable_changed_rules(repo: git.Repo, run_talr) -> None:  # type: ignore[no-untyped-def]
    root = root_of(repo)
    put(repo, "rules/plain.yml", rule_text(OTHER, image="\\p.exe"))
    (root / "rules/a.yml").write_text("title: [unclosed\n")
    done = run_talr("version", "bump", "-m", "Tune", cwd=root)
    assert done.returncode == 1
    assert done.stdout.strip() == f"rules/plain.yml: bumped {OTHER} v1 -> v2: Tune"
    assert "rules/a.yml:" in done.stderr and "TALR005" in done.stderr and "not bumped" in done.stderr
