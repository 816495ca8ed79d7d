"""``talr fmt``: canonical formatting of rule files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from talr_tools.cli.common import ConfigOption, echo_err, resolve_config, rule_paths


def fmt(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Rule files or folders (default: the rule folders of talr.toml).")
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; list the files that would change and exit 1 if any.")
    ] = False,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Parse every file again; do not use .talr-cache.")
    ] = False,
    jobs: Annotated[
        int | None, typer.Option("--jobs", "-j", min=1, help="Worker processes (default: one per core).")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Format rules canonically (key order, indentation, quoting), keeping comments.

    Exit codes: 0 nothing (left) to change; 1 with --check, some files would change;
    2 some files could not be formatted (reported as path:line:col: CODE message and left
    untouched; the other files are still formatted) or a usage/configuration error.
    """
    from talr_tools.fmt import format_paths

    cfg = resolve_config(config, paths)
    targets = rule_paths(cfg, paths)
    for target in targets:
        if not target.exists():
            from talr_tools.errors import TalrError

            raise TalrError(f"{target}: no such file or folder")
    report = format_paths(
        targets, check=check, max_size=cfg.lint.max_file_size,
        # Cache only in a configured repository: without talr.toml the "root" is wherever
        # the first path is, and a .talr-cache/ there would litter the user's rule folders.
        cache_dir=None if no_cache or cfg.path is None else cfg.cache_dir, jobs=jobs,
    )
    for outcome in report.changed:
        typer.echo(f"{'would reformat' if check else 'reformatted'} {outcome.path}")
    for outcome in report.errors:
        if outcome.finding is not None:
            echo_err(outcome.finding.render())
    unchanged = len(report.files) - len(report.changed) - len(report.errors)
    verb = "would be reformatted" if check else "reformatted"
    summary = f"{len(report.changed)} file(s) {verb}, {unchanged} left unchanged"
    if report.errors:
        summary += f", {len(report.errors)} could not be formatted"
    echo_err(summary)
    if report.errors:
        raise typer.Exit(2)
    if check and report.changed:
        raise typer.Exit(1)
