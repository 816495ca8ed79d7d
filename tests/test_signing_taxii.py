"""Object signatures survive a round trip through a real TAXII 2.1 server (medallion on 127.0.0.1)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from talr_tools.signing import AllowedSigners, load_signing_key, sign_object, verify_object
from talr_tools.stix.ids import EXTENSION_DEFINITION_ID
from tests.test_signing_support import allowed_line, keygen, needs_ssh_keygen, sample_indicator

pytestmark = needs_ssh_keygen
COLLECTION = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
USER, PASSWORD = "talr", "talr-test-password"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def taxii_url(tmp_path: Path) -> Iterator[str]:
    """A medallion server (memory backend, one writable collection) on 127.0.0.1; yields the collection URL."""
    port = _free_port()
    data = {
        "/discovery": {"title": "TALR test", "default": f"http://127.0.0.1:{port}/rules/",
                       "api_roots": [f"http://127.0.0.1:{port}/rules/"]},
        "rules": {
            "information": {"title": "rules", "versions": ["application/taxii+json;version=2.1"],
                            "max_content_length": 50_000_000},
            "status": [],
            "collections": [{"id": COLLECTION, "title": "TALR rules", "can_read": True, "can_write": True,
                             "media_types": ["application/stix+json;version=2.1"], "objects": [],
                             "manifest": []}],
        },
    }
    (tmp_path / "data.json").write_text(json.dumps(data))
    config = {"backend": {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend",
                          "filename": str(tmp_path / "data.json")},
              "users": {USER: PASSWORD}, "taxii": {"max_page_size": 100}}
    (tmp_path / "medallion.json").write_text(json.dumps(config))
    log = (tmp_path / "medallion.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "medallion.scripts.run", "--host", "127.0.0.1", "--port",
                             str(port), str(tmp_path / "medallion.json")], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"medallion did not start: {(tmp_path / 'medallion.log').read_text()[-2000:]}")
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/rules/collections/{COLLECTION}/"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_signed_indicators_verify_after_a_taxii_round_trip(tmp_path: Path, taxii_url: str) -> None:
    from taxii2client.v21 import Collection

    key_path = keygen(tmp_path)
    (tmp_path / "allowed_signers").write_text(allowed_line("release@example.org", key_path))
    allowed = AllowedSigners.load(tmp_path / "allowed_signers")
    key = load_signing_key(str(key_path))
    sent = [sign_object(sample_indicator(rule_id=f"00000000-0000-4000-8000-00000000000{i}", name=f"Rule {i}"), key)
            for i in range(3)]
    collection = Collection(taxii_url, user=USER, password=PASSWORD)
    status = collection.add_objects({"objects": sent})
    assert status.success_count == 3, status

    envelope: dict[str, Any] = collection.get_objects()
    received = {o["id"]: o for o in envelope["objects"]}
    assert set(received) == {o["id"] for o in sent}
    for obj in sent:
        back = received[obj["id"]]
        assert back == obj  # equal JSON values (the server re-serialises: bytes may differ)
        assert verify_object(back, allowed).principal == "release@example.org"

    # a consumer checks what the server returns, so a changed object is caught on the way in
    tampered = json.loads(json.dumps(received[sent[0]["id"]]))
    tampered["extensions"][EXTENSION_DEFINITION_ID]["level"] = "low"
    from talr_tools.signing import VerificationError

    with pytest.raises(VerificationError, match="object changed after it was signed"):
        verify_object(tampered, allowed)
