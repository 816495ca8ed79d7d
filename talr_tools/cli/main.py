"""Entry point: builds the typer app by registering each command module explicitly.

Command modules keep heavy imports (pySigma backends, stix2, git) inside the command
functions, so ``talr --help`` and light commands start fast.
"""

from __future__ import annotations

import sys

import typer

from talr_tools import __version__
from talr_tools.errors import TalrError


def _version(value: bool) -> None:
    if value:
        typer.echo(f"talr {__version__}")
        raise typer.Exit()


def build_app() -> typer.Typer:
    """The ``talr`` application with every command registered."""
    from talr_tools.cli import (
        attack_cmd,
        build_cmd,
        convert_cmd,
        fmt_cmd,
        history_cmd,
        lint_cmd,
        new_cmd,
        sign_cmd,
        version_cmd,
    )

    app = typer.Typer(
        name="talr",
        help="TALR: detection-as-code for Sigma rules, shared as signed STIX 2.1 over TAXII 2.1.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    )

    @app.callback()
    def _root(
        version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
    ) -> None:
        """TALR toolkit."""

    app.add_typer(attack_cmd.app, name="attack")
    app.command("lint")(lint_cmd.lint)
    app.command("fmt")(fmt_cmd.fmt)
    app.command("new")(new_cmd.new)
    app.add_typer(version_cmd.app, name="version")
    app.command("history")(history_cmd.history)
    app.command("build")(build_cmd.build)
    app.command("sign")(sign_cmd.sign)
    app.command("verify")(sign_cmd.verify)
    convert_cmd.register(app)
    return app


def main() -> None:
    """Run the CLI; user errors print one line and exit 2, never a traceback."""
    try:
        build_app()()
    except TalrError as exc:
        typer.echo(f"talr: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        typer.echo("talr: interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
