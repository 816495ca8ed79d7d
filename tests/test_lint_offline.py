"""Nothing in ``talr lint`` touches the network: the enabled pySigma validators run with sockets
blocked and an empty ``$HOME`` (no pySigma data cache), and the left-out ones are shown to need it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from talr_tools.lint.codes import registry
from talr_tools.lint.sigma_codes import VALIDATOR_CODES
from tests.conftest import CORPUS, FIXTURES, PROJECT_ROOT

GOOD = FIXTURES / "lint" / "good" / "proc_creation_win_powershell_encoded_flag.yml"

BLOCK_SOCKETS = """
import socket
attempts = []
def deny(*args, **kwargs):
    attempts.append(args)
    raise OSError("network blocked by test")
socket.socket.connect = deny
socket.socket.connect_ex = deny
socket.create_connection = deny
socket.getaddrinfo = deny
"""


def run_blocked(script: str, cwd: Path, home: Path) -> list[str]:
    home.mkdir(exist_ok=True)
    result = subprocess.run(
        [sys.executable, "-c", BLOCK_SOCKETS + textwrap.dedent(script)],
        cwd=cwd, capture_output=True, text=True, check=False, timeout=600,
        env={**os.environ, "HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache"),
             "PYTHONPATH": str(PROJECT_ROOT)},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def rich_rule() -> str:
    """A rule that exercises tag, field, EventID, provider and filename validators."""
    text = GOOD.read_text(encoding="utf-8")
    text = text.replace("    - attack.g0016\n", "    - attack.g0016\n    - attack.g0016\n    - d3fend.d3-pa\n    - cve.2021-44228\n")
    return text.replace("    selection_img:\n", "    selection_img:\n        EventID: 1\n        Provider_Name: x\n")


def test_enabled_validators_never_touch_the_network(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "proc_creation_win_rich.yml").write_text(rich_rule(), encoding="utf-8")
    paths = ["rules"]
    if CORPUS.is_dir():  # a spread of real rules when the reference corpus is there
        paths += [str(p) for p in sorted(CORPUS.rglob("*.yml"))[::15]]
    out = run_blocked(f"""
        import datetime as dt
        from pathlib import Path
        from talr_tools.config import TalrConfig
        from talr_tools.lint.runner import lint_paths
        from talr_tools.lint.selection import Selection
        report = lint_paths([Path(p) for p in {paths!r}], TalrConfig(root=Path(".")), Selection(),
                            use_cache=False, jobs=1, today=dt.date(2025, 6, 1))
        codes = [f.code for f in report.findings]
        print(len(attempts), codes.count("TALR209"), codes.count("TALR009"), "SV014" in codes, report.files)
    """, tmp_path, tmp_path / "home")
    attempts, failed, crashed, validators_ran, files = out[-1].split()
    assert (attempts, failed, crashed, validators_ran) == ("0", "0", "0", "True")
    assert int(files) == len(paths) - 1 + 1


def test_left_out_validators_do_need_the_network(tmp_path: Path) -> None:
    (tmp_path / "rule.yml").write_text(rich_rule(), encoding="utf-8")
    network = [vc.identifier for vc in VALIDATOR_CODES if vc.state == "network"]
    out = run_blocked(f"""
        import yaml
        from pathlib import Path
        from sigma.collection import SigmaCollection
        from sigma.exceptions import SigmaRuleLocation
        from sigma.validators.core import validators as core
        from sigma.validators.sigmahq import validators as sigmahq
        known = {{**core, **sigmahq}}
        data = yaml.safe_load(Path("rule.yml").read_text())
        rule = SigmaCollection.from_dicts([data], source=SigmaRuleLocation(Path("rules/x.yml"))).rules[0]
        for name in {network!r}:
            attempts.clear()
            try:
                known[name]().validate(rule)
            except Exception:
                pass
            print(name, len(attempts))
    """, tmp_path, tmp_path / "home")
    assert len(out) == len(network) == 10
    assert all(int(line.split()[1]) >= 1 for line in out), out


def test_every_installed_validator_is_classified() -> None:
    from sigma.validators.core import validators as core
    from sigma.validators.sigmahq import validators as sigmahq

    table = {vc.identifier: vc for vc in VALIDATOR_CODES}
    assert set(core) | set(sigmahq) <= set(table), "new pySigma validator: classify it in sigma_codes.py"
    enabled = {code for code, c in registry().items() if c.validator}
    assert enabled == {vc.code for vc in VALIDATOR_CODES if vc.state == "on"}
    assert len({vc.code for vc in VALIDATOR_CODES}) == len(VALIDATOR_CODES)
