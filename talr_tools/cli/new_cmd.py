"""``talr new``: scaffold a rule."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from talr_tools.cli.common import ConfigOption, resolve_config


def new(
    title: Annotated[str, typer.Argument(help="Rule title, e.g. 'Suspicious Certutil Download'.")],
    product: Annotated[str | None, typer.Option("--product", help="Log source product, e.g. windows.")] = None,
    category: Annotated[
        str | None, typer.Option("--category", help="Log source category, e.g. process_creation.")
    ] = None,
    service: Annotated[str | None, typer.Option("--service", help="Log source service, e.g. security.")] = None,
    tlp: Annotated[
        str | None, typer.Option("--tlp", help="TLP 2.0 level (default: default_tlp of talr.toml).")
    ] = None,
    level: Annotated[str, typer.Option("--level", help="Sigma level.")] = "medium",
    tag: Annotated[
        list[str] | None, typer.Option("--tag", help="Tag to add, e.g. attack.t1105 (repeatable).")
    ] = None,
    author: Annotated[str | None, typer.Option("--author", help="Author (default: git config user.name).")] = None,
    directory: Annotated[
        Path | None, typer.Option("--dir", help="Rules folder (default: the first rule folder of talr.toml).")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Create a new rule from a skeleton in <rules>/<product>/<category|service>/ and print its path."""
    from talr_tools.scaffold import NewRule, create_rule

    cfg = resolve_config(config, [directory] if directory else None)
    spec = NewRule(
        title=title, product=product, category=category, service=service, tlp=tlp, level=level,
        author=author, tags=tuple(tag or ()),
    )
    path = create_rule(spec, config=cfg, base=directory)
    typer.echo(str(path))
