"""``talr test-convert`` / ``convert`` / ``backends`` on real pySigma backends, through the real CLI."""

from __future__ import annotations

import importlib.metadata as md
import json
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES, write

RULES = FIXTURES / "convert" / "rules"
MULTI = FIXTURES / "convert" / "multi"
BACKENDS = ["-b", "splunk", "-b", "sqlite", "-b", "carbon_black", "-b", "lucene"]

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A rule repository (talr.toml + rules/) holding the conversion fixtures."""
    root = tmp_path / "proj"
    shutil.copytree(RULES, root / "rules")
    write(root / "talr.toml", 'rule_dirs = ["rules"]\n')
    return root


def matrix(run_talr: Run, root: Path, *args: str, code: int | None = None) -> dict[str, Any]:
    result = run_talr("test-convert", "rules", *args, "--format", "json", cwd=root)
    assert result.returncode in (0, 1), result.stderr
    if code is not None:
        assert result.returncode == code, result.stdout[-2000:]
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def cell(data: dict[str, Any], name: str, target: str) -> dict[str, Any]:
    found = [c for c in data["cells"] if c["path"] == f"rules/{name}.yml" and c["target"] == target]
    assert len(found) == 1, (name, target)
    return found[0]


def test_every_cell_state_on_real_backends(run_talr: Run, project: Path) -> None:
    data = matrix(run_talr, project, *BACKENDS, code=1)
    assert data["failed"] is True
    ok = cell(data, "proc_whoami", "splunk")
    assert ok["state"] == "ok" and ok["pipelines"] == ["splunk_windows"]
    expected = cell(data, "keywords_mimikatz", "sqlite")
    assert expected["state"] == "expected_failure"
    assert expected["reason"] == "SQLite has no full-text search over a whole event"
    assert "Value-only string expressions" in expected["message"]
    unexpected = cell(data, "keywords_undeclared", "sqlite")
    assert unexpected["state"] == "unexpected_failure"
    assert "Value-only string expressions" in unexpected["message"]
    stale = cell(data, "stale_expectation", "splunk")
    assert stale["state"] == "stale_expectation"
    assert stale["line"] == 22  # the expected_failures entry, where the annotation points
    skipped = cell(data, "linux_shell", "splunk")
    assert skipped["state"] == "skipped"
    assert skipped["message"] == "no pipeline for linux/process_creation/-"
    # the Elastic backends get the ECS pipeline for Windows rules
    assert cell(data, "proc_whoami", "lucene")["pipelines"] == ["ecs_windows"]
    assert data["counts"]["sqlite"]["unexpected_failure"] == 1


def test_exception_inside_a_backend_is_one_failed_cell(run_talr: Run, project: Path) -> None:
    """carbon_black raises a plain NotImplementedError (not a SigmaError) on ``field: null``."""
    data = matrix(run_talr, project, *BACKENDS)
    failed = cell(data, "null_field", "carbon_black")
    assert failed["state"] == "unexpected_failure"
    assert failed["message"].startswith("NotImplementedError: Field null expressions")
    # the run went on: the same rule on other backends, and the other rules on carbon_black
    assert cell(data, "null_field", "splunk")["state"] == "ok"
    assert cell(data, "proc_whoami", "carbon_black")["state"] == "ok"


def test_exit_zero_with_only_ok_expected_and_skipped(run_talr: Run, project: Path) -> None:
    for name in ("keywords_undeclared", "stale_expectation", "null_field"):
        (project / "rules" / f"{name}.yml").unlink()
    data = matrix(run_talr, project, *BACKENDS, code=0)
    states = {c["state"] for c in data["cells"]}
    assert states == {"ok", "expected_failure", "skipped"}


def test_second_run_comes_from_the_cache(run_talr: Run, project: Path) -> None:
    first = matrix(run_talr, project, *BACKENDS)
    assert first["stats"]["converted"] > 0 and first["stats"]["cache_hits"] == 0
    second = matrix(run_talr, project, *BACKENDS)
    assert second["stats"]["converted"] == 0
    assert second["stats"]["rules_parsed"] == 0
    assert second["stats"]["cache_hits"] == first["stats"]["converted"]
    assert all(c["cached"] for c in second["cells"] if c["state"] != "skipped")
    strip = [{k: v for k, v in c.items() if k != "cached"} for c in first["cells"]]
    assert strip == [{k: v for k, v in c.items() if k != "cached"} for c in second["cells"]]


def test_changed_rule_is_the_only_one_converted_again(run_talr: Run, project: Path) -> None:
    matrix(run_talr, project, "-b", "splunk", "-b", "sqlite")
    path = project / "rules" / "proc_whoami.yml"
    path.write_text(path.read_text().replace("whoami.exe", "whoami2.exe"))
    data = matrix(run_talr, project, "-b", "splunk", "-b", "sqlite")
    assert data["stats"]["converted"] == 2
    assert data["stats"]["rules_parsed"] == 1


def test_declaring_an_expectation_needs_no_conversion(run_talr: Run, project: Path) -> None:
    matrix(run_talr, project, "-b", "sqlite")
    path = project / "rules" / "keywords_undeclared.yml"
    text = path.read_text().replace(
        "talr:\n    version: 1\n",
        "talr:\n    version: 1\n    conversion:\n        expected_failures:\n"
        "            - target: sqlite\n              reason: no full-text search\n",
    )
    path.write_text(text)
    data = matrix(run_talr, project, "-b", "sqlite")
    assert data["stats"]["converted"] == 0
    assert cell(data, "keywords_undeclared", "sqlite")["state"] == "expected_failure"


def test_corrupt_cache_entry_and_file_are_ignored(run_talr: Run, project: Path) -> None:
    matrix(run_talr, project, "-b", "sqlite")
    db_path = project / ".talr-cache" / "convert" / "cells.sqlite"
    db = sqlite3.connect(db_path)
    db.execute("UPDATE cells SET value = 'not json'")
    db.commit()
    db.close()
    data = matrix(run_talr, project, "-b", "sqlite")
    assert data["stats"]["cache_hits"] == 0 and data["stats"]["converted"] == 6
    for extra in db_path.parent.glob("cells.sqlite-*"):
        extra.unlink()
    db_path.write_bytes(b"this is not a database" * 100)
    data = matrix(run_talr, project, "-b", "sqlite")
    assert data["stats"]["converted"] == 6
    assert cell(data, "proc_whoami", "sqlite")["state"] == "ok"


def test_warm_run_imports_no_backend(run_talr: Run, project: Path) -> None:
    matrix(run_talr, project)
    code = (
        "import sys\n"
        "from talr_tools.cli.main import main\n"
        "sys.argv = ['talr', 'test-convert', 'rules', '--format', 'json']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(('sigma.backends.', 'sigma.conversion')))\n"
        "print('LOADED', loaded, file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=project, capture_output=True, text=True, timeout=300)
    data = json.loads(result.stdout)
    assert data["stats"]["converted"] == 0 and data["stats"]["cache_hits"] > 0
    assert "LOADED []" in result.stderr


def test_table_output_lists_backends_and_failing_cells(run_talr: Run, project: Path) -> None:
    result = run_talr("test-convert", "rules", *BACKENDS, cwd=project, env={"CI": "true"})
    assert result.returncode == 1
    assert result.stderr == ""  # no progress bar or colour codes in CI
    out = result.stdout
    for target in ("splunk", "sqlite", "carbon_black", "lucene"):
        assert target in out
    assert "rules/keywords_undeclared.yml:1: sqlite: unexpected failure: SigmaFeatureNotSupported" in out
    assert "rules/stale_expectation.yml:22: splunk: stale expectation" in out
    assert "6 rule(s) x 4 backend(s)" in out


def test_github_annotations(run_talr: Run, project: Path) -> None:
    result = run_talr("test-convert", "rules", *BACKENDS, "--format", "github", cwd=project)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert (
        "::error file=rules/stale_expectation.yml,line=22,title=talr test-convert%3A splunk::"
        "stale expectation: declared as an expected failure, but it now converts"
    ) in lines
    undeclared = [line for line in lines if line.startswith("::error file=rules/keywords_undeclared.yml,line=1,")]
    assert len(undeclared) == 1 and "sqlite" in undeclared[0]
    # expected failures, ok and skipped cells are not annotated
    assert not any("keywords_mimikatz" in line for line in lines)
    assert not any("linux_shell" in line for line in lines)


def test_markdown_summary(run_talr: Run, project: Path) -> None:
    result = run_talr("test-convert", "rules", *BACKENDS, "--format", "markdown", cwd=project)
    assert result.returncode == 1
    md_text = result.stdout
    assert "| backend | ok | expected failure | unexpected failure | stale expectation | skipped |" in md_text
    assert "| `sqlite` | 4 | 1 | 1 | 0 | 0 |" in md_text
    assert "### Failing cells" in md_text
    assert "| `rules/null_field.yml` | `carbon_black` | unexpected failure | NotImplementedError" in md_text


def test_unreadable_rule_is_reported_and_others_still_tested(run_talr: Run, project: Path) -> None:
    write(project / "rules" / "broken.yml", "title: [unclosed\n")
    data = matrix(run_talr, project, "-b", "splunk", code=1)
    assert len(data["load_errors"]) == 1 and data["load_errors"][0].startswith("rules/broken.yml:")
    assert cell(data, "proc_whoami", "splunk")["state"] == "ok"


def test_user_errors_are_one_line(run_talr: Run, project: Path) -> None:
    result = run_talr("test-convert", "nope", cwd=project)
    assert result.returncode == 2 and result.stderr.strip() == "talr: error: nope: no such file or folder"
    result = run_talr("test-convert", "rules", "-b", "no_such_backend", cwd=project)
    assert result.returncode == 2
    assert result.stderr.startswith("talr: error: unknown backend 'no_such_backend'; installed: ")
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_talr_toml_overrides_the_pipeline_mapping(run_talr: Run, project: Path) -> None:
    write(
        project / "talr.toml",
        """
        rule_dirs = ["rules"]
        [[convert.pipelines.splunk]]
        product = "windows"
        pipelines = ["splunk_windows", "splunk_sysmon_acceleration"]
        [[convert.pipelines.splunk]]
        product = "linux"
        pipelines = []
        """,
    )
    data = matrix(run_talr, project, "-b", "splunk")
    linux = cell(data, "linux_shell", "splunk")
    assert linux["state"] == "ok" and linux["pipelines"] == []
    assert cell(data, "proc_whoami", "splunk")["pipelines"] == ["splunk_windows", "splunk_sysmon_acceleration"]


def test_bad_mapping_in_talr_toml(run_talr: Run, project: Path) -> None:
    write(project / "talr.toml", '[[convert.pipelines.splunk]]\nproduct = "windows"\npipelines = "splunk_windows"\n')
    result = run_talr("test-convert", "rules", "-b", "splunk", cwd=project)
    assert result.returncode == 2
    assert "talr.toml [convert.pipelines]: splunk entry 1: 'pipelines' must be a list" in result.stderr


def test_pipeline_not_installed_is_skipped(run_talr: Run, project: Path) -> None:
    write(project / "talr.toml", '[[convert.pipelines.splunk]]\nproduct = "windows"\npipelines = ["no_such_pipe"]\n')
    data = matrix(run_talr, project, "-b", "splunk")
    whoami = cell(data, "proc_whoami", "splunk")
    assert whoami["state"] == "skipped" and whoami["message"] == "pipeline no_such_pipe is not installed"


# --- talr convert ----------------------------------------------------------------------------


def test_convert_writes_one_file_per_rule_id(run_talr: Run, tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(MULTI, rules)
    shutil.copy(RULES / "proc_whoami.yml", rules)
    out = tmp_path / "out"
    result = run_talr("convert", "-t", "splunk", "rules", "-o", str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    files = sorted(p.name for p in out.iterdir())
    assert files == ["5b2c3e4f-0a1b-4c2d-8e3f-000000000001.txt", "5b2c3e4f-0a1b-4c2d-8e3f-000000000007.txt"]
    two = (out / "5b2c3e4f-0a1b-4c2d-8e3f-000000000007.txt").read_text()
    # the file holds two rules: the backend returns two queries, both kept
    assert two == 'Image="*\\\\certutil.exe" CommandLine="*urlcache*"\nImage="*\\\\certutil.exe" CommandLine="*-decode*"\n'
    assert not list(out.glob(".*.tmp"))


def test_convert_to_stdout_with_pipeline_and_format(run_talr: Run) -> None:
    result = run_talr("convert", "-t", "splunk", "-p", "splunk_windows", "-f", "savedsearches", str(MULTI))
    assert result.returncode == 0, result.stderr
    assert "[Certutil Download]" in result.stdout and "[Certutil Decode]" in result.stdout
    json_result = run_talr("convert", "-t", "lucene", "-f", "kibana_ndjson", str(MULTI / "two_rules.yml"))
    assert json_result.returncode == 0, json_result.stderr
    titles = [item["attributes"]["title"] for item in json.loads(json_result.stdout)]
    assert titles == ["SIGMA - Certutil Download", "SIGMA - Certutil Decode"]


def test_convert_failures_and_skips(run_talr: Run, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_talr("convert", "-t", "sqlite", str(RULES), "-o", str(out))
    assert result.returncode == 1
    assert "keywords_undeclared.yml: sqlite: SigmaFeatureNotSupportedByBackendError" in result.stderr
    assert "keywords_mimikatz.yml: sqlite: expected failure (SQLite has no full-text search" in result.stderr
    assert not (out / "5b2c3e4f-0a1b-4c2d-8e3f-000000000003.txt").exists()
    assert (out / "5b2c3e4f-0a1b-4c2d-8e3f-000000000001.txt").exists()
    skipped = run_talr("convert", "-t", "splunk", str(RULES / "linux_shell.yml"))
    assert skipped.returncode == 0 and skipped.stdout == ""
    assert "skipped: no pipeline for linux/process_creation/-" in skipped.stderr


def test_convert_duplicate_ids_write_nothing(run_talr: Run, tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    write(rules / "a.yml", (RULES / "proc_whoami.yml").read_text())
    write(rules / "b.yml", (RULES / "proc_whoami.yml").read_text().replace("whoami.exe", "other.exe"))
    out = tmp_path / "out"
    result = run_talr("convert", "-t", "splunk", str(rules), "-o", str(out))
    assert result.returncode == 2
    assert "rule id 5b2c3e4f-0a1b-4c2d-8e3f-000000000001 is also the id of" in result.stderr
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-t", "nope"], "talr: error: unknown backend 'nope'; installed: "),
        (["-t", "splunk", "-p", "nope"], "talr: error: unknown pipeline 'nope'"),
        (["-t", "splunk", "-f", "nope"], "talr: error: backend splunk has no output format 'nope'; it has: default"),
    ],
)
def test_convert_bad_arguments(run_talr: Run, args: list[str], message: str) -> None:
    result = run_talr("convert", *args, str(RULES))
    assert result.returncode == 2
    assert result.stderr.startswith(message) and len(result.stderr.strip().splitlines()) == 1


# --- talr backends ---------------------------------------------------------------------------


def test_backends_lists_installed_plugins_with_versions(run_talr: Run) -> None:
    result = run_talr("backends", "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    by_id = {b["identifier"]: b for b in data["backends"]}
    splunk = by_id["splunk"]
    assert splunk["distribution"] == "pysigma-backend-splunk"
    assert splunk["version"] == md.version("pysigma-backend-splunk")
    assert "savedsearches" in splunk["formats"] and splunk["requires_pipeline"] is True
    assert by_id["lucene"]["distribution"] == "pySigma-backend-elasticsearch"
    for expected in ("esql", "eql", "elastalert", "kusto", "loki", "log_scale", "sqlite", "secops", "panther"):
        assert expected in by_id
    pipelines = {p["identifier"]: p for p in data["pipelines"]}
    assert pipelines["splunk_windows"]["allowed_backends"] == ["splunk", "splunk_spl2"]
    assert pipelines["sysmon"]["distribution"] == "pysigma-pipeline-sysmon"
    table = run_talr("backends")
    assert table.returncode == 0 and "pysigma-backend-splunk" in table.stdout


def test_file_of_filters_only_is_skipped(run_talr: Run, project: Path) -> None:
    shutil.copy(FIXTURES / "convert" / "filters" / "filter_admin_hosts.yml", project / "rules")
    data = matrix(run_talr, project, "-b", "splunk", "-b", "sqlite")
    for target in ("splunk", "sqlite"):
        skipped = cell(data, "filter_admin_hosts", target)
        assert skipped["state"] == "skipped"
        assert skipped["message"] == "no rule to convert (Sigma filters apply to the rules they name)"


def test_no_cache_converts_again_and_stores_nothing(run_talr: Run, project: Path) -> None:
    first = matrix(run_talr, project, "-b", "sqlite", "--no-cache")
    second = matrix(run_talr, project, "-b", "sqlite", "--no-cache")
    assert first["stats"]["converted"] == second["stats"]["converted"] == 6
    assert not (project / ".talr-cache" / "convert").exists()


def test_expected_failure_for_a_backend_not_installed_is_a_warning(run_talr: Run, project: Path) -> None:
    path = project / "rules" / "stale_expectation.yml"
    path.write_text(path.read_text().replace("target: splunk", "target: splnk"))
    data = matrix(run_talr, project, "-b", "sqlite", code=1)  # keywords_undeclared still fails on sqlite
    assert data["warnings"] == [
        "rules/stale_expectation.yml:22: expected failure for 'splnk', which is not an installed backend"
    ]
    github = run_talr("test-convert", "rules", "-b", "sqlite", "--format", "github", cwd=project)
    assert (
        "::warning file=rules/stale_expectation.yml,line=22,title=talr test-convert::"
        "expected failure for 'splnk', which is not an installed backend"
    ) in github.stdout.splitlines()
