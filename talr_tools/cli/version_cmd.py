"""``talr version``: rule versions checked and bumped against git history."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from talr_tools.cli.common import ConfigOption, echo_err, resolve_config

app = typer.Typer(help="Rule versions from git history: check and bump.", no_args_is_help=True)

BaseOption = Annotated[
    str | None,
    typer.Option("--base", help="Commit, branch or tag to compare with "
                 "(default: merge-base with origin/main or main, else last v* tag, else root commit)."),
]
FetchOption = Annotated[
    bool, typer.Option("--fetch", help="In a shallow clone, fetch the missing history from origin.")
]


def display_path(workdir: Path, rel: str) -> str:
    """A repo-relative path shown relative to the current folder when it lies below it."""
    absolute = workdir / rel
    try:
        return absolute.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return os.path.relpath(absolute) if absolute.is_absolute() else rel


@app.command("check")
def check(
    base: BaseOption = None,
    staged: Annotated[bool, typer.Option("--staged", help="Check the index (staged content), for pre-commit.")] = False,
    fetch: FetchOption = False,
    output_format: Annotated[str, typer.Option("--format", help="text, json or github (workflow "
                                               "annotations on the pull request).")] = "text",
    config: ConfigOption = None,
) -> None:
    """Refuse changed rules whose version, modified date or changelog do not match the change."""
    from dataclasses import replace

    from talr_tools.errors import TalrError
    from talr_tools.versioning.check import version_check

    if output_format not in ("text", "json", "github"):
        raise TalrError(f"--format {output_format}: use text, json or github")
    cfg = resolve_config(config)
    result = version_check(cfg.root, base, staged=staged, fetch=fetch)
    workdir = _workdir(cfg.root)
    findings = [replace(f, path=display_path(workdir, f.path)) for f in result.findings]
    if output_format == "json":
        typer.echo(json.dumps({
            "base": result.base.commit.hexsha if result.base.commit else None,
            "base_reason": result.base.reason,
            "findings": [f.to_dict() for f in findings],
        }, indent=2))
    elif output_format == "github":
        from talr_tools.lint.output import render_github
        from talr_tools.lint.runner import LintReport

        if findings:
            typer.echo(render_github(LintReport(findings=findings)))
    else:
        for finding in findings:
            typer.echo(finding.render())
        echo_err(f"{len(findings)} problem(s) in {result.compared} changed rule file(s); "
                 f"base {result.base.label} ({result.base.reason})")
    if findings:
        raise typer.Exit(1)


@app.command("bump")
def bump(
    base: BaseOption = None,
    message: Annotated[str | None, typer.Option("--message", "-m", help="Changelog note (default: the "
                                                "subject of the newest commit that touched the rule).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would change, write nothing.")] = False,
    fetch: FetchOption = False,
    config: ConfigOption = None,
) -> None:
    """Bump every rule changed since the base and not bumped yet: version, modified, changelog."""
    from dataclasses import replace

    from talr_tools.versioning.bump import version_bump

    cfg = resolve_config(config)
    result = version_bump(cfg.root, base, message=message, fetch=fetch, dry_run=dry_run)
    workdir = _workdir(cfg.root)
    verb = "would bump" if dry_run else "bumped"
    for item in result.bumps:
        typer.echo(f"{display_path(workdir, item.path)}: {verb} {item.rule_id} "
                   f"v{item.old} -> v{item.new}: {item.note}")
    for finding in result.unreadable:
        echo_err(replace(finding, path=display_path(workdir, finding.path)).render())
    echo_err(f"{len(result.bumps)} rule(s) {verb}; base {result.base.label} ({result.base.reason})")
    if result.unreadable:
        echo_err(f"{len(result.unreadable)} changed file(s) not readable as rules: not bumped")
        raise typer.Exit(1)


def _workdir(root: Path) -> Path:
    from talr_tools.versioning.gitrepo import open_rule_repo

    return open_rule_repo(root).workdir
