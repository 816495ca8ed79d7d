"""Run ``talr lint``: find files, serve unchanged ones from the cache, check the rest in parallel,
then run the cross-file checks on the per-file summaries and apply the code selection.

The main process only reads bytes and hashes them; YAML parsing and pySigma happen in the
workers (or in-process for a handful of files, where starting workers costs more than it saves).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from talr_tools.config import TalrConfig
from talr_tools.errors import TalrError
from talr_tools.lint.selection import Selection
from talr_tools.lint.worker import FileResult, WorkerOptions, lint_file
from talr_tools.model import Finding, Severity

# Up to this many files are checked in-process: a worker costs ~0.5 s of imports (pySigma,
# jsonschema-rs) before its first file, a file ~2 ms; below this, workers do not pay off.
IN_PROCESS_MAX = 48
MIN_SHARE = 24  # files per worker at least


@dataclass
class LintReport:
    """What a run found, after selection, sorted."""

    findings: list[Finding] = field(default_factory=list)
    files: int = 0
    from_cache: int = 0
    checked: int = 0

    @property
    def failed(self) -> bool:
        """Errors and warnings fail the run; info findings do not."""
        return any(f.severity is not Severity.INFO for f in self.findings)


def display_path(path: Path, cwd: str | None = None) -> str:
    """The path as printed: relative to the current folder when under it, else as given."""
    cwd = (cwd or os.getcwd()).rstrip(os.sep)
    absolute = os.path.join(cwd, path) if not path.is_absolute() else os.path.normpath(path)
    absolute = os.path.normpath(absolute)
    if absolute.startswith(cwd + os.sep):
        return absolute[len(cwd) + 1:]
    return str(path)


def lint_paths(
    paths: Sequence[Path],
    config: TalrConfig,
    selection: Selection,
    *,
    use_cache: bool = True,
    jobs: int | None = None,
    today: dt.date | None = None,
) -> LintReport:
    """Lint ``paths`` (files or folders). Missing paths are a :class:`TalrError`."""
    from talr_tools.loader import iter_rule_files

    for path in paths:
        if not path.exists():
            raise TalrError(f"{path}: no such file or folder")
    today = today or dt.datetime.now(dt.UTC).date()
    options = WorkerOptions(max_size=config.lint.max_file_size, today=today)
    cache = None
    if use_cache:
        from talr_tools.lint.cache import LintCache, fingerprint

        cache = LintCache(cache_folder(config), fingerprint(options.max_size))
    results: list[FileResult] = []
    todo: list[tuple[Path, str, bytes | None]] = []
    files = list(iter_rule_files(paths))
    cwd = os.getcwd()
    keys: dict[str, str] = {}
    for path in files:
        display = display_path(path, cwd)
        keys[display] = os.path.normpath(os.path.join(cwd, path))
        data = _read_small(path, options.max_size)
        if cache is not None and data is not None:
            hit = cache.get(keys[display], hashlib.sha256(data).hexdigest(), display, today.isoformat())
            if hit is not None:
                results.append(hit)
                continue
        todo.append((path, display, data))
    checked = _check(todo, options, jobs)
    if cache is not None:
        for (_path, display, data), result in zip(todo, checked, strict=True):
            if data is not None and result.sha256:
                cache.put(keys[display], result)
        cache.save(seen=set(keys.values()))
    results.extend(checked)
    findings = [f for r in results for f in r.findings]
    findings.extend(cross_file_findings(results))
    selected = sorted({f for f in findings if selection.wants(f.code)}, key=_order)
    return LintReport(findings=selected, files=len(files), from_cache=len(results) - len(checked),
                      checked=len(checked))


def cache_folder(config: TalrConfig) -> Path:
    """``.talr-cache`` next to talr.toml; with no talr.toml, in the current folder (as ruff does),
    never inside the linted folder, which may be someone else's (or read-only) rules."""
    return config.cache_dir if config.path is not None else Path.cwd() / ".talr-cache"


def _order(finding: Finding) -> tuple[str, int, int, str, str]:
    return (finding.path, finding.line or 0, finding.col or 0, finding.code, finding.message)


def _read_small(path: Path, max_size: int) -> bytes | None:
    """The file's bytes, or None when it is too large or unreadable (the worker reports why)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_size + 1)
    except OSError:
        return None
    return data if len(data) <= max_size else None


def _check(todo: list[tuple[Path, str, bytes | None]], options: WorkerOptions, jobs: int | None) -> list[FileResult]:
    workers = jobs or os.cpu_count() or 1
    if workers <= 1 or len(todo) <= IN_PROCESS_MAX:
        return lint_chunk(todo, options)
    workers = min(workers, len(todo) // MIN_SHARE)
    if workers <= 1:
        return lint_chunk(todo, options)
    size = max(8, min(64, len(todo) // (workers * 6) or 1))
    chunks = [todo[i:i + size] for i in range(0, len(todo), size)]
    try:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            parts = list(pool.map(lint_chunk, chunks, [options] * len(chunks)))
    except (BrokenProcessPool, OSError):  # a worker died (out of memory, killed): finish in-process
        return lint_chunk(todo, options)
    return [result for part in parts for result in part]


def lint_chunk(items: list[tuple[Path, str, bytes | None]], options: WorkerOptions) -> list[FileResult]:
    """Lint several files (one worker task). An unexpected crash on one file becomes TALR009."""
    out = []
    for path, display, data in items:
        try:
            out.append(lint_file(path, display, options, data))
        except Exception as exc:  # a bug must not hide the other files' findings
            message = f"internal error while checking the file: {type(exc).__name__}: {exc}".splitlines()[0]
            out.append(FileResult(display, "", [Finding(display, None, None, "TALR009", message[:300])]))
    return out


def cross_file_findings(results: list[FileResult]) -> list[Finding]:
    """TALR401 (duplicate ids), TALR402 (duplicate titles) and TALR404 (duplicate file names),
    every occurrence naming the others."""
    findings: list[Finding] = []
    for code, attr, what in (("TALR401", "ids", "id"), ("TALR402", "titles", "title")):
        where: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
        for result in results:
            for value, line, col in getattr(result, attr):
                key = value.lower() if attr == "ids" else value
                where[key].append((result.path, line, col))
        for value, places in where.items():
            if len(places) < 2:
                continue
            for index, (path, line, col) in enumerate(places):
                others = ", ".join(f"{p}:{ln}" for i, (p, ln, _c) in enumerate(places) if i != index)
                severity = Severity.ERROR if code == "TALR401" else Severity.WARNING
                shown = value if len(value) <= 80 else value[:77] + "..."
                findings.append(Finding(path, line, col, code, f"duplicate {what} {shown!r}, also at {others}",
                                        severity))
    names: dict[str, list[str]] = defaultdict(list)
    for result in results:
        names[os.path.basename(result.path)].append(result.path)
    for name, paths in names.items():
        for path in paths if len(paths) > 1 else []:
            others = ", ".join(p for p in paths if p != path)
            findings.append(Finding(path, None, None, "TALR404", f"file name {name!r} also used by {others}",
                                    Severity.WARNING))
    return findings
