"""Optional: bump and check on real SigmaHQ rules (skipped when ../shared is absent)."""

from __future__ import annotations

import shutil
from pathlib import Path

import git
import pytest

from talr_tools.loader import load_rule
from talr_tools.versioning.bump import version_bump
from talr_tools.versioning.check import version_check
from tests.test_version_support import commit, init_rule_repo

pytestmark = [pytest.mark.corpus, pytest.mark.slow]


def test_bump_keeps_content_of_corpus_rules_and_satisfies_check(corpus: Path, git_repo: git.Repo) -> None:
    root = init_rule_repo(git_repo)
    files = sorted(corpus.rglob("*.yml"))[::25]  # ~125 rules across every folder
    for src in files:
        target = root / "rules" / src.relative_to(corpus)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
    git_repo.git.add("-A")
    commit(git_repo, "import")
    git_repo.git.checkout("-q", "-b", "feature")
    changed: dict[Path, str] = {}
    for path in sorted((root / "rules").rglob("*.yml")):
        text = path.read_text(encoding="utf-8")
        if "\ndetection:\n" not in text:
            continue
        path.write_text(text.replace("\ndetection:\n", "\ndetection:\n    selection_t:\n"
                                     "        Image|endswith: '\\t.exe'\n", 1), encoding="utf-8")
        rule = load_rule(path).rule
        assert rule is not None
        changed[path] = rule.content_hash
    assert len(changed) > 100
    assert {f.code for f in version_check(root).findings} == {"VER001"}

    result = version_bump(root, message="Corpus tune")

    assert len(result.bumps) == len(changed)
    for path, digest in changed.items():
        rule = load_rule(path).rule
        assert rule is not None, path
        assert rule.content_hash == digest, f"{path}: bump changed the rule's content"
        assert rule.talr.version == 2
    assert version_check(root).findings == []
