"""``test-convert``: every rule through every target, cached and spread over the cores.

Order of work, so that a run where nothing changed imports no backend at all:

1. read every file's bytes; a file whose SHA-256 has a cached summary is not parsed;
2. the installed targets come from the cached catalogue (:mod:`.discovery`);
3. each (rule, target) cell gets its pipelines from the mapping and a cache key; cached
   outcomes are used as they are;
4. only the missing cells are converted: in worker processes (each builds its backends
   once) when there are many, in-process when there are a few (starting workers costs more).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

from talr_tools.convert.cache import ConvertCache, cell_key, rule_key
from talr_tools.convert.cells import Cell, CellState, Matrix, Outcome, Stats, classify
from talr_tools.convert.discovery import Catalogue, Target, plugin_fingerprint
from talr_tools.convert.mapping import PipelineMapping, format_logsource
from talr_tools.convert.rules import SUMMARY_VERSION, RuleSource, RuleSummary, parse_source, summarise
from talr_tools.convert.timelimit import DEFAULT_CELL_TIMEOUT
from talr_tools.convert.worker import Docs, Task, run_batch, start_worker, use_locations
from talr_tools.errors import TalrError

Progress = Callable[[int, int], None]  # (done, total) cells converted
IN_PROCESS_LIMIT = 60  # cells: below this, converting in-process beats starting workers
BATCH_CELLS = 200  # cells per task sent to a worker


@dataclass
class _Plan:
    """The cells of one rule file still to decide."""

    source: RuleSource
    summary: RuleSummary
    docs: Docs | None = None
    pending: list[tuple[Target, tuple[str, ...], str]] = field(default_factory=list)  # target, pipes, key


def select_targets(catalogue: Catalogue, wanted: Sequence[str] | None) -> list[Target]:
    """The targets to test: all installed, or those named (unknown names are a :class:`TalrError`)."""
    if not wanted:
        return list(catalogue.targets)
    chosen = []
    for name in dict.fromkeys(wanted):
        target = catalogue.target(name)
        if target is None:
            installed = ", ".join(t.identifier for t in catalogue.targets)
            raise TalrError(f"unknown backend {name!r}; installed: {installed}")
        chosen.append(target)
    return chosen


def plan_pipelines(
    target: Target, summary: RuleSummary, mapping: PipelineMapping, installed: Mapping[str, str]
) -> tuple[tuple[str, ...] | None, str]:
    """Pipelines for one cell, or (None, why the cell is skipped).

    A backend that does not require a pipeline converts without one when the mapping has
    nothing for the logsource; one that requires a pipeline is skipped.
    """
    if not summary.has_rules:
        return None, "no rule to convert (Sigma filters apply to the rules they name)"
    pipes = mapping.pipelines_for(target.identifier, summary.logsources)
    if target.requires_pipeline:
        if not summary.logsources:
            return None, "no pipeline for a rule without logsource"
        if pipes is None or (not pipes and not mapping.has_entries(target.identifier)):
            missing = mapping.unmatched(target.identifier, summary.logsources) or summary.logsources[0]
            return None, f"no pipeline for {format_logsource(missing)}"
    elif pipes is None:
        pipes = ()
    absent = [p for p in pipes if p not in installed]
    if absent:
        return None, f"pipeline {', '.join(absent)} is not installed"
    return pipes, ""


def run_matrix(
    sources: list[RuleSource],
    catalogue: Catalogue,
    targets: list[Target],
    mapping: PipelineMapping,
    *,
    cache: ConvertCache,
    jobs: int | None = None,
    progress: Progress | None = None,
    load_errors: list[str] | None = None,
    cell_timeout: float | None = DEFAULT_CELL_TIMEOUT,
) -> Matrix:
    """Decide every (rule file, target) cell of ``sources``.

    ``cell_timeout``: seconds one conversion may take (None: no limit); a conversion
    stopped by it fails its cell and is not cached.
    """
    stats = Stats(rules=len(sources))
    errors = list(load_errors or [])
    plans = _summaries(sources, cache, stats, errors)
    fingerprint = plugin_fingerprint()
    cells_by_plan: list[list[Cell | None]] = []
    keys: list[str] = []
    decided: dict[tuple[str, tuple[Any, ...]], tuple[tuple[str, ...] | None, str]] = {}
    for plan in plans:
        row: list[Cell | None] = []
        cache_row = rule_key(plan.summary.content_hash, fingerprint)
        for target in targets:
            memo = (target.identifier, tuple(plan.summary.logsources))
            if memo not in decided:
                decided[memo] = plan_pipelines(target, plan.summary, mapping, catalogue.pipelines)
            pipes, why = decided[memo]
            if pipes is None:
                row.append(_cell(plan, target, (), CellState.SKIPPED, why))
                continue
            key = cell_key(cache_row, target.identifier, pipes, target.default_format)
            plan.pending.append((target, pipes, key))
            keys.append(key)
            row.append(None)
        cells_by_plan.append(row)
    stats.cells = len(plans) * len(targets)
    cached = cache.get_outcomes(keys)
    stats.cache_hits = len(cached)
    misses = [(i, p) for i, p in enumerate(plans) if any(k not in cached for _, _, k in p.pending)]
    fresh = _convert_missing(
        misses, cached, stats, jobs, progress, errors, catalogue.locations(), cache, cell_timeout
    )
    outcomes = {**cached, **fresh}
    cells: list[Cell] = []
    for plan, row in zip(plans, cells_by_plan, strict=True):
        pending = iter(plan.pending)
        for target, slot in zip(targets, row, strict=True):
            if slot is not None:
                cells.append(slot)
                continue
            _, pipes, key = next(pending)
            outcome = outcomes.get(key)
            if outcome is None:
                outcome = Outcome(False, "conversion result lost (worker process died)")
            expected = plan.summary.expected.get(target.identifier)
            state, message = classify(outcome, expected[0] if expected else None)
            cell = _cell(plan, target, pipes, state, message)
            cell.cached = key in cached
            if expected:
                cell.reason, cell.line = expected
            cells.append(cell)
    installed = {t.identifier for t in catalogue.targets}
    warnings = [
        f"{plan.source.display}:{line}: expected failure for {target!r}, which is not an installed backend"
        for plan in plans
        for target, (_, line) in plan.summary.expected.items()
        if target not in installed
    ]
    return Matrix(
        targets=[t.identifier for t in targets], cells=cells, stats=stats, load_errors=errors, warnings=warnings
    )


def _cell(plan: _Plan, target: Target, pipes: tuple[str, ...], state: CellState, message: str) -> Cell:
    summary = plan.summary
    return Cell(
        path=plan.source.display,
        rule_id=summary.rule_id,
        title=summary.title,
        target=target.identifier,
        pipelines=pipes,
        state=state,
        message=message,
        line=summary.line,
    )


def _summaries(sources: list[RuleSource], cache: ConvertCache, stats: Stats, errors: list[str]) -> list[_Plan]:
    """A plan per readable rule; parse only files whose summary is not cached."""
    keys = [f"{SUMMARY_VERSION}:{s.file_hash}" for s in sources]
    known = cache.get_summaries(keys)
    plans: list[_Plan] = []
    new: list[tuple[str, dict[str, Any]]] = []
    for source, key in zip(sources, keys, strict=True):
        summary = None
        if key in known:
            try:
                summary = RuleSummary.from_json(known[key])
            except (KeyError, ValueError, TypeError, IndexError, AttributeError):
                summary = None
        docs = None
        if summary is None:
            rule, findings = parse_source(source)
            stats.rules_parsed += 1
            if rule is None:
                errors.extend(f.render() for f in findings)
                continue
            summary = summarise(rule)
            docs = [doc.data for doc in rule.documents]
            new.append((key, summary.to_json()))
        plans.append(_Plan(source, summary, docs))
    cache.put_summaries(new)
    return plans


def _docs(plan: _Plan, stats: Stats) -> Docs:
    if plan.docs is None:
        rule, _ = parse_source(plan.source)
        stats.rules_parsed += 1
        plan.docs = [doc.data for doc in rule.documents] if rule is not None else []
    return plan.docs


def _convert_missing(
    misses: list[tuple[int, _Plan]],
    cached: dict[str, Outcome],
    stats: Stats,
    jobs: int | None,
    progress: Progress | None,
    errors: list[str],
    locations: dict[str, str],
    cache: ConvertCache,
    cell_timeout: float | None,
) -> dict[str, Outcome]:
    """Convert the cells not in the cache; returns key -> outcome.

    Outcomes are stored as each batch comes back, so an interrupted run keeps its work.
    """
    work: list[tuple[int, Docs, list[Task]]] = []
    keys_of: dict[int, list[str]] = {}
    for index, plan in misses:
        todo = [(t, p, k) for t, p, k in plan.pending if k not in cached]
        work.append((index, _docs(plan, stats), [(t.identifier, p, t.default_format) for t, p, _ in todo]))
        keys_of[index] = [k for _, _, k in todo]
    total = sum(len(tasks) for _, _, tasks in work)
    stats.converted = total
    fresh: dict[str, Outcome] = {}
    if not total:
        return fresh

    def take(results: list[tuple[int, list[list[Any]]]]) -> int:
        batch = [
            (key, Outcome.from_json(raw))
            for index, outcomes in results
            for key, raw in zip(keys_of[index], outcomes, strict=True)
        ]
        fresh.update(batch)
        cache.put_outcomes([(key, outcome) for key, outcome in batch if outcome.lasting])
        return len(batch)

    workers = min(jobs or os.cpu_count() or 1, max(1, total // BATCH_CELLS) or 1)
    if total <= IN_PROCESS_LIMIT or workers <= 1:
        use_locations(locations)
        stats.workers = 0
        done = 0
        for item in work:
            done += take(run_batch([item], cell_timeout))
            if progress:
                progress(done, total)
        return fresh
    stats.workers = workers
    batches = _batches(work)
    done = 0
    with ProcessPoolExecutor(max_workers=workers, initializer=start_worker, initargs=(locations,)) as pool:
        futures: dict[Future[list[tuple[int, list[list[Any]]]]], list[Any]] = {
            pool.submit(run_batch, batch, cell_timeout): batch for batch in batches
        }
        for future in as_completed(futures):
            batch = futures[future]
            try:
                done += take(future.result())
            except BrokenProcessPool:
                done += sum(len(tasks) for _, _, tasks in batch)
                errors.append(f"conversion worker died while converting {len(batch)} rule(s); their cells failed")
            if progress:
                progress(done, total)
    return fresh


def _batches(work: list[tuple[int, Docs, list[Task]]]) -> list[list[tuple[int, Docs, list[Task]]]]:
    """Group rules into tasks of about :data:`BATCH_CELLS` cells."""
    batches: list[list[tuple[int, Docs, list[Task]]]] = []
    current: list[tuple[int, Docs, list[Task]]] = []
    size = 0
    for item in work:
        current.append(item)
        size += len(item[2])
        if size >= BATCH_CELLS:
            batches.append(current)
            current, size = [], 0
    if current:
        batches.append(current)
    return batches
