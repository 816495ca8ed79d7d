"""The README's first command (install + main job) stays true: its talr steps pass on this repository."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import git
import pytest

from tests.conftest import PROJECT_ROOT


def _main_job() -> list[list[str]]:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    lines = [line.strip() for line in readme.splitlines() if line.startswith("python3 -m venv") and "pytest" not in line]
    assert len(lines) == 1, lines
    steps = [shlex.split(step.strip()) for step in lines[0].split("&&")]
    talr_steps = [step for step in steps if Path(step[0]).name == "talr"]
    assert talr_steps, "the main job runs no talr command"
    return talr_steps


@pytest.mark.slow
def test_readme_main_job_passes_on_a_clone_of_this_repository(tmp_path: Path) -> None:
    if not (PROJECT_ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    clone = git.Repo.clone_from(PROJECT_ROOT, tmp_path / "clone")
    root = Path(clone.working_tree_dir or "")
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    env.pop("TALR_SIGNING_KEY", None)
    for step in _main_job():
        result = subprocess.run([sys.executable, "-m", "talr_tools.cli.main", *step[1:]], cwd=root, env=env,
                                capture_output=True, text=True, timeout=900)
        assert result.returncode == 0, f"{' '.join(step)}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        assert "Traceback" not in result.stderr
    assert (root / "dist" / "talr-bundle.json").is_file()
    assert (root / "dist" / "release-notes.md").is_file()
