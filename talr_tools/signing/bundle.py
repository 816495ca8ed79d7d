"""Verification of a released STIX bundle: its detached signature and every object signature.

Which objects must be signed: ``indicator`` objects (one per rule, the ones consumers push to
their SIEMs) must carry a signature; any other object that carries a TALR signature is verified
too. Relationships, identity, marking and extension definitions are covered by the detached
bundle signature; over TAXII, what a consumer acts on (the rule, its ATT&CK ids, kill chain
phases, TLP marking refs) is inside the signed indicator.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from talr_tools.config import TalrConfig
from talr_tools.signing.allowed import AllowedSigners
from talr_tools.signing.detached import signature_path, verify_file
from talr_tools.signing.errors import SigningError, VerificationError
from talr_tools.signing.objects import VerifiedSignature, object_signature, verify_object

DEFAULT_ALLOWED_SIGNERS = ".talr/allowed_signers"
REVOKED_KEYS_NAME = "revoked_keys"
SIGNED_TYPES = ("indicator",)


@dataclass
class BundleReport:
    """Outcome of :func:`verify_bundle`: ``ok`` when there is no failure."""

    path: Path
    detached: VerifiedSignature | None = None
    objects: int = 0
    objects_verified: int = 0
    signers: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every check passed."""
        return not self.failures


def verify_bundle(path: Path, allowed: AllowedSigners, *, require_detached: bool = False,
                  signed_types: tuple[str, ...] = SIGNED_TYPES, now: datetime | None = None) -> BundleReport:
    """Check ``path``'s detached signature (``path.sig``, when present or required) and every object signature.

    ``path`` holds a STIX bundle, a TAXII 2.1 envelope (``{"objects": [...]}``, as ``get_objects``
    returns) or a single STIX object.

    Failures are collected (one message each, naming the file or object id), not raised, so a
    consumer sees every problem at once. Raises :class:`SigningError` only when ``path`` cannot be read.
    """
    now = now or datetime.now(UTC)
    report = BundleReport(path=path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SigningError(f"{path}: cannot read bundle: {exc.strerror or exc}") from None
    if signature_path(path).exists() or require_detached:
        try:
            report.detached = verify_file(path, allowed, now=now)
            report.signers[f"{report.detached.principal} {report.detached.fingerprint}"] += 1
        except VerificationError as exc:
            report.failures.append(str(exc))
    objects = _objects(data, path, report)
    for obj in objects:
        report.objects += 1
        if obj.get("type") not in signed_types and object_signature(obj) is None:
            continue
        try:
            verified = verify_object(obj, allowed, now=now)
        except VerificationError as exc:
            report.failures.append(f"{path}: {exc}")
            continue
        report.objects_verified += 1
        report.signers[f"{verified.principal} {verified.fingerprint}"] += 1
    return report


def _objects(data: bytes, path: Path, report: BundleReport) -> list[dict[str, Any]]:
    try:
        bundle = json.loads(data)
    except UnicodeDecodeError:
        report.failures.append(f"{path}: not UTF-8 text")
        return []
    except json.JSONDecodeError as exc:
        report.failures.append(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}")
        return []
    if isinstance(bundle, dict) and "objects" not in bundle and isinstance(bundle.get("type"), str) \
            and isinstance(bundle.get("id"), str) and bundle["type"] != "bundle":
        return [bundle]  # one STIX object, e.g. fetched from a TAXII server
    if not isinstance(bundle, dict) or bundle.get("type", "bundle") != "bundle" \
            or not isinstance(bundle.get("objects"), list):
        report.failures.append(f"{path}: not a STIX bundle, TAXII envelope or STIX object")
        return []
    objects = [o for o in bundle["objects"] if isinstance(o, dict)]
    if len(objects) != len(bundle["objects"]):
        report.failures.append(f"{path}: bundle holds objects that are not JSON objects")
    return objects


def signers_for_config(config: TalrConfig, allowed_signers: Path | None = None,
                       revoked_keys: Path | None = None) -> AllowedSigners:
    """The trusted signers: ``allowed_signers`` if given, else ``[signing] allowed_signers`` of
    ``talr.toml`` (default ``.talr/allowed_signers``, relative to the repository root).

    Revoked keys: ``revoked_keys`` if given, else ``[signing] revoked_keys``, else
    ``revoked_keys`` next to the allowed-signers file (used when it exists).
    """
    section = config.section("signing")
    if allowed_signers is None:
        allowed_signers = config.root / str(section.get("allowed_signers", DEFAULT_ALLOWED_SIGNERS))
        if not allowed_signers.exists():
            raise SigningError(
                f"{allowed_signers}: no allowed signers file; pass --allowed-signers FILE "
                "or set [signing] allowed_signers in talr.toml")
    if revoked_keys is None:
        configured = section.get("revoked_keys")
        revoked_keys = (config.root / str(configured) if configured
                        else allowed_signers.parent / REVOKED_KEYS_NAME)
    return AllowedSigners.load(allowed_signers, revoked_keys)
