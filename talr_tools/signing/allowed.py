"""OpenSSH ``allowed_signers`` files and revoked-key lists, read the way ``ssh-keygen -Y verify`` reads them.

``allowed_signers`` (``ssh-keygen(1)``, section ALLOWED SIGNERS), one signer a line::

    principals [options] keytype base64-key [comment]

``principals`` is a comma-separated list of patterns (``*``, ``?``, ``!negation``), quoted when it
holds spaces; options are ``cert-authority``, ``namespaces="talr,talr-object"``,
``valid-after="YYYYMMDD[HHMM[SS]][Z]"`` and ``valid-before=...`` (times without ``Z`` are local
time, as in ssh-keygen). A key whose every matching line has ``valid-before`` in the past is
*expired*; with ``valid-after`` in the future, *not yet valid*.

``cert-authority`` lines trust OpenSSH user certificates signed by that CA key (see
:mod:`talr_tools.signing.certs`).

Revocation uses ssh-keygen's own mechanism: a revoked-keys file (default ``.talr/revoked_keys``),
a text list of public keys or a binary KRL (see :mod:`talr_tools.signing.revoked`), which the stock
tool takes as ``ssh-keygen -Y verify ... -r .talr/revoked_keys``.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from talr_tools.signing.certs import Certificate
from talr_tools.signing.errors import SigningError, VerificationError
from talr_tools.signing.keys import PublicKey
from talr_tools.signing.revoked import RevokedKeys, load_revoked_keys

_KEY_TYPES = ("ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
              "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com")
_VERIFIABLE = frozenset(_KEY_TYPES[:5])
_TIME = re.compile(r"^(\d{8}|\d{12}|\d{14})(Z?)$", re.IGNORECASE)


@dataclass(frozen=True)
class AllowedSigner:
    """One line of an allowed_signers file."""

    principals: tuple[str, ...]
    key: PublicKey | None  # None for key types TALR cannot verify (e.g. security keys)
    key_type: str
    key_b64: str
    cert_authority: bool = False
    namespaces: tuple[str, ...] | None = None
    valid_after: datetime | None = None
    valid_before: datetime | None = None
    path: str = ""
    line: int = 0

    @property
    def where(self) -> str:
        """``file:line`` of this signer."""
        return f"{self.path}:{self.line}"

    def matches_principal(self, principal: str) -> bool:
        """True when ``principal`` matches the principals pattern list (``!`` negates)."""
        return _match_pattern_list(principal, self.principals)


@dataclass(frozen=True)
class VerifiedSigner:
    """Who made a signature that verified: the allowed-signers entry and the key fingerprint."""

    principal: str
    fingerprint: str
    where: str


@dataclass
class AllowedSigners:
    """The trusted signers of a repository, with its revoked keys."""

    signers: list[AllowedSigner] = field(default_factory=list)
    revoked: RevokedKeys = field(default_factory=RevokedKeys)
    path: str = ""

    @classmethod
    def load(cls, path: Path, revoked_keys: Path | None = None) -> AllowedSigners:
        """Parse ``path`` (and ``revoked_keys`` when given and present).

        Raises :class:`SigningError` naming file and line on a malformed line, or when ``path``
        cannot be read.
        """
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SigningError(f"{path}: cannot read allowed signers file: {_reason(exc)}") from None
        signers = [s for n, line in enumerate(text.splitlines(), 1) if (s := _parse_line(line, str(path), n))]
        revoked = (load_revoked_keys(revoked_keys) if revoked_keys is not None and revoked_keys.exists()
                   else RevokedKeys())
        return cls(signers=signers, revoked=revoked, path=str(path))

    def check(self, key: PublicKey, namespace: str, *, now: datetime | None = None,
              principal: str | None = None, certificate: Certificate | None = None) -> VerifiedSigner:
        """The signer entry that trusts ``key`` for ``namespace`` at ``now`` (default: the current time).

        With ``certificate`` (a signature made with an OpenSSH user certificate for ``key``), the
        certificate's CA must be on a ``cert-authority`` line instead (see :mod:`.certs`).
        Raises :class:`VerificationError` when the key is revoked, unknown, not allowed for the
        namespace or principal, expired or not yet valid.
        """
        now = now or datetime.now(UTC)
        fp = key.fingerprint
        if (listed := self.revoked.reason(key)) is not None:
            raise VerificationError(f"key {fp} is revoked ({listed})")
        if certificate is not None:
            return self._check_certificate(certificate, namespace, now, principal)
        candidates = [s for s in self.signers if not s.cert_authority and s.key is not None and s.key.blob == key.blob]
        if not candidates:
            raise VerificationError(f"key {fp} is not in the allowed signers file {self.path}")
        if principal is not None:
            candidates = [s for s in candidates if s.matches_principal(principal)]
            if not candidates:
                raise VerificationError(f"key {fp} is not allowed for principal {principal!r} in {self.path}")
        signer = _current(candidates, namespace, now, f"key {fp}")
        return VerifiedSigner(principal=principal or ",".join(signer.principals), fingerprint=fp, where=signer.where)

    def _check_certificate(self, cert: Certificate, namespace: str, now: datetime,
                           principal: str | None) -> VerifiedSigner:
        what = f"certificate {cert.key_id!r} (key {cert.key.fingerprint}, CA {cert.ca.fingerprint})"
        if (listed := self.revoked.reason(cert.ca)) is not None:
            raise VerificationError(f"{what}: CA key is revoked ({listed})")
        if not cert.signature_ok:
            raise VerificationError(f"{what}: the CA's signature on the certificate is invalid")
        if not cert.user:
            raise VerificationError(f"{what}: a host certificate cannot sign")
        if now < cert.valid_after:
            raise VerificationError(f"{what}: not valid before {cert.valid_after.isoformat()}")
        if cert.valid_before is not None and now > cert.valid_before:
            raise VerificationError(f"{what}: expired on {cert.valid_before.isoformat()}")
        names = cert.principals if principal is None else tuple(p for p in cert.principals if p == principal)
        if not names:
            raise VerificationError(f"{what}: not issued for principal {principal!r}")
        lines = [s for s in self.signers if s.cert_authority and s.key is not None and s.key.blob == cert.ca.blob]
        if not lines:
            raise VerificationError(f"{what}: CA is not a cert-authority in the allowed signers file {self.path}")
        lines = [s for s in lines if any(s.matches_principal(n) for n in names)]
        if not lines:
            raise VerificationError(f"{what}: principals {', '.join(names)} are not allowed for this CA in {self.path}")
        signer = _current(lines, namespace, now, what)
        matched = [n for n in names if signer.matches_principal(n)]
        return VerifiedSigner(principal=",".join(matched), fingerprint=cert.key.fingerprint, where=signer.where)


def _current(candidates: list[AllowedSigner], namespace: str, now: datetime, what: str) -> AllowedSigner:
    """The first line allowing ``namespace`` at ``now``; the most telling error otherwise."""
    in_namespace = [s for s in candidates if s.namespaces is None or namespace in s.namespaces]
    if not in_namespace:
        raise VerificationError(
            f"{what} is not allowed to sign namespace {namespace!r} ({candidates[0].where} namespaces)")
    for signer in in_namespace:
        if (signer.valid_after is None or now >= signer.valid_after) and (
            signer.valid_before is None or now <= signer.valid_before
        ):
            return signer
    first = in_namespace[0]
    if first.valid_before is not None and now > first.valid_before:
        raise VerificationError(f"{what} expired on {first.valid_before.isoformat()} ({first.where} valid-before)")
    assert first.valid_after is not None
    raise VerificationError(f"{what} is not valid before {first.valid_after.isoformat()} ({first.where} valid-after)")


def _parse_line(raw: str, path: str, lineno: int) -> AllowedSigner | None:
    line = raw.strip()
    if not line or line.startswith("#"):
        return None
    where = f"{path}:{lineno}"
    principals_field, rest = _next_token(line, where)
    if principals_field in _KEY_TYPES:
        raise SigningError(f"{where}: missing principals before the key "
                           f"(e.g. release@example.org {principals_field} ...)")
    principals = tuple(p.strip() for p in principals_field.split(",") if p.strip())
    if not principals:
        raise SigningError(f"{where}: empty principals")
    if not rest:
        raise SigningError(f"{where}: missing key")
    opts: dict[str, str | None] = {}
    if rest.split(None, 1)[0] not in _KEY_TYPES and not rest.startswith(("ssh-", "ecdsa-", "sk-")):
        options_field, rest = _next_token(rest, where, options=True)
        opts = _parse_options(options_field, where)
    valid_after = _parse_time(opts["valid-after"], where, "valid-after") if "valid-after" in opts else None
    valid_before = _parse_time(opts["valid-before"], where, "valid-before") if "valid-before" in opts else None
    parts = rest.split()
    if len(parts) < 2:
        raise SigningError(f"{where}: expected 'keytype base64-key' after the principals")
    key_type, key_b64 = parts[0], parts[1]
    key: PublicKey | None = None
    if key_type not in _VERIFIABLE:
        key = None  # e.g. security keys (sk-...), DSA: listed, never trusted by talr verify
    else:
        try:
            key = PublicKey.from_openssh(key_type, key_b64)
        except ValueError as exc:
            raise SigningError(f"{where}: {exc}") from None
    namespaces = opts.get("namespaces")
    return AllowedSigner(
        principals=principals,
        key=key,
        key_type=key_type,
        key_b64=key_b64,
        cert_authority="cert-authority" in opts,
        namespaces=tuple(n.strip() for n in namespaces.split(",")) if namespaces is not None else None,
        valid_after=valid_after,
        valid_before=valid_before,
        path=path,
        line=lineno,
    )


def _next_token(text: str, where: str, *, options: bool = False) -> tuple[str, str]:
    """Split off the first whitespace-delimited field, honouring double quotes."""
    i, quoted = 0, False
    while i < len(text):
        ch = text[i]
        if ch == '"':
            quoted = not quoted
        elif ch.isspace() and not quoted:
            break
        i += 1
    if quoted:
        raise SigningError(f"{where}: unterminated quote")
    token = text[:i]
    if not options and token.startswith('"') and token.endswith('"') and len(token) >= 2:
        token = token[1:-1]
    return token, text[i:].strip()


def _parse_options(text: str, where: str) -> dict[str, str | None]:
    opts: dict[str, str | None] = {}
    for item in _split_options(text, where):
        name, sep, value = item.partition("=")
        name = name.lower()
        if name == "cert-authority" and not sep:
            opts[name] = None
        elif name in ("namespaces", "valid-after", "valid-before") and sep:
            if len(value) < 2 or not (value.startswith('"') and value.endswith('"')):
                raise SigningError(f'{where}: option {name} needs a quoted value, e.g. {name}="..."')
            opts[name] = value[1:-1]
        else:
            raise SigningError(f"{where}: unknown or malformed option {item!r}")
    return opts


def _split_options(text: str, where: str) -> list[str]:
    items, current, quoted = [], "", False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            items.append(current)
            current = ""
        else:
            current += ch
    items.append(current)
    if any(not item for item in items):
        raise SigningError(f"{where}: empty option")
    return items


def _parse_time(value: str | None, where: str, name: str) -> datetime:
    match = _TIME.match(value or "")
    if not match:
        raise SigningError(f"{where}: {name} must be YYYYMMDD[HHMM[SS]][Z], not {value!r}")
    digits = match.group(1).ljust(14, "0")
    stamp = datetime.strptime(digits, "%Y%m%d%H%M%S")
    return stamp.replace(tzinfo=UTC) if match.group(2) else stamp.astimezone()


def _match_pattern_list(name: str, patterns: tuple[str, ...]) -> bool:
    matched = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        if fnmatch.fnmatchcase(name, pattern[1:] if negated else pattern):
            if negated:
                return False
            matched = True
    return matched


def _reason(exc: Exception) -> str:
    return getattr(exc, "strerror", None) or str(exc)
