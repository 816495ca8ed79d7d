"""Errors of the signing package.

:class:`SigningError` is a usage problem (bad key, bad allowed-signers file): exit 2.
:class:`VerificationError` means a signature does not prove what it should: exit 1.
Messages never contain key material.
"""

from __future__ import annotations

from talr_tools.errors import TalrError


class SigningError(TalrError):
    """A key or signers file cannot be used (one-line message, exit 2)."""


class VerificationError(TalrError):
    """A signature is missing, malformed, by an unknown/expired/revoked key, or does not match."""

    exit_code = 1


class SignatureMismatch(VerificationError):
    """The signature is well-formed but does not sign these bytes (the data changed, or a forgery)."""
