"""Per-file checks beyond the schema: ``talr:`` presence, dates, changelog, file name.

Choices where the issue is silent (documented in docs/lint-codes.md):

* The changelog must hold exactly the versions 1..N in order, N = ``talr.version`` (TALR120).
  Dates must not decrease (TALR121) and must not be after ``modified`` (else ``date``) (TALR122).
* Dates after today (UTC) are a warning (TALR131).
* File names: ``[a-z0-9_]+\\.yml``, at most 120 characters (TALR403), like SigmaHQ.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from talr_tools.model import Finding, Rule, RuleDocument, Severity, as_date

FILE_NAME = re.compile(r"[a-z0-9_]+\.yml")
MAX_FILE_NAME = 120


def check_talr_block(rule: Rule, display: str) -> list[Finding]:
    """TALR100 (no block) and TALR12x (changelog against version and dates)."""
    doc = rule.primary
    raw = doc.data.get("talr")
    if not isinstance(raw, Mapping):
        if raw is None:
            line, col = doc.position(())
            return [Finding(display, line, col, "TALR100", "no talr: block (version, changelog, tlp)")]
        return []  # wrong shape: the schema reports it (TALR110)
    findings: list[Finding] = []
    findings.extend(_changelog(doc, raw, display))
    return findings


def _changelog(doc: RuleDocument, raw: Mapping[str, Any], display: str) -> list[Finding]:
    version = raw.get("version")
    changelog = raw.get("changelog")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        return []  # schema reports it
    if changelog is None:
        line, col = doc.key_position(["talr", "version"])
        return [Finding(display, line, col, "TALR120", f"version is {version} but there is no changelog")]
    if not isinstance(changelog, list):
        return []
    findings: list[Finding] = []
    versions = [e.get("version") if isinstance(e, Mapping) else None for e in changelog]
    # No list of 1..version: a version of 10**30 must not allocate memory.
    if len(versions) != version or any(v != i + 1 for i, v in enumerate(versions)):
        line, col = doc.key_position(["talr", "changelog"])
        shown = ", ".join(str(v) for v in versions) or "none"
        findings.append(Finding(
            display, line, col, "TALR120",
            f"changelog versions are [{shown}] but version {version} needs exactly 1..{version} in order",
        ))
    previous: dt.date | None = None
    limit = as_date(doc.data.get("modified")) or as_date(doc.data.get("date"))
    limit_name = "modified" if as_date(doc.data.get("modified")) else "date"
    for index, entry in enumerate(changelog):
        if not isinstance(entry, Mapping):
            continue
        when = as_date(entry.get("date"))
        if when is None:
            continue
        line, col = doc.position(["talr", "changelog", index, "date"])
        if previous is not None and when < previous:
            findings.append(Finding(
                display, line, col, "TALR121",
                f"changelog entry {index + 1} is dated {when}, before the previous entry ({previous})",
            ))
        if limit is not None and when > limit:
            findings.append(Finding(
                display, line, col, "TALR122",
                f"changelog entry {index + 1} is dated {when}, after {limit_name} ({limit})", Severity.WARNING,
            ))
        previous = when
    return findings


def check_dates(doc: RuleDocument, display: str, today: dt.date) -> list[Finding]:
    """TALR130 (modified before date) and TALR131 (dates in the future)."""
    findings: list[Finding] = []
    created, modified = as_date(doc.data.get("date")), as_date(doc.data.get("modified"))
    if created and modified and modified < created:
        line, col = doc.position(["modified"])
        findings.append(Finding(display, line, col, "TALR130", f"modified ({modified}) is before date ({created})"))
    for key, value in (("date", created), ("modified", modified)):
        if value is not None and value > today:
            line, col = doc.position([key])
            findings.append(Finding(
                display, line, col, "TALR131", f"{key} ({value}) is in the future", Severity.WARNING
            ))
    talr = doc.data.get("talr")
    changelog = talr.get("changelog") if isinstance(talr, Mapping) else None
    for index, entry in enumerate(changelog if isinstance(changelog, list) else []):
        when = as_date(entry.get("date")) if isinstance(entry, Mapping) else None
        if when is not None and when > today:
            line, col = doc.position(["talr", "changelog", index, "date"])
            findings.append(Finding(
                display, line, col, "TALR131", f"changelog entry {index + 1} date ({when}) is in the future",
                Severity.WARNING,
            ))
    return findings


def rule_dates(rule: Rule) -> list[dt.date]:
    """Every date TALR131 looks at (date, modified, changelog dates) in all documents."""
    found: list[dt.date] = []
    for doc in rule.documents:
        found.extend(d for d in (as_date(doc.data.get("date")), as_date(doc.data.get("modified"))) if d)
        talr = doc.data.get("talr")
        changelog = talr.get("changelog") if isinstance(talr, Mapping) else None
        for entry in changelog if isinstance(changelog, list) else []:
            when = as_date(entry.get("date")) if isinstance(entry, Mapping) else None
            if when is not None:
                found.append(when)
    return found


def check_file_name(path: Path, display: str) -> list[Finding]:
    """TALR403: lowercase ``[a-z0-9_]+.yml``, at most 120 characters."""
    name = path.name
    if FILE_NAME.fullmatch(name) and len(name) <= MAX_FILE_NAME:
        return []
    if len(name) > MAX_FILE_NAME:
        why = f"is {len(name)} characters long (at most {MAX_FILE_NAME})"
    else:
        why = "does not match [a-z0-9_]+.yml (lowercase letters, digits, underscores; .yml suffix)"
    return [Finding(display, None, None, "TALR403", f"file name {name!r} {why}")]
