"""``talr test-convert --base REF`` on a real git repository: regressions vs failures already there."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import git

from tests.conftest import FIXTURES, write

RULES = FIXTURES / "convert" / "rules"
Run = Callable[..., subprocess.CompletedProcess[str]]

KEYWORDS_DETECTION = """detection:
    keywords:
        - 'whoami /all'
    condition: keywords
"""


def _cells(stdout: str) -> dict[tuple[str, str], dict[str, Any]]:
    data = json.loads(stdout)
    return {(c["path"], c["target"]): c for c in data["cells"]}


def _setup(repo: git.Repo) -> Path:
    root = Path(str(repo.working_tree_dir))
    write(root / "talr.toml", 'rule_dirs = ["rules"]\n')
    write(root / ".gitignore", ".talr-cache/\n")
    for name in ("proc_whoami", "keywords_undeclared", "stale_expectation"):
        write(root / "rules" / f"{name}.yml", (RULES / f"{name}.yml").read_text())
    repo.index.add(["talr.toml", ".gitignore", "rules"])
    repo.index.commit("base rules")
    return root


def test_regression_is_told_from_failure_already_there(run_talr: Run, git_repo: git.Repo) -> None:
    root = _setup(git_repo)
    base = git_repo.head.commit.hexsha
    # break a rule that converted on sqlite at the base, and move it: matched by id, not path
    whoami = root / "rules" / "proc_whoami.yml"
    text = whoami.read_text()
    start, end = text.index("detection:"), text.index("level:")
    (root / "rules" / "moved_whoami.yml").write_text(text[:start] + KEYWORDS_DETECTION + text[end:])
    whoami.unlink()
    # a new rule that fails
    write(root / "rules" / "new_rule.yml", (RULES / "null_field.yml").read_text())
    git_repo.index.remove(["rules/proc_whoami.yml"])
    git_repo.index.add(["rules/moved_whoami.yml", "rules/new_rule.yml"])
    git_repo.index.commit("change")

    result = run_talr(
        "test-convert", "rules", "-b", "sqlite", "-b", "carbon_black", "--base", base, "--format", "json", cwd=root
    )
    assert result.returncode == 1, result.stderr
    cells = _cells(result.stdout)
    regression = cells[("rules/moved_whoami.yml", "sqlite")]
    assert regression["state"] == "unexpected_failure" and regression["baseline"] == "regression"
    assert cells[("rules/keywords_undeclared.yml", "sqlite")]["baseline"] == "pre-existing"
    assert cells[("rules/new_rule.yml", "carbon_black")]["baseline"] == "new-rule"
    assert json.loads(result.stdout)["base"] == base

    github = run_talr("test-convert", "rules", "-b", "sqlite", "--base", base, "--format", "github", cwd=root)
    lines = github.stdout.splitlines()
    assert any(
        line.startswith("::error file=rules/moved_whoami.yml,") and "regression (converted at the base)" in line
        for line in lines
    )
    # a failure that was already there is a warning, not an error
    assert any(line.startswith("::warning file=rules/keywords_undeclared.yml,") for line in lines)
    table = run_talr("test-convert", "rules", "-b", "sqlite", "--base", base, cwd=root)
    assert "1 regression(s) against" in table.stdout


def test_only_failures_already_there_exit_zero(run_talr: Run, git_repo: git.Repo) -> None:
    root = _setup(git_repo)
    (root / "rules" / "stale_expectation.yml").unlink()
    git_repo.index.remove(["rules/stale_expectation.yml"])
    git_repo.index.commit("drop the stale expectation")
    plain = run_talr("test-convert", "rules", "-b", "sqlite", cwd=root)
    assert plain.returncode == 1  # keywords_undeclared fails on sqlite
    against = run_talr("test-convert", "rules", "-b", "sqlite", "--base", "HEAD", "--format", "json", cwd=root)
    assert against.returncode == 0, against.stdout
    cell = _cells(against.stdout)[("rules/keywords_undeclared.yml", "sqlite")]
    assert cell["state"] == "unexpected_failure" and cell["baseline"] == "pre-existing"


def test_fixed_cell_is_labelled(run_talr: Run, git_repo: git.Repo) -> None:
    root = _setup(git_repo)
    base = git_repo.head.commit.hexsha
    broken = root / "rules" / "keywords_undeclared.yml"
    text = broken.read_text()
    start, end = text.index("detection:"), text.index("level:")
    fixed = "detection:\n    selection:\n        ServiceName: 'evil-service'\n    condition: selection\n"
    broken.write_text(text[:start] + fixed + text[end:])
    result = run_talr("test-convert", "rules", "-b", "sqlite", "--base", base, "--format", "json", cwd=root)
    cell = _cells(result.stdout)[("rules/keywords_undeclared.yml", "sqlite")]
    assert cell["state"] == "ok" and cell["baseline"] == "fixed"


def test_bad_base_ref_is_one_line_error(run_talr: Run, git_repo: git.Repo) -> None:
    root = _setup(git_repo)
    result = run_talr("test-convert", "rules", "-b", "sqlite", "--base", "no-such-ref", cwd=root)
    assert result.returncode == 2
    assert result.stderr.startswith("talr: error: --base no-such-ref: no such commit in ")
    assert len(result.stderr.strip().splitlines()) == 1


def test_base_outside_git_is_one_line_error(run_talr: Run, tmp_path: Path) -> None:
    write(tmp_path / "rules" / "a.yml", (RULES / "proc_whoami.yml").read_text())
    result = run_talr("test-convert", "rules", "-b", "sqlite", "--base", "HEAD", cwd=tmp_path)
    assert result.returncode == 2
    assert "not inside a git repository (needed for --base)" in result.stderr
