"""docs/lint-codes.md and the code registry agree: every code documented, nothing extra."""

from __future__ import annotations

import re

from talr_tools.lint.codes import TALR_ONLY_HINT, explain, left_out_validators, registry
from tests.conftest import PROJECT_ROOT

PAGE = (PROJECT_ROOT / "docs" / "lint-codes.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    return PAGE.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def table_rows(text: str) -> list[list[str]]:
    rows = []
    for line in text.splitlines():
        if re.match(r"\| (TALR|SV)\d{3} \|", line):
            rows.append([cell.strip() for cell in line.strip("|").split(" | ")])
    return rows


def test_every_code_is_documented_with_its_summary_severity_and_scope() -> None:
    rows = {row[0]: row[1:] for row in table_rows(section("Codes"))}
    codes = registry()
    assert set(rows) == set(codes)
    for code, (summary, severity, scope) in rows.items():
        entry = codes[code]
        assert summary.replace("\\|", "|").startswith(entry.summary), code
        assert severity == str(entry.severity), code
        assert scope == ("TALR-only" if entry.talr_only else "all rules"), code


def test_left_out_validators_are_documented() -> None:
    rows = table_rows(section("pySigma validators left out"))
    assert [(code, ident.strip("`"), why) for code, ident, why in rows] == left_out_validators()


def test_plain_sigma_hint_covers_every_talr_only_code() -> None:
    assert f"--ignore {TALR_ONLY_HINT}" in PAGE
    prefixes = TALR_ONLY_HINT.split(",")
    for code, entry in registry().items():
        assert entry.talr_only == any(code.startswith(p) for p in prefixes), code


def test_explain_covers_every_code() -> None:
    for code, entry in registry().items():
        text = explain(code.lower())
        assert text is not None and entry.explanation in text
    assert explain("TALR000") is None
