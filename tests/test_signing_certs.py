"""Signatures made with OpenSSH user certificates, trusted through ``cert-authority`` lines."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from talr_tools.signing import (
    AllowedSigners,
    SigningError,
    VerificationError,
    load_signing_key,
    sign_bytes,
    sign_object,
    verify_bytes,
    verify_object,
)
from tests.test_signing_support import SSH_KEYGEN, keygen, needs_ssh_keygen, public_line, sample_indicator, ssh_verify

pytestmark = needs_ssh_keygen
DATA = b"release bytes\n"


def certify(ca: Path, key: Path, principals: str = "alice,bob", validity: str = "-1d:+30d",
            host: bool = False) -> Path:
    """Issue a certificate for ``key`` with the real ssh-keygen; returns ``KEY-cert.pub``."""
    assert SSH_KEYGEN is not None
    cmd = [SSH_KEYGEN, "-q", "-s", str(ca), "-I", "release-cert", "-n", principals, "-V", validity]
    subprocess.run([*cmd, *(["-h"] if host else []), str(key) + ".pub"], check=True, capture_output=True)
    return key.with_name(key.name + "-cert.pub")


def ssh_sign(key_spec: Path, folder: Path) -> str:
    data = folder / "data.bin"
    data.write_bytes(DATA)
    (folder / "data.bin.sig").unlink(missing_ok=True)
    subprocess.run([SSH_KEYGEN, "-Y", "sign", "-f", str(key_spec), "-n", "talr", str(data)], check=True,
                   capture_output=True)
    return (folder / "data.bin.sig").read_text()


@pytest.fixture
def pki(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(CA key, user key, allowed_signers trusting the CA for alice and *@example.org)."""
    ca = keygen(tmp_path, "ca")
    user = keygen(tmp_path, "user")
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(f'"alice,*@example.org" cert-authority {public_line(ca)}\n')
    return ca, user, allowed


def test_ssh_keygen_certificate_signature_verifies(pki: tuple[Path, Path, Path], tmp_path: Path) -> None:
    ca, user, allowed = pki
    armored = ssh_sign(certify(ca, user), tmp_path)
    verified = verify_bytes(DATA, armored, AllowedSigners.load(allowed))
    assert verified.principal == "alice"  # bob is in the certificate, but not allowed by the line
    assert verified.fingerprint == load_signing_key(str(user)).fingerprint
    assert verify_bytes(DATA, armored, AllowedSigners.load(allowed), principal="alice").principal == "alice"
    with pytest.raises(VerificationError, match="not issued for principal 'carol'"):
        verify_bytes(DATA, armored, AllowedSigners.load(allowed), principal="carol")


def test_talr_signs_with_a_certificate_like_ssh_keygen(pki: tuple[Path, Path, Path], tmp_path: Path) -> None:
    ca, user, allowed = pki
    cert = certify(ca, user)
    key = load_signing_key(str(cert))
    armored = sign_bytes(DATA, key)
    assert armored == ssh_sign(cert, tmp_path)  # Ed25519 is deterministic: same bytes as the stock tool
    sig = tmp_path / "talr.sig"
    sig.write_text(armored)
    assert ssh_verify(allowed, "alice", "talr", sig, DATA).returncode == 0
    assert ssh_verify(allowed, "carol", "talr", sig, DATA).returncode != 0
    signed = sign_object(sample_indicator(), key)
    assert verify_object(signed, AllowedSigners.load(allowed)).fingerprint == key.fingerprint


@pytest.mark.parametrize(
    ("issue", "message"),
    [
        ({"validity": "20200101:20210101"}, r"expired on 2021-01-01"),
        ({"validity": "+10d:+20d"}, r"not valid before"),
        ({"host": True}, r"a host certificate cannot sign"),
        ({"principals": "carol,dave"}, r"principals carol, dave are not allowed for this CA"),
    ],
)
def test_certificate_refusals(pki: tuple[Path, Path, Path], tmp_path: Path, issue: dict, message: str) -> None:
    ca, user, allowed = pki
    armored = ssh_sign(certify(ca, user, **issue), tmp_path)
    with pytest.raises(VerificationError, match=message):
        verify_bytes(DATA, armored, AllowedSigners.load(allowed))
    sig = tmp_path / "d.sig"
    sig.write_text(armored)
    assert ssh_verify(allowed, "alice", "talr", sig, DATA).returncode != 0


def test_ca_must_be_a_cert_authority_and_not_revoked(pki: tuple[Path, Path, Path], tmp_path: Path) -> None:
    ca, user, _ = pki
    armored = ssh_sign(certify(ca, user), tmp_path)
    plain = tmp_path / "plain_signers"
    plain.write_text(f"alice {public_line(ca)}\n")
    with pytest.raises(VerificationError, match="CA is not a cert-authority in the allowed signers file"):
        verify_bytes(DATA, armored, AllowedSigners.load(plain))
    allowed = tmp_path / "allowed_signers"
    revoked = tmp_path / "revoked_keys"
    revoked.write_text(public_line(ca) + "\n")
    with pytest.raises(VerificationError, match=r"CA key is revoked \(.*revoked_keys:1\)"):
        verify_bytes(DATA, armored, AllowedSigners.load(allowed, revoked))


def test_plain_signature_is_not_trusted_by_a_cert_authority_line(tmp_path: Path) -> None:
    user = keygen(tmp_path, "user")
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(f"alice cert-authority {public_line(user)}\n")
    armored = sign_bytes(DATA, load_signing_key(str(user)))
    with pytest.raises(VerificationError, match="is not in the allowed signers file"):
        verify_bytes(DATA, armored, AllowedSigners.load(allowed))
    sig = tmp_path / "d.sig"
    sig.write_text(armored)
    assert ssh_verify(allowed, "alice", "talr", sig, DATA).returncode != 0


def test_certificate_for_another_key(pki: tuple[Path, Path, Path], tmp_path: Path) -> None:
    ca, user, _ = pki
    cert = certify(ca, user)
    other = keygen(tmp_path, "other")
    other_cert = other.with_name("other-cert.pub")
    other_cert.write_text(cert.read_text())
    with pytest.raises(SigningError, match="the certificate is for another key"):
        load_signing_key(str(other_cert))
