"""Release notes from a real git repository with release tags: Markdown and JSON."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import git

from tests.test_build_support import DEPRECATED, OFFICE, POWERSHELL, commit_all, fixture_repo

Run = Callable[..., subprocess.CompletedProcess[str]]
NEW_ID = "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d"
PS_PATH = "rules/proc_creation_win_encoded_powershell.yml"
OFFICE_PATH = "rules/net_connection_win_rare_port_count.yml"


def _second_release(root: Path, repo: git.Repo) -> None:
    """After v1: one new rule, one rule bumped twice (2 -> 4), one rule deprecated (1 -> 2)."""
    ps = root / PS_PATH
    text = ps.read_text(encoding="utf-8")
    text = text.replace("    version: 2\n", "    version: 3\n").replace(
        "    changelog:\n", "    changelog:\n        - version: 3\n          note: Catch -ec\n").replace(
        "            - ' -EncodedCommand '\n", "            - ' -EncodedCommand '\n            - ' -ec '\n")
    ps.write_text(text, encoding="utf-8")
    commit_all(repo, "ps v3", "2024-08-01T00:00:00+00:00")
    text = text.replace("    version: 3\n", "    version: 4\n").replace(
        "    changelog:\n", "    changelog:\n        - version: 4\n          note: Catch -en\n").replace(
        "            - ' -ec '\n", "            - ' -ec '\n            - ' -en '\n")
    ps.write_text(text, encoding="utf-8")
    commit_all(repo, "ps v4", "2024-08-02T00:00:00+00:00")
    office = root / OFFICE_PATH
    office.write_text(office.read_text(encoding="utf-8").replace("status: experimental\ndescription: Office",
                                                               "status: deprecated\ndescription: Office", 1)
                      .replace("    version: 1\n", "    version: 2\n    changelog:\n        - version: 2\n"
                                                     "          note: Superseded by EDR rule\n"), encoding="utf-8")
    (root / "rules" / "new_rule.yml").write_text(
        f"title: Brand New Rule\nid: {NEW_ID}\nstatus: test\nlogsource:\n    product: linux\n"
        "detection:\n    sel:\n        Image: /bin/evil\n    condition: sel\nlevel: high\ntalr:\n    version: 1\n",
        encoding="utf-8")
    commit_all(repo, "new rule and deprecation", "2024-08-03T00:00:00+00:00")


def test_notes_since_previous_tag(git_repo: git.Repo, run_talr: Run) -> None:
    root = fixture_repo(git_repo)
    git_repo.create_tag("v1.0.0")
    v1 = git_repo.head.commit.hexsha
    _second_release(root, git_repo)
    git_repo.create_tag("v1.1.0")  # building the tagged commit: the previous release is v1.0.0

    proc = run_talr("build", cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert "1 new, 2 updated, 1 deprecated since v1.0.0" in proc.stdout

    notes = json.loads((root / "dist" / "release-notes.json").read_text(encoding="utf-8"))
    assert notes["since"] == {"ref": "v1.0.0", "commit": v1}
    assert notes["commit"] == git_repo.head.commit.hexsha and notes["commit_date"] == "2024-08-03"
    assert [n["id"] for n in notes["new"]] == [NEW_ID]
    updated = {u["id"]: u for u in notes["updated"]}
    assert set(updated) == {POWERSHELL, OFFICE}
    ps = updated[POWERSHELL]
    assert (ps["from_version"], ps["version"]) == (2, 4)
    assert [(c["version"], c["note"], c["date"]) for c in ps["changes"]] == [
        (3, "Catch -ec", "2024-08-01"), (4, "Catch -en", "2024-08-02")]
    assert [d["id"] for d in notes["deprecated"]] == [OFFICE]
    assert DEPRECATED not in {u["id"] for u in notes["updated"]}  # unchanged since v1.0.0

    md = (root / "dist" / "release-notes.md").read_text(encoding="utf-8")
    assert "changes since `v1.0.0`" in md
    assert "## New rules (1)" in md and "**Brand New Rule**" in md
    assert "## Updated rules (2)" in md and "version 2 → 4" in md
    assert "  - v3: Catch -ec" in md and "  - v4: Catch -en" in md
    assert "## Deprecated rules (1)" in md and "v2: Superseded by EDR rule" in md


def test_since_option_and_first_release(git_repo: git.Repo, run_talr: Run) -> None:
    root = fixture_repo(git_repo)
    first = git_repo.head.commit.hexsha
    proc = run_talr("build", cwd=root)
    assert proc.returncode == 0, proc.stderr
    notes = json.loads((root / "dist" / "release-notes.json").read_text(encoding="utf-8"))
    assert notes["since"] is None and len(notes["new"]) == 3 and notes["updated"] == []
    assert "first release" in (root / "dist" / "release-notes.md").read_text(encoding="utf-8")

    _second_release(root, git_repo)
    proc = run_talr("build", "--since", first, cwd=root)
    assert proc.returncode == 0, proc.stderr
    notes = json.loads((root / "dist" / "release-notes.json").read_text(encoding="utf-8"))
    assert notes["since"]["commit"] == first
    assert len(notes["new"]) == 1 and len(notes["updated"]) == 2


def test_plain_folder_notes_say_there_is_no_history(tmp_path: Path, run_talr: Run) -> None:
    from tests.test_build_support import copy_fixture

    root = copy_fixture(tmp_path / "plain")
    proc = run_talr("build", cwd=root)
    assert proc.returncode == 0, proc.stderr
    notes = json.loads((root / "dist" / "release-notes.json").read_text(encoding="utf-8"))
    assert notes["history"] is False and notes["rule_count"] == 3 and notes["new"] == []
    assert "no git history" in (root / "dist" / "release-notes.md").read_text(encoding="utf-8")
    bad = run_talr("build", "--since", "v1", cwd=root)
    assert bad.returncode == 2 and "need a git repository" in bad.stderr


def test_rule_already_deprecated_at_the_base_is_not_announced_again(git_repo: git.Repo, run_talr: Run) -> None:
    root = fixture_repo(git_repo)
    git_repo.create_tag("v1")
    path = root / "rules" / "old_rule_deprecated.yml"
    path.write_text(path.read_text(encoding="utf-8").replace("    version: 2\n", "    version: 3\n").replace(
        "description: Replaced by a better rule.", "description: Replaced by rule X."), encoding="utf-8")
    commit_all(git_repo, "reword deprecated rule", "2024-09-01T00:00:00+00:00")

    assert run_talr("build", cwd=root).returncode == 0
    notes = json.loads((root / "dist" / "release-notes.json").read_text(encoding="utf-8"))
    assert [u["id"] for u in notes["updated"]] == [DEPRECATED]
    assert notes["deprecated"] == []


def test_removed_rules_are_listed(git_repo: git.Repo, run_talr: Run) -> None:
    root = fixture_repo(git_repo)
    git_repo.create_tag("v1")
    (root / "rules" / "old_rule_deprecated.yml").unlink()
    git_repo.git.mv(PS_PATH, "rules/moved.yml")  # moved, not removed
    commit_all(git_repo, "remove the deprecated rule, move another", "2024-09-01T00:00:00+00:00")

    assert run_talr("build", cwd=root).returncode == 0
    notes = json.loads((root / "dist" / "release-notes.json").read_text(encoding="utf-8"))
    assert notes["removed"] == [{"id": DEPRECATED, "title": "Old Whoami Rule", "path": "rules/old_rule_deprecated.yml",
                                 "version": 2, "status": "deprecated"}]
    assert notes["new"] == [] and notes["updated"] == []
    md = (root / "dist" / "release-notes.md").read_text(encoding="utf-8")
    assert "## Removed rules (1)" in md and "**Old Whoami Rule**" in md
