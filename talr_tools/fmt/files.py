"""Format rule files on disk: check or write, file by file, atomically, over all cores."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial
from pathlib import Path

from talr_tools.atomic import write_text_atomic
from talr_tools.config import DEFAULT_MAX_FILE_SIZE
from talr_tools.fmt.core import FormatError, format_text
from talr_tools.loader import iter_rule_files, load_rule
from talr_tools.model import Finding

PARALLEL_THRESHOLD = 64  # below this many files, worker start-up costs more than it saves


class Outcome(StrEnum):
    """What happened to one file."""

    UNCHANGED = "unchanged"
    CHANGED = "changed"  # reformatted (or, with check, would be)
    ERROR = "error"  # not formatted: see the finding


@dataclass(frozen=True)
class FileOutcome:
    """The result for one file; ``finding`` is set when it could not be formatted.

    ``canonical_hash`` is the sha256 of the file's canonical bytes (what the file holds
    after formatting), for the cache; None on error.
    """

    path: Path
    outcome: Outcome
    finding: Finding | None = None
    canonical_hash: str | None = None


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
    path: Path,
    *,
    check: bool = False,
    display: str | None = None,
    max_size: int = DEFAULT_MAX_FILE_SIZE,
    known_canonical: frozenset[str] = frozenset(),
) -> FileOutcome:
    """Format one file in place (``check``: only report). Never raises on bad input.

    The file first goes through :func:`talr_tools.loader.load_rule`, so binary,
    non-UTF-8, empty, oversized, duplicate-key and alias-bomb files are reported with the
    loader's codes (TALR001-TALR008) and never handed to ruamel. A file that ruamel cannot
    format gets ``TALR005`` (invalid YAML) or ``FMT001`` (formatting would change data: a bug).
    A file whose sha256 is in ``known_canonical`` is not parsed at all.
    """
    shown = display or str(path)
    if known_canonical:
        try:
            if path.stat().st_size <= max_size:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                if digest in known_canonical:
                    return FileOutcome(path, Outcome.UNCHANGED, canonical_hash=digest)
        except OSError:
            pass  # load_rule reports it
    loaded = load_rule(path, display=shown, max_size=max_size)
    if loaded.rule is None:
        return _error(path, loaded.findings[0])
    try:
        formatted = format_text(loaded.rule.text)
    except FormatError as exc:
        return _error(path, Finding(shown, exc.line, exc.col, exc.code, str(exc)))
    canonical = hashlib.sha256(formatted.encode("utf-8")).hexdigest()
    if canonical == loaded.rule.file_hash:
        return FileOutcome(path, Outcome.UNCHANGED, canonical_hash=canonical)
    if not check:
        write_text_atomic(path, formatted)
    return FileOutcome(path, Outcome.CHANGED, canonical_hash=canonical)


def format_paths(
    paths: Iterable[Path],
    *,
    check: bool = False,
    max_size: int = DEFAULT_MAX_FILE_SIZE,
    cache_dir: Path | None = None,
    jobs: int | None = None,
) -> FormatReport:
    """Format every rule file under ``paths``; a bad file is reported and the others still formatted.

    ``cache_dir`` (usually ``.talr-cache``) remembers canonical files so unchanged ones are
    not parsed again; ``jobs`` worker processes (default: one per core) share the work
    when there are many files.
    """
    from talr_tools.fmt.cache import CanonicalCache

    files = list(iter_rule_files(paths))
    cache = CanonicalCache(cache_dir) if cache_dir is not None else None
    known = frozenset(cache.hashes) if cache is not None else frozenset()
    work = partial(format_file, check=check, max_size=max_size, known_canonical=known)
    workers = min(jobs or os.cpu_count() or 1, max(1, len(files) // 16))
    if workers > 1 and len(files) >= PARALLEL_THRESHOLD:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            outcomes = list(pool.map(work, files, chunksize=max(1, len(files) // (workers * 8))))
    else:
        outcomes = [work(path) for path in files]
    report = FormatReport(outcomes)
    if cache is not None:
        cache.hashes.update(o.canonical_hash for o in outcomes if o.canonical_hash is not None)
        cache.save()
    return report


def _error(path: Path, finding: Finding) -> FileOutcome:
    return FileOutcome(path, Outcome.ERROR, finding)
