"""The content-hash cache: unchanged files are neither parsed nor checked again; it is safe to share."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from talr_tools.config import TalrConfig
from talr_tools.lint.runner import LintReport, lint_paths
from talr_tools.lint.selection import Selection
from tests.conftest import FIXTURES, PROJECT_ROOT

GOOD = (FIXTURES / "lint" / "good" / "proc_creation_win_powershell_encoded_flag.yml").read_text(encoding="utf-8")
Run = Callable[..., subprocess.CompletedProcess[str]]


def make_rules(folder: Path, count: int = 5) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        text = GOOD.replace("0b7d3c8e", f"{i:08x}").replace("PowerShell Started", f"PowerShell Started {i}")
        if i == 0:
            text = text.replace("attack.g0016", "attack.t1002")
        (folder / f"proc_creation_win_rule_{i}.yml").write_text(text, encoding="utf-8")


def run_lint(root: Path, today: dt.date = dt.date(2025, 6, 1), max_size: int = 1 << 20) -> LintReport:
    from talr_tools.config import LintSettings

    config = TalrConfig(root=root, lint=LintSettings(max_file_size=max_size))
    cwd = os.getcwd()
    os.chdir(root)
    try:
        return lint_paths([Path("rules")], config, Selection(), today=today, jobs=1)
    finally:
        os.chdir(cwd)


def packs(root: Path) -> list[Path]:
    return sorted((root / ".talr-cache" / "lint").glob("*.json"))


def test_warm_run_is_served_from_the_cache(tmp_path: Path) -> None:
    make_rules(tmp_path / "rules")
    cold = run_lint(tmp_path)
    warm = run_lint(tmp_path)
    assert (cold.checked, cold.from_cache) == (5, 0)
    assert (warm.checked, warm.from_cache) == (0, 5)
    assert warm.findings == cold.findings and [f.code for f in warm.findings] == ["TALR302"]


def test_warm_run_neither_parses_yaml_nor_imports_pysigma(tmp_path: Path) -> None:
    make_rules(tmp_path / "rules")
    run_lint(tmp_path)
    script = textwrap.dedent(f"""
        import sys, datetime as dt
        from pathlib import Path
        import talr_tools.loader as loader
        import talr_tools.lint.worker as worker
        def boom(*a, **k):
            raise AssertionError("parsed")
        loader.parse_rule_bytes = loader.load_rule = worker.lint_file = boom
        import talr_tools.lint.runner as runner
        runner.lint_file = boom
        from talr_tools.config import TalrConfig
        from talr_tools.lint.selection import Selection
        report = runner.lint_paths([Path("rules")], TalrConfig(root=Path({str(tmp_path)!r})), Selection(),
                                   today=dt.date(2025, 6, 1))
        print(report.checked, report.from_cache, [f.code for f in report.findings])
        print(sorted(m for m in ("sigma", "jsonschema", "jsonschema_rs") if m in sys.modules))
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["0 5 ['TALR302']", "[]"]


def test_changed_file_is_checked_again(tmp_path: Path) -> None:
    make_rules(tmp_path / "rules")
    run_lint(tmp_path)
    changed = tmp_path / "rules" / "proc_creation_win_rule_3.yml"
    changed.write_text(changed.read_text(encoding="utf-8").replace("attack.g0016", "attack.t9999"), encoding="utf-8")
    report = run_lint(tmp_path)
    assert (report.checked, report.from_cache) == (1, 4)
    assert sorted(f.code for f in report.findings) == ["TALR301", "TALR302"]


def test_corrupt_pack_is_ignored_and_rewritten(tmp_path: Path) -> None:
    make_rules(tmp_path / "rules")
    first = run_lint(tmp_path)
    (pack,) = packs(tmp_path)
    pack.write_bytes(b"{not json")
    report = run_lint(tmp_path)
    assert report.findings == first.findings and report.checked == 5
    assert len(json.loads(pack.read_text(encoding="utf-8"))["entries"]) == 5


def test_malformed_entry_is_a_miss(tmp_path: Path) -> None:
    make_rules(tmp_path / "rules")
    first = run_lint(tmp_path)
    (pack,) = packs(tmp_path)
    data = json.loads(pack.read_text(encoding="utf-8"))
    for entry in data["entries"].values():
        entry["findings"] = [["not", "a", "finding"]]
    pack.write_text(json.dumps(data), encoding="utf-8")
    report = run_lint(tmp_path)
    assert report.findings == first.findings and report.checked == 5


def test_settings_that_change_findings_use_another_pack(tmp_path: Path) -> None:
    make_rules(tmp_path / "rules")
    run_lint(tmp_path)
    report = run_lint(tmp_path, max_size=1000)
    assert report.checked == 5 and {f.code for f in report.findings} == {"TALR001"}
    assert run_lint(tmp_path).from_cache == 5  # the pack of the default settings is still there


def test_future_date_finding_expires(tmp_path: Path) -> None:
    make_rules(tmp_path / "rules", count=1)
    rule = tmp_path / "rules" / "proc_creation_win_rule_0.yml"
    rule.write_text(GOOD.replace("modified: 2024-03-02", "modified: 2025-07-01"), encoding="utf-8")
    assert [f.code for f in run_lint(tmp_path).findings] == ["TALR131"]
    assert run_lint(tmp_path, today=dt.date(2025, 6, 2)).from_cache == 1
    later = run_lint(tmp_path, today=dt.date(2025, 7, 1))
    assert later.checked == 1 and later.findings == []


def test_two_runs_sharing_the_cache(tmp_path: Path) -> None:
    make_rules(tmp_path / "rules", count=30)
    (tmp_path / "talr.toml").write_text('rule_dirs = ["rules"]\n', encoding="utf-8")
    command = [sys.executable, "-m", "talr_tools.cli.main", "lint", "rules", "--format", "json"]
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    procs = [subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [1, 1], outputs
    assert outputs[0][0] == outputs[1][0] and json.loads(outputs[0][0])["summary"] == {"TALR302": 1}
    (pack,) = packs(tmp_path)
    assert len(json.loads(pack.read_text(encoding="utf-8"))["entries"]) == 30
    assert not list((tmp_path / ".talr-cache" / "lint").glob(".*.tmp"))


def test_no_cache_option_leaves_no_cache(tmp_path: Path, run_talr: Run) -> None:
    make_rules(tmp_path / "rules", count=1)
    assert run_talr("lint", "rules", "--no-cache", cwd=tmp_path).returncode == 1
    assert not (tmp_path / ".talr-cache").exists()


def test_cache_location(tmp_path: Path, run_talr: Run) -> None:
    make_rules(tmp_path / "repo" / "rules", count=1)
    run_talr("lint", "repo/rules", cwd=tmp_path)  # no talr.toml: the current folder, not the linted one
    assert packs(tmp_path) and not (tmp_path / "repo" / "rules" / ".talr-cache").exists()
    (tmp_path / "repo" / "talr.toml").write_text('rule_dirs = ["rules"]\n', encoding="utf-8")
    run_talr("lint", cwd=tmp_path / "repo" / "rules")  # with talr.toml: next to it
    assert packs(tmp_path / "repo")


def test_fingerprint_follows_the_checks_and_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from talr_tools.lint import cache

    base = cache.fingerprint(1 << 20)
    assert cache.fingerprint(1 << 20) == base and cache.fingerprint(1000) != base
    monkeypatch.setattr(cache, "_pysigma_distributions", lambda: "pysigma-9.9.9.dist-info")
    assert cache.fingerprint(1 << 20) != base
