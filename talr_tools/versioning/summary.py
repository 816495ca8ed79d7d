"""What versioning needs to know of one rule blob, cached by git blob sha.

A blob sha names its content, so a cached summary never goes stale: the cache lives in
``<cache_dir>/versioning/blobs-v1.json`` and only grows (it is rebuilt if unreadable).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from talr_tools.atomic import write_text_atomic
from talr_tools.loader import parse_rule_bytes
from talr_tools.model import Rule

CACHE_NAME = "blobs-v1.json"


def rule_version(rule: Rule) -> int:
    """``talr.version`` of ``rule``; 1 when the rule has no ``talr:`` block or no version."""
    version = rule.talr.version
    return version if version is not None else 1


@dataclass(frozen=True)
class BlobSummary:
    """Identity, version, changelog notes and content hash of one rule blob."""

    id: str | None
    version: int = 1
    content_hash: str = ""
    notes: Mapping[int, str] = field(default_factory=dict)

    @classmethod
    def of_rule(cls, rule: Rule) -> BlobSummary:
        """Summary of a parsed rule."""
        return cls(
            id=rule.id,
            version=rule_version(rule),
            content_hash=rule.content_hash,
            notes={entry.version: entry.note for entry in rule.talr.changelog},
        )

    @classmethod
    def of_bytes(cls, data: bytes, path: Path) -> BlobSummary:
        """Summary of a blob's bytes; ``id`` is None when it is not a parseable rule."""
        result = parse_rule_bytes(data, path)
        if result.rule is None:
            return cls(id=None)
        return cls.of_rule(result.rule)

    def to_json(self) -> list[Any]:
        """Compact JSON form for the cache."""
        return [self.id, self.version, self.content_hash, {str(k): v for k, v in self.notes.items()}]

    @classmethod
    def from_json(cls, value: list[Any]) -> BlobSummary:
        """Inverse of :meth:`to_json`."""
        rule_id, version, digest, notes = value
        return cls(id=rule_id, version=int(version), content_hash=digest,
                   notes={int(k): str(v) for k, v in notes.items()})


class SummaryCache:
    """``{blob sha: BlobSummary}`` persisted as one JSON file (``cache_dir=None``: memory only)."""

    def __init__(self, cache_dir: Path | None) -> None:
        self.path = cache_dir / "versioning" / CACHE_NAME if cache_dir is not None else None
        self._entries: dict[str, BlobSummary] = {}
        self._dirty = False
        if self.path is not None and self.path.is_file():
            try:
                raw = json.loads(self.path.read_text(encoding="utf-8"))
                self._entries = {sha: BlobSummary.from_json(v) for sha, v in raw.items()}
            except (OSError, ValueError, TypeError, KeyError, AttributeError):
                self._entries = {}  # a broken cache is rebuilt, never trusted

    def get(self, sha: str) -> BlobSummary | None:
        """The cached summary of blob ``sha``."""
        return self._entries.get(sha)

    def put(self, sha: str, summary: BlobSummary) -> None:
        """Remember the summary of blob ``sha``."""
        self._entries[sha] = summary
        self._dirty = True

    def save(self) -> None:
        """Write the cache atomically if it changed (silently skipped if the folder is read-only)."""
        if self.path is None or not self._dirty:
            return
        text = json.dumps({sha: s.to_json() for sha, s in self._entries.items()},
                          ensure_ascii=False, separators=(",", ":"))
        try:
            write_text_atomic(self.path, text)
        except OSError:
            return
        self._dirty = False
