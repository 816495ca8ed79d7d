"""Revoked keys, in the two formats ``ssh-keygen -Y verify -r FILE`` reads.

- A text list: one public key a line (``keytype base64 [comment]``; ``#`` comments, blank lines).
- A binary OpenSSH KRL (``ssh-keygen -k``, ``PROTOCOL.krl``): explicit keys, SHA1 and SHA256
  fingerprint sections are read. Certificate sections (serials, key ids) revoke certificates,
  which TALR does not verify, and are skipped; KRL signature sections are not checked (neither
  does ssh-keygen).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from talr_tools.signing.errors import SigningError
from talr_tools.signing.keys import PublicKey
from talr_tools.signing.wire import Reader

KRL_MAGIC = b"SSHKRL\n\x00"
_EXPLICIT_KEY, _SHA1, _SIGNATURE, _SHA256 = 2, 3, 4, 5


@dataclass
class RevokedKeys:
    """Revoked key blobs and fingerprints, each with where it was listed."""

    blobs: dict[bytes, str] = field(default_factory=dict)
    sha1: dict[bytes, str] = field(default_factory=dict)
    sha256: dict[bytes, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.blobs or self.sha1 or self.sha256)

    def reason(self, key: PublicKey) -> str | None:
        """Where ``key`` is listed as revoked, or ``None``."""
        return (self.blobs.get(key.blob) or self.sha256.get(hashlib.sha256(key.blob).digest())
                or self.sha1.get(hashlib.sha1(key.blob).digest()))


def load_revoked_keys(path: Path) -> RevokedKeys:
    """Read a revoked-keys text list or a binary KRL; :class:`SigningError` naming the file when malformed."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SigningError(f"{path}: cannot read revoked keys file: {exc.strerror or exc}") from None
    if data.startswith(KRL_MAGIC):
        return _load_krl(data, path)
    return _load_text(data, path)


def _load_text(data: bytes, path: Path) -> RevokedKeys:
    revoked = RevokedKeys()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise SigningError(f"{path}: revoked keys file is neither a KRL nor a UTF-8 list of public keys") from None
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) < 2:
            raise SigningError(f"{path}:{n}: expected 'keytype base64-key [comment]'")
        try:
            revoked.blobs[PublicKey.from_openssh(parts[0], parts[1]).blob] = f"{path}:{n}"
        except ValueError as exc:
            raise SigningError(f"{path}:{n}: {exc}") from None
    return revoked


def _load_krl(data: bytes, path: Path) -> RevokedKeys:
    revoked = RevokedKeys()
    where = f"{path} (KRL)"
    try:
        reader = Reader(data)
        reader.read(len(KRL_MAGIC))
        if (version := reader.uint32()) != 1:
            raise SigningError(f"{path}: unsupported KRL format version {version}")
        reader.read(8 * 3)  # krl_version, generated_date, flags
        reader.string()  # reserved
        reader.string()  # comment
        while not reader.at_end():
            section_type = reader.read(1)[0]
            section = Reader(reader.string())
            if section_type == _SIGNATURE:
                break  # only signature sections may follow; not verified
            if section_type not in (_EXPLICIT_KEY, _SHA1, _SHA256):
                continue  # certificate and extension sections
            target = {_EXPLICIT_KEY: revoked.blobs, _SHA1: revoked.sha1, _SHA256: revoked.sha256}[section_type]
            while not section.at_end():
                target[section.string()] = where
    except ValueError:
        raise SigningError(f"{path}: malformed KRL (truncated section)") from None
    return revoked
