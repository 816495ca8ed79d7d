"""Helpers for the signing tests (no tests here): real ssh-keygen keys and allowed-signers lines."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from talr_tools.stix.ids import EXTENSION_DEFINITION_ID, indicator_id

SSH_KEYGEN = shutil.which("ssh-keygen")
needs_ssh_keygen = pytest.mark.skipif(SSH_KEYGEN is None, reason="ssh-keygen not installed")


def keygen(folder: Path, name: str = "id_ed25519", key_type: str = "ed25519", passphrase: str = "",
           bits: int | None = None) -> Path:
    """Generate a key with the real ``ssh-keygen``; returns the private key path (``.pub`` next to it)."""
    assert SSH_KEYGEN is not None
    path = folder / name
    cmd = [SSH_KEYGEN, "-q", "-t", key_type, "-N", passphrase, "-C", f"{name}@test", "-f", str(path)]
    if bits:
        cmd[2:2] = ["-b", str(bits)]
    subprocess.run(cmd, check=True, capture_output=True)
    return path


def public_line(private: Path) -> str:
    """``keytype base64`` of the key's ``.pub`` file."""
    return " ".join(private.with_name(private.name + ".pub").read_text().split()[:2])


def allowed_line(principal: str, private: Path, options: str = "") -> str:
    """One allowed_signers line for ``private``'s public key."""
    return f"{principal} {options + ' ' if options else ''}{public_line(private)}\n"


def ssh_verify(allowed: Path, principal: str, namespace: str, sig: Path, data: bytes,
               revoked: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run the stock ``ssh-keygen -Y verify``."""
    assert SSH_KEYGEN is not None
    cmd = [SSH_KEYGEN, "-Y", "verify", "-f", str(allowed), "-I", principal, "-n", namespace, "-s", str(sig)]
    if revoked is not None:
        cmd += ["-r", str(revoked)]
    return subprocess.run(cmd, input=data, capture_output=True)


def sample_indicator(rule_id: str = "0b6b2b1a-7d3e-4f5b-9a64-2f2b3c4d5e6f", name: str = "Suspicious thing") -> dict:
    """A realistic TALR indicator (unsigned) for signing tests."""
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": indicator_id(rule_id),
        "created": "2024-01-02T03:04:05.000Z",
        "modified": "2024-05-06T07:08:09.000Z",
        "name": name,
        "description": "Détecte « quelque chose » — with unicode, tabs\tand\nnewlines, emoji 🛡️, \u2028.",
        "pattern": f"title: x\nid: {rule_id}\nlogsource:\n  product: windows\ndetection:\n  sel:\n"
                   "    CommandLine|contains: '\\\\evil \"q\"'\n  condition: sel\n",
        "pattern_type": "sigma",
        "pattern_version": "2.1.0",
        "valid_from": "2024-01-02T03:04:05Z",
        "indicator_types": ["malicious-activity"],
        "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "execution"}],
        "labels": ["level:high", "status:test"],
        "external_references": [
            {"source_name": "mitre-attack", "external_id": "T1059.001",
             "url": "https://attack.mitre.org/techniques/T1059/001"},
        ],
        "extensions": {
            EXTENSION_DEFINITION_ID: {
                "extension_type": "property-extension",
                "rule_id": rule_id,
                "version": 3,
                "tlp": "clear",
                "changelog": [{"version": 1, "date": "2024-01-02", "note": "first"}],
            }
        },
    }
