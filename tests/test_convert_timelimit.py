"""A time limit per conversion: a backend that runs too long fails its cell, not the run."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml

from talr_tools.convert import worker
from talr_tools.convert.cells import Outcome
from talr_tools.convert.discovery import discover_catalogue
from talr_tools.convert.timelimit import DEFAULT_CELL_TIMEOUT, CellTimeout, cell_timeout_setting, time_limit
from talr_tools.errors import ConfigError
from tests.conftest import FIXTURES, write
from tests.test_convert_cli import cell, matrix

Run = Callable[..., subprocess.CompletedProcess[str]]


def long_rule(values: int = 4000) -> dict[str, Any]:
    """A real rule that takes Loki well over 10 ms to convert (thousands of values, a split query)."""
    return {
        "title": "Many hashes",
        "id": "6c0e1f52-5d3b-4c55-9e59-6a2b7c1d0f11",
        "status": "test",
        "logsource": {"category": "driver_load", "product": "windows"},
        "detection": {
            "selection": {"Hashes|contains": [f"SHA256={index:064x}" for index in range(values)]},
            "condition": "selection",
        },
        "level": "high",
    }


def test_time_limit_stops_running_python_code_and_leaves_no_timer() -> None:
    before = signal.getsignal(signal.SIGALRM)
    started = time.monotonic()
    with pytest.raises(CellTimeout, match=r"stopped after 0.05 s"), time_limit(0.05):
        while True:  # a backend stuck in a loop
            pass
    assert 0.04 < time.monotonic() - started < 5
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) is before
    for no_limit in (None, 0):
        with time_limit(no_limit):
            time.sleep(0.01)
        assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_a_backends_own_except_exception_does_not_swallow_the_limit() -> None:
    with pytest.raises(CellTimeout), time_limit(0.02):
        try:
            while True:
                pass
        except Exception:  # what some plugins do around their own work
            pytest.fail("the time limit was caught as an ordinary exception")


def test_cell_timeout_setting() -> None:
    assert cell_timeout_setting({}) == DEFAULT_CELL_TIMEOUT
    assert cell_timeout_setting({"cell_timeout": 5}) == 5.0
    assert cell_timeout_setting({"cell_timeout": 0.5}) == 0.5
    assert cell_timeout_setting({"cell_timeout": 0}) is None
    for bad in ("soon", -1, True, [1]):
        with pytest.raises(ConfigError, match=r"^proj/talr.toml: \[convert\] cell_timeout must be a number"):
            cell_timeout_setting({"cell_timeout": bad}, where="proj/talr.toml")


def test_in_a_worker_process_the_slow_cell_fails_and_the_others_convert() -> None:
    """The pool's path: a real worker process (``start_worker``), a real backend, a real rule."""
    catalogue = discover_catalogue()
    if catalogue.target("loki") is None:
        pytest.skip("Loki backend not installed")
    small = yaml.safe_load((FIXTURES / "convert" / "rules" / "proc_whoami.yml").read_text())
    batch = [(0, [long_rule()], [("loki", (), "default")]), (1, [small], [("loki", (), "default")])]
    with ProcessPoolExecutor(max_workers=1, initializer=worker.start_worker, initargs=(catalogue.locations(),)) as pool:
        slow, quick = pool.submit(worker.run_batch, batch, 0.01).result()
        unlimited = pool.submit(worker.run_batch, batch[:1], None).result()[0]
    stopped = Outcome.from_json(slow[1][0])
    assert not stopped.ok and not stopped.lasting
    assert stopped.message.startswith("conversion stopped after 0.01 s")
    assert Outcome.from_json(quick[1][0]).ok
    without_limit = Outcome.from_json(unlimited[1][0])
    assert without_limit.ok and without_limit.lasting and without_limit.queries > 1  # Loki split it into parts


def test_test_convert_reports_the_stopped_cell_and_does_not_cache_it(run_talr: Run, tmp_path: Path) -> None:
    root = tmp_path / "proj"
    write(root / "talr.toml", 'rule_dirs = ["rules"]\n')
    write(root / "rules" / "proc_whoami.yml", (FIXTURES / "convert" / "rules" / "proc_whoami.yml").read_text())
    write(root / "rules" / "many_hashes.yml", yaml.safe_dump(long_rule(), sort_keys=False))
    data = matrix(run_talr, root, "-b", "loki", "--cell-timeout", "0.01", code=1)
    stopped = cell(data, "many_hashes", "loki")
    assert stopped["state"] == "unexpected_failure"
    assert stopped["message"].startswith("conversion stopped after 0.01 s (time limit per cell")
    assert cell(data, "proc_whoami", "loki")["state"] == "ok"
    again = matrix(run_talr, root, "-b", "loki", code=0)  # default limit: 60 s
    assert cell(again, "many_hashes", "loki")["state"] == "ok"
    assert cell(again, "many_hashes", "loki")["cached"] is False  # the stopped cell was not kept
    assert cell(again, "proc_whoami", "loki")["cached"] is True


def test_bad_cell_timeout_in_talr_toml_is_one_line(run_talr: Run, tmp_path: Path) -> None:
    root = tmp_path / "proj"
    write(root / "talr.toml", 'rule_dirs = ["rules"]\n[convert]\ncell_timeout = "soon"\n')
    write(root / "rules" / "proc_whoami.yml", (FIXTURES / "convert" / "rules" / "proc_whoami.yml").read_text())
    for command in (["test-convert", "rules", "-b", "loki"], ["convert", "-t", "loki", "rules"]):
        result = run_talr(*command, cwd=root)
        assert result.returncode == 2, command
        assert result.stderr.strip().endswith("talr.toml: [convert] cell_timeout must be a number of seconds >= 0 (0: no limit)")
        assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
