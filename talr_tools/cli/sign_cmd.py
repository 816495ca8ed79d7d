"""``talr sign`` and ``talr verify``: SSH signatures of release files and bundles.

Key material is never echoed: messages name the key's source (path or ``env:VAR``) and its
public fingerprint only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from talr_tools.cli.common import ConfigOption, echo_err, resolve_config

MAX_LISTED_FAILURES = 50


def sign(
    file: Annotated[Path, typer.Argument(help="File to sign (any file, e.g. dist/talr-bundle.json).")],
    key: Annotated[
        str | None,
        typer.Option("--key", "-k", help="Private key file, or env:VAR holding the key text "
                     "(default: $TALR_SIGNING_KEY). Passphrase: $TALR_SIGNING_KEY_PASSPHRASE."),
    ] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Signature file (default: FILE.sig).")] = None,
) -> None:
    """Write FILE.sig: a detached SSH signature (namespace 'talr') that `ssh-keygen -Y verify` accepts."""
    from talr_tools.errors import TalrError
    from talr_tools.signing import load_signing_key, sign_file

    if not file.is_file():
        raise TalrError(f"{file}: no such file")
    signing_key = load_signing_key(key)
    out = sign_file(file, signing_key, output)
    typer.echo(f"signed {file} -> {out} (key {signing_key.fingerprint}, namespace talr)")


def verify(
    bundle: Annotated[Path, typer.Argument(help="STIX bundle (or, with --detached-only, any signed file).")],
    allowed_signers: Annotated[
        Path | None,
        typer.Option("--allowed-signers", "-a", help="OpenSSH allowed_signers file "
                     "(default: \\[signing] allowed_signers of talr.toml, else .talr/allowed_signers)."),
    ] = None,
    revoked_keys: Annotated[
        Path | None,
        typer.Option("--revoked-keys", help="Revoked public keys, one a line (default: \\[signing] revoked_keys, "
                     "else revoked_keys next to the allowed signers file, when present)."),
    ] = None,
    require_detached: Annotated[
        bool, typer.Option("--require-detached", help="Fail when BUNDLE.sig is missing.")] = False,
    detached_only: Annotated[
        bool, typer.Option("--detached-only", help="Check only FILE.sig (for files that are not bundles).")] = False,
    config: ConfigOption = None,
) -> None:
    """Check BUNDLE.sig (if present) and every object signature; exit 1 on any problem."""
    from talr_tools.signing import signers_for_config, verify_bundle, verify_file
    from talr_tools.signing.errors import SigningError, VerificationError

    if not bundle.is_file():
        raise SigningError(f"{bundle}: no such file")
    cfg = resolve_config(config, [bundle])
    if cfg.path is None:  # no talr.toml above the bundle: defaults relative to the current folder
        cfg = resolve_config(None)
    allowed = signers_for_config(cfg, allowed_signers, revoked_keys)
    if detached_only:
        try:
            verified = verify_file(bundle, allowed)
        except VerificationError as exc:
            echo_err(f"talr: verify: {exc}")
            echo_err(f"FAILED: {bundle}")
            raise typer.Exit(1) from None
        typer.echo(f"OK {bundle}: signed by {verified.principal} ({verified.fingerprint})")
        return
    report = verify_bundle(bundle, allowed, require_detached=require_detached)
    if not report.ok:
        for message in report.failures[:MAX_LISTED_FAILURES]:
            echo_err(f"talr: verify: {message}")
        if len(report.failures) > MAX_LISTED_FAILURES:
            echo_err(f"talr: verify: ... and {len(report.failures) - MAX_LISTED_FAILURES} more")
        echo_err(f"FAILED: {bundle}: {len(report.failures)} problem(s)")
        raise typer.Exit(1)
    detached = (f"detached signature by {report.detached.principal} ({report.detached.fingerprint})"
                if report.detached else "no detached signature (BUNDLE.sig absent)")
    typer.echo(f"OK {bundle}: {detached}; {report.objects_verified} object signature(s) verified "
               f"of {report.objects} object(s)")
    for signer, count in sorted(report.signers.items()):
        typer.echo(f"  {count:6d}  {signer}")
