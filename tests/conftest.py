"""Shared fixtures: temporary rule folders, real git repositories, the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import git
import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED = PROJECT_ROOT.parent / "shared"
CORPUS = SHARED / "corpus" / "sigmahq" / "rules"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def write(path: Path, text: str) -> Path:
    """Write dedented ``text`` to ``path`` (parents created) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


@pytest.fixture
def run_talr() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the real ``talr`` command line in a subprocess: ``run_talr("lint", "x", cwd=...)``."""

    def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            input: str | None = None) -> subprocess.CompletedProcess[str]:
        full_env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", **(env or {})}
        return subprocess.run(
            [sys.executable, "-m", "talr_tools.cli.main", *args],
            cwd=cwd,
            env=full_env,
            capture_output=True,
            text=True,
            input=input,
            timeout=600,
        )

    return run


@pytest.fixture
def git_repo(tmp_path: Path) -> git.Repo:
    """A fresh git repository with a committer identity, on branch ``main``."""
    repo = git.Repo.init(tmp_path / "repo", initial_branch="main")
    with repo.config_writer() as cfg:
        cfg.set_value("user", "name", "Test Author")
        cfg.set_value("user", "email", "author@example.org")
        cfg.set_value("commit", "gpgsign", "false")
    return repo


@pytest.fixture
def corpus() -> Path:
    """The SigmaHQ corpus of ../shared (skips the test when it is absent)."""
    if not CORPUS.is_dir():
        pytest.skip(f"SigmaHQ corpus not present at {CORPUS}")
    return CORPUS
