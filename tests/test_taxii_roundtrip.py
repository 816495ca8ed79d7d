"""A signed indicator sent to a real TAXII 2.1 server (medallion on 127.0.0.1) and read back still verifies."""

from __future__ import annotations

import copy
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from base64 import b64encode
from collections.abc import Iterator
from pathlib import Path

import pytest
from taxii2client.v21 import Collection, Server

from talr_tools.config import load_config
from talr_tools.release.build import BuildOptions, build_release
from talr_tools.signing import AllowedSigners, VerificationError, verify_object
from tests.test_build_support import POWERSHELL, copy_fixture, indicator_of, keygen, load_bundle

USER, PASSWORD = "talr-test", "not-a-real-secret"
COLLECTION_ID = "365fed99-08fa-fdcd-a1b3-fb247eb41d01"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(url: str) -> bool:
    token = b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    request = urllib.request.Request(url, headers={"Accept": "application/taxii+json;version=2.1",
                                                   "Authorization": f"Basic {token}"})
    try:
        with urllib.request.urlopen(request, timeout=1) as answer:
            return int(answer.status) == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


@pytest.fixture
def taxii_url(tmp_path: Path) -> Iterator[str]:
    """A medallion TAXII 2.1 server with a memory backend and Basic auth, torn down after the test."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    data = {
        "/discovery": {"title": "TALR test", "description": "test", "contact": "test@example.org",
                       "default": f"{base}/rules/", "api_roots": [f"{base}/rules/"]},
        "rules": {
            "information": {"title": "rules", "description": "test root", "max_content_length": 10485760,
                            "versions": ["application/taxii+json;version=2.1"]},
            "status": [],
            "collections": [{
                "id": COLLECTION_ID, "title": "TALR rules", "description": "test", "can_read": True,
                "can_write": True, "media_types": ["application/stix+json;version=2.1"], "objects": [],
                "manifest": [],
            }],
        },
    }
    (tmp_path / "data.json").write_text(json.dumps(data), encoding="utf-8")
    config = {
        "backend": {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend",
                    "filename": str(tmp_path / "data.json")},
        "users": {USER: PASSWORD},
        "taxii": {"max_page_size": 100},
    }
    (tmp_path / "medallion.json").write_text(json.dumps(config), encoding="utf-8")
    server = subprocess.Popen(
        [sys.executable, "-m", "medallion.scripts.run", "--host", "127.0.0.1", "--port", str(port),
         str(tmp_path / "medallion.json")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if _answers(f"{base}/taxii2/"):
                break
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail("medallion did not start")
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_signed_indicator_survives_a_taxii_round_trip(taxii_url: str, tmp_path: Path) -> None:
    root = copy_fixture(tmp_path / "rules-repo")
    key, allowed_file = keygen(tmp_path)
    build_release(load_config(root / "talr.toml"), BuildOptions(output=tmp_path / "dist", sign_key=str(key)))
    indicator = indicator_of(load_bundle(tmp_path / "dist" / "talr-bundle.json"), POWERSHELL)
    allowed = AllowedSigners.load(allowed_file)
    verify_object(indicator, allowed)  # sanity: it verifies before the trip

    server = Server(f"{taxii_url}/taxii2/", user=USER, password=PASSWORD)
    (api_root,) = server.api_roots
    collection = Collection(f"{api_root.url}collections/{COLLECTION_ID}/", user=USER, password=PASSWORD)
    status = collection.add_objects({"objects": [indicator]})
    assert status.status == "complete" and status.success_count == 1

    envelope = collection.get_objects()
    (back,) = [o for o in envelope["objects"] if o["id"] == indicator["id"]]
    assert back == indicator  # equal JSON (not equal bytes: the server re-serialised it)
    signed = verify_object(back, allowed)
    assert signed.fingerprint.startswith("SHA256:")

    changed = copy.deepcopy(back)
    changed["pattern"] = changed["pattern"].replace("powershell.exe", "pwsh.exe")
    with pytest.raises(VerificationError, match="changed after it was signed"):
        verify_object(changed, allowed)
