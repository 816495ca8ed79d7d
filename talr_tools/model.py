"""The domain model shared by every capability: findings, rule documents, rules.

A *TALR rule* is one YAML file: one or more Sigma documents (rule, correlation rule,
filter; ``---`` separated) plus a ``talr:`` block in its *primary document*. The rule is
identified by the primary document's Sigma ``id``, never by its path.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any

from yaml.nodes import MappingNode, Node, SequenceNode


class Severity(StrEnum):
    """How bad a finding is. Errors and warnings both fail ``talr lint``."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, order=True)
class Finding:
    """One problem found in one place: ``path:line:col: CODE message``."""

    path: str
    line: int | None
    col: int | None
    code: str
    message: str
    severity: Severity = Severity.ERROR

    def render(self) -> str:
        """The ruff-style one-line form."""
        where = self.path
        if self.line is not None:
            where += f":{self.line}:{self.col or 1}"
        return f"{where}: {self.code} {self.message}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            "path": self.path,
            "line": self.line,
            "col": self.col,
            "code": self.code,
            "message": self.message,
            "severity": str(self.severity),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        """Inverse of :meth:`to_dict`."""
        return cls(
            path=data["path"],
            line=data["line"],
            col=data["col"],
            code=data["code"],
            message=data["message"],
            severity=Severity(data["severity"]),
        )


class DocumentKind(StrEnum):
    """What a Sigma document is."""

    RULE = "rule"
    CORRELATION = "correlation"
    FILTER = "filter"
    GLOBAL = "global"  # Sigma v1 ``action: global`` document


@dataclass
class RuleDocument:
    """One YAML document of a rule file, with the YAML node tree for positions."""

    data: dict[str, Any]
    index: int
    node: Node | None = None

    @property
    def kind(self) -> DocumentKind:
        """Rule, correlation rule, filter or global document."""
        if self.data.get("action") == "global":
            return DocumentKind.GLOBAL
        if "correlation" in self.data:
            return DocumentKind.CORRELATION
        if "filter" in self.data:
            return DocumentKind.FILTER
        return DocumentKind.RULE

    @property
    def line(self) -> int:
        """1-based line where the document starts."""
        return self.node.start_mark.line + 1 if self.node is not None else 1

    def position(self, path: Sequence[str | int] = ()) -> tuple[int, int]:
        """1-based (line, column) of the value at ``path`` (keys and list indexes).

        Walks as far as the path exists and returns the deepest position found, so a
        finding about a missing key points at its parent.
        """
        node = self.node
        if node is None:
            return (1, 1)
        best = node
        for step in path:
            child = _child(node, step)
            if child is None:
                break
            best = node = child
        return (best.start_mark.line + 1, best.start_mark.column + 1)

    def key_position(self, path: Sequence[str | int]) -> tuple[int, int]:
        """1-based (line, column) of the *key* at the end of ``path`` (the value for list items)."""
        if not path or self.node is None:
            return self.position(path)
        parent = self.node
        for step in path[:-1]:
            child = _child(parent, step)
            if child is None:
                return self.position(path)
            parent = child
        last = path[-1]
        if isinstance(parent, MappingNode):
            for key, _value in parent.value:
                if key.value == last:
                    return (key.start_mark.line + 1, key.start_mark.column + 1)
        return self.position(path)


def _child(node: Node, step: str | int) -> Node | None:
    if isinstance(node, MappingNode):
        for key, value in node.value:
            if key.value == step:
                return value
    elif isinstance(node, SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
        child: Node = node.value[step]
        return child
    return None


def as_date(value: Any) -> dt.date | None:
    """A Sigma date as a ``date``: YAML dates, datetimes, ``YYYY-MM-DD`` or the old ``YYYY/MM/DD`` text."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        for fmt in ("%Y-%m-%d", "%Y/%m/%d"):
            try:
                return dt.datetime.strptime(value, fmt).date()
            except ValueError:
                continue
    return None


@dataclass(frozen=True)
class ChangelogEntry:
    """One version's entry in ``talr.changelog``."""

    version: int
    date: dt.date | None
    note: str


@dataclass(frozen=True)
class IntelLink:
    """A link from a rule to intelligence that helps an analyst act on an alert."""

    kind: str
    url: str | None = None
    stix_id: str | None = None
    external_id: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class ExpectedFailure:
    """A conversion target known not to convert this rule, and why."""

    target: str
    reason: str


@dataclass(frozen=True)
class TalrBlock:
    """Typed, lenient view of a rule's ``talr:`` block.

    Wrong shapes read as absent here; ``talr lint`` reports them through the schema.
    """

    raw: Mapping[str, Any]

    @property
    def present(self) -> bool:
        """Whether the rule has a ``talr:`` mapping at all."""
        return bool(self.raw)

    @property
    def version(self) -> int | None:
        """The rule version (1 for a new rule)."""
        value = self.raw.get("version")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    @property
    def tlp(self) -> str | None:
        """TLP 2.0 level, or None to use the repository default."""
        value = self.raw.get("tlp")
        return value if isinstance(value, str) else None

    @property
    def changelog(self) -> list[ChangelogEntry]:
        """Changelog entries as written (well-formed ones only)."""
        entries = []
        for item in _mapping_items(self.raw.get("changelog")):
            version = item.get("version")
            if not isinstance(version, int) or isinstance(version, bool):
                continue
            date = item.get("date")
            entries.append(
                ChangelogEntry(
                    version=version,
                    date=date if isinstance(date, dt.date) else None,
                    note=str(item.get("note", "")),
                )
            )
        return entries

    @property
    def intel(self) -> list[IntelLink]:
        """Intelligence links (well-formed ones only)."""
        links = []
        for item in _mapping_items(self.raw.get("intel")):
            if not isinstance(item.get("kind"), str):
                continue
            links.append(
                IntelLink(
                    kind=item["kind"],
                    url=_opt_str(item.get("url")),
                    stix_id=_opt_str(item.get("stix_id")),
                    external_id=_opt_str(item.get("external_id")),
                    name=_opt_str(item.get("name")),
                )
            )
        return links

    @property
    def expected_failures(self) -> list[ExpectedFailure]:
        """Declared conversion failures (``talr.conversion.expected_failures``)."""
        conversion = self.raw.get("conversion")
        if not isinstance(conversion, Mapping):
            return []
        return [
            ExpectedFailure(target=str(item["target"]), reason=str(item.get("reason", "")))
            for item in _mapping_items(conversion.get("expected_failures"))
            if isinstance(item.get("target"), str)
        ]

    @property
    def tests(self) -> list[Mapping[str, Any]]:
        """Sample-event tests (``talr.tests``), as written."""
        return list(_mapping_items(self.raw.get("tests")))


def _mapping_items(value: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(value, list):
        yield from (item for item in value if isinstance(item, Mapping))


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


@dataclass
class Rule:
    """One rule file, parsed once: its documents, bytes hash and location."""

    path: Path
    documents: list[RuleDocument]
    file_hash: str
    text: str = field(repr=False, default="")

    @cached_property
    def primary(self) -> RuleDocument:
        """The document that carries the ``talr:`` block and the rule's identity.

        The first document with a ``talr`` block, else the first non-global document
        with an ``id``, else the first document.
        """
        for doc in self.documents:
            if isinstance(doc.data.get("talr"), Mapping):
                return doc
        for doc in self.documents:
            if doc.kind is not DocumentKind.GLOBAL and "id" in doc.data:
                return doc
        return self.documents[0]

    @property
    def id(self) -> str | None:
        """The Sigma ``id`` of the primary document, as a string."""
        value = self.primary.data.get("id")
        return str(value) if value is not None else None

    @property
    def title(self) -> str:
        """The primary document's title."""
        return str(self.primary.data.get("title", ""))

    @property
    def talr(self) -> TalrBlock:
        """The TALR block of the primary document (empty when absent)."""
        raw = self.primary.data.get("talr")
        return TalrBlock(raw if isinstance(raw, Mapping) else {})

    @property
    def status(self) -> str | None:
        """Sigma status of the primary document."""
        value = self.primary.data.get("status")
        return value if isinstance(value, str) else None

    @property
    def ids(self) -> list[str]:
        """Sigma ids of every document in the file."""
        return [str(doc.data["id"]) for doc in self.documents if "id" in doc.data]

    @cached_property
    def content_hash(self) -> str:
        """Hash of what the rule detects and tells an analyst (see :mod:`talr_tools.canonical`)."""
        from talr_tools.canonical import content_hash

        return content_hash(self)

    def tlp(self, default: str) -> str:
        """The rule's TLP level, or ``default``."""
        return self.talr.tlp or default
