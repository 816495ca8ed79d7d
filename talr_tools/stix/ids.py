"""Deterministic STIX identifiers shared by the build, signing and sync code.

Every object TALR creates gets a UUIDv5 id under :data:`TALR_NAMESPACE`, so the same rule
keeps the same indicator id across versions and builds, on any machine.
"""

from __future__ import annotations

import uuid

TALR_NAMESPACE = uuid.UUID("6a3f1c52-8e0b-5d7e-9c41-2f7b3a9d0e15")
EXTENSION_NAME = "talr-rule-extension-v1"
EXTENSION_DEFINITION_ID = f"extension-definition--{uuid.uuid5(TALR_NAMESPACE, EXTENSION_NAME)}"


def stix_id(object_type: str, *parts: str) -> str:
    """``<type>--<uuid5(TALR_NAMESPACE, type + parts)>``: stable for the same inputs."""
    name = "\x1f".join((object_type, *parts))
    return f"{object_type}--{uuid.uuid5(TALR_NAMESPACE, name)}"


def indicator_id(sigma_rule_id: str) -> str:
    """The indicator id of a rule: the same for every version of the rule."""
    return f"indicator--{uuid.uuid5(TALR_NAMESPACE, sigma_rule_id.lower())}"
