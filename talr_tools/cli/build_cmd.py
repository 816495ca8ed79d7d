"""``talr build``: the STIX 2.1 release bundle and release notes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from talr_tools.cli.common import ConfigOption, echo_err, resolve_config


def build(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Rule folders or files (default: rule_dirs of talr.toml). A folder outside git "
                       "is built as plain Sigma (times from Sigma dates, no release history)."),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Output folder (default: dist/ next to talr.toml).")
    ] = None,
    sign_key: Annotated[
        str | None,
        typer.Option("--sign-key", help="Sign with this OpenSSH private key: a file or env:VAR (never printed)."),
    ] = None,
    dirty: Annotated[
        bool, typer.Option("--dirty", help="Build the working tree (uncommitted changes), marked as such.")
    ] = False,
    rev: Annotated[str, typer.Option("--rev", help="Commit to build.")] = "HEAD",
    since: Annotated[
        str | None, typer.Option("--since", help="Previous release for the notes (default: the last v* tag).")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Build DIR/talr-bundle.json (+ .sig with --sign-key), release-notes.md and release-notes.json."""
    from talr_tools.errors import TalrError
    from talr_tools.release.build import BuildOptions, build_release

    if dirty and rev != "HEAD":
        raise TalrError("--dirty builds the working tree; it cannot be combined with --rev")
    cfg = resolve_config(config, paths)
    result = build_release(
        cfg,
        BuildOptions(output=output or cfg.root / "dist", rev=rev, dirty=dirty, since=since,
                     sign_key=sign_key, paths=list(paths) if paths else None),
    )
    if result.uncommitted:
        echo_err(f"note: {len(result.uncommitted)} uncommitted rule change(s) are not in this build of HEAD "
                 f"(first: {result.uncommitted[0]}); use --dirty to try them")
    where = f"commit {result.commit[:12]}" if result.commit else "plain folder"
    if result.dirty:
        where = "working tree (dirty)"
    notes = result.notes
    typer.echo(
        f"built {result.indicators} indicators, {result.objects} objects from {where}: {result.bundle}"
        + (f" (signed: {result.signature})" if result.signature else " (unsigned)")
    )
    if notes.history:
        typer.echo(f"release notes: {len(notes.new)} new, {len(notes.updated)} updated, "
                   f"{len(notes.deprecated)} deprecated" + (f" since {notes.since.ref}" if notes.since else ""))
