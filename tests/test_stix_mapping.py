"""Rule -> indicator mapping: fields, TLP 2.0 markings, extension, relationships, round trip, validity."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
from stix2validator import ValidationOptions, validate_instance

from talr_tools.attack.index import load_index
from talr_tools.config import load_config
from talr_tools.loader import load_rule, parse_rule_bytes
from talr_tools.release.build import BuildOptions, build_release
from talr_tools.stix.ids import EXTENSION_DEFINITION_ID, indicator_id, stix_id
from talr_tools.stix.mapping import MappingContext, RuleSource, RuleTimes, map_rule
from talr_tools.stix.markings import TLP_MARKING_IDS
from talr_tools.stix.objects import EXTENSION_SCHEMA_URL
from talr_tools.stix.timestamps import stix_time, strictly_increasing
from tests.conftest import PROJECT_ROOT
from tests.test_build_support import (
    DEPRECATED,
    OFFICE,
    POWERSHELL,
    RELEASE_FIXTURE,
    by_type,
    copy_fixture,
    indicator_of,
    load_bundle,
)

#: Warnings disabled for TALR bundles, each following from a choice documented in docs/stix-mapping.md.
VALIDATOR_DISABLED = "103,302"
CTX = MappingContext(producer_id="identity--00000000-0000-5000-8000-000000000000", default_tlp="green",
                     attack=load_index())
TIMES = RuleTimes(created=dt.datetime(2024, 3, 1, tzinfo=dt.UTC), modified=dt.datetime(2024, 5, 2, tzinfo=dt.UTC))


def _rule(name: str):  # type: ignore[no-untyped-def]
    result = load_rule(RELEASE_FIXTURE / "rules" / name)
    assert result.rule is not None, result.findings
    return result.rule


@pytest.fixture
def plain_bundle(tmp_path: Path) -> dict:  # type: ignore[type-arg]
    """The fixture rules built as a plain folder (not in git)."""
    root = copy_fixture(tmp_path / "repo")
    build_release(load_config(root / "talr.toml"), BuildOptions(output=tmp_path / "dist"))
    return load_bundle(tmp_path / "dist" / "talr-bundle.json")


def test_indicator_core_fields() -> None:
    rule = _rule("proc_creation_win_encoded_powershell.yml")
    ind = map_rule(rule, TIMES, RuleSource(path="rules/p.yml", commit="abc123"), CTX).indicator

    assert ind["id"] == indicator_id(POWERSHELL)
    assert ind["pattern_type"] == "sigma" and ind["pattern_version"] == "2.1.0"
    assert ind["pattern"] == (RELEASE_FIXTURE / "rules" / "proc_creation_win_encoded_powershell.yml").read_text()
    assert ind["name"] == "Encoded PowerShell Command Line"
    assert ind["description"].startswith("Detects PowerShell started")
    assert (ind["created"], ind["modified"], ind["valid_from"]) == (
        "2024-03-01T00:00:00.000Z", "2024-05-02T00:00:00.000Z", "2024-05-02T00:00:00.000Z")
    assert ind["indicator_types"] == ["attribution", "malicious-activity"]
    assert ind["kill_chain_phases"] == [{"kill_chain_name": "mitre-attack", "phase_name": "execution"}]
    assert {"level:high", "status:test", "logsource:product=windows", "attack.t1059.001"} <= set(ind["labels"])
    assert ind["object_marking_refs"] == [TLP_MARKING_IDS["amber"]]  # the rule's own TLP beats the default
    assert ind["created_by_ref"] == CTX.producer_id
    assert "revoked" not in ind
    assert not [k for k in ind if k.startswith("x_")]


def test_external_references() -> None:
    rule = _rule("proc_creation_win_encoded_powershell.yml")
    source = RuleSource(path="rules/p.yml", commit="abc123", repository_url="https://git.example.org/r")
    refs = map_rule(rule, TIMES, source, CTX).indicator["external_references"]

    assert refs[0] == {"source_name": "talr", "external_id": POWERSHELL,
                       "description": "Sigma rule rules/p.yml at commit abc123",
                       "url": "https://git.example.org/r/blob/abc123/rules/p.yml"}
    assert {"source_name": "mitre-attack", "external_id": "T1059.001",
            "url": "https://attack.mitre.org/techniques/T1059/001"} in refs
    assert {"source_name": "mitre-attack", "external_id": "G0016",
            "url": "https://attack.mitre.org/groups/G0016"} in refs
    # a URL with [ ] in its query is escaped to stay a valid URI; plain text stays a description
    assert {"source_name": "sigma-reference",
            "url": "https://grep.app/search?q=enc&filter%5Brepo%5D%5B0%5D=example/repo"} in refs
    assert {"source_name": "sigma-reference", "description": "Internal Research"} in refs
    assert {"source_name": "talr-intel-report", "url": "https://example.org/reports/apt29-loader",
            "description": "APT29 loader report"} in refs


def test_extension_carries_talr_metadata() -> None:
    rule = _rule("proc_creation_win_encoded_powershell.yml")
    ext = map_rule(rule, TIMES, RuleSource(path="rules/p.yml", commit="abc"), CTX).indicator["extensions"]

    assert list(ext) == [EXTENSION_DEFINITION_ID]
    data = ext[EXTENSION_DEFINITION_ID]
    assert data["extension_type"] == "property-extension"
    assert (data["rule_id"], data["version"], data["status"], data["level"], data["tlp"]) == (
        POWERSHELL, 2, "test", "high", "amber")
    assert data["changelog"][1] == {"version": 2, "date": "2024-05-02", "note": "Also match -EncodedCommand"}
    assert data["expected_failures"] == [{"target": "loki", "reason": "no Windows process logs in Loki"}]
    assert {"kind": "group", "external_id": "G0007"} in data["intel"]
    assert data["content_hash"] == rule.content_hash
    assert (data["source_path"], data["source_commit"]) == ("rules/p.yml", "abc")


def test_relationships_to_real_attack_ids_and_cves() -> None:
    rule = _rule("proc_creation_win_encoded_powershell.yml")
    mapped = map_rule(rule, TIMES, RuleSource(path="rules/p.yml"), CTX)
    index = load_index()
    ind = mapped.indicator

    indicates = {r["target_ref"] for r in mapped.relationships if r["relationship_type"] == "indicates"}
    assert indicates == {
        index.technique("T1059.001").stix_id,  # type: ignore[union-attr]
        index.object("G0016").stix_id,  # type: ignore[union-attr]  (tag)
        index.object("S0002").stix_id,  # type: ignore[union-attr]  (tag)
        index.object("G0007").stix_id,  # type: ignore[union-attr]  (intel link by external id)
    }
    assert indicates >= {"attack-pattern--970a3432-3237-47ad-bcca-7d8cbb217736"}
    related = {r["target_ref"] for r in mapped.relationships if r["relationship_type"] == "related-to"}
    cves = {o["name"]: o for o in mapped.objects}
    assert set(cves) == {"CVE-2021-44228", "CVE-2023-23397"}
    assert related == {stix_id("vulnerability", "CVE-2021-44228"), stix_id("vulnerability", "CVE-2023-23397")}
    for rel in mapped.relationships:
        assert rel["source_ref"] == ind["id"]
        assert rel["id"] == stix_id("relationship", rel["relationship_type"], ind["id"], rel["target_ref"])
        assert (rel["created"], rel["modified"]) == (ind["created"], ind["modified"])
        assert rel["object_marking_refs"] == ind["object_marking_refs"]


def test_revoked_technique_points_at_its_replacement() -> None:
    rule = _rule("proc_creation_win_encoded_powershell.yml")
    rule.primary.data["tags"] = ["attack.t1004"]  # revoked, replaced by T1547.004
    mapped = map_rule(rule, TIMES, RuleSource(path="p.yml"), CTX)
    targets = {r["target_ref"] for r in mapped.relationships if r["relationship_type"] == "indicates"}
    assert load_index().technique("T1547.004").stix_id in targets  # type: ignore[union-attr]
    assert load_index().technique("T1004").stix_id not in targets  # type: ignore[union-attr]


def test_deprecated_rule_is_a_revoked_indicator() -> None:
    mapped = map_rule(_rule("old_rule_deprecated.yml"), TIMES, RuleSource(path="o.yml"), CTX)
    assert mapped.indicator["revoked"] is True
    assert mapped.relationships and all(r["revoked"] is True for r in mapped.relationships)
    assert mapped.indicator["object_marking_refs"] == [TLP_MARKING_IDS["clear"]]


def test_same_rule_id_same_indicator_id_across_versions() -> None:
    rule = _rule("proc_creation_win_encoded_powershell.yml")
    later = RuleTimes(created=TIMES.created, modified=TIMES.modified + dt.timedelta(days=30))
    first = map_rule(rule, TIMES, RuleSource(path="a.yml"), CTX).indicator
    second = map_rule(rule, later, RuleSource(path="moved/b.yml"), CTX).indicator
    assert first["id"] == second["id"] == indicator_id(POWERSHELL)
    assert first["modified"] != second["modified"]


@pytest.mark.parametrize("name", ["proc_creation_win_encoded_powershell.yml", "net_connection_win_rare_port_count.yml",
                                  "old_rule_deprecated.yml"])
def test_round_trip_pattern_parses_back_to_the_same_rule(name: str, plain_bundle: dict) -> None:  # type: ignore[type-arg]
    rule = _rule(name)
    ind = indicator_of(plain_bundle, str(rule.id))
    back = parse_rule_bytes(ind["pattern"].encode("utf-8"), Path("pattern.yml"))
    assert back.rule is not None
    assert back.rule.content_hash == rule.content_hash
    assert back.rule.ids == rule.ids  # multi-document rules are kept whole
    assert back.rule.talr.version == rule.talr.version


def test_pattern_is_read_by_sigma_cli_as_it_is(plain_bundle: dict, tmp_path: Path) -> None:  # type: ignore[type-arg]
    ind = indicator_of(plain_bundle, OFFICE)
    pattern = tmp_path / "pattern.yml"
    pattern.write_text(ind["pattern"], encoding="utf-8")
    sigma = Path(sys.executable).parent / "sigma"
    proc = subprocess.run([str(sigma), "convert", "-t", "splunk", "--without-pipeline", str(pattern)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "winword.exe" in proc.stdout and "count" in proc.stdout  # the rule and its correlation


def test_bundle_is_valid_stix(plain_bundle: dict) -> None:  # type: ignore[type-arg]
    result = validate_instance(plain_bundle, ValidationOptions(version="2.1", disabled=VALIDATOR_DISABLED))
    assert result.is_valid, [str(e) for e in result.errors]
    assert not result.warnings, [str(w) for w in result.warnings]


def test_bundle_has_markings_identity_and_extension_definition(plain_bundle: dict) -> None:  # type: ignore[type-arg]
    markings = {o["id"]: o for o in by_type(plain_bundle, "marking-definition")}
    assert set(markings) == {TLP_MARKING_IDS["amber"], TLP_MARKING_IDS["green"], TLP_MARKING_IDS["clear"]}
    assert markings[TLP_MARKING_IDS["amber"]]["name"] == "TLP:AMBER"
    assert markings[TLP_MARKING_IDS["amber"]]["created"] == "2022-10-01T00:00:00.000Z"
    (extension,) = by_type(plain_bundle, "extension-definition")
    assert extension["id"] == EXTENSION_DEFINITION_ID and extension["schema"] == EXTENSION_SCHEMA_URL
    assert extension["extension_types"] == ["property-extension"]
    schema = json.loads((PROJECT_ROOT / "schemas" / "talr-rule.schema.json").read_text())
    assert extension["schema"] == schema["$id"]  # the extension points at the rule schema TALR ships
    producer = [o for o in by_type(plain_bundle, "identity") if o["name"] == "Example SOC"]
    assert producer and producer[0]["contact_information"] == "soc@example.org"
    assert all(i["created_by_ref"] == producer[0]["id"] for i in by_type(plain_bundle, "indicator"))
    # the office rule has no TLP: default_tlp of talr.toml (green)
    assert indicator_of(plain_bundle, OFFICE)["object_marking_refs"] == [TLP_MARKING_IDS["green"]]
    assert indicator_of(plain_bundle, DEPRECATED)["revoked"] is True


def test_plain_folder_times_come_from_sigma_dates(plain_bundle: dict) -> None:  # type: ignore[type-arg]
    ind = indicator_of(plain_bundle, OFFICE)  # date only, no modified
    assert (ind["created"], ind["modified"]) == ("2024-02-10T00:00:00.000Z", "2024-02-10T00:00:00.000Z")


def test_strictly_increasing_times_never_share_a_millisecond() -> None:
    t = dt.datetime(2024, 1, 1, 12, 0, 0, tzinfo=dt.UTC)
    result = strictly_increasing([t, t, t - dt.timedelta(seconds=5), t + dt.timedelta(seconds=1)])
    assert [stix_time(x) for x in result] == [
        "2024-01-01T12:00:00.000Z", "2024-01-01T12:00:00.001Z", "2024-01-01T12:00:00.002Z",
        "2024-01-01T12:00:01.000Z"]


def test_serialisation_is_canonical(plain_bundle: dict, tmp_path: Path) -> None:  # type: ignore[type-arg]
    raw = (tmp_path / "dist" / "talr-bundle.json").read_text(encoding="utf-8")
    lines = raw.splitlines()
    assert lines[0].startswith('{"id":"bundle--') and lines[-1] == '],"type":"bundle"}'
    for line in lines[1:-1]:
        obj = json.loads(line.rstrip(","))
        assert line.rstrip(",") == json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def test_unknown_tlp_is_a_one_line_error_naming_file_and_line(tmp_path: Path, run_talr) -> None:  # type: ignore[no-untyped-def]
    root = copy_fixture(tmp_path / "repo")
    path = root / "rules" / "old_rule_deprecated.yml"
    path.write_text(path.read_text(encoding="utf-8").replace("tlp: clear", "tlp: white"), encoding="utf-8")
    proc = run_talr("build", cwd=root)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "talr: error: rules/old_rule_deprecated.yml:21:10: talr.tlp 'white' is not a TLP 2.0 level "
        "(clear, green, amber, amber+strict, red)")
    assert not (root / "dist").exists()


def test_malformed_intel_stix_id_is_not_related() -> None:
    rule = _rule("proc_creation_win_encoded_powershell.yml")
    rule.primary.data["talr"]["intel"] = [{"kind": "campaign", "stix_id": "campaign--not-a-uuid"},
                                          {"kind": "campaign", "stix_id": "campaign--26d9ebae-de59-427f-ae9a-349456bae4b1"}]
    targets = {r["target_ref"] for r in map_rule(rule, TIMES, RuleSource(path="p.yml"), CTX).relationships}
    assert "campaign--26d9ebae-de59-427f-ae9a-349456bae4b1" in targets
    assert "campaign--not-a-uuid" not in targets
