"""The talr-version-check pre-commit hook, run by real pre-commit on a real commit."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import git
import yaml

from tests.conftest import PROJECT_ROOT
from tests.test_version_support import commit, init_rule_repo, put, rule_text

RID = "11111111-1111-4111-8111-111111111111"


def hook() -> dict[str, object]:
    manifest = yaml.safe_load((PROJECT_ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    return next(h for h in manifest if h["id"] == "talr-version-check")


def test_manifest_is_valid() -> None:
    done = subprocess.run([sys.executable, "-m", "pre_commit", "validate-manifest",
                           str(PROJECT_ROOT / ".pre-commit-hooks.yaml")], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert hook()["pass_filenames"] is False


def test_hook_blocks_an_unbumped_commit(git_repo: git.Repo, tmp_path: Path) -> None:
    root = init_rule_repo(git_repo)
    put(git_repo, "rules/a.yml", rule_text(RID, version=1))
    commit(git_repo, "add")
    git_repo.git.checkout("-q", "-b", "feature")
    spec = hook()
    entry = shlex.split(str(spec["entry"]))
    assert entry[0] == "talr"
    local_entry = shlex.join([sys.executable, "-m", "talr_tools.cli.main", *entry[1:]])
    (root / ".pre-commit-config.yaml").write_text(
        "repos:\n-   repo: local\n    hooks:\n"
        f"    -   id: {spec['id']}\n        name: {spec['name']}\n        entry: {local_entry}\n"
        f"        language: system\n        files: '{spec['files']}'\n        pass_filenames: false\n",
        encoding="utf-8")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pc-home")}
    subprocess.run([sys.executable, "-m", "pre_commit", "install"], cwd=root, env=env, check=True,
                   capture_output=True)
    git_repo.index.add([".pre-commit-config.yaml"])
    put(git_repo, "rules/a.yml", rule_text(RID, version=1, image="\\bad.exe"))

    refused = subprocess.run(["git", "commit", "-m", "tune"], cwd=root, env=env, capture_output=True, text=True)
    assert refused.returncode != 0
    output = refused.stdout + refused.stderr  # pre-commit prints hook output on stderr or stdout
    assert "rules/a.yml:" in output and "VER001" in output

    put(git_repo, "rules/a.yml", rule_text(RID, version=2, image="\\bad.exe", modified="2024-06-01",
                                           changelog=[(2, "2024-06-01", "Catch bad.exe")]))
    accepted = subprocess.run(["git", "commit", "-m", "tune"], cwd=root, env=env, capture_output=True, text=True)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
