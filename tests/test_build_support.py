"""Helpers for the build, release-notes and TAXII tests (no tests here)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import git

from tests.conftest import FIXTURES

RELEASE_FIXTURE = FIXTURES / "release"
POWERSHELL = "5f2a7b1e-3c4d-4e8f-9a0b-1c2d3e4f5a6b"
OFFICE = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
DEPRECATED = "1e2d3c4b-5a69-4788-9a0b-c1d2e3f4a5b6"


def copy_fixture(dest: Path) -> Path:
    """The release fixture (talr.toml + rules/) copied into ``dest``."""
    shutil.copytree(RELEASE_FIXTURE, dest, dirs_exist_ok=True)
    return dest


def commit_all(repo: git.Repo, message: str, when: str) -> str:
    """Stage everything and commit with author and committer time ``when`` (ISO 8601)."""
    moment = dt.datetime.fromisoformat(when)
    offset = int(moment.utcoffset().total_seconds() // 60) if moment.utcoffset() else 0  # type: ignore[union-attr]
    stamp = f"{int(moment.timestamp())} {'+' if offset >= 0 else '-'}{abs(offset) // 60:02d}{abs(offset) % 60:02d}"
    repo.git.add(A=True)
    return repo.index.commit(message, author_date=stamp, commit_date=stamp).hexsha


def fixture_repo(repo: git.Repo, when: str = "2024-06-01T10:00:00+00:00") -> Path:
    """The fixture committed once into ``repo``; returns the working tree."""
    root = Path(repo.working_tree_dir or ".")
    copy_fixture(root)
    commit_all(repo, "rules", when)
    return root


def load_bundle(path: Path) -> dict[str, Any]:
    """The bundle JSON of ``path``."""
    return json.loads(path.read_text(encoding="utf-8"))


def by_type(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    """Objects of one STIX type."""
    return [o for o in bundle["objects"] if o["type"] == kind]


def indicator_of(bundle: dict[str, Any], rule_id: str) -> dict[str, Any]:
    """The indicator whose TALR extension names ``rule_id``."""
    for obj in by_type(bundle, "indicator"):
        ext = next(iter(obj["extensions"].values()))
        if ext["rule_id"] == rule_id:
            return obj
    raise AssertionError(f"no indicator for {rule_id}")


def keygen(folder: Path, name: str = "release") -> tuple[Path, Path]:
    """A fresh Ed25519 key pair made by the real ssh-keygen, and an allowed_signers file for it."""
    key = folder / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)], check=True)
    allowed = folder / f"{name}.allowed_signers"
    allowed.write_text(f"{name}@example.org {key.with_suffix('.pub').read_text().strip()}\n", encoding="utf-8")
    return key, allowed
