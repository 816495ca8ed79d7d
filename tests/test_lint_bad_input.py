"""Bad input through the real ``talr lint``: one finding with file (and line), no traceback,
and the good file next to it is still checked (its duplicate-title twin proves it was read)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import FIXTURES

GOOD = (FIXTURES / "lint" / "good" / "proc_creation_win_powershell_encoded_flag.yml").read_text(encoding="utf-8")
Run = Callable[..., subprocess.CompletedProcess[str]]


def lint_with(tmp_path: Path, run_talr: Run, name: str, content: bytes, *extra: str) -> subprocess.CompletedProcess[str]:
    """Lint a folder holding the bad file and a good rule with a wrong ATT&CK tag (proves it was checked)."""
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / name).write_bytes(content)
    (folder / "proc_creation_win_good.yml").write_text(GOOD.replace("attack.t1059.001", "attack.t1059.999"),
                                                      encoding="utf-8")
    result = run_talr("lint", "rules", "--no-cache", *extra, cwd=tmp_path)
    assert "Traceback" not in result.stderr + result.stdout
    assert result.returncode == 1, result.stdout + result.stderr
    assert "rules/proc_creation_win_good.yml:12:7: TALR301 attack.t1059.999" in result.stdout
    return result


def finding_lines(result: subprocess.CompletedProcess[str], code: str) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith("rules/") and f" {code} " in line]


def test_malformed_yaml(tmp_path: Path, run_talr: Run) -> None:
    result = lint_with(tmp_path, run_talr, "bad.yml", b"title: x\ndetection:\n  sel: [a, b\n  condition: sel\n")
    (line,) = finding_lines(result, "TALR005")
    assert line.startswith("rules/bad.yml:4:")


def test_duplicate_key(tmp_path: Path, run_talr: Run) -> None:
    result = lint_with(tmp_path, run_talr, "dup.yml", b"title: a\nlevel: low\ntitle: b\n")
    (line,) = finding_lines(result, "TALR006")
    assert line.startswith("rules/dup.yml:3:1:") and "'title'" in line


def test_binary_file(tmp_path: Path, run_talr: Run) -> None:
    result = lint_with(tmp_path, run_talr, "blob.yml", b"\x7fELF\x02\x01\x01\x00\x00\x00" * 50)
    (line,) = finding_lines(result, "TALR002")
    assert line.startswith("rules/blob.yml: TALR002")


def test_empty_file(tmp_path: Path, run_talr: Run) -> None:
    result = lint_with(tmp_path, run_talr, "empty.yml", b"")
    (line,) = finding_lines(result, "TALR004")
    assert line.startswith("rules/empty.yml: TALR004")


def test_non_utf8(tmp_path: Path, run_talr: Run) -> None:
    result = lint_with(tmp_path, run_talr, "latin.yml", b"title: ok\ndescription: caf\xe9\n")
    (line,) = finding_lines(result, "TALR003")
    assert line.startswith("rules/latin.yml:2:17: TALR003") and "0xe9" in line


def test_fifty_megabyte_file(tmp_path: Path, run_talr: Run) -> None:
    big = b"title: big\ndescription: '" + b"x" * (50 * 1024 * 1024) + b"'\n"
    result = lint_with(tmp_path, run_talr, "big.yml", big)
    (line,) = finding_lines(result, "TALR001")
    assert line.startswith("rules/big.yml: TALR001") and "52,428,8" in line


def test_alias_bomb(tmp_path: Path, run_talr: Run) -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 9):
        refs = ", ".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    result = lint_with(tmp_path, run_talr, "bomb.yml", ("\n".join(lines) + "\n").encode())
    (line,) = finding_lines(result, "TALR007")
    assert line.startswith("rules/bomb.yml:1:1: TALR007")


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("level: medium", "level: 5", ":27:8: TALR101 level:"),
        ("status: test", "status: [test]", ":3:9: TALR101 status:"),
        ("    - attack.g0016\n", "    - attack.g0016\n    - 42\n", ":14:7: TALR101 tags[3]:"),
    ],
)
def test_wrong_types_in_known_fields(tmp_path: Path, run_talr: Run, old: str, new: str, where: str) -> None:
    assert old in GOOD
    result = lint_with(tmp_path, run_talr, "typed.yml", GOOD.replace(old, new).encode())
    assert any(line.startswith("rules/typed.yml" + where) for line in finding_lines(result, "TALR101")), \
        result.stdout


def test_unknown_top_level_key(tmp_path: Path, run_talr: Run) -> None:
    result = lint_with(tmp_path, run_talr, "unknown.yml", GOOD.replace("level: medium", "level: medium\ntag: x").encode())
    (line,) = finding_lines(result, "TALR103")
    assert line.startswith("rules/unknown.yml:28:1: TALR103 unknown key 'tag'")


@pytest.mark.parametrize(
    ("block", "code", "where"),
    [
        ("talr: just a string\n", "TALR110", ":28:7: TALR110 talr:"),
        ("talr:\n    version: one\n", "TALR110", ":29:14: TALR110 talr.version:"),
        ("talr:\n    tlp: orange\n", "TALR111", ":28:1: TALR111"),
        ("talr:\n    version: 1\n    colour: red\n", "TALR112", ":30:5: TALR112 unknown key 'colour'"),
    ],
)
def test_talr_block_of_wrong_shape(tmp_path: Path, run_talr: Run, block: str, code: str, where: str) -> None:
    head = GOOD.split("talr:\n")[0]
    result = lint_with(tmp_path, run_talr, "shape.yml", (head + block).encode())
    assert any(line.startswith("rules/shape.yml" + where) for line in finding_lines(result, code)), result.stdout


def test_bad_talr_toml_is_exit_2_one_line(tmp_path: Path, run_talr: Run) -> None:
    (tmp_path / "talr.toml").write_text("rule_dirs = [\n", encoding="utf-8")
    result = run_talr("lint", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("talr: error: ") and "talr.toml" in lines[0]


def test_bad_lint_section_in_talr_toml(tmp_path: Path, run_talr: Run) -> None:
    (tmp_path / "talr.toml").write_text('[lint]\nignore = ["NOPE9"]\n', encoding="utf-8")
    (tmp_path / "rules").mkdir()
    result = run_talr("lint", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"talr: error: {tmp_path / 'talr.toml'}: [lint]: 'NOPE9' matches no lint code (see docs/lint-codes.md)"
    ]
