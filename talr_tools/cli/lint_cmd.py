"""``talr lint``: check rules (YAML, schema, pySigma, ATT&CK, repository consistency)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from talr_tools.cli.common import ConfigOption


def lint(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Rule files or folders (default: the rule folders of talr.toml)."),
    ] = None,
    select: Annotated[
        list[str] | None,
        typer.Option("--select", help="Only these code prefixes (comma-separated or repeated); "
                                      "replaces [lint] select."),
    ] = None,
    ignore: Annotated[
        list[str] | None,
        typer.Option("--ignore", help="Skip these code prefixes (comma-separated or repeated); "
                                      "adds to [lint] ignore."),
    ] = None,
    output_format: Annotated[
        str, typer.Option("--format", "-f", help="text, json, sarif or github (workflow annotations).")
    ] = "text",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report to this file instead of stdout.")
    ] = None,
    explain: Annotated[
        str | None, typer.Option("--explain", help="Print what a code means, and exit.", metavar="CODE")
    ] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Check every file again; do not use .talr-cache.")]
    = False,
    jobs: Annotated[
        int | None, typer.Option("--jobs", "-j", min=1, help="Worker processes (default: one per core).")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Check rules. Exit 0 when clean, 1 on findings, 2 on usage or configuration errors."""
    from talr_tools.errors import TalrError
    from talr_tools.lint.codes import explain as explain_code

    if explain is not None:
        text = explain_code(explain)
        if text is None:
            raise TalrError(f"{explain}: unknown lint code (see docs/lint-codes.md)")
        typer.echo(text)
        return

    from talr_tools.cli.common import resolve_config, rule_paths
    from talr_tools.lint.output import FORMATS, render
    from talr_tools.lint.runner import lint_paths
    from talr_tools.lint.selection import Selection

    if output_format not in FORMATS:
        raise TalrError(f"--format: {output_format!r} is not one of {', '.join(FORMATS)}")
    cfg = resolve_config(config, paths)
    origin = str(cfg.path) if cfg.path else "talr.toml"
    Selection.build(cfg.lint.select, cfg.lint.ignore, origin=f"{origin}: [lint]")
    selection = Selection.build(
        select if select else cfg.lint.select,
        (*cfg.lint.ignore, *(ignore or [])),
        origin="--select/--ignore" if (select or ignore) else f"{origin}: [lint]",
    )
    report = lint_paths(rule_paths(cfg, paths), cfg, selection, use_cache=not no_cache, jobs=jobs)
    # SARIF URIs are relative to the repository: the folder of talr.toml, else the current folder.
    text = render(report, output_format, cfg.root if cfg.path else Path.cwd())
    if output is not None:
        from talr_tools.atomic import write_text_atomic

        write_text_atomic(output, text + "\n")
    elif text:
        typer.echo(text)
    raise typer.Exit(1 if report.failed else 0)
