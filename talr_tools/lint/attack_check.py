"""TALR3xx: ATT&CK tags (and ``talr.intel`` ATT&CK links) against the vendored index.

Tag forms (Sigma tag spelling, case-insensitive): ``attack.t1059`` / ``attack.t1059.001``
(technique, sub-technique), ``attack.g0016`` (group), ``attack.s0002`` (software),
``attack.c0001`` (campaign), anything else after ``attack.`` is a tactic
(``attack.defense-evasion`` or ``attack.defense_evasion``). Other namespaces are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from talr_tools.attack.index import AttackIndex
from talr_tools.model import Finding, RuleDocument, Severity

_TECHNIQUE = re.compile(r"t\d{4}(\.\d{3})?", re.IGNORECASE)
_OBJECT = re.compile(r"[gsc]\d{4}", re.IGNORECASE)
_KIND_PREFIX = {"group": "G", "software": "S", "campaign": "C"}


def check_attack_tags(doc: RuleDocument, display: str, index: AttackIndex) -> list[Finding]:
    """Findings for the document's ``attack.*`` tags."""
    tags = doc.data.get("tags")
    if not isinstance(tags, list):
        return []
    findings: list[Finding] = []
    for position, tag in enumerate(tags):
        if not isinstance(tag, str) or not tag.lower().startswith("attack."):
            continue
        name = tag[len("attack."):]
        line, col = doc.position(["tags", position])

        def add(code: str, message: str, severity: Severity = Severity.ERROR) -> None:
            findings.append(Finding(display, line, col, code, message, severity))  # noqa: B023

        if _TECHNIQUE.fullmatch(name):
            technique = index.technique(name)
            if technique is None:
                add("TALR301", f"{tag}: technique {name.upper()} is not in ATT&CK {index.version}")
            elif technique.revoked:
                repl = technique.replaced_by
                target = index.technique(repl) if repl else None
                named = f"{repl} ({target.name})" if target else (repl or "no replacement given")
                add("TALR302", f"{tag}: {technique.external_id} ({technique.name}) is revoked; use {named}")
            elif technique.deprecated:
                hint = f"; use {technique.replaced_by}" if technique.replaced_by else " (no replacement)"
                add("TALR303", f"{tag}: {technique.external_id} ({technique.name}) is deprecated in ATT&CK "
                               f"{index.version}{hint}", Severity.WARNING)
        elif _OBJECT.fullmatch(name):
            found = index.object(name)
            if found is None:
                add("TALR305", f"{tag}: {name.upper()} is not in ATT&CK {index.version}")
            elif found.revoked or found.deprecated:
                state = "revoked" if found.revoked else "deprecated"
                add("TALR306", f"{tag}: {found.external_id} ({found.name}) is {state}", Severity.WARNING)
        elif index.tactic(name) is None:
            add("TALR304", f"{tag}: not an ATT&CK tactic, technique, group, software or campaign")
    return findings


def check_intel(doc: RuleDocument, display: str, index: AttackIndex) -> list[Finding]:
    """TALR307: ``talr.intel`` links of kind group/software/campaign agree with the index."""
    talr = doc.data.get("talr")
    intel = talr.get("intel") if isinstance(talr, Mapping) else None
    if not isinstance(intel, list):
        return []
    findings: list[Finding] = []
    for position, link in enumerate(intel):
        if not isinstance(link, Mapping) or link.get("kind") not in _KIND_PREFIX:
            continue
        external_id, stix_id = link.get("external_id"), link.get("stix_id")
        if not isinstance(external_id, str):
            continue
        line, col = doc.position(["talr", "intel", position, "external_id"])
        found = index.object(external_id)
        if found is None or not external_id.upper().startswith(_KIND_PREFIX[link["kind"]]):
            findings.append(Finding(display, line, col, "TALR307",
                                    f"intel {link['kind']} {external_id} is not in ATT&CK {index.version}"))
        elif isinstance(stix_id, str) and found.stix_id and stix_id != found.stix_id:
            line, col = doc.position(["talr", "intel", position, "stix_id"])
            findings.append(Finding(display, line, col, "TALR307",
                                    f"intel {external_id} ({found.name}) has stix_id {stix_id}, "
                                    f"ATT&CK says {found.stix_id}"))
    return findings
