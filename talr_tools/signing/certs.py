"""OpenSSH user certificates as SSHSIG signers (``cert-authority`` lines of allowed_signers).

A signature may carry a certificate instead of a plain key (``ssh-keygen -Y sign -f
key-cert.pub``). It is trusted when the certificate's own signature is valid, it is a *user*
certificate valid at verification time, its CA key is on a ``cert-authority`` line, and one of
its principals matches that line's principal patterns, as ``ssh-keygen -Y verify`` requires.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from talr_tools.signing.keys import PublicKey

CERT_SUFFIX = "-cert-v01@openssh.com"
_FOREVER = 2**64 - 1


@dataclass(frozen=True)
class Certificate:
    """The parts of an OpenSSH certificate that decide trust."""

    blob: bytes
    key: PublicKey  # the certified key: it made the signature
    ca: PublicKey  # the key that signed the certificate
    principals: tuple[str, ...]
    valid_after: datetime
    valid_before: datetime | None  # None: valid forever
    user: bool
    key_id: str
    signature_ok: bool


def is_certificate_type(key_type: str) -> bool:
    """True for ``*-cert-v01@openssh.com`` key types."""
    return key_type.endswith(CERT_SUFFIX)


def parse_certificate(key_type: str, blob: bytes) -> Certificate:
    """Parse a certificate blob; ``ValueError`` when malformed or of an unsupported key type."""
    text = f"{key_type} {base64.b64encode(blob).decode('ascii')}".encode("ascii")
    try:
        cert = serialization.load_ssh_public_identity(text)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise ValueError("unsupported or malformed SSH certificate") from exc
    if not isinstance(cert, serialization.SSHCertificate):
        raise ValueError("not an SSH certificate")
    try:
        cert.verify_cert_signature()
        signature_ok = True
    except (InvalidSignature, ValueError):
        signature_ok = False
    return Certificate(
        blob=blob,
        key=_public(cert.public_key()),
        ca=_public(cert.signature_key()),
        principals=tuple(p.decode("utf-8", errors="replace") for p in cert.valid_principals),
        valid_after=datetime.fromtimestamp(cert.valid_after, UTC),
        valid_before=None if cert.valid_before >= _FOREVER else datetime.fromtimestamp(cert.valid_before, UTC),
        user=cert.type == serialization.SSHCertificateType.USER,
        key_id=cert.key_id.decode("utf-8", errors="replace"),
        signature_ok=signature_ok,
    )


def _public(key: Any) -> PublicKey:
    line = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    key_type, b64 = line.decode("ascii").split()[:2]
    return PublicKey.from_openssh(key_type, b64)
