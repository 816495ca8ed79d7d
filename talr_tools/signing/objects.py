"""Per-object signatures: a STIX object signed over its RFC 8785 canonical form.

The signature lives in the TALR property extension of the object::

    obj["extensions"][EXTENSION_DEFINITION_ID]["signature"] = {
        "key_fingerprint": "SHA256:...",     # the signer's OpenSSH fingerprint
        "namespace": "talr-object",          # SSHSIG namespace of object signatures
        "value": "<base64 of the binary SSHSIG blob>",
    }

The signed message is ``JCS(obj without that "signature" member)``, so the signature survives any
transport that keeps the JSON value (TAXII servers re-serialise objects). The value is the
unarmored SSHSIG blob in one base64 line: wrapped in ``-----BEGIN/END SSH SIGNATURE-----`` at
70 columns it is a file that ``ssh-keygen -Y verify -n talr-object`` accepts for the canonical
bytes. A separate namespace keeps a bundle signature (``talr``) from being replayed as an object
signature and back.
"""

from __future__ import annotations

import base64
import binascii
import copy
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from talr_tools.signing.allowed import AllowedSigners, VerifiedSigner
from talr_tools.signing.canonical_json import canonical_json
from talr_tools.signing.errors import SignatureMismatch, SigningError, VerificationError
from talr_tools.signing.keys import SigningKey
from talr_tools.signing.sshsig import check_blob, sign_blob
from talr_tools.stix.ids import EXTENSION_DEFINITION_ID

OBJECT_NAMESPACE = "talr-object"
SIGNATURE_MEMBER = "signature"


@dataclass(frozen=True)
class VerifiedSignature:
    """A signature that verified, and the trusted signer that made it."""

    signer: VerifiedSigner
    namespace: str

    @property
    def fingerprint(self) -> str:
        """``SHA256:...`` of the signing key."""
        return self.signer.fingerprint

    @property
    def principal(self) -> str:
        """Principal(s) of the allowed-signers entry that trusts the key."""
        return self.signer.principal


def signing_payload(obj: dict[str, Any]) -> bytes:
    """The canonical bytes an object signature covers: JCS of ``obj`` without the signature member."""
    ext = obj.get("extensions", {}).get(EXTENSION_DEFINITION_ID)
    if isinstance(ext, dict) and SIGNATURE_MEMBER in ext:
        obj = {**obj, "extensions": {**obj["extensions"],
                                     EXTENSION_DEFINITION_ID: {k: v for k, v in ext.items() if k != SIGNATURE_MEMBER}}}
    return canonical_json(obj)


def sign_object(obj: dict[str, Any], key: SigningKey, *, in_place: bool = False) -> dict[str, Any]:
    """A deep copy of ``obj`` with its signature in the TALR extension (created when absent).

    With ``in_place``, ``obj`` itself is signed and returned (saves the copy in bulk builds).
    An existing signature is replaced. Ed25519 signatures are deterministic, so signing the
    same object with the same key gives the same value (reproducible builds).
    """
    signed = obj if in_place else copy.deepcopy(obj)
    ext = signed.setdefault("extensions", {}).setdefault(
        EXTENSION_DEFINITION_ID, {"extension_type": "property-extension"})
    ext.pop(SIGNATURE_MEMBER, None)
    try:
        payload = canonical_json(signed)
    except ValueError as exc:
        oid = signed.get("id", "<object without id>")
        raise SigningError(f"{oid}: cannot canonicalise (RFC 8785): {exc}") from None
    blob = sign_blob(payload, key, OBJECT_NAMESPACE)
    ext[SIGNATURE_MEMBER] = {
        "key_fingerprint": key.fingerprint,
        "namespace": OBJECT_NAMESPACE,
        "value": base64.b64encode(blob).decode("ascii"),
    }
    return signed


def object_signature(obj: dict[str, Any]) -> Any:
    """The signature member of ``obj`` (normally a dict), or ``None`` when it has none."""
    ext = obj.get("extensions", {})
    ext = ext.get(EXTENSION_DEFINITION_ID) if isinstance(ext, dict) else None
    return ext.get(SIGNATURE_MEMBER) if isinstance(ext, dict) else None


def verify_object(obj: dict[str, Any], allowed: AllowedSigners, *, now: datetime | None = None) -> VerifiedSignature:
    """Verify the signature carried by ``obj`` against the trusted signers.

    Raises :class:`VerificationError` (message starting with the object id) when the signature is
    missing or malformed, the object changed after signing, or the key is unknown, not allowed
    for ``talr-object``, expired or revoked.
    """
    oid = str(obj.get("id", "<object without id>"))
    sig = object_signature(obj)
    if sig is None:
        raise VerificationError(f"{oid}: missing object signature")
    try:
        if not isinstance(sig, dict) or sig.get("namespace") != OBJECT_NAMESPACE:
            raise VerificationError(f"{oid}: object signature namespace must be {OBJECT_NAMESPACE!r}")
        blob = base64.b64decode(str(sig.get("value", "")), validate=True)
        try:
            payload = signing_payload(obj)
        except ValueError as exc:  # NaN, integers beyond 2**53, lone surrogates: not I-JSON
            raise VerificationError(f"cannot canonicalise the object (RFC 8785): {exc}") from None
        parsed = check_blob(payload, blob, OBJECT_NAMESPACE)
        if sig.get("key_fingerprint") != parsed.public_key.fingerprint:
            raise VerificationError(
                f"key_fingerprint {sig.get('key_fingerprint')} is not the signing key {parsed.public_key.fingerprint}")
        signer = allowed.check(parsed.public_key, OBJECT_NAMESPACE, now=now, certificate=parsed.certificate)
    except binascii.Error:
        raise VerificationError(f"{oid}: object signature value is not valid base64") from None
    except SignatureMismatch as exc:
        raise VerificationError(f"{oid}: object changed after it was signed ({exc})") from None
    except VerificationError as exc:
        message = str(exc)
        raise VerificationError(message if message.startswith(oid) else f"{oid}: {message}") from None
    return VerifiedSignature(signer=signer, namespace=OBJECT_NAMESPACE)
