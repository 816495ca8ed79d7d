"""Benchmark: the signing layer of a release of the SigmaHQ corpus (sign and verify costs).

Builds one synthetic TALR indicator per rule of ``../shared/corpus/sigmahq/rules`` (the rule
text as the pattern, realistic metadata in the TALR extension), generates an Ed25519 key with
the real ``ssh-keygen``, then measures in the same run:

- RFC 8785 canonicalisation: TALR's exact fast path against the ``rfc8785`` package;
- ``sign_object`` for every indicator and ``sign_bytes`` over the bundle (the signing share of
  the issue's 3 s build budget);
- ``verify_bundle`` in-process and ``talr verify`` end to end (a subprocess, Python start-up
  included) against the issue's 2 s target.

``talr build`` + ``talr verify`` on the real mapping are timed by ``bench_build.py``.

Usage: ``python benchmarks/bench_verify.py [--subset N] [--repeat K]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import rfc8785

from talr_tools.signing import (
    AllowedSigners,
    canonical_json,
    load_signing_key,
    sign_bytes,
    sign_object,
    signature_path,
    verify_bundle,
)
from talr_tools.stix.ids import EXTENSION_DEFINITION_ID, indicator_id, stix_id

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "sigmahq" / "rules"
VERIFY_TARGET = 2.0
BUILD_TARGET = 3.0


def indicators(files: list[Path]) -> list[dict[str, Any]]:
    """One indicator-shaped object per rule file (about the size of the real mapping)."""
    out = []
    for n, path in enumerate(files):
        text = path.read_text(encoding="utf-8")
        rid = f"00000000-0000-4000-8000-{n:012d}"
        out.append({
            "type": "indicator", "spec_version": "2.1", "id": indicator_id(rid),
            "created": "2024-01-02T03:04:05.000Z", "modified": "2024-05-06T07:08:09.000Z",
            "name": path.stem, "description": text[:300], "pattern": text, "pattern_type": "sigma",
            "pattern_version": "2.1.0", "valid_from": "2024-01-02T03:04:05Z",
            "indicator_types": ["malicious-activity"], "labels": ["level:high", "status:test"],
            "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "execution"}],
            "external_references": [{"source_name": "mitre-attack", "external_id": "T1059",
                                     "url": "https://attack.mitre.org/techniques/T1059"},
                                    {"source_name": "talr", "description": f"rules/{path.name}"}],
            "created_by_ref": stix_id("identity", "bench"),
            "object_marking_refs": ["marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"],
            "extensions": {EXTENSION_DEFINITION_ID: {
                "extension_type": "property-extension", "rule_id": rid, "version": 1, "status": "test",
                "level": "high", "tlp": "clear", "changelog": [{"version": 1, "date": "2024-01-02", "note": "x"}],
            }},
        })
    return out


def timed(fn: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``repeat`` runs."""
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main() -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--subset", type=int, default=None, help="only the first N rules")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (median)")
    args = parser.parse_args()
    if not CORPUS.is_dir():
        print(f"corpus not found at {CORPUS}", file=sys.stderr)
        return 1
    files = sorted(CORPUS.rglob("*.yml"))[: args.subset] if args.subset else sorted(CORPUS.rglob("*.yml"))
    objs = indicators(files)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "bench", "-f", str(folder / "key")],
                       check=True)
        key = load_signing_key(str(folder / "key"))
        pub = " ".join((folder / "key.pub").read_text().split()[:2])
        (folder / "allowed_signers").write_text(f'bench namespaces="talr,talr-object" {pub}\n')
        allowed = AllowedSigners.load(folder / "allowed_signers")

        t_fast = timed(lambda: [canonical_json(o) for o in objs], args.repeat)
        t_ref = timed(lambda: [rfc8785.dumps(o) for o in objs], args.repeat)
        same = all(canonical_json(o) == rfc8785.dumps(o) for o in objs)
        t_sign = timed(lambda: [sign_object(o, key) for o in objs], args.repeat)
        signed = [sign_object(o, key) for o in objs]
        bundle = folder / "talr-bundle.json"
        data = json.dumps({"type": "bundle", "id": "bundle--bench", "objects": signed}, indent=1,
                          sort_keys=True, ensure_ascii=False).encode("utf-8")
        bundle.write_bytes(data)
        t_bundle_sig = timed(lambda: sign_bytes(data, key), args.repeat)
        signature_path(bundle).write_text(sign_bytes(data, key))
        report = verify_bundle(bundle, allowed)
        assert report.ok and report.objects_verified == len(objs), report.failures[:3]
        t_verify = timed(lambda: verify_bundle(bundle, allowed), args.repeat)
        cli = [sys.executable, "-m", "talr_tools.cli.main", "verify", str(bundle),
               "--allowed-signers", str(folder / "allowed_signers")]
        t_cli = timed(lambda: subprocess.run(cli, check=True, capture_output=True), args.repeat)

    n = len(objs)
    print(f"rules: {n}  bundle: {len(data) / 1e6:.1f} MB  key: Ed25519  runs: median of {args.repeat}")
    print(f"JCS fast path   {t_fast:6.3f} s  ({t_fast / n * 1e6:5.1f} us/object)  identical bytes: {same}")
    print(f"JCS rfc8785     {t_ref:6.3f} s  ({t_ref / n * 1e6:5.1f} us/object)  speed-up {t_ref / t_fast:4.1f}x")
    print(f"sign_object     {t_sign:6.3f} s  ({t_sign / n * 1e6:5.1f} us/object)")
    print(f"sign bundle     {t_bundle_sig:6.3f} s  (sha512 + Ed25519 over {len(data)} bytes)")
    share = t_sign + t_bundle_sig
    print(f"signing share of the build: {share:.3f} s of the {BUILD_TARGET:.0f} s budget "
          f"({share / BUILD_TARGET:.0%})")
    print(f"verify_bundle   {t_verify:6.3f} s  in-process   target <= {VERIFY_TARGET:.0f} s: "
          f"{'OK' if t_verify <= VERIFY_TARGET else 'OVER'}")
    print(f"talr verify     {t_cli:6.3f} s  end to end   target <= {VERIFY_TARGET:.0f} s: "
          f"{'OK' if t_cli <= VERIFY_TARGET else 'OVER'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
