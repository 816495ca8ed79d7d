"""``talr test-convert``, ``talr convert``, ``talr backends``: rules through pySigma backends."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from talr_tools.cli.common import ConfigOption, echo_err, resolve_config, rule_paths

if TYPE_CHECKING:
    from talr_tools.config import TalrConfig


class MatrixFormat(StrEnum):
    """Output formats of ``test-convert``."""

    TABLE = "table"
    JSON = "json"
    MARKDOWN = "markdown"
    GITHUB = "github"


class ListFormat(StrEnum):
    """Output formats of ``backends``."""

    TABLE = "table"
    JSON = "json"


PathsArg = Annotated[
    list[Path] | None, typer.Argument(help="Rule files or folders (default: the configured rule folders).")
]
CellTimeoutOption = Annotated[
    float | None,
    typer.Option(
        "--cell-timeout",
        min=0,
        help="Seconds one conversion may take before its cell fails (0: no limit; default: convert.cell_timeout, 60).",
    ),
]


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("test-convert")(test_convert)
    app.command("convert")(convert)
    app.command("backends")(backends)


def _interactive() -> bool:
    return sys.stderr.isatty() and not os.environ.get("CI")


@contextmanager
def _progress_bar(enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A rich progress bar on standard error (None when not on a terminal or in CI)."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("converting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=Console(stderr=True), transient=True,
    ) as bar:
        task = bar.add_task("convert", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _cache_dir(config: TalrConfig, no_cache: bool) -> Path | None:
    return None if no_cache else config.cache_dir


def _cell_timeout(config: TalrConfig, option: float | None) -> float | None:
    """The time limit per conversion: the option, else ``[convert] cell_timeout``; None for no limit."""
    from talr_tools.convert.timelimit import cell_timeout_setting

    setting = cell_timeout_setting(config.section("convert"), where=str(config.path or "talr.toml"))
    return setting if option is None else (option or None)


def test_convert(
    paths: PathsArg = None,
    backend: Annotated[
        list[str] | None, typer.Option("--backend", "-b", help="Only this backend (repeatable).")
    ] = None,
    output_format: Annotated[MatrixFormat, typer.Option("--format", "-f", help="Output format.")] = MatrixFormat.TABLE,
    base: Annotated[
        str | None, typer.Option("--base", help="Git ref: tell regressions from failures already there.")
    ] = None,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", min=1, help="Worker processes (default: cores).")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Convert everything again; store nothing.")] = False,
    cell_timeout: CellTimeoutOption = None,
    config: ConfigOption = None,
) -> None:
    """Convert every rule through every installed backend; exit 1 on unexpected failures or stale expectations."""
    from talr_tools.convert.baseline import base_sources, compare
    from talr_tools.convert.cache import ConvertCache
    from talr_tools.convert.discovery import cached_catalogue
    from talr_tools.convert.mapping import load_mapping
    from talr_tools.convert.render import render_github, render_json, render_markdown, render_table
    from talr_tools.convert.rules import read_sources
    from talr_tools.convert.runner import run_matrix, select_targets
    from talr_tools.errors import TalrError

    cfg = resolve_config(config, paths)
    roots = rule_paths(cfg, paths)
    cache_dir = _cache_dir(cfg, no_cache)
    catalogue = cached_catalogue(cache_dir)
    targets = select_targets(catalogue, backend)
    mapping = load_mapping(cfg.section("convert"), where=str(cfg.path or "talr.toml"))
    limit = _cell_timeout(cfg, cell_timeout)
    max_size = cfg.lint.max_file_size
    sources, findings = read_sources(roots, max_size=max_size, base=Path.cwd())
    if not sources and not findings:
        raise TalrError(f"no rule files (*.yml, *.yaml) under {', '.join(str(r) for r in roots)}")
    cache = ConvertCache(cache_dir)
    try:
        with _progress_bar(_interactive() and output_format is MatrixFormat.TABLE) as progress:
            matrix = run_matrix(
                sources, catalogue, targets, mapping, cache=cache, jobs=jobs, progress=progress,
                load_errors=[f.render() for f in findings], cell_timeout=limit,
            )
            if base is not None:
                old = base_sources(roots, base, max_size=max_size, display_base=Path.cwd())
                before = run_matrix(
                    old, catalogue, targets, mapping, cache=cache, jobs=jobs, progress=progress, cell_timeout=limit
                )
                compare(matrix, before, base)
    finally:
        cache.close()
    if output_format is MatrixFormat.JSON:
        typer.echo(render_json(matrix))
    elif output_format is MatrixFormat.MARKDOWN:
        typer.echo(render_markdown(matrix))
    elif output_format is MatrixFormat.GITHUB:
        typer.echo(render_github(matrix))
    else:
        from rich.console import Console

        render_table(matrix, Console(highlight=False, soft_wrap=True))
    raise typer.Exit(1 if matrix.failed else 0)


def convert(
    target: Annotated[str, typer.Option("--target", "-t", help="Backend identifier (see `talr backends`).")],
    paths: PathsArg = None,
    pipeline: Annotated[
        list[str] | None,
        typer.Option("--pipeline", "-p", help="Pipeline, repeatable, applied in order (default: the mapping's)."),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Folder: one file per rule, named after its id.")
    ] = None,
    output_format: Annotated[
        str | None, typer.Option("--format", "-f", help="The backend's output format (default: its default).")
    ] = None,
    cell_timeout: CellTimeoutOption = None,
    config: ConfigOption = None,
) -> None:
    """Print (or write) the queries of one backend; exit 1 if a rule does not convert."""
    from talr_tools.convert.discovery import cached_catalogue
    from talr_tools.convert.mapping import load_mapping
    from talr_tools.convert.rules import read_sources
    from talr_tools.convert.single import check_request, convert_sources, write_outputs
    from talr_tools.errors import TalrError

    cfg = resolve_config(config, paths)
    roots = rule_paths(cfg, paths)
    catalogue = cached_catalogue(cfg.cache_dir)
    found = check_request(catalogue, target, pipeline or [], output_format)
    if output is not None and output.exists() and not output.is_dir():
        raise TalrError(f"{output}: exists and is not a folder")
    mapping = load_mapping(cfg.section("convert"), where=str(cfg.path or "talr.toml"))
    sources, findings = read_sources(roots, max_size=cfg.lint.max_file_size, base=Path.cwd())
    for finding in findings:
        echo_err(finding.render())
    results = convert_sources(
        sources, catalogue, found, mapping, pipelines=pipeline or [], fmt=output_format, on_error=echo_err,
        cell_timeout=_cell_timeout(cfg, cell_timeout),
    )
    failed = bool(findings)
    for result in results:
        if result.skipped:
            echo_err(f"{result.path}: {target}: skipped: {result.skipped}")
        elif result.error and result.expected is not None:
            echo_err(f"{result.path}: {target}: expected failure ({result.expected}): {result.error}")
        elif result.error:
            echo_err(f"{result.path}: {target}: {result.error}")
            failed = True
    if output is not None:
        written = write_outputs(results, output)
        echo_err(f"{len(written)} file(s) written to {output}")
    else:
        for result in results:
            if result.queries:
                typer.echo(result.text(), nl=False)
    raise typer.Exit(1 if failed else 0)


def backends(
    output_format: Annotated[ListFormat, typer.Option("--format", "-f", help="Output format.")] = ListFormat.TABLE,
) -> None:
    """List the installed pySigma backends and pipelines, with their packages and versions."""
    import json
    from dataclasses import asdict

    from talr_tools.convert.discovery import discover_pipelines, discover_targets

    targets = discover_targets()
    pipelines = discover_pipelines()
    if output_format is ListFormat.JSON:
        data: dict[str, Any] = {
            "backends": [asdict(t) for t in targets],
            "pipelines": [asdict(p) for p in pipelines],
        }
        typer.echo(json.dumps(data, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    table = Table(title="backends")
    for column in ("identifier", "class", "package", "version", "formats", "needs pipeline"):
        table.add_column(column)
    for t in targets:
        table.add_row(
            t.identifier, t.class_path.rsplit(".", 1)[-1], t.distribution, t.version, ", ".join(t.formats),
            "yes" if t.requires_pipeline else "no",
        )
    console.print(table)
    ptable = Table(title="pipelines")
    for column in ("identifier", "priority", "backends", "package", "version", "name"):
        ptable.add_column(column)
    for p in pipelines:
        ptable.add_row(
            p.identifier, str(p.priority), ", ".join(p.allowed_backends) or "all", p.distribution, p.version, p.name
        )
    console.print(ptable)
