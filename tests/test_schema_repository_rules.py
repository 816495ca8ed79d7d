"""The repository's own rules (rules/): real TALR rules that pass every check."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml
from sigma.collection import SigmaCollection

from talr_tools.attack import load_index
from talr_tools.loader import load_rule
from tests.conftest import PROJECT_ROOT

RULES = PROJECT_ROOT / "rules"
RULE_FILES = sorted(RULES.rglob("*.yml"))


def test_at_least_five_rules_covering_five_tactics() -> None:
    assert len(RULE_FILES) >= 5
    index = load_index()
    tactics: set[str] = set()
    for path in RULE_FILES:
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            for tag in doc.get("tags", []):
                found = index.tactic(tag.removeprefix("attack."))
                if found is not None:
                    tactics.add(found.name)
    assert len(tactics) >= 5, tactics


def test_every_rule_has_a_complete_talr_block_and_a_unique_id() -> None:
    ids: list[str] = []
    for path in RULE_FILES:
        loaded = load_rule(path)
        assert loaded.rule is not None, loaded.findings
        rule = loaded.rule
        talr = rule.talr
        assert talr.version == 1, path
        assert [e.version for e in talr.changelog] == [1], path
        assert talr.tlp in ("clear", "green", "amber", "amber+strict", "red"), path
        assert talr.intel, path
        assert all(link.url or link.stix_id or link.external_id for link in talr.intel), path
        ids.extend(rule.ids)
    assert len(ids) == len(set(ids))


def test_a_multi_document_file_holds_a_correlation_and_its_base_rule() -> None:
    multi = []
    for path in RULE_FILES:
        docs = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
        if len(docs) > 1:
            multi.append(docs)
    assert multi
    docs = multi[0]
    correlation = next(d for d in docs if "correlation" in d)
    base_names = {d.get("name") for d in docs if "detection" in d} | {d.get("id") for d in docs if "detection" in d}
    assert set(correlation["correlation"]["rules"]) <= base_names


def test_pysigma_parses_every_rule_without_errors() -> None:
    for path in RULE_FILES:
        collection = SigmaCollection.from_yaml(path.read_text(encoding="utf-8"), collect_errors=True)
        collection.resolve_rule_references()
        errors = collection.errors + [e for rule in collection.rules for e in rule.errors]
        assert errors == [], f"{path}: {errors}"
        # pySigma keeps the talr block as a custom attribute of the primary document.
        assert any("talr" in r.custom_attributes for r in collection.rules), path


def test_sigma_cli_check_finds_no_errors(tmp_path: Path) -> None:
    """sigma-cli reads the files unchanged (validators that download data left out, as in lint)."""
    from talr_tools.lint.sigma_codes import VALIDATOR_CODES

    excludes = [arg for v in VALIDATOR_CODES if v.state == "network" for arg in ("--exclude", v.identifier)]
    sigma = Path(sys.executable).with_name("sigma")
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    result = subprocess.run([str(sigma), "check", *excludes, str(RULES)], capture_output=True, text=True,
                            timeout=600, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Found 0 errors, 0 condition errors" in result.stdout


def test_talr_lint_is_clean_on_the_repository_rules(run_talr) -> None:
    result = run_talr("lint", "rules", cwd=PROJECT_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_talr_fmt_check_is_clean_on_the_repository_rules(run_talr) -> None:
    result = run_talr("fmt", "--check", "rules", cwd=PROJECT_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
