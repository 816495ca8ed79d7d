"""pre-commit: TALR's hooks (.pre-commit-hooks.yaml) and this repository's config."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import git
import pytest
import yaml

from tests.conftest import PROJECT_ROOT, write

PRE_COMMIT = str(Path(sys.executable).with_name("pre-commit"))

GOOD_RULE = PROJECT_ROOT / "rules" / "windows" / "process_creation" / "proc_creation_win_nltest_domain_trust_discovery.yml"
BAD_RULE = """\
title: Rule With A Bad Status
id: 11111111-2222-4333-8444-555555555555
status: nonsense
logsource:
    product: windows
    category: process_creation
detection:
    selection:
        Image|endswith: '\\nltest.exe'
    condition: selection
level: high
"""


def _pre_commit(*args: str, cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(home),
        # Install the hook environment with the project's pins: fast and reproducible.
        "PIP_CONSTRAINT": str(PROJECT_ROOT / "constraints.txt"),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "NO_COLOR": "1",
        "PRE_COMMIT_COLOR": "never",
    }
    return subprocess.run([PRE_COMMIT, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=1500)


def test_hook_manifest_and_config_are_valid() -> None:
    for command, name in (("validate-manifest", ".pre-commit-hooks.yaml"), ("validate-config", ".pre-commit-config.yaml")):
        result = subprocess.run([PRE_COMMIT, command, str(PROJECT_ROOT / name)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


def test_manifest_declares_lint_and_fmt_for_yaml_files() -> None:
    hooks = {h["id"]: h for h in yaml.safe_load((PROJECT_ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert {"talr-lint", "talr-fmt"} <= set(hooks)
    for hook_id, entry in (("talr-lint", "talr lint"), ("talr-fmt", "talr fmt")):
        assert hooks[hook_id]["entry"] == entry
        assert hooks[hook_id]["language"] == "python"
    import re

    assert re.search(hooks["talr-lint"]["files"], "rules/a.yml") and re.search(hooks["talr-lint"]["files"], "b.yaml")
    assert not re.search(hooks["talr-lint"]["files"], "README.md")


def test_repository_config_runs_the_hooks_on_rules(tmp_path: Path) -> None:
    """This repository's own config, run on its rules: both hooks pass."""
    if shutil.which("talr") is None and not Path(sys.executable).with_name("talr").exists():
        pytest.skip("talr is not installed in this environment")
    env_path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    result = subprocess.run(
        [PRE_COMMIT, "run", "--all-files", "--config", str(PROJECT_ROOT / ".pre-commit-config.yaml")],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PATH": env_path, "PRE_COMMIT_HOME": str(tmp_path / "home")},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "talr fmt" in result.stdout and "talr lint" in result.stdout


@pytest.mark.slow
def test_try_repo_passes_the_good_rule_and_fails_the_bad_one(git_repo: git.Repo, tmp_path: Path) -> None:
    """The real ``pre-commit try-repo`` installs TALR from this checkout into a fresh env."""
    root = Path(git_repo.working_tree_dir or "")
    good = root / "rules" / GOOD_RULE.name
    good.parent.mkdir(parents=True)
    shutil.copy(GOOD_RULE, good)
    bad = write(root / "rules" / "proc_creation_win_bad_status_example.yml", BAD_RULE)
    git_repo.index.add([str(good), str(bad)])
    git_repo.index.commit("rules")
    home = tmp_path / "pre-commit-home"

    passed = _pre_commit("try-repo", str(PROJECT_ROOT), "--files", str(good.relative_to(root)), cwd=root, home=home)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "talr lint" in passed.stdout and "talr fmt" in passed.stdout
    assert "Failed" not in passed.stdout

    failed = _pre_commit("try-repo", str(PROJECT_ROOT), "talr-lint", "--all-files", cwd=root, home=home)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "talr lint" in failed.stdout and "Failed" in failed.stdout
    bad_lines = [line for line in failed.stdout.splitlines() if line.startswith("rules/" + bad.name)]
    assert any("TALR101" in line and "'nonsense'" in line for line in bad_lines), failed.stdout
    assert not any(line.startswith("rules/" + good.name + ":") for line in failed.stdout.splitlines())
    assert good.read_bytes() == GOOD_RULE.read_bytes()
