"""Render a :class:`LintReport`: text (ruff style + summary), JSON, SARIF 2.1.0, GitHub annotations."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from talr_tools import __version__
from talr_tools.annotations import workflow_command
from talr_tools.lint.codes import registry
from talr_tools.lint.runner import LintReport
from talr_tools.model import Finding, Severity

FORMATS = ("text", "json", "sarif", "github")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def render(report: LintReport, fmt: str, root: Path) -> str:
    """The whole output of one run in ``fmt`` (see :data:`FORMATS`)."""
    if fmt == "json":
        return render_json(report)
    if fmt == "sarif":
        return json.dumps(to_sarif(report, root), indent=2)
    if fmt == "github":
        return render_github(report)
    return render_text(report)


def render_text(report: LintReport) -> str:
    """``path:line:col: CODE message`` lines, then the count per code and the total."""
    lines = [f.render() for f in report.findings]
    if report.findings:
        lines.append("")
        counts = Counter(f.code for f in report.findings)
        codes = registry()
        for code, count in sorted(counts.items()):
            summary = codes[code].summary if code in codes else ""
            lines.append(f"{count:6d}  {code:8s} {summary}")
        lines.append(f"Found {len(report.findings)} finding{'s' if len(report.findings) != 1 else ''} "
                     f"in {report.files} file{'s' if report.files != 1 else ''}.")
    else:
        lines.append(f"All checks passed ({report.files} file{'s' if report.files != 1 else ''}).")
    return "\n".join(lines)


def render_json(report: LintReport) -> str:
    """A JSON object: findings (as :meth:`Finding.to_dict`), counts per code, totals."""
    counts = Counter(f.code for f in report.findings)
    return json.dumps({
        "findings": [f.to_dict() for f in report.findings],
        "summary": dict(sorted(counts.items())),
        "files": report.files,
        "total": len(report.findings),
    }, indent=2)


def render_github(report: LintReport) -> str:
    """GitHub workflow commands: ``::error file=...,line=...,col=...,title=CODE::message``."""
    levels = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
    return "\n".join(
        workflow_command(
            levels[f.severity],
            f"{f.code} {f.message}",
            file=f.path,
            line=f.line,
            col=(f.col or 1) if f.line is not None else None,
            title=f.code,
        )
        for f in report.findings
    )


def _uri(path: str, root: Path) -> tuple[str, bool]:
    """(URI, relative-to-root?) for a displayed path."""
    resolved = Path(path).resolve()
    try:
        return resolved.relative_to(root.resolve()).as_posix(), True
    except ValueError:
        return resolved.as_uri(), False


def to_sarif(report: LintReport, root: Path) -> dict[str, Any]:
    """A SARIF 2.1.0 log GitHub code scanning accepts (URIs relative to ``%SRCROOT%`` = ``root``)."""
    codes = registry()
    used = sorted({f.code for f in report.findings})
    rules = []
    for code in used:
        entry = codes.get(code)
        summary = entry.summary if entry else code
        rules.append({
            "id": code,
            "name": code,
            "shortDescription": {"text": summary},
            "fullDescription": {"text": entry.explanation if entry else summary},
            "helpUri": "https://github.com/talr-project/talr/blob/main/docs/lint-codes.md#"
                       + code.lower(),
            "defaultConfiguration": {"level": _SARIF_LEVEL[entry.severity if entry else Severity.ERROR]},
        })
    index = {code: i for i, code in enumerate(used)}
    results = [_sarif_result(f, index, root) for f in report.findings]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "talr-lint",
                "informationUri": "https://github.com/talr-project/talr",
                "version": __version__,
                "rules": rules,
            }},
            "originalUriBaseIds": {"%SRCROOT%": {"uri": root.resolve().as_uri() + "/"}},
            "results": results,
        }],
    }


def _sarif_result(f: Finding, index: dict[str, int], root: Path) -> dict[str, Any]:
    uri, relative = _uri(f.path, root)
    artifact: dict[str, Any] = {"uri": uri}
    if relative:
        artifact["uriBaseId"] = "%SRCROOT%"
    location: dict[str, Any] = {"artifactLocation": artifact}
    # GitHub needs a region; file-level findings point at line 1.
    location["region"] = {"startLine": f.line or 1, "startColumn": f.col or 1}
    return {
        "ruleId": f.code,
        "ruleIndex": index[f.code],
        "level": _SARIF_LEVEL[f.severity],
        "message": {"text": f.message},
        "locations": [{"physicalLocation": location}],
    }
