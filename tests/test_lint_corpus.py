"""``talr lint`` over the 3,141 SigmaHQ rules of ../shared (skipped when absent)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.mark.corpus
@pytest.mark.slow
def test_lint_whole_corpus(corpus: Path, run_talr: Run, tmp_path: Path) -> None:
    files = sorted(p for p in corpus.rglob("*.yml"))
    result = run_talr("lint", str(corpus), "--no-cache", "--format", "json", cwd=tmp_path)
    assert "Traceback" not in result.stderr and result.stderr == ""
    assert result.returncode == 1  # plain Sigma: TALR100 everywhere, and ATT&CK drift
    report = json.loads(result.stdout)
    assert report["files"] == len(files) >= 3000
    assert report["summary"]["TALR100"] == len(files)  # every file was parsed and checked
    assert not {"TALR009", "TALR209"} & set(report["summary"])  # no internal or validator crash
    plain = run_talr("lint", str(corpus), "--no-cache", "--format", "json",
                     "--ignore", "TALR100,TALR11,TALR12,TALR307", cwd=tmp_path)
    # SigmaHQ rules are valid YAML, schema-valid and parse in pySigma: no TALR0/1/2 findings at all.
    assert [c for c in json.loads(plain.stdout)["summary"] if c[:5] in ("TALR0", "TALR1", "TALR2")] == []


def test_benchmark_without_corpus_exits_cleanly(tmp_path: Path) -> None:
    import sys

    from tests.conftest import PROJECT_ROOT

    result = subprocess.run([sys.executable, str(PROJECT_ROOT / "benchmarks" / "bench_lint.py"), "--corpus",
                             str(tmp_path / "absent")], capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0
    assert result.stdout.strip() == f"corpus not found at {tmp_path / 'absent'}: nothing to benchmark (pass --corpus PATH)"


def test_benchmark_validator_set_is_the_lint_set() -> None:
    import importlib.util

    from talr_tools.lint.codes import enabled_validators
    from tests.conftest import PROJECT_ROOT

    spec = importlib.util.spec_from_file_location("bench_lint", PROJECT_ROOT / "benchmarks" / "bench_lint.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    listed = [line.removeprefix("  - ") for line in bench.validation_config().splitlines()[1:]]
    assert listed == [ident for _code, ident in enabled_validators()] and len(listed) == 65
