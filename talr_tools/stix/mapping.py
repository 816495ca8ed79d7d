"""One TALR rule -> one STIX 2.1 ``indicator`` (plain dicts, no stix2 objects: they are slow).

Choices where the issue is silent (see docs/stix-mapping.md):

* ``pattern`` is the rule file's text as written (every document, the ``talr:`` block
  included): sigma-cli reads it as it is, and parsing it back gives the same rule.
* ``indicator_types``: ``malicious-activity`` for level critical/high/medium, else
  ``anomalous-activity``; plus ``attribution`` when the rule is tagged with an ATT&CK group.
* ``valid_from`` is the time of the current version (``modified``).
* ``labels``: ``level:<level>``, ``status:<status>``, ``logsource:<key>=<value>`` and every
  Sigma tag, sorted.
* A deprecated rule (Sigma ``status: deprecated``) is a revoked indicator, and so are its
  relationships.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from talr_tools.attack.index import AttackIndex
from talr_tools.errors import TalrError
from talr_tools.model import Rule
from talr_tools.stix.ids import EXTENSION_DEFINITION_ID, indicator_id, stix_id
from talr_tools.stix.markings import TLP_MARKING_IDS, tlp_marking_id
from talr_tools.stix.tags import ResolvedTags, resolve_tags
from talr_tools.stix.timestamps import TALR_EPOCH, stix_time

#: The current release of the Sigma specification (SigmaHQ/sigma-specification 2.1.0, 2025-07-17).
SIGMA_SPEC_VERSION = "2.1.0"

MALICIOUS_LEVELS = frozenset({"critical", "high", "medium"})
#: Object types an ``indicates`` relationship may point to (STIX 2.1 section 4.7.2).
INDICATES_TARGETS = frozenset(
    {"attack-pattern", "campaign", "infrastructure", "intrusion-set", "malware", "threat-actor", "tool"}
)
_INTEL_REF_KINDS = ("report", "blog", "tweet", "other")
_STIX_ID = re.compile(r"^[a-z][a-z0-9-]+--[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
_URI_SAFE = "%:/?#@!$&'()*+,;=-._~"
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^\s<>\"{}|\\^`]+$")


@dataclass(frozen=True)
class RuleTimes:
    """When the rule's first and current versions were published (see release.times)."""

    created: dt.datetime
    modified: dt.datetime


@dataclass(frozen=True)
class RuleSource:
    """Where the published version of the rule lives: repository-relative path and commit."""

    path: str
    commit: str | None = None
    repository_url: str | None = None


@dataclass(frozen=True)
class MappingContext:
    """What every rule's mapping shares."""

    producer_id: str
    default_tlp: str
    attack: AttackIndex
    sigma_spec_version: str = SIGMA_SPEC_VERSION


@dataclass
class MappedRule:
    """The STIX objects of one rule: its indicator, relationships and referenced objects."""

    indicator: dict[str, Any]
    relationships: list[dict[str, Any]] = field(default_factory=list)
    objects: list[dict[str, Any]] = field(default_factory=list)


def map_rule(rule: Rule, times: RuleTimes, source: RuleSource, ctx: MappingContext) -> MappedRule:
    """The indicator, ``indicates`` relationships and vulnerability objects of ``rule``."""
    if rule.id is None:
        raise ValueError(f"{source.path}: rule has no Sigma id")
    data = rule.primary.data
    tags = [str(t) for t in _list(data.get("tags"))]
    resolved = resolve_tags(tags, ctx.attack)
    tlp = rule.tlp(ctx.default_tlp).lower()
    if tlp not in TLP_MARKING_IDS:
        line, col = rule.primary.position(("talr", "tlp"))
        raise TalrError(f"{source.path}:{line}:{col}: talr.tlp {tlp!r} is not a TLP 2.0 level "
                        f"({', '.join(TLP_MARKING_IDS)})")
    revoked = rule.status == "deprecated"
    level = _opt_str(data.get("level"))
    marking = [tlp_marking_id(tlp)]
    created, modified = stix_time(times.created), stix_time(times.modified)

    indicator: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": indicator_id(rule.id),
        "created": created,
        "modified": modified,
        "created_by_ref": ctx.producer_id,
        "name": rule.title or rule.id,
        "indicator_types": _indicator_types(level, resolved),
        "pattern": rule.text,
        "pattern_type": "sigma",
        "pattern_version": ctx.sigma_spec_version,
        "valid_from": modified,
        "object_marking_refs": marking,
    }
    description = _opt_str(data.get("description"))
    if description:
        indicator["description"] = description.strip()
    if resolved.tactics:
        indicator["kill_chain_phases"] = [
            {"kill_chain_name": "mitre-attack", "phase_name": t} for t in resolved.tactics
        ]
    labels = _labels(data, tags, level)
    if labels:
        indicator["labels"] = labels
    indicator["external_references"] = _external_references(rule, resolved, source)
    if revoked:
        indicator["revoked"] = True
    indicator["extensions"] = {EXTENSION_DEFINITION_ID: _extension(rule, tlp, level, source)}

    mapped = MappedRule(indicator=indicator)
    targets = [t.stix_id for t in resolved.techniques] + [o.stix_id for o in resolved.objects if o.stix_id]
    cves = list(resolved.cves)
    for link in rule.talr.intel:
        if link.stix_id and _STIX_ID.match(link.stix_id) and link.stix_id.split("--", 1)[0] in INDICATES_TARGETS:
            targets.append(link.stix_id)
        elif link.kind in ("group", "software", "campaign") and link.external_id:
            obj = ctx.attack.object(link.external_id)
            if obj is not None and obj.stix_id:
                targets.append(obj.stix_id)
        elif link.kind == "vulnerability" and (link.external_id or "").upper().startswith("CVE-"):
            cves.append(str(link.external_id).upper())
    for target in dict.fromkeys(targets):
        mapped.relationships.append(_relationship(indicator, "indicates", target, revoked))
    for cve in dict.fromkeys(cves):
        vulnerability = vulnerability_object(cve, ctx.producer_id)
        mapped.objects.append(vulnerability)
        mapped.relationships.append(_relationship(indicator, "related-to", vulnerability["id"], revoked))
    return mapped


def vulnerability_object(cve: str, producer_id: str) -> dict[str, Any]:
    """A ``vulnerability`` named by its CVE id, with a deterministic id (the same in every bundle)."""
    return {
        "type": "vulnerability",
        "spec_version": "2.1",
        "id": stix_id("vulnerability", cve),
        "created": stix_time(TALR_EPOCH),
        "modified": stix_time(TALR_EPOCH),
        "created_by_ref": producer_id,
        "name": cve,
        "external_references": [
            {"source_name": "cve", "external_id": cve, "url": f"https://www.cve.org/CVERecord?id={cve}"}
        ],
        "object_marking_refs": [tlp_marking_id("clear")],
    }


def _relationship(indicator: Mapping[str, Any], kind: str, target: str, revoked: bool) -> dict[str, Any]:
    rel: dict[str, Any] = {
        "type": "relationship",
        "spec_version": "2.1",
        "id": stix_id("relationship", kind, indicator["id"], target),
        "created": indicator["created"],
        "modified": indicator["modified"],
        "created_by_ref": indicator["created_by_ref"],
        "relationship_type": kind,
        "source_ref": indicator["id"],
        "target_ref": target,
        "object_marking_refs": indicator["object_marking_refs"],
    }
    if revoked:
        rel["revoked"] = True
    return rel


def _indicator_types(level: str | None, resolved: ResolvedTags) -> list[str]:
    types = ["malicious-activity" if level in MALICIOUS_LEVELS else "anomalous-activity"]
    if any(o.stix_type == "intrusion-set" for o in resolved.objects):
        types.append("attribution")
    return sorted(types)


def _labels(data: Mapping[str, Any], tags: list[str], level: str | None) -> list[str]:
    labels: set[str] = set(tags)
    if level:
        labels.add(f"level:{level}")
    status = _opt_str(data.get("status"))
    if status:
        labels.add(f"status:{status}")
    logsource = data.get("logsource")
    if isinstance(logsource, Mapping):
        for key in ("category", "product", "service"):
            value = logsource.get(key)
            if value is not None:
                labels.add(f"logsource:{key}={value}")
    return sorted(labels)


def _external_references(rule: Rule, resolved: ResolvedTags, source: RuleSource) -> list[dict[str, Any]]:
    refs: list[dict[str, Any]] = []
    origin: dict[str, Any] = {"source_name": "talr", "external_id": str(rule.id)}
    where = source.path + (f" at commit {source.commit}" if source.commit else "")
    origin["description"] = f"Sigma rule {where}"
    if source.repository_url and source.commit:
        origin["url"] = f"{source.repository_url.rstrip('/')}/blob/{source.commit}/{source.path}"
    refs.append(origin)
    for technique in resolved.techniques:
        refs.append({"source_name": "mitre-attack", "external_id": technique.external_id, "url": technique.url})
    for obj in resolved.objects:
        refs.append({"source_name": "mitre-attack", "external_id": obj.external_id, "url": obj.url})
    for cve in resolved.cves:
        refs.append({"source_name": "cve", "external_id": cve, "url": f"https://www.cve.org/CVERecord?id={cve}"})
    for reference in _list(rule.primary.data.get("references")):
        text = str(reference).strip()
        if _URL.match(text):
            refs.append({"source_name": "sigma-reference", "url": _uri(text)})
        elif text:  # Sigma references are sometimes plain text ("Internal Research")
            refs.append({"source_name": "sigma-reference", "description": text})
    for link in rule.talr.intel:
        if link.url and _URL.match(link.url) and (link.kind in _INTEL_REF_KINDS or not link.stix_id):
            ref: dict[str, Any] = {"source_name": f"talr-intel-{link.kind}", "url": _uri(link.url)}
            if link.name:
                ref["description"] = link.name
            if link.external_id:
                ref["external_id"] = link.external_id
            refs.append(ref)
    return refs


def _extension(rule: Rule, tlp: str, level: str | None, source: RuleSource) -> dict[str, Any]:
    talr = rule.talr
    ext: dict[str, Any] = {
        "extension_type": "property-extension",
        "rule_id": str(rule.id),
        "version": talr.version if talr.version is not None else 1,
        "tlp": tlp,
        "content_hash": rule.content_hash,
        "source_path": source.path,
    }
    if source.commit:
        ext["source_commit"] = source.commit
    if rule.status:
        ext["status"] = rule.status
    if level:
        ext["level"] = level
    other_ids = [i for i in rule.ids if i != rule.id]
    if other_ids:
        ext["document_ids"] = other_ids
    if talr.changelog:
        ext["changelog"] = [
            {"version": c.version, "date": c.date.isoformat() if c.date else None, "note": c.note}
            for c in talr.changelog
        ]
        for entry in ext["changelog"]:
            if entry["date"] is None:
                del entry["date"]
    if talr.intel:
        ext["intel"] = [
            {k: v for k, v in vars(link).items() if v is not None} for link in talr.intel
        ]
    if talr.expected_failures:
        ext["expected_failures"] = [{"target": f.target, "reason": f.reason} for f in talr.expected_failures]
    return ext


def _uri(url: str) -> str:
    """``url`` with the characters RFC 3986 does not allow there (``[`` ``]`` in a query...) escaped."""
    scheme, sep, rest = url.partition("://")
    host, slash, tail = rest.partition("/")
    return scheme + sep + host + slash + quote(tail, safe=_URI_SAFE)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None
