"""Detached file signatures: armored SSHSIG over the file bytes, namespace ``talr``.

``talr sign FILE`` writes ``FILE.sig``; the stock tool checks it with
``ssh-keygen -Y verify -f .talr/allowed_signers -I <principal> -n talr -s FILE.sig < FILE``.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from talr_tools.atomic import write_text_atomic
from talr_tools.signing.allowed import AllowedSigners
from talr_tools.signing.errors import VerificationError
from talr_tools.signing.keys import SigningKey
from talr_tools.signing.objects import VerifiedSignature
from talr_tools.signing.sshsig import armor, check_blob, dearmor, sign_blob

FILE_NAMESPACE = "talr"
SIG_SUFFIX = ".sig"


def sign_bytes(data: bytes, key: SigningKey, namespace: str = FILE_NAMESPACE) -> str:
    """The armored SSH signature of ``data`` (sha512, ``namespace``), as ``ssh-keygen -Y sign`` writes it."""
    return armor(sign_blob(data, key, namespace))


def verify_bytes(data: bytes, armored: str, allowed: AllowedSigners, namespace: str = FILE_NAMESPACE, *,
                 now: datetime | None = None, principal: str | None = None) -> VerifiedSignature:
    """Verify an armored signature of ``data`` and that a trusted, current, unrevoked key made it.

    Raises :class:`VerificationError` otherwise.
    """
    sig = check_blob(data, dearmor(armored), namespace)
    signer = allowed.check(sig.public_key, namespace, now=now, principal=principal, certificate=sig.certificate)
    return VerifiedSignature(signer=signer, namespace=namespace)


def signature_path(path: Path) -> Path:
    """``FILE.sig`` next to ``FILE``."""
    return path.with_name(path.name + SIG_SUFFIX)


def sign_file(path: Path, key: SigningKey, output: Path | None = None) -> Path:
    """Sign the bytes of ``path`` and write the armored signature atomically (default ``FILE.sig``)."""
    out = output or signature_path(path)
    write_text_atomic(out, sign_bytes(path.read_bytes(), key))
    return out


def verify_file(path: Path, allowed: AllowedSigners, sig_path: Path | None = None, *,
                now: datetime | None = None, principal: str | None = None) -> VerifiedSignature:
    """Verify ``path`` against its detached signature (default ``FILE.sig``)."""
    sig_file = sig_path or signature_path(path)
    try:
        armored = sig_file.read_text(encoding="ascii")
    except FileNotFoundError:
        raise VerificationError(f"{sig_file}: missing detached signature") from None
    except (OSError, UnicodeDecodeError):
        raise VerificationError(f"{sig_file}: unreadable detached signature") from None
    try:
        return verify_bytes(path.read_bytes(), armored, allowed, now=now, principal=principal)
    except VerificationError as exc:
        raise VerificationError(f"{sig_file}: {exc}") from None
