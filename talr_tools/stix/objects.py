"""The fixed STIX objects of a TALR bundle: producer identity, TALR identity, extension definition."""

from __future__ import annotations

from typing import Any

from talr_tools.config import Producer
from talr_tools.stix.ids import EXTENSION_DEFINITION_ID, stix_id
from talr_tools.stix.timestamps import TALR_EPOCH, stix_time

#: Where the TALR project publishes the JSON schema of a rule (``schemas/talr-rule.schema.json``):
#: the schema's own ``$id`` (a test keeps the two equal). The extension definition is one global
#: object (its id is fixed in :mod:`talr_tools.stix.ids`), so this URL is a constant.
EXTENSION_SCHEMA_URL = "https://raw.githubusercontent.com/talr-project/talr/main/schemas/talr-rule.schema.json"
EXTENSION_VERSION = "1.0.0"

TALR_IDENTITY_ID = stix_id("identity", "talr-toolkit")


def producer_identity_id(producer: Producer) -> str:
    """The deterministic id of the producer's identity (from its name)."""
    return stix_id("identity", "producer", producer.name)


def producer_identity(producer: Producer) -> dict[str, Any]:
    """The ``identity`` of the organisation releasing the rules (``[producer]`` of talr.toml).

    ``created``/``modified`` are the constant :data:`TALR_EPOCH`: an identity has no history in
    the rule repository, and the build clock must never leak into a bundle.
    """
    obj: dict[str, Any] = {
        "type": "identity",
        "spec_version": "2.1",
        "id": producer_identity_id(producer),
        "created": stix_time(TALR_EPOCH),
        "modified": stix_time(TALR_EPOCH),
        "name": producer.name,
        "identity_class": producer.identity_class,
    }
    if producer.contact:
        obj["contact_information"] = str(producer.contact)
    return obj


def talr_identity() -> dict[str, Any]:
    """The identity of the TALR toolkit, creator of the extension definition."""
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": TALR_IDENTITY_ID,
        "created": stix_time(TALR_EPOCH),
        "modified": stix_time(TALR_EPOCH),
        "name": "TALR toolkit",
        "identity_class": "system",
        "description": "Threat Alert Logic Repository toolkit: Sigma detection-as-code released as STIX 2.1.",
    }


def extension_definition() -> dict[str, Any]:
    """The ``extension-definition`` of the TALR property extension carried by every indicator."""
    return {
        "type": "extension-definition",
        "spec_version": "2.1",
        "id": EXTENSION_DEFINITION_ID,
        "created_by_ref": TALR_IDENTITY_ID,
        "created": stix_time(TALR_EPOCH),
        "modified": stix_time(TALR_EPOCH),
        "name": "TALR rule metadata",
        "description": (
            "TALR metadata of a Sigma rule published as an indicator: rule id, version, status, level, "
            "TLP, changelog, intelligence links, expected conversion failures, source and signature."
        ),
        "schema": EXTENSION_SCHEMA_URL,
        "version": EXTENSION_VERSION,
        "extension_types": ["property-extension"],
    }
