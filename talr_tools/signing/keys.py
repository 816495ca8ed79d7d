"""SSH keys: loading a private signing key (file or environment) and public-key handling.

Key material never ends up in a message: errors name the key's *source* (path or
``env:VAR``), never its text.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from talr_tools.signing.errors import SigningError
from talr_tools.signing.wire import Reader, pack_mpint, pack_string

KEY_ENV = "TALR_SIGNING_KEY"
PASSPHRASE_ENV = "TALR_SIGNING_KEY_PASSPHRASE"
CERT_FILE_SUFFIX = "-cert.pub"  # --key KEY-cert.pub signs with KEY and puts the certificate in the signature

_ECDSA_HASH: dict[str, hashes.HashAlgorithm] = {
    "nistp256": hashes.SHA256(),
    "nistp384": hashes.SHA384(),
    "nistp521": hashes.SHA512(),
}


def fingerprint(blob: bytes) -> str:
    """OpenSSH ``SHA256:...`` fingerprint of a public key blob (as ``ssh-keygen -l`` prints)."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode("ascii").rstrip("=")


@dataclass(frozen=True)
class PublicKey:
    """An SSH public key: its wire blob and the loaded ``cryptography`` key."""

    blob: bytes
    key_type: str
    key: Any = field(repr=False, compare=False)

    @functools.cached_property
    def fingerprint(self) -> str:
        """``SHA256:...`` fingerprint."""
        return fingerprint(self.blob)

    def openssh(self) -> str:
        """``<type> <base64>`` as in ``authorized_keys`` / ``allowed_signers``."""
        return f"{self.key_type} {base64.b64encode(self.blob).decode('ascii')}"

    @classmethod
    def from_blob(cls, blob: bytes) -> PublicKey:
        """Load a public key from its SSH wire blob; ``ValueError`` when unusable."""
        try:
            key_type = Reader(blob).string().decode("ascii")
            if key_type.endswith("-cert-v01@openssh.com"):
                raise ValueError("a certificate, not a plain public key")
            text = f"{key_type} {base64.b64encode(blob).decode('ascii')}".encode("ascii")
            key = serialization.load_ssh_public_key(text)
        except (ValueError, UnicodeDecodeError, UnsupportedAlgorithm) as exc:
            raise ValueError("unsupported or malformed public key") from exc
        return cls(blob=blob, key_type=key_type, key=key)

    @classmethod
    def from_openssh(cls, key_type: str, b64: str) -> PublicKey:
        """Load ``<type> <base64>``; ``ValueError`` when unusable or the type does not match."""
        try:
            blob = base64.b64decode(b64, validate=True)
        except binascii.Error as exc:
            raise ValueError("public key is not valid base64") from exc
        key = cls.from_blob(blob)
        if key.key_type != key_type:
            raise ValueError(f"key type {key_type} does not match the key ({key.key_type})")
        return key

    def verify(self, signature: bytes, message: bytes) -> bool:
        """True when ``signature`` (SSH signature encoding) signs ``message`` with this key."""
        try:
            reader = Reader(signature)
            sig_type = reader.string().decode("ascii")
            sig = reader.string()
            if not reader.at_end():
                return False
            if isinstance(self.key, ed25519.Ed25519PublicKey) and sig_type == "ssh-ed25519":
                self.key.verify(sig, message)
            elif isinstance(self.key, rsa.RSAPublicKey) and sig_type in ("rsa-sha2-512", "rsa-sha2-256"):
                algo = hashes.SHA512() if sig_type == "rsa-sha2-512" else hashes.SHA256()
                self.key.verify(sig, message, padding.PKCS1v15(), algo)
            elif isinstance(self.key, ec.EllipticCurvePublicKey) and sig_type == self.key_type:
                inner = Reader(sig)
                der = encode_dss_signature(inner.mpint(), inner.mpint())
                self.key.verify(der, message, ec.ECDSA(_ECDSA_HASH[sig_type.rsplit("-", 1)[1]]))
            else:
                return False
        except (InvalidSignature, ValueError, UnicodeDecodeError, KeyError):
            return False
        return True


@dataclass(frozen=True)
class SigningKey:
    """A private key ready to sign, with its public half; ``source`` names where it came from."""

    private: Any = field(repr=False)
    public: PublicKey
    source: str
    certificate: bytes | None = None  # an OpenSSH user certificate for ``public``, put in signatures

    @property
    def signer_blob(self) -> bytes:
        """The public-key field of SSHSIG signatures: the certificate when there is one, else the key."""
        return self.certificate if self.certificate is not None else self.public.blob

    @property
    def fingerprint(self) -> str:
        """``SHA256:...`` fingerprint of the public key."""
        return self.public.fingerprint

    def sign_raw(self, message: bytes) -> bytes:
        """Sign ``message``; returns the SSH signature encoding (``string`` type, ``string`` blob)."""
        key = self.private
        if isinstance(key, ed25519.Ed25519PrivateKey):
            return pack_string(b"ssh-ed25519") + pack_string(key.sign(message))
        if isinstance(key, rsa.RSAPrivateKey):
            sig = key.sign(message, padding.PKCS1v15(), hashes.SHA512())
            return pack_string(b"rsa-sha2-512") + pack_string(sig)
        if isinstance(key, ec.EllipticCurvePrivateKey):
            curve = self.public.key_type.rsplit("-", 1)[1]
            r, s = decode_dss_signature(key.sign(message, ec.ECDSA(_ECDSA_HASH[curve])))
            return pack_string(self.public.key_type.encode("ascii")) + pack_string(pack_mpint(r) + pack_mpint(s))
        raise SigningError(f"{self.source}: unsupported key type")  # pragma: no cover - filtered at load


def load_signing_key(spec: str | None, *, environ: dict[str, str] | None = None) -> SigningKey:
    """Load a private key from ``spec``: a file path, ``env:VAR``, or ``None`` for ``$TALR_SIGNING_KEY``.

    As with ``ssh-keygen -Y sign -f KEY-cert.pub``, a path ending in ``-cert.pub`` signs with the
    private key ``KEY`` and carries the user certificate in each signature.

    OpenSSH private keys (``ssh-keygen`` output; Ed25519, RSA, ECDSA) and PKCS#8/PEM keys are
    read. An encrypted key takes its passphrase from ``$TALR_SIGNING_KEY_PASSPHRASE``. An
    environment value holding ``\\n`` escapes instead of newlines (a common CI-secret mangling)
    is accepted. Raises :class:`SigningError` naming the source, never the key text.
    """
    env = os.environ if environ is None else environ
    if spec is None or spec == "":
        if not env.get(KEY_ENV):
            raise SigningError(f"no signing key: pass --key FILE or --key env:VAR, or set {KEY_ENV}")
        spec = f"env:{KEY_ENV}"
    if spec.startswith("env:"):
        var = spec[4:]
        value = env.get(var)
        if not value:
            raise SigningError(f"{spec}: environment variable {var} is not set or empty")
        if "\n" not in value.strip() and "\\n" in value:
            value = value.replace("\\n", "\n")
        data = value.encode("utf-8")
    else:
        key_path = spec[: -len(CERT_FILE_SUFFIX)] if spec.endswith(CERT_FILE_SUFFIX) else spec
        try:
            data = Path(key_path).read_bytes()
        except OSError as exc:
            raise SigningError(f"{key_path}: cannot read signing key: {exc.strerror or exc}") from None
    passphrase = env.get(PASSPHRASE_ENV)
    private = _parse_private(data, spec, passphrase.encode("utf-8") if passphrase else None)
    blob_text = private.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    key_type, b64 = blob_text.decode("ascii").split()[:2]
    public = PublicKey.from_openssh(key_type, b64)
    certificate = _certificate(spec, public) if spec.endswith(CERT_FILE_SUFFIX) else None
    return SigningKey(private=private, public=public, source=spec, certificate=certificate)


def _certificate(path: str, public: PublicKey) -> bytes:
    """The blob of the user certificate ``path`` (``KEY-cert.pub``), checked to certify ``public``."""
    try:
        fields = Path(path).read_text(encoding="ascii").split()
        cert = serialization.load_ssh_public_identity(" ".join(fields[:2]).encode("ascii"))
    except (OSError, UnicodeDecodeError, ValueError, UnsupportedAlgorithm):
        raise SigningError(f"{path}: cannot read the SSH certificate") from None
    if not isinstance(cert, serialization.SSHCertificate):
        raise SigningError(f"{path}: not an SSH certificate")
    certified = cert.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    if certified.split()[1].decode("ascii") != base64.b64encode(public.blob).decode("ascii"):
        raise SigningError(f"{path}: the certificate is for another key than {path[: -len(CERT_FILE_SUFFIX)]}")
    return base64.b64decode(fields[1])


def _parse_private(data: bytes, source: str, passphrase: bytes | None) -> Any:
    stripped = data.strip()
    if stripped.startswith((b"ssh-", b"ecdsa-")) or b"PUBLIC KEY" in stripped[:40]:
        raise SigningError(f"{source}: this is a public key; --key needs the private key")
    loader: Callable[[bytes, bytes | None], Any]
    if stripped.startswith(b"-----BEGIN OPENSSH PRIVATE KEY-----"):
        loader = serialization.load_ssh_private_key
    elif stripped.startswith(b"-----BEGIN"):
        loader = serialization.load_pem_private_key
    else:
        raise SigningError(f"{source}: not an OpenSSH or PEM private key")
    try:
        try:
            key: Any = loader(stripped, passphrase)
        except TypeError:
            if passphrase is None:
                raise SigningError(f"{source}: key is encrypted; set {PASSPHRASE_ENV}") from None
            key = loader(stripped, None)  # a passphrase set for an unencrypted key is ignored
    except (ValueError, UnsupportedAlgorithm, TypeError):
        hint = " (or the passphrase is wrong)" if passphrase is not None else ""
        raise SigningError(f"{source}: malformed or unsupported private key{hint}") from None
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name not in ("secp256r1", "secp384r1", "secp521r1"):
        raise SigningError(f"{source}: unsupported ECDSA curve")
    if not isinstance(key, ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise SigningError(f"{source}: unsupported key type (use Ed25519, RSA or ECDSA)")
    return key
