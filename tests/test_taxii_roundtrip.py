"""A ``talr build`` indicator sent to a real TAXII 2.1 server (medallion on 127.0.0.1) and read back
still verifies. The server harness is the signing tests' ``taxii_url`` fixture (medallion subprocess,
memory backend, Basic auth, torn down after the test)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from taxii2client.v21 import Collection

from talr_tools.config import load_config
from talr_tools.release.build import BuildOptions, build_release
from talr_tools.signing import AllowedSigners, VerificationError, verify_object
from tests.test_build_support import OFFICE, POWERSHELL, copy_fixture, indicator_of, keygen, load_bundle
from tests.test_signing_taxii import PASSWORD, USER, taxii_url  # noqa: F401  (fixture)


def test_built_indicators_survive_a_taxii_round_trip(taxii_url: str, tmp_path: Path) -> None:  # noqa: F811
    root = copy_fixture(tmp_path / "rules-repo")
    key, allowed_file = keygen(tmp_path)
    build_release(load_config(root / "talr.toml"), BuildOptions(output=tmp_path / "dist", sign_key=str(key)))
    bundle = load_bundle(tmp_path / "dist" / "talr-bundle.json")
    sent = [indicator_of(bundle, POWERSHELL), indicator_of(bundle, OFFICE)]
    allowed = AllowedSigners.load(allowed_file)

    collection = Collection(taxii_url, user=USER, password=PASSWORD)
    status = collection.add_objects({"objects": sent})
    assert status.status == "complete" and status.success_count == 2

    received = {o["id"]: o for o in collection.get_objects()["objects"]}
    for indicator in sent:
        back = received[indicator["id"]]
        assert back == indicator  # equal JSON (not equal bytes: the server re-serialised it)
        assert verify_object(back, allowed).fingerprint.startswith("SHA256:")

    changed = copy.deepcopy(received[sent[0]["id"]])
    changed["pattern"] = changed["pattern"].replace("powershell.exe", "pwsh.exe")
    with pytest.raises(VerificationError, match="changed after it was signed"):
        verify_object(changed, allowed)
