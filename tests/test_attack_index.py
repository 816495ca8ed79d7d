"""The ATT&CK index: built from MITRE's bundle or the lookup files, and the vendored copy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from talr_tools.attack.build import build_index, write_index
from talr_tools.attack.index import AttackIndex, load_index, vendored_index_path
from talr_tools.errors import TalrError

from .conftest import FIXTURES, SHARED

MINI = FIXTURES / "attack" / "mini-enterprise-attack.json"


def test_bundle_source_gives_techniques_tactics_and_objects() -> None:
    index = AttackIndex.from_dict(build_index(MINI))
    assert index.version == "99.1"
    powershell = index.technique("t1059.001")
    assert powershell is not None
    assert powershell.stix_id == "attack-pattern--aaaaaaaa-0000-4000-8000-000000000002"
    assert powershell.tactics == ("execution",)
    assert powershell.url == "https://attack.mitre.org/techniques/T1059/001"
    tactic = index.tactic("execution")
    assert tactic is not None and tactic.external_id == "TA0002"
    group = index.object("g0016")
    assert group is not None and group.stix_type == "intrusion-set" and group.name == "APT29"
    assert index.object("S0002") is not None and index.object("C0001") is not None


def test_revoked_technique_names_its_replacement_and_deprecated_is_flagged() -> None:
    index = AttackIndex.from_dict(build_index(MINI))
    old = index.technique("T1086")
    assert old is not None and old.revoked and old.replaced_by == "T1059.001"
    deprecated = index.technique("T1026")
    assert deprecated is not None and deprecated.deprecated and not deprecated.revoked


def test_cli_update_writes_index_atomically(tmp_path: Path, run_talr) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "attack-index.json"
    result = run_talr("attack", "update", str(MINI), "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert "99.1" in result.stdout
    assert json.loads(out.read_text())["techniques"]["T1059"]["name"] == "Command and Scripting Interpreter"
    assert [p.name for p in tmp_path.iterdir()] == ["attack-index.json"]  # no temporary files left


def test_cli_update_on_a_non_bundle_is_a_one_line_error(tmp_path: Path, run_talr) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "not-attack.json"
    bad.write_text('{"hello": 1}')
    result = run_talr("attack", "update", str(bad), "-o", str(tmp_path / "out.json"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"talr: error: {bad}: not a STIX bundle (no 'objects' list)"]
    assert not (tmp_path / "out.json").exists()


def test_vendored_index_is_loaded_and_complete() -> None:
    index = load_index()
    assert index.version == "18.1"
    assert len(index.techniques) == 835
    assert index.technique("T1086") is not None and index.technique("T1086").replaced_by == "T1059.001"  # type: ignore[union-attr]
    assert "ATT&CK" in json.loads(vendored_index_path().read_text())["attribution"]


def test_vendored_index_matches_a_rebuild_from_the_shared_lookups(tmp_path: Path) -> None:
    source = SHARED / "data" / "attack"
    if not source.is_dir():
        pytest.skip(f"ATT&CK lookups not present at {source}")
    rebuilt = write_index(source, tmp_path / "index.json")
    assert rebuilt == json.loads(vendored_index_path().read_text())


def test_missing_source_is_a_talr_error(tmp_path: Path) -> None:
    with pytest.raises(TalrError, match="no such file or folder"):
        build_index(tmp_path / "nope")
