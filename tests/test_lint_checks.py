"""The per-file and cross-file checks, through the library entry point ``lint_paths``."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from talr_tools.config import TalrConfig
from talr_tools.lint.runner import IN_PROCESS_MAX, lint_paths
from talr_tools.lint.selection import Selection
from talr_tools.model import Finding
from tests.conftest import FIXTURES

GOOD_PATH = FIXTURES / "lint" / "good" / "proc_creation_win_powershell_encoded_flag.yml"
GOOD = GOOD_PATH.read_text(encoding="utf-8")
TODAY = dt.date(2025, 6, 1)


def lint(folder: Path, select: tuple[str, ...] = (), ignore: tuple[str, ...] = (), jobs: int = 1) -> list[Finding]:
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        report = lint_paths([Path(".")], TalrConfig(root=folder), Selection.build(select, ignore),
                            use_cache=False, jobs=jobs, today=TODAY)
    finally:
        os.chdir(cwd)
    return report.findings


def rule(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def codes(findings: list[Finding]) -> list[str]:
    return [f.code for f in findings]


def test_good_rule_is_clean(tmp_path: Path) -> None:
    rule(tmp_path, GOOD_PATH.name, GOOD)
    assert lint(tmp_path) == []


@pytest.mark.parametrize(
    ("tag", "code", "fragment"),
    [
        ("attack.t9999", "TALR301", "T9999 is not in ATT&CK"),
        ("attack.t1002", "TALR302", "T1002 (Data Compressed) is revoked; use T1560 (Archive Collected Data)"),
        ("attack.t1026", "TALR303", "T1026"),
        ("attack.lateral-moves", "TALR304", "not an ATT&CK tactic"),
        ("attack.g9999", "TALR305", "G9999 is not in ATT&CK"),
        ("attack.s9999", "TALR305", "S9999"),
        ("attack.c9999", "TALR305", "C9999"),
    ],
)
def test_attack_tags(tmp_path: Path, tag: str, code: str, fragment: str) -> None:
    rule(tmp_path, GOOD_PATH.name, GOOD.replace("attack.g0016", tag))
    (finding,) = [f for f in lint(tmp_path) if f.code.startswith("TALR3")]
    assert (finding.code, finding.line, finding.col) == (code, 13, 7)
    assert fragment in finding.message


@pytest.mark.parametrize("tag", ["attack.defense_evasion", "attack.Defense-Evasion", "attack.s0002", "attack.c0001",
                                 "attack.T1059", "attack.privilege-escalation"])
def test_valid_attack_tags(tmp_path: Path, tag: str) -> None:
    rule(tmp_path, GOOD_PATH.name, GOOD.replace("attack.g0016", tag))
    assert [f for f in lint(tmp_path, select=("TALR3",))] == []


def test_intel_link_against_attack(tmp_path: Path) -> None:
    text = GOOD.replace("external_id: G0016", "external_id: G9999")
    rule(tmp_path, GOOD_PATH.name, text)
    (finding,) = lint(tmp_path)
    assert (finding.code, finding.line) == ("TALR307", 40)


def test_changelog_must_match_version(tmp_path: Path) -> None:
    rule(tmp_path, GOOD_PATH.name, GOOD.replace("    version: 2\n", "    version: 3\n"))
    (finding,) = lint(tmp_path)
    assert (finding.code, finding.line, finding.col) == ("TALR120", 31, 5)
    assert "[1, 2] but version 3" in finding.message


def test_changelog_dates(tmp_path: Path) -> None:
    text = GOOD.replace("          date: 2024-03-02\n", "          date: 2024-01-02\n")
    rule(tmp_path, GOOD_PATH.name, text)
    assert [(f.code, f.line) for f in lint(tmp_path)] == [("TALR121", 36)]
    text = GOOD.replace("modified: 2024-03-02", "modified: 2024-02-01")
    rule(tmp_path, GOOD_PATH.name, text)
    assert [(f.code, f.line) for f in lint(tmp_path)] == [("TALR122", 36)]


def test_modified_before_date(tmp_path: Path) -> None:
    rule(tmp_path, GOOD_PATH.name, GOOD.replace("modified: 2024-03-02", "modified: 2023-03-02").replace(
        "date: 2024-03-02", "date: 2023-03-02").replace("date: 2024-01-31\n          note", "date: 2023-01-31\n"
                                                        "          note"))
    found = lint(tmp_path, select=("TALR13",))
    assert [(f.code, f.line, f.col) for f in found] == [("TALR130", 9, 11)]


def test_date_in_the_future(tmp_path: Path) -> None:
    rule(tmp_path, GOOD_PATH.name, GOOD.replace("modified: 2024-03-02", "modified: 2026-03-02"))
    found = lint(tmp_path, select=("TALR131",))
    assert [(f.code, f.line) for f in found] == [("TALR131", 9)]


def test_no_talr_block_and_plain_sigma_selection(tmp_path: Path) -> None:
    rule(tmp_path, GOOD_PATH.name, GOOD.split("talr:\n")[0])
    assert codes(lint(tmp_path)) == ["TALR100"]
    assert lint(tmp_path, ignore=("TALR100",)) == []


def test_file_name_convention(tmp_path: Path) -> None:
    rule(tmp_path, "Proc-Creation.yaml", GOOD)
    found = [f for f in lint(tmp_path) if f.code == "TALR403"]
    assert [(f.path, f.line) for f in found] == [("Proc-Creation.yaml", None)]


def test_duplicate_ids_report_every_location(tmp_path: Path) -> None:
    rule(tmp_path, "proc_creation_win_a.yml", GOOD)
    rule(tmp_path, "proc_creation_win_b.yml", GOOD.replace("PowerShell Started", "Powershell Launched"))
    found = [f for f in lint(tmp_path) if f.code == "TALR401"]
    assert [(f.path, f.line, f.col) for f in found] == [("proc_creation_win_a.yml", 2, 5),
                                                          ("proc_creation_win_b.yml", 2, 5)]
    assert "also at proc_creation_win_b.yml:2" in found[0].message
    assert "also at proc_creation_win_a.yml:2" in found[1].message


def test_duplicate_titles_warn(tmp_path: Path) -> None:
    rule(tmp_path, "proc_creation_win_a.yml", GOOD)
    rule(tmp_path, "proc_creation_win_b.yml", GOOD.replace("0b7d3c8e-5b4f", "1b7d3c8e-5b4f"))
    assert [(f.code, f.path) for f in lint(tmp_path)] == [("TALR402", "proc_creation_win_a.yml"),
                                                           ("TALR402", "proc_creation_win_b.yml")]


def test_pysigma_parse_error_points_at_the_field(tmp_path: Path) -> None:
    rule(tmp_path, GOOD_PATH.name, GOOD.replace("Image|endswith:", "Image|endswithh:"))
    found = lint(tmp_path, select=("TALR2",))
    assert [(f.code, f.line) for f in found] == [("TALR201", 17)]
    assert "SigmaModifierError" in found[0].message and "endswithh" in found[0].message


def test_correlation_and_filter_documents_are_parsed(tmp_path: Path) -> None:
    correlation = (
        "---\ntitle: Many encoded PowerShell starts\nid: 7c1d7d0e-1111-4a4a-9b9b-2f0d8c1e6a10\n"
        "correlation:\n    type: event_count\n    rules:\n        - 0b7d3c8e-5b4f-4f7a-9a63-2f0d8c1e6a10\n"
        "    group-by:\n        - ComputerName\n    timespan: 1x\n    condition:\n        gte: 5\n"
        "level: high\n"
    )
    rule(tmp_path, GOOD_PATH.name, GOOD + correlation)
    filt = ("title: Filter admin hosts\nid: 8c1d7d0e-1111-4a4a-9b9b-2f0d8c1e6a10\nlogsource:\n"
            "    category: process_creation\n    product: windows\nfilter:\n    rules:\n"
            "        - 0b7d3c8e-5b4f-4f7a-9a63-2f0d8c1e6a10\n    selection:\n        ComputerName: admin01\n")
    rule(tmp_path, "filter_admin.yml", filt.replace("    selection:", "    selection: 5\n    other:"))
    found = [(f.path, f.line, f.code) for f in lint(tmp_path, select=("TALR2",))]
    assert (GOOD_PATH.name, 51, "TALR201") in found  # timespan 1x, in the correlation document
    assert any(path == "filter_admin.yml" and code == "TALR201" for path, _line, code in found)


def test_sigma_validators_run_and_point_at_tags(tmp_path: Path) -> None:
    rule(tmp_path, GOOD_PATH.name, GOOD.replace("    - attack.g0016\n", "    - attack.g0016\n    - attack.g0016\n"))
    found = [f for f in lint(tmp_path) if f.code.startswith("SV")]
    assert [(f.code, f.line, f.col) for f in found] == [("SV014", 14, 7)]  # duplicate_tag


def test_talr_block_is_not_an_unknown_field(tmp_path: Path) -> None:
    rule(tmp_path, GOOD_PATH.name, GOOD)
    assert lint(tmp_path, select=("SV",)) == []


def test_selection_longest_prefix_wins() -> None:
    sel = Selection.build(["TALR"], ["TALR1", "SV"])
    assert sel.wants("TALR301") and not sel.wants("TALR101") and not sel.wants("SV014")
    sel = Selection.build(["TALR101"], ["TALR1"])
    assert sel.wants("TALR101") and not sel.wants("TALR102") and not sel.wants("TALR301")
    assert Selection.build([], ["talr1, sv1"]).wants("SV014")
    assert not Selection.build([], ["talr1, sv1"]).wants("SV101")


def test_parallel_run_matches_in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from concurrent.futures import ProcessPoolExecutor

    import talr_tools.lint.runner as runner

    pools: list[int] = []

    class CountingPool(ProcessPoolExecutor):
        def __init__(self, max_workers: int) -> None:
            pools.append(max_workers)
            super().__init__(max_workers=max_workers)

    monkeypatch.setattr(runner, "ProcessPoolExecutor", CountingPool)
    assert IN_PROCESS_MAX < 60
    for i in range(60):
        text = GOOD.replace("0b7d3c8e", f"{i:08x}").replace("PowerShell Started", f"PowerShell Started {i}")
        if i % 7 == 0:
            text = text.replace("attack.g0016", "attack.t1002")
        rule(tmp_path, f"proc_creation_win_rule_{i}.yml", text)
    rule(tmp_path, "broken.yml", "title: [\n")
    serial = lint(tmp_path, jobs=1)
    assert pools == []
    parallel = lint(tmp_path, jobs=2)
    assert pools == [2]
    assert serial == parallel
    assert codes(serial).count("TALR302") == 9 and "TALR005" in codes(serial)


def test_revoked_or_deprecated_group_and_software(tmp_path: Path) -> None:
    rule(tmp_path, GOOD_PATH.name, GOOD.replace("    - attack.g0016\n", "    - attack.g0014\n    - attack.s0209\n"))
    found = [(f.code, f.line, f.message) for f in lint(tmp_path) if f.code.startswith("TALR3")]
    assert found == [("TALR306", 13, "attack.g0014: G0014 (Night Dragon) is deprecated"),
                     ("TALR306", 14, "attack.s0209: S0209 (Darkmoon) is revoked")]


def test_document_that_is_not_a_mapping(tmp_path: Path) -> None:
    rule(tmp_path, "list.yml", "title: x\n---\n- a\n- b\n")
    assert [(f.code, f.line) for f in lint(tmp_path)] == [("TALR008", 3)]


def test_required_sigma_field_missing(tmp_path: Path) -> None:
    text = GOOD.replace("logsource:\n    category: process_creation\n    product: windows\n", "")
    rule(tmp_path, GOOD_PATH.name, text)
    found = [(f.code, f.line, f.message) for f in lint(tmp_path, select=("TALR1",))]
    assert found == [("TALR102", 1, "'logsource' is a required property")]


def test_collection_error(tmp_path: Path) -> None:
    rule(tmp_path, GOOD_PATH.name, GOOD + "---\naction: explode\ntitle: x\n")
    found = [(f.code, f.line) for f in lint(tmp_path, select=("TALR2",))]
    assert found == [("TALR202", 1)]


def test_crash_in_a_check_is_a_finding_and_other_files_are_checked(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import talr_tools.lint.attack_check as attack_check

    def broken(doc: object, display: str, index: object) -> list[Finding]:
        if "crash" in display:
            raise ZeroDivisionError("boom")
        return []

    monkeypatch.setattr(attack_check, "check_attack_tags", broken)
    rule(tmp_path, "proc_creation_win_crash.yml", GOOD)
    rule(tmp_path, "proc_creation_win_ok.yml", GOOD.replace("0b7d3c8e", "1b7d3c8e").replace("Started", "Run")
         .replace("level: medium", "level: nope"))
    found = [(f.path, f.code) for f in lint(tmp_path)]
    assert ("proc_creation_win_crash.yml", "TALR009") in found
    assert ("proc_creation_win_ok.yml", "TALR101") in found


def test_crash_in_a_validator_is_a_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from talr_tools.lint import sigma_check

    class Broken:
        def validate(self, rule: object) -> list[object]:
            raise KeyError("nope")

    monkeypatch.setattr(sigma_check, "_validators", lambda: [("SV014", Broken())])
    rule(tmp_path, GOOD_PATH.name, GOOD)
    found = lint(tmp_path)
    assert [(f.code, f.line, str(f.severity)) for f in found] == [("TALR209", 1, "warning")]
    assert "duplicate_tag failed" in found[0].message


def test_huge_version_number(tmp_path: Path) -> None:
    rule(tmp_path, GOOD_PATH.name, GOOD.replace("    version: 2\n", f"    version: {10**30}\n"))
    found = [f.code for f in lint(tmp_path)]
    assert "TALR120" in found and "TALR009" not in found


def test_validator_crash_on_a_field_the_schema_rejects_is_not_echoed(tmp_path: Path) -> None:
    rule(tmp_path, GOOD_PATH.name, GOOD.replace("references:\n    - https", "references:\n    - a: https"))
    found = [f.code for f in lint(tmp_path)]
    assert "TALR101" in found and "TALR209" not in found


def test_duplicate_file_names(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    rule(tmp_path / "a", GOOD_PATH.name, GOOD)
    rule(tmp_path / "b", GOOD_PATH.name, GOOD.replace("0b7d3c8e", "1b7d3c8e").replace("Started", "Run"))
    found = [(f.path, f.line, f.message) for f in lint(tmp_path) if f.code == "TALR404"]
    assert found == [
        (f"a/{GOOD_PATH.name}", None, f"file name '{GOOD_PATH.name}' also used by b/{GOOD_PATH.name}"),
        (f"b/{GOOD_PATH.name}", None, f"file name '{GOOD_PATH.name}' also used by a/{GOOD_PATH.name}"),
    ]


def test_validator_messages_show_log_sources_compactly(tmp_path: Path) -> None:
    text = GOOD.replace("    category: process_creation\n    product: windows\n",
                        "    product: windows\n    service: sysmon\n").replace("    selection_img:\n",
                                                                             "    selection_img:\n        EventID: 1\n")
    rule(tmp_path, GOOD_PATH.name, text)
    (finding,) = [f for f in lint(tmp_path) if f.code == "SV024"]
    assert finding.message == ("Usage of specific instead of generic log source (logsource={product:windows "
                               "service:sysmon}, event_id=1, generic_logsource={category:process_creation})")


def test_self_referencing_alias(tmp_path: Path) -> None:
    rule(tmp_path, "proc_creation_win_loop.yml", "title: Loop\ntags: &t [attack.t1059, *t]\n")
    assert [(f.code, f.message) for f in lint(tmp_path)] == [
        ("TALR005", "YAML nested too deep, or an alias refers to itself: not checked")]
