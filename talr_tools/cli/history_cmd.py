"""``talr history``: every version of one rule from git history."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from talr_tools.cli.common import ConfigOption, resolve_config


def history(
    rule: Annotated[str, typer.Argument(help="Rule id, or path of the rule file.")],
    rev: Annotated[str, typer.Option("--rev", help="History of this commit, branch or tag.")] = "HEAD",
    output_format: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
    config: ConfigOption = None,
) -> None:
    """Each version of a rule: version, commit, date, author, changelog note (follows renames by id)."""
    from talr_tools.errors import TalrError
    from talr_tools.versioning.gitrepo import open_rule_repo
    from talr_tools.versioning.history import read_history, resolve_rule_id

    if output_format not in ("text", "json"):
        raise TalrError(f"--format {output_format}: use text or json")
    cfg = resolve_config(config)
    rrepo = open_rule_repo(cfg.root, cfg)
    rule_id = resolve_rule_id(rrepo, rule, rev, Path.cwd())
    result = read_history(rrepo, rev, {rule_id}, collisions=True)
    records = result.records.get(rule_id)
    if not records:
        raise TalrError(f"{rule}: no rule with id {rule_id} in the history of {rev}")
    clashes = [c for c in result.collisions if c.rule_id == rule_id]
    if output_format == "json":
        typer.echo(json.dumps({
            "id": rule_id,
            "versions": [
                {"version": r.version, "commit": r.commit, "date": r.committed_at.isoformat(),
                 "author": r.author, "note": r.note, "path": r.path}
                for r in records
            ],
            "collisions": [{"version": c.version, "commits": list(c.commits)} for c in clashes],
        }, indent=2))
        return
    typer.echo(f"rule {rule_id}")
    for r in records:
        when = r.committed_at.strftime("%Y-%m-%d %H:%M UTC")
        typer.echo(f"v{r.version}  {r.commit[:10]}  {when}  {r.author}  {r.path}  {r.note}".rstrip())
    for c in clashes:
        typer.echo(f"warning: version {c.version} was introduced separately by "
                   f"{', '.join(x[:10] for x in c.commits)} (two branches bumped the rule)", err=True)
