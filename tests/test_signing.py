"""Detached SSHSIG signatures, keys and allowed signers, checked against the real ssh-keygen."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from talr_tools.signing import (
    AllowedSigners,
    SigningError,
    VerificationError,
    load_signing_key,
    sign_bytes,
    sign_file,
    verify_bytes,
)
from tests.test_signing_support import SSH_KEYGEN, allowed_line, keygen, needs_ssh_keygen, public_line, ssh_verify

pytestmark = needs_ssh_keygen

DATA = b'{"type": "bundle", "objects": []}\n'


@pytest.fixture
def ed_key(tmp_path: Path) -> Path:
    return keygen(tmp_path)


def _allowed(tmp_path: Path, *lines: str, name: str = "allowed_signers") -> Path:
    path = tmp_path / name
    path.write_text("# TALR release signers\n" + "".join(lines))
    return path


def test_ed25519_signature_is_byte_identical_to_ssh_keygen(tmp_path: Path, ed_key: Path) -> None:
    data_file = tmp_path / "bundle.json"
    data_file.write_bytes(DATA)
    subprocess.run([SSH_KEYGEN, "-Y", "sign", "-f", str(ed_key), "-n", "talr", str(data_file)],
                   check=True, capture_output=True)
    theirs = (tmp_path / "bundle.json.sig").read_text()
    assert sign_bytes(DATA, load_signing_key(str(ed_key))) == theirs


@pytest.mark.parametrize(("key_type", "bits"), [("ed25519", None), ("rsa", 2048), ("ecdsa", 256), ("ecdsa", 384),
                                                ("ecdsa", 521)])
def test_ssh_keygen_verify_accepts_talr_signature(tmp_path: Path, key_type: str, bits: int | None) -> None:
    key = keygen(tmp_path, f"k_{key_type}", key_type, bits=bits)
    allowed = _allowed(tmp_path, allowed_line("release@example.org", key))
    data_file = tmp_path / "bundle.json"
    data_file.write_bytes(DATA)
    sig = sign_file(data_file, load_signing_key(str(key)))
    assert sig == tmp_path / "bundle.json.sig"
    result = ssh_verify(allowed, "release@example.org", "talr", sig, DATA)
    assert result.returncode == 0, result.stderr
    assert b'Good "talr" signature for release@example.org' in result.stdout
    # and the stock tool refuses it for one changed byte, which TALR refuses too
    assert ssh_verify(allowed, "release@example.org", "talr", sig, DATA.replace(b"[]", b"[ ")).returncode != 0


@pytest.mark.parametrize(("key_type", "bits"), [("ed25519", None), ("rsa", 3072), ("ecdsa", 256), ("ecdsa", 521)])
def test_talr_verifies_ssh_keygen_signatures(tmp_path: Path, key_type: str, bits: int | None) -> None:
    key = keygen(tmp_path, f"k_{key_type}", key_type, bits=bits)
    data_file = tmp_path / "f.bin"
    data_file.write_bytes(DATA)
    subprocess.run([SSH_KEYGEN, "-Y", "sign", "-f", str(key), "-n", "talr", str(data_file)],
                   check=True, capture_output=True)
    allowed = AllowedSigners.load(_allowed(tmp_path, allowed_line("ci", key)))
    armored = (tmp_path / "f.bin.sig").read_text()
    verified = verify_bytes(DATA, armored, allowed)
    assert verified.principal == "ci"
    with pytest.raises(VerificationError, match="does not match"):
        verify_bytes(DATA[:-1] + b" ", armored, allowed)


def test_one_changed_byte_is_refused(ed_key: Path, tmp_path: Path) -> None:
    allowed = AllowedSigners.load(_allowed(tmp_path, allowed_line("ci", ed_key)))
    armored = sign_bytes(DATA, load_signing_key(str(ed_key)))
    assert verify_bytes(DATA, armored, allowed).fingerprint.startswith("SHA256:")
    for i in (0, len(DATA) // 2, len(DATA) - 1):
        changed = bytearray(DATA)
        changed[i] ^= 0x01
        with pytest.raises(VerificationError, match="does not match the data"):
            verify_bytes(bytes(changed), armored, allowed)


def test_unknown_key_is_refused(tmp_path: Path, ed_key: Path) -> None:
    other = keygen(tmp_path, "other")
    allowed = AllowedSigners.load(_allowed(tmp_path, allowed_line("ci", other)))
    with pytest.raises(VerificationError, match="is not in the allowed signers file"):
        verify_bytes(DATA, sign_bytes(DATA, load_signing_key(str(ed_key))), allowed)


def test_wrong_namespace_is_refused(tmp_path: Path, ed_key: Path) -> None:
    allowed = AllowedSigners.load(_allowed(tmp_path, allowed_line("ci", ed_key)))
    armored = sign_bytes(DATA, load_signing_key(str(ed_key)), namespace="git")
    with pytest.raises(VerificationError, match="namespace is 'git', expected 'talr'"):
        verify_bytes(DATA, armored, allowed)


def test_namespaces_option_restricts_the_key(tmp_path: Path, ed_key: Path) -> None:
    allowed = AllowedSigners.load(_allowed(tmp_path, allowed_line("ci", ed_key, 'namespaces="git,file"')))
    with pytest.raises(VerificationError, match="not allowed to sign namespace 'talr'"):
        verify_bytes(DATA, sign_bytes(DATA, load_signing_key(str(ed_key))), allowed)


def test_expired_key_is_refused_like_ssh_keygen(tmp_path: Path, ed_key: Path) -> None:
    allowed_path = _allowed(tmp_path, allowed_line("ci", ed_key, 'valid-after="20200101Z",valid-before="20240101Z"'))
    allowed = AllowedSigners.load(allowed_path)
    armored = sign_bytes(DATA, load_signing_key(str(ed_key)))
    with pytest.raises(VerificationError, match=r"expired on 2024-01-01T00:00:00\+00:00 .*allowed_signers:2"):
        verify_bytes(DATA, armored, allowed)
    # valid at a time inside the window: the window is what decides
    assert verify_bytes(DATA, armored, allowed, now=datetime(2023, 6, 1, tzinfo=UTC)).principal == "ci"
    sig = tmp_path / "d.sig"
    sig.write_text(armored)
    assert ssh_verify(allowed_path, "ci", "talr", sig, DATA).returncode != 0


def test_not_yet_valid_key_is_refused(tmp_path: Path, ed_key: Path) -> None:
    future = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y%m%d")
    allowed = AllowedSigners.load(_allowed(tmp_path, allowed_line("ci", ed_key, f'valid-after="{future}Z"')))
    with pytest.raises(VerificationError, match="is not valid before"):
        verify_bytes(DATA, sign_bytes(DATA, load_signing_key(str(ed_key))), allowed)


def test_a_second_current_line_for_the_same_key_keeps_it_valid(tmp_path: Path, ed_key: Path) -> None:
    allowed = AllowedSigners.load(_allowed(
        tmp_path,
        allowed_line("old", ed_key, 'valid-before="20200101Z"'),
        allowed_line("new", ed_key, 'valid-after="20200101Z"'),
    ))
    assert verify_bytes(DATA, sign_bytes(DATA, load_signing_key(str(ed_key))), allowed).principal == "new"


def test_revoked_key_is_refused_like_ssh_keygen(tmp_path: Path, ed_key: Path) -> None:
    allowed_path = _allowed(tmp_path, allowed_line("ci", ed_key))
    revoked = tmp_path / "revoked_keys"
    revoked.write_text(f"# leaked 2026-01-01\n{public_line(ed_key)} ci key\n")
    allowed = AllowedSigners.load(allowed_path, revoked)
    armored = sign_bytes(DATA, load_signing_key(str(ed_key)))
    with pytest.raises(VerificationError, match=r"is revoked \(.*revoked_keys:2\)"):
        verify_bytes(DATA, armored, allowed)
    sig = tmp_path / "d.sig"
    sig.write_text(armored)
    assert ssh_verify(allowed_path, "ci", "talr", sig, DATA).returncode == 0
    assert ssh_verify(allowed_path, "ci", "talr", sig, DATA, revoked=revoked).returncode != 0


def test_principal_patterns(tmp_path: Path, ed_key: Path) -> None:
    allowed = AllowedSigners.load(_allowed(tmp_path, allowed_line('"*@example.org,!bad@example.org"', ed_key)))
    armored = sign_bytes(DATA, load_signing_key(str(ed_key)))
    assert verify_bytes(DATA, armored, allowed, principal="ci@example.org").principal == "ci@example.org"
    with pytest.raises(VerificationError, match="not allowed for principal"):
        verify_bytes(DATA, armored, allowed, principal="bad@example.org")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("ci\n", "allowed_signers:2: missing key"),
        ("ci ssh-ed25519\n", "allowed_signers:2: expected 'keytype base64-key'"),
        ("ci ssh-ed25519 !!!notbase64\n", "allowed_signers:2: public key is not valid base64"),
        ('ci valid-before="yesterday" ssh-ed25519 AAAA\n', "allowed_signers:2: valid-before must be YYYYMMDD"),
        ("ci frobnicate ssh-ed25519 AAAA\n", "allowed_signers:2: unknown or malformed option 'frobnicate'"),
        ('"ci ssh-ed25519 AAAA\n', "allowed_signers:2: unterminated quote"),
    ],
)
def test_malformed_allowed_signers_names_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    with pytest.raises(SigningError, match=message):
        AllowedSigners.load(_allowed(tmp_path, line))


def test_missing_principals_and_unverifiable_key_types(tmp_path: Path, ed_key: Path) -> None:
    with pytest.raises(SigningError, match="allowed_signers:2: missing principals before the key"):
        AllowedSigners.load(_allowed(tmp_path, public_line(ed_key) + "\n"))
    # a DSA or security-key line does not make the file unusable; it just never verifies anything
    allowed = AllowedSigners.load(_allowed(tmp_path, "old ssh-dss AAAAB3NzaC1kc3MAAACBAP\n",
                                           "yubi sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5\n",
                                           allowed_line("ci", ed_key)))
    assert verify_bytes(DATA, sign_bytes(DATA, load_signing_key(str(ed_key))), allowed).principal == "ci"


def test_key_type_mismatch_in_allowed_signers(tmp_path: Path, ed_key: Path) -> None:
    b64 = public_line(ed_key).split()[1]
    with pytest.raises(SigningError, match="allowed_signers:2: key type ssh-rsa does not match"):
        AllowedSigners.load(_allowed(tmp_path, f"ci ssh-rsa {b64}\n"))


def test_missing_allowed_signers_file(tmp_path: Path) -> None:
    with pytest.raises(SigningError, match="nope: cannot read allowed signers file"):
        AllowedSigners.load(tmp_path / "nope")


@pytest.mark.parametrize("spec", ["explicit", "key", "sha1", "hash"])
def test_revocation_by_ssh_keygen_krl(tmp_path: Path, ed_key: Path, spec: str) -> None:
    """A binary KRL made by ``ssh-keygen -k`` (explicit key, SHA1 or SHA256 fingerprint) revokes the key."""
    other = keygen(tmp_path, "other")
    krl = tmp_path / "revoked.krl"
    if spec == "explicit":
        source = ed_key.with_name(ed_key.name + ".pub")
    else:
        fp = load_signing_key(str(ed_key)).fingerprint
        source = tmp_path / "krl.spec"
        source.write_text(f"hash: {fp}\n" if spec == "hash" else f"{spec}: {public_line(ed_key)}\n")
    subprocess.run([SSH_KEYGEN, "-k", "-f", str(krl), str(source)], check=True, capture_output=True)
    allowed_path = _allowed(tmp_path, allowed_line("ci", ed_key), allowed_line("other", other))
    allowed = AllowedSigners.load(allowed_path, krl)
    armored = sign_bytes(DATA, load_signing_key(str(ed_key)))
    with pytest.raises(VerificationError, match=r"is revoked \(.*revoked.krl \(KRL\)\)"):
        verify_bytes(DATA, armored, allowed)
    assert verify_bytes(DATA, sign_bytes(DATA, load_signing_key(str(other))), allowed).principal == "other"
    sig = tmp_path / "d.sig"
    sig.write_text(armored)
    assert ssh_verify(allowed_path, "ci", "talr", sig, DATA, revoked=krl).returncode != 0


def test_malformed_krl_and_revoked_list(tmp_path: Path, ed_key: Path) -> None:
    allowed_path = _allowed(tmp_path, allowed_line("ci", ed_key))
    krl = tmp_path / "bad.krl"
    krl.write_bytes(b"SSHKRL\n\x00\x00\x00\x00\x01" + b"\x00" * 10)
    with pytest.raises(SigningError, match=r"bad\.krl: malformed KRL"):
        AllowedSigners.load(allowed_path, krl)
    listed = tmp_path / "revoked_keys"
    listed.write_text("# revoked\nssh-ed25519\n")
    with pytest.raises(SigningError, match="revoked_keys:2: expected 'keytype base64-key"):
        AllowedSigners.load(allowed_path, listed)


# --- keys --------------------------------------------------------------------------------------


def test_key_from_env_var_and_default_env(ed_key: Path) -> None:
    text = ed_key.read_text()
    expected = load_signing_key(str(ed_key)).fingerprint
    assert load_signing_key("env:MY_KEY", environ={"MY_KEY": text}).fingerprint == expected
    assert load_signing_key(None, environ={"TALR_SIGNING_KEY": text}).fingerprint == expected
    # CI secrets often arrive with literal \n instead of newlines
    mangled = text.strip().replace("\n", "\\n")
    assert load_signing_key("env:K", environ={"K": mangled}).fingerprint == expected


def test_encrypted_key_uses_passphrase_env(tmp_path: Path) -> None:
    key = keygen(tmp_path, "enc", passphrase="s3cret pass")
    loaded = load_signing_key(str(key), environ={"TALR_SIGNING_KEY_PASSPHRASE": "s3cret pass"})
    assert loaded.fingerprint in subprocess.run([SSH_KEYGEN, "-lf", str(key) + ".pub"], capture_output=True,
                                                text=True, check=True).stdout
    with pytest.raises(SigningError, match="key is encrypted; set TALR_SIGNING_KEY_PASSPHRASE"):
        load_signing_key(str(key), environ={})
    with pytest.raises(SigningError, match="passphrase is wrong"):
        load_signing_key(str(key), environ={"TALR_SIGNING_KEY_PASSPHRASE": "wrong"})


def test_passphrase_set_for_unencrypted_key_is_ignored(ed_key: Path) -> None:
    assert load_signing_key(str(ed_key), environ={"TALR_SIGNING_KEY_PASSPHRASE": "x"}).public.key_type == "ssh-ed25519"


@pytest.mark.parametrize(
    ("spec", "environ", "message"),
    [
        (None, {}, "no signing key: pass --key"),
        ("env:NOPE", {}, "env:NOPE: environment variable NOPE is not set"),
    ],
)
def test_missing_key_messages(spec: str | None, environ: dict[str, str], message: str) -> None:
    with pytest.raises(SigningError, match=message):
        load_signing_key(spec, environ=environ)


def test_malformed_key_error_does_not_contain_key_material(ed_key: Path, tmp_path: Path) -> None:
    lines = ed_key.read_text().splitlines()
    body = lines[1:-1]
    body[1] = body[1][:10] + ("A" if body[1][10] != "A" else "B") + body[1][11:]
    broken = tmp_path / "broken"
    broken.write_text("\n".join([lines[0], *body, lines[-1]]) + "\n")
    with pytest.raises(SigningError) as info:
        load_signing_key(str(broken), environ={})
    message = str(info.value)
    assert message.startswith(f"{broken}: ")
    assert all(chunk not in message for chunk in body)


def test_public_key_given_as_private_key(ed_key: Path) -> None:
    with pytest.raises(SigningError, match="this is a public key"):
        load_signing_key(str(ed_key) + ".pub", environ={})


def test_sha256_signatures_from_ssh_keygen_are_accepted(tmp_path: Path, ed_key: Path) -> None:
    data_file = tmp_path / "f.bin"
    data_file.write_bytes(DATA)
    subprocess.run([SSH_KEYGEN, "-Y", "sign", "-O", "hashalg=sha256", "-f", str(ed_key), "-n", "talr",
                    str(data_file)], check=True, capture_output=True)
    armored = (tmp_path / "f.bin.sig").read_text()
    assert armored != sign_bytes(DATA, load_signing_key(str(ed_key)))  # TALR itself signs with sha512
    allowed = AllowedSigners.load(_allowed(tmp_path, allowed_line("ci", ed_key)))
    assert verify_bytes(DATA, armored, allowed).principal == "ci"
    with pytest.raises(VerificationError, match="does not match"):
        verify_bytes(DATA + b"\n", armored, allowed)
