"""Helpers shared by the CLI commands (no heavy imports here)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from talr_tools.config import TalrConfig, load_config

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="talr.toml to use (default: the nearest one above the current folder)."),
]


def resolve_config(config: Path | None, paths: list[Path] | None = None) -> TalrConfig:
    """The configuration from ``--config``, else the nearest ``talr.toml`` above the first path or cwd."""
    if config is not None:
        return load_config(config)
    start = paths[0] if paths else Path.cwd()
    return load_config(start=start if start.exists() else Path.cwd())


def rule_paths(config: TalrConfig, paths: list[Path] | None) -> list[Path]:
    """The paths given, else the configured rule folders."""
    return list(paths) if paths else config.rule_paths


def echo_err(message: str) -> None:
    """Print one line to standard error."""
    typer.echo(message, err=True)
