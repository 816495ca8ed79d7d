"""The SSHSIG signature format of OpenSSH (``PROTOCOL.sshsig``), as ``ssh-keygen -Y`` and git use.

A signature blob is::

    "SSHSIG" uint32(1) string(publickey) string(namespace) string(reserved="")
    string(hash_algorithm) string(signature)

and the key signs ``"SSHSIG" string(namespace) string("") string(hash_algorithm) string(H(message))``.
TALR always signs with ``sha512``; verification also accepts ``sha256``. The armored form wraps
the base64 blob at 70 columns between ``-----BEGIN/END SSH SIGNATURE-----``, byte for byte what
``ssh-keygen -Y sign`` writes (Ed25519 signatures are deterministic, so both tools produce the
same file).
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
from dataclasses import dataclass

from talr_tools.signing.certs import Certificate, is_certificate_type, parse_certificate
from talr_tools.signing.errors import SignatureMismatch, VerificationError
from talr_tools.signing.keys import PublicKey, SigningKey
from talr_tools.signing.wire import Reader, pack_string

MAGIC = b"SSHSIG"
VERSION = 1
HASH_ALGORITHM = "sha512"
BEGIN = "-----BEGIN SSH SIGNATURE-----"
END = "-----END SSH SIGNATURE-----"
_HASHES = {"sha512": hashlib.sha512, "sha256": hashlib.sha256}
_WRAP = 70


@dataclass(frozen=True)
class Signature:
    """A parsed SSHSIG blob."""

    public_key: PublicKey  # the key that signed (the certified key when there is a certificate)
    namespace: str
    hash_algorithm: str
    signature: bytes
    blob: bytes
    certificate: Certificate | None = None


def signed_data(namespace: str, hash_algorithm: str, message_hash: bytes) -> bytes:
    """The bytes the key actually signs."""
    return (
        MAGIC
        + pack_string(namespace.encode("utf-8"))
        + pack_string(b"")
        + pack_string(hash_algorithm.encode("ascii"))
        + pack_string(message_hash)
    )


def sign_blob(data: bytes, key: SigningKey, namespace: str) -> bytes:
    """The binary SSHSIG blob of ``data`` signed by ``key`` under ``namespace`` (sha512)."""
    if not namespace:
        raise ValueError("SSHSIG namespace must not be empty")
    digest = hashlib.sha512(data).digest()
    sig = key.sign_raw(signed_data(namespace, HASH_ALGORITHM, digest))
    return (
        MAGIC
        + VERSION.to_bytes(4, "big")
        + pack_string(key.signer_blob)
        + pack_string(namespace.encode("utf-8"))
        + pack_string(b"")
        + pack_string(HASH_ALGORITHM.encode("ascii"))
        + pack_string(sig)
    )


def armor(blob: bytes) -> str:
    """Armored text of an SSHSIG blob (ends with a newline)."""
    b64 = base64.b64encode(blob).decode("ascii")
    lines = [b64[i : i + _WRAP] for i in range(0, len(b64), _WRAP)]
    return "\n".join([BEGIN, *lines, END]) + "\n"


def dearmor(text: str) -> bytes:
    """The blob inside armored text; :class:`VerificationError` when it is not an SSH signature."""
    lines = [line.strip() for line in text.strip().splitlines()]
    if len(lines) < 3 or lines[0] != BEGIN or lines[-1] != END:
        raise VerificationError("not an armored SSH signature (-----BEGIN SSH SIGNATURE-----)")
    try:
        return base64.b64decode("".join(lines[1:-1]), validate=True)
    except binascii.Error:
        raise VerificationError("SSH signature is not valid base64") from None


def parse_blob(blob: bytes) -> Signature:
    """Parse an SSHSIG blob; :class:`VerificationError` when malformed or unsupported."""
    try:
        reader = Reader(blob)
        if reader.read(6) != MAGIC:
            raise VerificationError("not an SSHSIG signature (bad magic)")
        version = reader.uint32()
        if version != VERSION:
            raise VerificationError(f"unsupported SSHSIG version {version}")
        key_blob = reader.string()
        namespace = reader.string().decode("utf-8")
        reader.string()  # reserved
        hash_algorithm = reader.string().decode("ascii")
        signature = reader.string()
        if not reader.at_end():
            raise VerificationError("trailing data after the SSHSIG signature")
    except (ValueError, UnicodeDecodeError) as exc:
        if isinstance(exc, VerificationError):
            raise
        raise VerificationError("malformed SSHSIG signature") from None
    try:
        certificate = _certificate(key_blob)
        public_key = certificate.key if certificate is not None else _public_key(key_blob)
    except ValueError:
        raise VerificationError("SSH signature holds an unsupported or malformed public key") from None
    return Signature(public_key, namespace, hash_algorithm, signature, blob, certificate)


@functools.lru_cache(maxsize=256)
def _certificate(blob: bytes) -> Certificate | None:
    try:
        key_type = Reader(blob).string().decode("ascii")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("malformed public key") from exc
    return parse_certificate(key_type, blob) if is_certificate_type(key_type) else None


@functools.lru_cache(maxsize=256)
def _public_key(blob: bytes) -> PublicKey:
    # Loading a key costs more than an Ed25519 verification; a bundle has few signers.
    return PublicKey.from_blob(blob)


def check_blob(data: bytes, blob: bytes, namespace: str) -> Signature:
    """Check that ``blob`` is a valid signature of ``data`` under ``namespace``.

    Checks only the cryptography (not whether the key is trusted). Raises
    :class:`VerificationError` on any mismatch.
    """
    sig = parse_blob(blob)
    if sig.namespace != namespace:
        raise VerificationError(f"signature namespace is {sig.namespace!r}, expected {namespace!r}")
    hasher = _HASHES.get(sig.hash_algorithm)
    if hasher is None:
        raise VerificationError(f"unsupported signature hash algorithm {sig.hash_algorithm!r}")
    message = signed_data(namespace, sig.hash_algorithm, hasher(data).digest())
    if not sig.public_key.verify(sig.signature, message):
        raise SignatureMismatch(f"signature does not match the data (key {sig.public_key.fingerprint})")
    return sig
