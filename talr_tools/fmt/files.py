"""Format rule files on disk: check or write, file by file, atomically."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from talr_tools.atomic import write_text_atomic
from talr_tools.config import DEFAULT_MAX_FILE_SIZE
from talr_tools.fmt.core import FormatError, format_text
from talr_tools.loader import iter_rule_files, load_rule
from talr_tools.model import Finding


class Outcome(StrEnum):
    """What happened to one file."""

    UNCHANGED = "unchanged"
    CHANGED = "changed"  # reformatted (or, with check, would be)
    ERROR = "error"  # not formatted: see the finding


@dataclass(frozen=True)
class FileOutcome:
    """The result for one file; ``finding`` is set when it could not be formatted."""

    path: Path
    outcome: Outcome
    finding: Finding | None = None


@dataclass
class FormatReport:
    """Results of one ``talr fmt`` run."""

    files: list[FileOutcome] = field(default_factory=list)

    @property
    def changed(self) -> list[FileOutcome]:
        """Files reformatted (or that would be, with ``check``)."""
        return [f for f in self.files if f.outcome is Outcome.CHANGED]

    @property
    def errors(self) -> list[FileOutcome]:
        """Files that could not be formatted, left untouched."""
        return [f for f in self.files if f.outcome is Outcome.ERROR]


def format_file(
    path: Path, *, check: bool = False, display: str | None = None, max_size: int = DEFAULT_MAX_FILE_SIZE
) -> FileOutcome:
    """Format one file in place (``check``: only report). Never raises on bad input.

    The file first goes through :func:`talr_tools.loader.load_rule`, so binary,
    non-UTF-8, empty, oversized, duplicate-key and alias-bomb files are reported with the
    loader's codes (TALR001-TALR008) and never handed to ruamel. A file that ruamel cannot
    format gets ``TALR005`` (invalid YAML) or ``FMT001`` (formatting would change data: a bug).
    """
    shown = display or str(path)
    loaded = load_rule(path, display=shown, max_size=max_size)
    if loaded.rule is None:
        return _error(path, loaded.findings[0])
    text = loaded.rule.text
    try:
        formatted = format_text(text)
    except FormatError as exc:
        return _error(path, Finding(shown, exc.line, exc.col, exc.code, str(exc)))
    if hashlib.sha256(formatted.encode("utf-8")).hexdigest() == loaded.rule.file_hash:
        return FileOutcome(path, Outcome.UNCHANGED)
    if not check:
        write_text_atomic(path, formatted)
    return FileOutcome(path, Outcome.CHANGED)


def format_paths(
    paths: Iterable[Path], *, check: bool = False, max_size: int = DEFAULT_MAX_FILE_SIZE
) -> FormatReport:
    """Format every rule file under ``paths``; a bad file is reported and the others still formatted."""
    report = FormatReport()
    for path in iter_rule_files(paths):
        report.files.append(format_file(path, check=check, max_size=max_size))
    return report


def _error(path: Path, finding: Finding) -> FileOutcome:
    return FileOutcome(path, Outcome.ERROR, finding)
