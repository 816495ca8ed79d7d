"""The conversion matrix: one cell per (rule file, target), and how a cell's state is decided."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class CellState(StrEnum):
    """What happened to one rule on one target."""

    OK = "ok"
    EXPECTED_FAILURE = "expected_failure"
    UNEXPECTED_FAILURE = "unexpected_failure"
    STALE_EXPECTATION = "stale_expectation"
    SKIPPED = "skipped"


STATE_LABELS = {
    CellState.OK: "ok",
    CellState.EXPECTED_FAILURE: "expected failure",
    CellState.UNEXPECTED_FAILURE: "unexpected failure",
    CellState.STALE_EXPECTATION: "stale expectation",
    CellState.SKIPPED: "skipped",
}


@dataclass(frozen=True)
class Outcome:
    """What a backend did with a rule: converted (with ``queries`` query count) or failed.

    ``lasting`` is False for an outcome that says more about this run than about the rule
    (a conversion stopped by the time limit): it is reported but not cached.
    """

    ok: bool
    message: str = ""
    queries: int = 0
    lasting: bool = True

    def to_json(self) -> list[Any]:
        """JSON-ready form (what workers send back and the cache stores)."""
        return [self.ok, self.message, self.queries] if self.lasting else [self.ok, self.message, self.queries, False]

    @classmethod
    def from_json(cls, raw: Any) -> Outcome:
        """Inverse of :meth:`to_json` (raises on a malformed entry)."""
        ok, message, queries, *rest = raw
        lasting = rest[0] if rest else True
        if (
            not isinstance(ok, bool)
            or not isinstance(message, str)
            or not isinstance(queries, int)
            or not isinstance(lasting, bool)
            or len(rest) > 1
        ):
            raise ValueError("malformed outcome")
        return cls(ok, message, queries, lasting)


@dataclass(slots=True)
class Cell:
    """One rule file on one target."""

    path: str
    rule_id: str | None
    title: str
    target: str
    pipelines: tuple[str, ...]
    state: CellState
    message: str = ""
    reason: str = ""  # the declared reason of an expected failure
    line: int = 1  # where an annotation points (the expected_failures entry when there is one)
    cached: bool = False
    baseline: str | None = None  # with --base: "regression", "pre-existing", "new-rule", "fixed"

    @property
    def failing(self) -> bool:
        """Unexpected failure or stale expectation: what makes ``test-convert`` exit 1."""
        return self.state in (CellState.UNEXPECTED_FAILURE, CellState.STALE_EXPECTATION)

    @property
    def blocking(self) -> bool:
        """Failing, and (with ``--base``) not a failure that was already there."""
        return self.failing and self.baseline != "pre-existing"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "path": self.path,
            "line": self.line,
            "rule_id": self.rule_id,
            "title": self.title,
            "target": self.target,
            "pipelines": list(self.pipelines),
            "state": str(self.state),
            "message": self.message,
            "reason": self.reason,
            "cached": self.cached,
            "baseline": self.baseline,
        }


def classify(outcome: Outcome, expected_reason: str | None) -> tuple[CellState, str]:
    """Cell state and message from what the backend did and what the rule declares."""
    if expected_reason is None:
        if outcome.ok:
            return CellState.OK, ""
        return CellState.UNEXPECTED_FAILURE, outcome.message
    if outcome.ok:
        return CellState.STALE_EXPECTATION, "declared as an expected failure, but it now converts"
    return CellState.EXPECTED_FAILURE, outcome.message


@dataclass
class Stats:
    """Work done by one run (shown in JSON output; proves what the cache saved)."""

    rules: int = 0
    rules_parsed: int = 0
    cells: int = 0
    cache_hits: int = 0
    converted: int = 0
    workers: int = 0

    def to_dict(self) -> dict[str, int]:
        """JSON-ready form."""
        return dict(self.__dict__)


@dataclass
class Matrix:
    """Every cell of a run, with the targets tested and the run's figures."""

    targets: list[str]
    cells: list[Cell]
    stats: Stats = field(default_factory=Stats)
    load_errors: list[str] = field(default_factory=list)  # rendered findings of unreadable files
    warnings: list[str] = field(default_factory=list)  # e.g. an expected failure for no installed backend
    base: str | None = None

    @property
    def failed(self) -> bool:
        """Whether the run must exit 1."""
        return bool(self.load_errors) or any(c.blocking for c in self.cells)

    def counts(self) -> dict[str, dict[str, int]]:
        """target -> state -> number of cells (every state present, zero when none)."""
        table = {t: dict.fromkeys(map(str, CellState), 0) for t in self.targets}
        for cell in self.cells:
            row = table.get(cell.target)
            if row is None:
                row = table[cell.target] = dict.fromkeys(map(str, CellState), 0)
            row[cell.state.value] += 1
        return table

    def regressions(self) -> list[Cell]:
        """Cells that converted at the base and fail now."""
        return [c for c in self.cells if c.baseline == "regression"]

    def to_dict(self) -> dict[str, Any]:
        """The whole matrix, JSON-ready."""
        return {
            "targets": self.targets,
            "base": self.base,
            "failed": self.failed,
            "stats": self.stats.to_dict(),
            "counts": self.counts(),
            "load_errors": self.load_errors,
            "warnings": self.warnings,
            "cells": [c.to_dict() for c in self.cells],
        }
