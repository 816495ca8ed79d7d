"""Renderers of the conversion matrix: terminal table, JSON, Markdown, GitHub annotations."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from talr_tools.annotations import escape_data, workflow_command
from talr_tools.convert.cells import STATE_LABELS, Cell, CellState, Matrix

if TYPE_CHECKING:
    from rich.console import Console

STATE_ORDER = list(CellState)
SHORT_LABELS = {
    CellState.OK: "ok",
    CellState.EXPECTED_FAILURE: "expected",
    CellState.UNEXPECTED_FAILURE: "unexpected",
    CellState.STALE_EXPECTATION: "stale",
    CellState.SKIPPED: "skipped",
}
BASELINE_NOTES = {
    "regression": "regression (converted at the base)",
    "pre-existing": "already failing at the base",
    "new-rule": "new rule",
    "new-failure": "did not convert at the base either",
}


def _problem_cells(matrix: Matrix) -> list[Cell]:
    return sorted((c for c in matrix.cells if c.failing), key=lambda c: (c.path, c.target))


def _describe(cell: Cell) -> str:
    text = f"{STATE_LABELS[cell.state]}: {cell.message}" if cell.message else STATE_LABELS[cell.state]
    if cell.baseline in BASELINE_NOTES:
        text += f" [{BASELINE_NOTES[cell.baseline]}]"
    return text


def render_json(matrix: Matrix) -> str:
    """The whole matrix as compact JSON (one line; pipe it through ``jq`` to read it)."""
    return json.dumps(matrix.to_dict(), ensure_ascii=False, separators=(",", ":"))


def render_table(matrix: Matrix, console: Console) -> None:
    """Summary table (targets x states), then the failing cells, on a rich console."""
    from rich.table import Table

    table = Table(title="talr test-convert" + (f" (against {matrix.base})" if matrix.base else ""))
    table.add_column("backend", no_wrap=True)
    for state in STATE_ORDER:  # one-word headers: the table fits 80 columns (CI logs)
        table.add_column(SHORT_LABELS[state], justify="right")
    if matrix.base:
        table.add_column("regressions", justify="right")
    counts = matrix.counts()
    regressions = matrix.regressions()
    for target in matrix.targets:
        row = [target, *(str(counts[target][str(s)]) for s in STATE_ORDER)]
        if matrix.base:
            row.append(str(sum(1 for c in regressions if c.target == target)))
        table.add_row(*row)
    console.print(table)
    # Plain lines (thousands of them on a big repository: rich would take seconds).
    lines = [*matrix.load_errors, *(f"warning: {w}" for w in matrix.warnings)]
    lines += [f"{cell.path}:{cell.line}: {cell.target}: {_describe(cell)}" for cell in _problem_cells(matrix)]
    lines.append(_summary_line(matrix))
    console.file.write("\n".join(lines) + "\n")


def _summary_line(matrix: Matrix) -> str:
    totals = {s: sum(1 for c in matrix.cells if c.state is s) for s in STATE_ORDER}
    parts = [f"{totals[s]} {STATE_LABELS[s]}" for s in STATE_ORDER]
    stats = matrix.stats
    line = (
        f"{stats.rules} rule(s) x {len(matrix.targets)} backend(s): {', '.join(parts)}"
        f" ({stats.cache_hits} cached, {stats.converted} converted)"
    )
    if matrix.base:
        line += f"; {len(matrix.regressions())} regression(s) against {matrix.base}"
    return line


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(matrix: Matrix, *, max_rows: int = 200) -> str:
    """A GitHub job summary: the counts table and the failing cells."""
    lines = ["## talr test-convert" + (f" against `{matrix.base}`" if matrix.base else ""), ""]
    header = ["backend", *(STATE_LABELS[s] for s in STATE_ORDER)]
    if matrix.base:
        header.append("regressions")
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "|".join([" --- "] + [" ---: "] * (len(header) - 1)) + "|")
    counts = matrix.counts()
    regressions = matrix.regressions()
    for target in matrix.targets:
        row = [f"`{target}`", *(str(counts[target][str(s)]) for s in STATE_ORDER)]
        if matrix.base:
            row.append(str(sum(1 for c in regressions if c.target == target)))
        lines.append("| " + " | ".join(row) + " |")
    lines += ["", _md_escape(_summary_line(matrix)), ""]
    if matrix.warnings:
        lines += ["### Warnings", ""]
        lines += [f"- `{_md_escape(w)}`" for w in matrix.warnings]
        lines.append("")
    if matrix.load_errors:
        lines += ["### Unreadable rule files", ""]
        lines += [f"- `{_md_escape(e)}`" for e in matrix.load_errors]
        lines.append("")
    problems = _problem_cells(matrix)
    if problems:
        lines += ["### Failing cells", "", "| rule | backend | state | message |", "| --- | --- | --- | --- |"]
        for cell in problems[:max_rows]:
            state = STATE_LABELS[cell.state]
            if cell.baseline in BASELINE_NOTES:
                state += f" ({BASELINE_NOTES[cell.baseline]})"
            lines.append(f"| `{_md_escape(cell.path)}` | `{cell.target}` | {state} | {_md_escape(cell.message)} |")
        if len(problems) > max_rows:
            lines.append(f"\n… and {len(problems) - max_rows} more (see `--format json`).")
        lines.append("")
    return "\n".join(lines)


def render_github(matrix: Matrix) -> str:
    """GitHub workflow commands: ``::error`` on each blocking cell, ``::warning`` on pre-existing ones."""
    title = "talr test-convert"
    lines = [workflow_command("error", error, title=title) for error in matrix.load_errors]
    for warning in matrix.warnings:
        where, _, text = warning.partition(": ")
        path, _, line = where.rpartition(":")
        lines.append(workflow_command("warning", text, file=path, line=int(line) if line.isdigit() else None,
                                      title=title))
    for cell in _problem_cells(matrix):
        lines.append(workflow_command("error" if cell.blocking else "warning", _describe(cell), file=cell.path,
                                      line=cell.line, title=f"{title}: {cell.target}"))
    lines.append(escape_data(_summary_line(matrix)))
    return "\n".join(lines)
