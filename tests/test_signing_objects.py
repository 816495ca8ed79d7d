"""Per-object signatures over RFC 8785 canonical JSON, and the JCS fast path."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path

import pytest
import rfc8785

from talr_tools.signing import (
    OBJECT_NAMESPACE,
    AllowedSigners,
    VerificationError,
    canonical_json,
    load_signing_key,
    object_signature,
    sign_object,
    signing_payload,
    verify_object,
)
from talr_tools.signing.sshsig import armor
from talr_tools.stix.ids import EXTENSION_DEFINITION_ID
from tests.test_signing_support import allowed_line, keygen, needs_ssh_keygen, sample_indicator, ssh_verify

pytestmark = needs_ssh_keygen


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, AllowedSigners]:
    key = keygen(tmp_path)
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(allowed_line("release@example.org", key))
    return key, AllowedSigners.load(allowed)


def test_round_trip_and_signature_shape(setup: tuple[Path, AllowedSigners]) -> None:
    key_path, allowed = setup
    key = load_signing_key(str(key_path))
    obj = sample_indicator()
    signed = sign_object(obj, key)
    assert "signature" not in obj["extensions"][EXTENSION_DEFINITION_ID]  # input untouched
    sig = signed["extensions"][EXTENSION_DEFINITION_ID]["signature"]
    assert sig["key_fingerprint"] == key.fingerprint
    assert sig["namespace"] == OBJECT_NAMESPACE
    verified = verify_object(signed, allowed)
    assert verified.principal == "release@example.org"
    assert verified.fingerprint == key.fingerprint
    # deterministic (Ed25519): signing again gives the same value
    assert sign_object(signed, key) == signed


def test_sign_in_place(setup: tuple[Path, AllowedSigners]) -> None:
    key_path, allowed = setup
    key = load_signing_key(str(key_path))
    obj = sample_indicator()
    copied = sign_object(obj, key)
    same = sign_object(obj, key, in_place=True)
    assert same is obj
    assert same == copied
    assert verify_object(obj, allowed).fingerprint == key.fingerprint


def test_survives_json_reserialisation(setup: tuple[Path, AllowedSigners]) -> None:
    key_path, allowed = setup
    signed = sign_object(sample_indicator(), load_signing_key(str(key_path)))
    # what a TAXII server may do: other key order, indentation, ASCII escapes
    text = json.dumps(dict(reversed(list(signed.items()))), indent=3, ensure_ascii=True)
    assert verify_object(json.loads(text), allowed).principal == "release@example.org"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda o: o.update(name="Something else"),
        lambda o: o.update(pattern=o["pattern"].replace("evil", "good")),
        lambda o: o["kill_chain_phases"].append({"kill_chain_name": "mitre-attack", "phase_name": "persistence"}),
        lambda o: o["extensions"][EXTENSION_DEFINITION_ID].update(version=4),
        lambda o: o.update(object_marking_refs=["marking-definition--x"]),
        lambda o: o.pop("labels"),
    ],
)
def test_object_changed_after_signing_is_refused(setup: tuple[Path, AllowedSigners], tamper) -> None:  # type: ignore[no-untyped-def]
    key_path, allowed = setup
    signed = sign_object(sample_indicator(), load_signing_key(str(key_path)))
    tamper(signed)
    with pytest.raises(VerificationError, match=r"^indicator--\S+: object changed after it was signed"):
        verify_object(signed, allowed)


def test_missing_signature_is_refused(setup: tuple[Path, AllowedSigners]) -> None:
    _, allowed = setup
    obj = sample_indicator()
    with pytest.raises(VerificationError, match=r"^indicator--\S+: missing object signature$"):
        verify_object(obj, allowed)
    del obj["extensions"]
    with pytest.raises(VerificationError, match="missing object signature"):
        verify_object(obj, allowed)


def test_unknown_key_is_refused(setup: tuple[Path, AllowedSigners], tmp_path: Path) -> None:
    _, allowed = setup
    other = load_signing_key(str(keygen(tmp_path, "intruder")))
    with pytest.raises(VerificationError, match="is not in the allowed signers file"):
        verify_object(sign_object(sample_indicator(), other), allowed)


def test_fingerprint_field_must_name_the_signing_key(setup: tuple[Path, AllowedSigners]) -> None:
    key_path, allowed = setup
    signed = sign_object(sample_indicator(), load_signing_key(str(key_path)))
    signed["extensions"][EXTENSION_DEFINITION_ID]["signature"]["key_fingerprint"] = "SHA256:someoneelse"
    with pytest.raises(VerificationError, match="key_fingerprint SHA256:someoneelse is not the signing key"):
        verify_object(signed, allowed)


def test_garbage_signature_value(setup: tuple[Path, AllowedSigners]) -> None:
    key_path, allowed = setup
    signed = sign_object(sample_indicator(), load_signing_key(str(key_path)))
    sig = signed["extensions"][EXTENSION_DEFINITION_ID]["signature"]
    sig["value"] = "not base64!"
    with pytest.raises(VerificationError, match="not valid base64"):
        verify_object(signed, allowed)
    sig["value"] = base64.b64encode(b"SSHSIG\x00\x00").decode()
    with pytest.raises(VerificationError, match="malformed SSHSIG signature"):
        verify_object(signed, allowed)


def test_bundle_signature_cannot_be_replayed_as_object_signature(setup: tuple[Path, AllowedSigners]) -> None:
    from talr_tools.signing.sshsig import sign_blob

    key_path, allowed = setup
    key = load_signing_key(str(key_path))
    signed = sign_object(sample_indicator(), key)
    blob = sign_blob(signing_payload(signed), key, "talr")
    signed["extensions"][EXTENSION_DEFINITION_ID]["signature"]["value"] = base64.b64encode(blob).decode()
    with pytest.raises(VerificationError, match="namespace is 'talr', expected 'talr-object'"):
        verify_object(signed, allowed)


def test_ssh_keygen_verifies_an_object_signature(setup: tuple[Path, AllowedSigners], tmp_path: Path) -> None:
    """The documented manual check: JCS bytes + the value wrapped in armor."""
    key_path, _ = setup
    signed = sign_object(sample_indicator(), load_signing_key(str(key_path)))
    blob = base64.b64decode(object_signature(signed)["value"])  # type: ignore[index]
    sig = tmp_path / "obj.sig"
    sig.write_text(armor(blob))
    payload = rfc8785.dumps({**signed, "extensions": {EXTENSION_DEFINITION_ID: {
        k: v for k, v in signed["extensions"][EXTENSION_DEFINITION_ID].items() if k != "signature"}}})
    result = ssh_verify(tmp_path / "allowed_signers", "release@example.org", OBJECT_NAMESPACE, sig, payload)
    assert result.returncode == 0, result.stderr


# --- canonical JSON ------------------------------------------------------------------------------

EDGE_CASES = [
    sample_indicator(),
    {"a": "\u0000\u0001\u001f\u007f\u0080\u2028\u2029\ud7ff\ue000\uffff", "b": '"\\/', "c": "\b\t\n\f\r"},
    {"é": 1, "e": 2, "z": 3, "A": 4, "\u00ff": 5, "\u0100": 6, "": 7},
    {"astral-key-\U0001f600": 1, "\ue000": 2},  # keys above U+D800: rfc8785 route
    {"n": [0, -1, 2**53 - 1, -(2**53 - 1), True, False, None], "f": 1.0},  # float: rfc8785 route
    {"f": [1.5e300, 0.1, -0.0, 1e21, 1e-7]},
    {"nested": [{"b": [], "a": {}}, [[]], ""]},
]


@pytest.mark.parametrize("obj", EDGE_CASES)
def test_canonical_json_equals_rfc8785(obj: object) -> None:
    assert canonical_json(obj) == rfc8785.dumps(obj)


def test_canonical_json_refuses_big_integers_like_rfc8785() -> None:
    with pytest.raises(rfc8785.IntegerDomainError):
        canonical_json({"n": 2**53})


@pytest.mark.corpus
def test_canonical_json_equals_rfc8785_on_corpus_rules(corpus: Path) -> None:
    """Real rule texts as indicator patterns: the fast path gives rfc8785's exact bytes."""
    files = sorted(corpus.rglob("*.yml"))[:400]
    for path in files:
        obj = copy.deepcopy(sample_indicator())
        obj["pattern"] = path.read_text(encoding="utf-8")
        obj["name"] = path.stem
        assert canonical_json(obj) == rfc8785.dumps(obj), path


def test_values_outside_i_json_are_clear_errors(setup: tuple[Path, AllowedSigners]) -> None:
    from talr_tools.signing import SigningError

    key_path, allowed = setup
    key = load_signing_key(str(key_path))
    with pytest.raises(SigningError, match=r"^indicator--\S+: cannot canonicalise \(RFC 8785\)"):
        sign_object({**sample_indicator(), "confidence": float("nan")}, key)
    signed = sign_object(sample_indicator(), key)
    signed["extensions"][EXTENSION_DEFINITION_ID]["version"] = 2**60
    with pytest.raises(VerificationError, match=r"^indicator--\S+: cannot canonicalise the object"):
        verify_object(signed, allowed)
