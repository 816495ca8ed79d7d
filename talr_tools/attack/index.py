"""Look-ups in the compact ATT&CK index (``talr_tools/data/attack-index.json``).

ATT&CK® is a registered trademark of The MITRE Corporation. The index is derived from
MITRE ATT&CK Enterprise STIX data (© The MITRE Corporation, see
``talr_tools/data/ATTACK-NOTICE.md``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from talr_tools.errors import TalrError

ATTACK_URL = "https://attack.mitre.org"


@dataclass(frozen=True)
class Technique:
    """A technique or sub-technique."""

    external_id: str
    stix_id: str
    name: str
    tactics: tuple[str, ...]
    revoked: bool
    deprecated: bool
    replaced_by: str | None

    @property
    def url(self) -> str:
        """The technique's page on attack.mitre.org."""
        return f"{ATTACK_URL}/techniques/{self.external_id.replace('.', '/')}"


@dataclass(frozen=True)
class AttackObject:
    """A group (intrusion set), software (malware/tool), campaign or tactic."""

    external_id: str
    stix_id: str | None
    stix_type: str
    name: str
    revoked: bool = False
    deprecated: bool = False

    @property
    def url(self) -> str:
        """The object's page on attack.mitre.org."""
        folder = {
            "intrusion-set": "groups",
            "malware": "software",
            "tool": "software",
            "campaign": "campaigns",
            "x-mitre-tactic": "tactics",
        }[self.stix_type]
        return f"{ATTACK_URL}/{folder}/{self.external_id}"


@dataclass(frozen=True)
class AttackIndex:
    """Techniques by id (``T1059.001``), tactics by short name, other objects by id."""

    version: str
    techniques: dict[str, Technique]
    tactics: dict[str, AttackObject]
    groups: dict[str, AttackObject]
    software: dict[str, AttackObject]
    campaigns: dict[str, AttackObject]

    def technique(self, external_id: str) -> Technique | None:
        """A technique by its id, any case (``t1059.001``)."""
        return self.techniques.get(external_id.upper())

    def tactic(self, name: str) -> AttackObject | None:
        """A tactic by Sigma tag spelling (``defense-evasion`` or ``defense_evasion``)."""
        return self.tactics.get(name.lower().replace("_", "-"))

    def object(self, external_id: str) -> AttackObject | None:
        """A group (G....), software (S....) or campaign (C....) by id."""
        key = external_id.upper()
        table = {"G": self.groups, "S": self.software, "C": self.campaigns}.get(key[:1])
        return table.get(key) if table is not None else None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AttackIndex:
        """Build from the JSON form written by :mod:`talr_tools.attack.build`."""

        def objects(name: str) -> dict[str, AttackObject]:
            return {k: AttackObject(external_id=k, **v) for k, v in data.get(name, {}).items()}

        techniques = {
            k: Technique(
                external_id=k,
                stix_id=v["stix_id"],
                name=v["name"],
                tactics=tuple(v["tactics"]),
                revoked=v["revoked"],
                deprecated=v["deprecated"],
                replaced_by=v.get("replaced_by"),
            )
            for k, v in data["techniques"].items()
        }
        tactics = {
            k: AttackObject(external_id=v["external_id"], stix_id=v.get("stix_id"),
                            stix_type="x-mitre-tactic", name=v["name"])
            for k, v in data["tactics"].items()
        }
        return cls(
            version=str(data["version"]),
            techniques=techniques,
            tactics=tactics,
            groups=objects("groups"),
            software=objects("software"),
            campaigns=objects("campaigns"),
        )


def vendored_index_path() -> Path:
    """The index shipped inside the package."""
    return Path(str(resources.files("talr_tools") / "data" / "attack-index.json"))


@lru_cache(maxsize=4)
def load_index(path: Path | None = None) -> AttackIndex:
    """Load an index file (default: the vendored one). Cached per path."""
    path = path or vendored_index_path()
    try:
        return AttackIndex.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise TalrError(f"{path}: not a usable ATT&CK index: {exc}") from exc
