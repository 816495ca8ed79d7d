"""Signing and verification: SSHSIG detached signatures and per-object STIX signatures.

Public API (import from ``talr_tools.signing``):

- :func:`load_signing_key` (path, ``env:VAR``, or ``$TALR_SIGNING_KEY``) -> :class:`SigningKey`
- :func:`sign_bytes` / :func:`verify_bytes`: armored SSHSIG, namespace ``talr``
- :func:`sign_file` / :func:`verify_file`: ``FILE.sig``
- :func:`sign_object` / :func:`verify_object`: signature inside the TALR extension, namespace
  ``talr-object``, over the RFC 8785 form of the object without the signature
- :class:`AllowedSigners` (``AllowedSigners.load(path, revoked_keys)``), :func:`signers_for_config`
- :func:`verify_bundle` -> :class:`BundleReport`
"""

from __future__ import annotations

from talr_tools.signing.allowed import AllowedSigners, VerifiedSigner
from talr_tools.signing.bundle import BundleReport, signers_for_config, verify_bundle
from talr_tools.signing.canonical_json import canonical_json
from talr_tools.signing.detached import (
    FILE_NAMESPACE,
    sign_bytes,
    sign_file,
    signature_path,
    verify_bytes,
    verify_file,
)
from talr_tools.signing.errors import SigningError, VerificationError
from talr_tools.signing.keys import KEY_ENV, PASSPHRASE_ENV, PublicKey, SigningKey, load_signing_key
from talr_tools.signing.objects import (
    OBJECT_NAMESPACE,
    VerifiedSignature,
    object_signature,
    sign_object,
    signing_payload,
    verify_object,
)

__all__ = [
    "FILE_NAMESPACE",
    "KEY_ENV",
    "OBJECT_NAMESPACE",
    "PASSPHRASE_ENV",
    "AllowedSigners",
    "BundleReport",
    "PublicKey",
    "SigningError",
    "SigningKey",
    "VerificationError",
    "VerifiedSignature",
    "VerifiedSigner",
    "canonical_json",
    "load_signing_key",
    "object_signature",
    "sign_bytes",
    "sign_file",
    "sign_object",
    "signature_path",
    "signers_for_config",
    "signing_payload",
    "verify_bundle",
    "verify_bytes",
    "verify_file",
    "verify_object",
]
