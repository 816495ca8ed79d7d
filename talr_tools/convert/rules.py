"""Rule files as the conversion matrix sees them: bytes in, a small summary out.

A :class:`RuleSummary` is what the matrix needs of a rule file (id, title, content hash,
logsources, declared expected failures); it is cached by the file's SHA-256, so an
unchanged file is read and hashed but not parsed again. When a cell has to be converted,
the file is parsed (once per run) with :mod:`talr_tools.loader`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from talr_tools.convert.mapping import Logsource, rule_logsources
from talr_tools.errors import TalrError
from talr_tools.loader import iter_rule_files, parse_rule_bytes
from talr_tools.model import DocumentKind, Finding, Rule

SUMMARY_VERSION = "2"


@dataclass
class RuleSource:
    """One rule file's bytes and the path shown for it."""

    display: str
    data: bytes

    @property
    def file_hash(self) -> str:
        """SHA-256 of the bytes."""
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class RuleSummary:
    """What the matrix needs of one parsed rule file."""

    rule_id: str | None
    title: str
    content_hash: str
    line: int
    logsources: list[Logsource]
    expected: dict[str, tuple[str, int]] = field(default_factory=dict)  # target -> (reason, line)
    has_rules: bool = True  # False for a file of Sigma filters only (they apply to other rules)

    def to_json(self) -> dict[str, Any]:
        """Cache form."""
        return {
            "id": self.rule_id,
            "title": self.title,
            "hash": self.content_hash,
            "line": self.line,
            "logsources": [list(ls) for ls in self.logsources],
            "expected": {t: list(v) for t, v in self.expected.items()},
            "has_rules": self.has_rules,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> RuleSummary:
        """Inverse of :meth:`to_json` (raises on a malformed entry)."""
        return cls(
            rule_id=raw["id"],
            title=str(raw["title"]),
            content_hash=str(raw["hash"]),
            line=int(raw["line"]),
            logsources=[(ls[0], ls[1], ls[2]) for ls in raw["logsources"]],
            expected={str(t): (str(v[0]), int(v[1])) for t, v in raw["expected"].items()},
            has_rules=bool(raw["has_rules"]),
        )

    @property
    def key(self) -> str:
        """How a rule is matched between the base and now: its id, else its title."""
        return self.rule_id or f"title:{self.title}"


def summarise(rule: Rule) -> RuleSummary:
    """The summary of a parsed rule."""
    primary = rule.primary
    expected: dict[str, tuple[str, int]] = {}
    conversion = rule.talr.raw.get("conversion")
    items = conversion.get("expected_failures") if isinstance(conversion, dict) else None
    for index, item in enumerate(items if isinstance(items, list) else []):
        if isinstance(item, dict) and isinstance(item.get("target"), str):
            line = primary.position(["talr", "conversion", "expected_failures", index])[0]
            expected.setdefault(item["target"], (str(item.get("reason", "")), line))
    return RuleSummary(
        rule_id=rule.id,
        title=rule.title,
        content_hash=rule.content_hash,
        line=primary.key_position(["title"])[0] if "title" in primary.data else primary.line,
        logsources=rule_logsources(
            [doc.data for doc in rule.documents if doc.kind in (DocumentKind.RULE, DocumentKind.CORRELATION)]
        ),
        expected=expected,
        has_rules=any(doc.kind in (DocumentKind.RULE, DocumentKind.CORRELATION) for doc in rule.documents),
    )


def parse_source(source: RuleSource) -> tuple[Rule | None, list[Finding]]:
    """Parse one source with the shared loader."""
    result = parse_rule_bytes(source.data, Path(source.display), display=source.display)
    return result.rule, result.findings


def read_sources(
    paths: list[Path], *, max_size: int, base: Path | None = None
) -> tuple[list[RuleSource], list[Finding]]:
    """The rule files under ``paths``, read once, and findings for the unreadable ones.

    Paths are shown relative to ``base`` when inside it. A path that does not exist is a
    :class:`TalrError` (a typo in the command, not a bad rule).
    """
    for path in paths:
        if not path.exists():
            raise TalrError(f"{path}: no such file or folder")
    sources: list[RuleSource] = []
    findings: list[Finding] = []
    for file in iter_rule_files(paths):
        display = display_path(file, base)
        try:
            size = file.stat().st_size
            if size > max_size:
                findings.append(
                    Finding(display, None, None, "TALR001", f"file is {size:,} bytes, over the limit of {max_size:,}")
                )
                continue
            sources.append(RuleSource(display, file.read_bytes()))
        except OSError as exc:
            findings.append(Finding(display, None, None, "TALR001", f"cannot read file: {exc.strerror or exc}"))
    return sources, findings


def display_path(file: Path, base: Path | None) -> str:
    """``file`` as given when relative, else relative to ``base`` when inside it."""
    if base is not None and file.is_absolute():
        try:
            return file.relative_to(base.resolve()).as_posix()
        except ValueError:
            pass
    return file.as_posix()
