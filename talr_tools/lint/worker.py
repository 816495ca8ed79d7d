"""Lint one file: load it once, run every per-file check, summarise it for cross-file checks.

This is what the worker processes run. The result is plain data (JSON-ready), so it is
cheap to send between processes and to store in the cache.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from talr_tools.model import Finding, Rule


@dataclass
class FileResult:
    """Findings of one file plus what cross-file checks need (ids and titles with positions)."""

    path: str  # as displayed
    sha256: str
    findings: list[Finding] = field(default_factory=list)
    ids: list[tuple[str, int, int]] = field(default_factory=list)
    titles: list[tuple[str, int, int]] = field(default_factory=list)
    expires: str | None = None  # ISO day from which a future-date finding (TALR131) no longer holds

    def to_cache(self) -> dict[str, Any]:
        """JSON form without the display path (re-attached on load)."""
        return {
            "sha256": self.sha256,
            "findings": [[f.line, f.col, f.code, f.message, str(f.severity)] for f in self.findings],
            "ids": self.ids,
            "titles": self.titles,
            "expires": self.expires,
        }

    @classmethod
    def from_cache(cls, path: str, data: dict[str, Any]) -> FileResult:
        """Inverse of :meth:`to_cache`; raises (KeyError, TypeError, ValueError) on a bad entry."""
        from talr_tools.model import Severity

        return cls(
            path=path,
            sha256=str(data["sha256"]),
            findings=[Finding(path, line, col, str(code), str(msg), Severity(sev))
                      for line, col, code, msg, sev in data["findings"]],
            ids=[(str(i), int(line), int(col)) for i, line, col in data["ids"]],
            titles=[(str(t), int(line), int(col)) for t, line, col in data["titles"]],
            expires=data.get("expires"),
        )


@dataclass(frozen=True)
class WorkerOptions:
    """What the per-file checks need besides the file (picklable)."""

    max_size: int
    today: dt.date


def lint_file(path: Path, display: str, options: WorkerOptions, data: bytes | None = None) -> FileResult:
    """Every per-file check on one file. Never raises for bad input: it becomes findings."""
    from talr_tools.lint.semantic import check_file_name
    from talr_tools.loader import load_rule, parse_rule_bytes

    if data is not None and len(data) <= options.max_size:
        loaded = parse_rule_bytes(data, path, display=display)
        sha = hashlib.sha256(data).hexdigest()
    else:
        loaded = load_rule(path, display=display, max_size=options.max_size)
        sha = loaded.rule.file_hash if loaded.rule is not None else (
            hashlib.sha256(data).hexdigest() if data is not None else "")
    result = FileResult(path=display, sha256=sha, findings=list(loaded.findings))
    result.findings.extend(check_file_name(path, display))
    if loaded.rule is not None:
        try:
            result.findings.extend(_rule_checks(loaded.rule, display, options))
        except RecursionError:
            result.findings.append(Finding(display, None, None, "TALR005",
                                           "YAML nested too deep, or an alias refers to itself: not checked"))
        _summarise(loaded.rule, result)
    result.expires = _expiry(loaded.rule, options.today) if loaded.rule is not None else None
    return result


def _expiry(rule: Rule, today: dt.date) -> str | None:
    """The earliest future date in the rule: from that day on, its TALR131 finding is stale."""
    from talr_tools.lint.semantic import rule_dates

    future = [d for d in rule_dates(rule) if d > today]
    return min(future).isoformat() if future else None


def _rule_checks(rule: Rule, display: str, options: WorkerOptions) -> list[Finding]:
    from talr_tools.attack.index import load_index
    from talr_tools.lint.attack_check import check_attack_tags, check_intel
    from talr_tools.lint.schema_check import check_schema
    from talr_tools.lint.semantic import check_dates, check_talr_block
    from talr_tools.lint.sigma_check import check_sigma

    index = load_index()
    findings: list[Finding] = []
    findings.extend(check_talr_block(rule, display))
    for doc in rule.documents:
        findings.extend(check_schema(doc, display))
        findings.extend(check_dates(doc, display, options.today))
        findings.extend(check_attack_tags(doc, display, index))
    findings.extend(check_intel(rule.primary, display, index))
    sigma = check_sigma(rule, display)
    if any(f.code in _SCHEMA_ERRORS for f in findings):
        # pySigma validators stumble over the wrong types the schema already reported: no echo.
        sigma = [f for f in sigma if f.code != "TALR209"]
    findings.extend(sigma)
    return findings


_SCHEMA_ERRORS = frozenset({"TALR101", "TALR102", "TALR103", "TALR110", "TALR111", "TALR112"})


def _summarise(rule: Rule, result: FileResult) -> None:
    for doc in rule.documents:
        ident = doc.data.get("id")
        if ident is not None and not isinstance(ident, dict | list):
            line, col = doc.position(["id"])
            result.ids.append((str(ident), line, col))
        title = doc.data.get("title")
        if isinstance(title, str) and "correlation" not in doc.data and "filter" not in doc.data:
            line, col = doc.position(["title"])
            result.titles.append((title, line, col))
