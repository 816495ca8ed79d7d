"""``talr sign`` and ``talr verify`` through the real command line."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from talr_tools.signing import load_signing_key, sign_file, sign_object
from talr_tools.stix.ids import EXTENSION_DEFINITION_ID, stix_id
from tests.test_signing_support import allowed_line, keygen, needs_ssh_keygen, public_line, sample_indicator, ssh_verify

pytestmark = needs_ssh_keygen
Run = Callable[..., Any]
PRINCIPAL = "release@example.org"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A rule repository with talr.toml, a release key and .talr/allowed_signers."""
    root = tmp_path / "rules-repo"
    (root / ".talr").mkdir(parents=True)
    (root / "keys").mkdir()
    (root / "talr.toml").write_text('[signing]\nallowed_signers = ".talr/allowed_signers"\n')
    key = keygen(root / "keys", "release")
    (root / ".talr" / "allowed_signers").write_text(allowed_line(PRINCIPAL, key, 'namespaces="talr,talr-object"'))
    return root


def make_bundle(path: Path, key_path: Path | None, *, unsigned: int = 0, n: int = 3) -> list[dict[str, Any]]:
    """Write a bundle of ``n`` indicators (signed with ``key_path``, the first ``unsigned`` left unsigned)."""
    key = load_signing_key(str(key_path)) if key_path else None
    objects: list[dict[str, Any]] = []
    for i in range(n):
        ind = sample_indicator(rule_id=f"00000000-0000-4000-8000-00000000000{i}", name=f"Rule {i}")
        objects.append(ind if i < unsigned or key is None else sign_object(ind, key))
        objects.append({"type": "relationship", "spec_version": "2.1", "id": stix_id("relationship", str(i)),
                        "created": "2024-01-02T03:04:05.000Z", "modified": "2024-01-02T03:04:05.000Z",
                        "relationship_type": "indicates", "source_ref": ind["id"],
                        "target_ref": "attack-pattern--970a3432-3237-47ad-bcca-7d8cbb217736"})
    bundle = {"type": "bundle", "id": "bundle--6a3f1c52-8e0b-5d7e-9c41-2f7b3a9d0e15", "objects": objects}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(bundle, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    return objects


def release(repo: Path, run_talr: Run, **kwargs: Any) -> Path:
    bundle = repo / "dist" / "talr-bundle.json"
    make_bundle(bundle, repo / "keys" / "release", **kwargs)
    result = run_talr("sign", str(bundle), "--key", str(repo / "keys" / "release"), cwd=repo)
    assert result.returncode == 0, result.stderr
    return bundle


def test_all_good_prints_summary_and_exits_0(repo: Path, run_talr: Run) -> None:
    bundle = release(repo, run_talr)
    result = run_talr("verify", str(bundle), cwd=repo)
    assert result.returncode == 0, result.stderr
    fp = load_signing_key(str(repo / "keys" / "release")).fingerprint
    assert f"OK {bundle}: detached signature by {PRINCIPAL} ({fp}); 3 object signature(s) verified of 6" in result.stdout
    # and the stock tool accepts the same file with the same allowed signers
    sig = bundle.with_name("talr-bundle.json.sig")
    assert ssh_verify(repo / ".talr" / "allowed_signers", PRINCIPAL, "talr", sig, bundle.read_bytes()).returncode == 0


def test_one_changed_byte_of_the_bundle(repo: Path, run_talr: Run) -> None:
    bundle = release(repo, run_talr)
    data = bundle.read_bytes()
    i = data.index(b"Rule 1")
    bundle.write_bytes(data[:i] + b"Rule 7" + data[i + 6:])
    result = run_talr("verify", str(bundle), cwd=repo)
    assert result.returncode == 1
    assert f"talr: verify: {bundle}.sig: signature does not match the data" in result.stderr
    assert "object changed after it was signed" in result.stderr
    assert "Traceback" not in result.stderr


def test_changed_whitespace_byte_fails_the_detached_signature_only(repo: Path, run_talr: Run) -> None:
    bundle = release(repo, run_talr)
    bundle.write_bytes(bundle.read_bytes().replace(b'\n  "objects"', b'\n "objects"', 1))
    result = run_talr("verify", str(bundle), cwd=repo)
    assert result.returncode == 1
    assert "signature does not match the data" in result.stderr
    assert "FAILED" in result.stderr and "1 problem(s)" in result.stderr


def test_bundle_broken_json_is_a_failure_with_position(repo: Path, run_talr: Run) -> None:
    bundle = release(repo, run_talr)
    bundle.write_bytes(bundle.read_bytes().replace(b"{", b"[", 2))
    result = run_talr("verify", str(bundle), cwd=repo)
    assert result.returncode == 1
    assert f"{bundle}:2:" in result.stderr and "not valid JSON" in result.stderr


def test_key_not_in_allowed_signers(repo: Path, run_talr: Run, tmp_path: Path) -> None:
    intruder = keygen(tmp_path, "intruder")
    bundle = repo / "dist" / "talr-bundle.json"
    make_bundle(bundle, intruder)
    assert run_talr("sign", str(bundle), "--key", str(intruder), cwd=repo).returncode == 0
    result = run_talr("verify", str(bundle), cwd=repo)
    assert result.returncode == 1
    fp = load_signing_key(str(intruder)).fingerprint
    assert f"key {fp} is not in the allowed signers file" in result.stderr
    assert result.stderr.count("is not in the allowed signers file") == 4  # .sig + 3 indicators


def test_missing_object_signature(repo: Path, run_talr: Run) -> None:
    bundle = release(repo, run_talr, unsigned=1)
    result = run_talr("verify", str(bundle), cwd=repo)
    assert result.returncode == 1
    ind = sample_indicator(rule_id="00000000-0000-4000-8000-000000000000")["id"]
    assert f"talr: verify: {bundle}: {ind}: missing object signature" in result.stderr


def test_missing_detached_signature(repo: Path, run_talr: Run) -> None:
    bundle = repo / "dist" / "talr-bundle.json"
    make_bundle(bundle, repo / "keys" / "release")
    ok = run_talr("verify", str(bundle), cwd=repo)
    assert ok.returncode == 0, ok.stderr
    assert "no detached signature" in ok.stdout
    result = run_talr("verify", str(bundle), "--require-detached", cwd=repo)
    assert result.returncode == 1
    assert f"{bundle}.sig: missing detached signature" in result.stderr


def test_object_changed_after_signing_even_with_a_fresh_bundle_signature(repo: Path, run_talr: Run) -> None:
    """A re-released bundle with a valid .sig does not launder an object changed after it was signed."""
    bundle = repo / "dist" / "talr-bundle.json"
    objects = make_bundle(bundle, repo / "keys" / "release")
    objects[2]["pattern"] = objects[2]["pattern"].replace("evil", "benign")
    bundle.write_text(json.dumps({"type": "bundle", "id": "bundle--x", "objects": objects}))
    assert run_talr("sign", str(bundle), "--key", str(repo / "keys" / "release"), cwd=repo).returncode == 0
    result = run_talr("verify", str(bundle), cwd=repo)
    assert result.returncode == 1
    assert f"{objects[2]['id']}: object changed after it was signed" in result.stderr
    assert "1 problem(s)" in result.stderr


def test_expired_key(repo: Path, run_talr: Run) -> None:
    bundle = release(repo, run_talr)
    key = repo / "keys" / "release"
    (repo / ".talr" / "allowed_signers").write_text(
        allowed_line(PRINCIPAL, key, 'valid-after="20200101",valid-before="20250101Z"'))
    result = run_talr("verify", str(bundle), cwd=repo)
    assert result.returncode == 1
    assert "expired on 2025-01-01T00:00:00+00:00" in result.stderr
    assert "allowed_signers:1 valid-before" in result.stderr


def test_revoked_key_from_the_repository_revocation_list(repo: Path, run_talr: Run) -> None:
    bundle = release(repo, run_talr)
    (repo / ".talr" / "revoked_keys").write_text(public_line(repo / "keys" / "release") + " leaked\n")
    result = run_talr("verify", str(bundle), cwd=repo)
    assert result.returncode == 1
    assert f"is revoked ({repo / '.talr' / 'revoked_keys'}:1)" in result.stderr


def test_allowed_signers_option_and_missing_file(repo: Path, run_talr: Run, tmp_path: Path) -> None:
    bundle = release(repo, run_talr)
    elsewhere = tmp_path / "trusted"
    elsewhere.write_text(allowed_line("someone", repo / "keys" / "release"))
    result = run_talr("verify", str(bundle), "--allowed-signers", str(elsewhere), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "detached signature by someone" in result.stdout
    (repo / ".talr" / "allowed_signers").unlink()
    missing = run_talr("verify", str(bundle), cwd=repo)
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines() == [
        f"talr: error: {repo / '.talr' / 'allowed_signers'}: no allowed signers file; pass --allowed-signers FILE "
        "or set [signing] allowed_signers in talr.toml"]


def test_malformed_allowed_signers_is_exit_2_with_line(repo: Path, run_talr: Run) -> None:
    bundle = release(repo, run_talr)
    path = repo / ".talr" / "allowed_signers"
    path.write_text("# signers\n" + path.read_text() + 'ci valid-before="soon" ssh-ed25519 AAAA\n')
    result = run_talr("verify", str(bundle), cwd=repo)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"talr: error: {path}:3: valid-before must be YYYYMMDD[HHMM[SS]][Z], not 'soon'")


def test_detached_only_for_any_file(repo: Path, run_talr: Run) -> None:
    notes = repo / "dist" / "release-notes.md"
    notes.parent.mkdir()
    notes.write_text("# Release\n")
    assert run_talr("sign", str(notes), "--key", str(repo / "keys" / "release"), cwd=repo).returncode == 0
    assert run_talr("verify", str(notes), "--detached-only", cwd=repo).returncode == 0
    notes.write_text("# Release!\n")
    result = run_talr("verify", str(notes), "--detached-only", cwd=repo)
    assert result.returncode == 1
    assert "signature does not match the data" in result.stderr


# --- talr sign: keys ----------------------------------------------------------------------------


def test_sign_with_key_from_env_never_prints_it(repo: Path, run_talr: Run) -> None:
    key_text = (repo / "keys" / "release").read_text()
    target = repo / "file.txt"
    target.write_text("payload\n")
    for args, env in ((["--key", "env:CI_SECRET"], {"CI_SECRET": key_text}), ([], {"TALR_SIGNING_KEY": key_text})):
        result = run_talr("sign", str(target), *args, cwd=repo, env=env)
        assert result.returncode == 0, result.stderr
        assert _no_key_material(key_text, result.stdout + result.stderr)
        res = ssh_verify(repo / ".talr" / "allowed_signers", PRINCIPAL, "talr", repo / "file.txt.sig", b"payload\n")
        assert res.returncode == 0


@pytest.mark.parametrize("via_env", [False, True])
def test_malformed_key_is_one_line_exit_2_without_key_material(repo: Path, run_talr: Run, via_env: bool) -> None:
    good = (repo / "keys" / "release").read_text()
    lines = good.splitlines()
    lines[2] = lines[2][:5] + "!!" + lines[2][7:]
    broken_text = "\n".join(lines) + "\n"
    target = repo / "file.txt"
    target.write_text("payload\n")
    old_sig = repo / "file.txt.sig"
    old_sig.write_text("previous signature\n")
    if via_env:
        result = run_talr("sign", str(target), "--key", "env:K", cwd=repo, env={"K": broken_text})
        source = "env:K"
    else:
        broken = repo / "keys" / "broken"
        broken.write_text(broken_text)
        result = run_talr("sign", str(target), "--key", str(broken), cwd=repo)
        source = str(broken)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip() == f"talr: error: {source}: malformed or unsupported private key"
    assert _no_key_material(broken_text, result.stdout + result.stderr)
    assert old_sig.read_text() == "previous signature\n"  # nothing half-written


def test_sign_missing_file_and_missing_key(repo: Path, run_talr: Run) -> None:
    result = run_talr("sign", str(repo / "nope.json"), "--key", str(repo / "keys" / "release"), cwd=repo)
    assert (result.returncode, result.stderr.strip()) == (2, f"talr: error: {repo / 'nope.json'}: no such file")
    target = repo / "f"
    target.write_text("x")
    env = {k: v for k, v in os.environ.items() if k != "TALR_SIGNING_KEY"}
    result = run_talr("sign", str(target), cwd=repo, env=env)
    assert result.returncode == 2 and "no signing key" in result.stderr
    assert not (repo / "f.sig").exists()


def test_signature_write_is_atomic(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure while replacing FILE.sig leaves the old signature and no temporary file."""
    target = repo / "bundle.json"
    target.write_text("{}")
    sig = repo / "bundle.json.sig"
    sig.write_text("old\n")
    key = load_signing_key(str(repo / "keys" / "release"))

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        sign_file(target, key)
    monkeypatch.undo()
    assert sig.read_text() == "old\n"
    assert sorted(p.name for p in repo.iterdir() if p.is_file()) == ["bundle.json", "bundle.json.sig", "talr.toml"]
    sign_file(target, key)
    assert sig.read_text().startswith("-----BEGIN SSH SIGNATURE-----\n")


def test_other_signed_objects_are_verified_too(repo: Path, run_talr: Run) -> None:
    """A relationship carrying a TALR signature is checked like an indicator."""
    bundle = repo / "dist" / "talr-bundle.json"
    objects = make_bundle(bundle, repo / "keys" / "release")
    rel = sign_object(objects[1], load_signing_key(str(repo / "keys" / "release")))
    rel["relationship_type"] = "related-to"
    objects[1] = rel
    bundle.write_text(json.dumps({"type": "bundle", "id": "bundle--x", "objects": objects}))
    result = run_talr("verify", str(bundle), cwd=repo)
    assert result.returncode == 1
    assert f"{rel['id']}: object changed after it was signed" in result.stderr
    assert EXTENSION_DEFINITION_ID in json.dumps(rel)


def _no_key_material(key_text: str, output: str) -> bool:
    body = [line for line in key_text.splitlines() if line and not line.startswith("-----")]
    return all(line not in output and line[:20] not in output for line in body)


def test_taxii_envelope_and_single_object(repo: Path, run_talr: Run) -> None:
    """Objects read back from a TAXII server (an envelope, or one object) verify without a bundle."""
    objects = make_bundle(repo / "dist" / "b.json", repo / "keys" / "release")
    envelope = repo / "envelope.json"
    envelope.write_text(json.dumps({"more": False, "objects": objects}, indent=1))
    result = run_talr("verify", str(envelope), cwd=repo)
    assert result.returncode == 0, result.stderr
    assert "3 object signature(s) verified of 6" in result.stdout
    single = repo / "indicator.json"
    single.write_text(json.dumps(objects[0]))
    assert run_talr("verify", str(single), cwd=repo).returncode == 0
    single.write_text(json.dumps({**objects[0], "name": "renamed"}))
    result = run_talr("verify", str(single), cwd=repo)
    assert result.returncode == 1 and "object changed after it was signed" in result.stderr
    not_stix = repo / "list.json"
    not_stix.write_text("[1, 2]")
    result = run_talr("verify", str(not_stix), cwd=repo)
    assert result.returncode == 1 and "not a STIX bundle, TAXII envelope or STIX object" in result.stderr


def test_without_talr_toml_allowed_signers_default_is_relative_to_cwd(repo: Path, run_talr: Run) -> None:
    bundle = release(repo, run_talr)
    (repo / "talr.toml").unlink()
    result = run_talr("verify", str(bundle), cwd=repo)
    assert result.returncode == 0, result.stderr
    assert f"detached signature by {PRINCIPAL}" in result.stdout
