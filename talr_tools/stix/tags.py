"""What a rule's Sigma tags say in ATT&CK and CVE terms, resolved against the vendored index."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from talr_tools.attack.index import AttackIndex, AttackObject, Technique

_TECHNIQUE = re.compile(r"^t\d{4}(\.\d{3})?$")
_OBJECT = re.compile(r"^[gsc]\d{4}$")
_CVE = re.compile(r"^cve\.(\d{4})[.-](\d{4,})$")


@dataclass
class ResolvedTags:
    """Techniques, tactics, groups/software/campaigns and CVEs named by a rule's tags."""

    techniques: list[Technique] = field(default_factory=list)
    tactics: list[str] = field(default_factory=list)
    objects: list[AttackObject] = field(default_factory=list)
    cves: list[str] = field(default_factory=list)


def resolve_tags(tags: list[str], index: AttackIndex) -> ResolvedTags:
    """Resolve ``attack.*`` and ``cve.*`` tags; unknown ids are left out (lint reports them).

    A revoked technique resolves to its replacement when the index knows one. Tactics are the
    tactics tagged plus the tactics of every technique tagged, as ATT&CK short names.
    """
    result = ResolvedTags()
    tactics: set[str] = set()
    seen: set[str] = set()
    for raw in tags:
        tag = raw.strip().lower()
        if tag.startswith("attack."):
            name = tag[len("attack.") :]
            if _TECHNIQUE.match(name):
                technique = index.technique(name)
                if technique is not None and technique.revoked and technique.replaced_by:
                    technique = index.technique(technique.replaced_by) or technique
                if technique is not None and technique.external_id not in seen:
                    seen.add(technique.external_id)
                    result.techniques.append(technique)
                    tactics.update(technique.tactics)
            elif _OBJECT.match(name):
                obj = index.object(name)
                if obj is not None and obj.stix_id and obj.external_id not in seen:
                    seen.add(obj.external_id)
                    result.objects.append(obj)
            elif index.tactic(name) is not None:
                tactics.add(name.replace("_", "-"))
        else:
            match = _CVE.match(tag)
            if match:
                cve = f"CVE-{match.group(1)}-{match.group(2)}"
                if cve not in result.cves:
                    result.cves.append(cve)
    result.tactics = sorted(tactics)
    return result
