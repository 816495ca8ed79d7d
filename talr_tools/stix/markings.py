"""The standard TLP 2.0 marking-definition objects (OASIS cti-stix-common-objects, TLP 2.0 extension).

The ids, names and ``created`` times are the official ones, so every STIX consumer that knows
TLP 2.0 recognises them; TALR copies them into each bundle that refers to them.
"""

from __future__ import annotations

from typing import Any

TLP2_EXTENSION_ID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP2_CREATED = "2022-10-01T00:00:00.000Z"

TLP_MARKING_IDS: dict[str, str] = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}


def tlp_marking_id(level: str) -> str:
    """The official marking-definition id of a TLP 2.0 level (``clear`` ... ``red``)."""
    return TLP_MARKING_IDS[level.lower()]


def tlp_marking_definition(level: str) -> dict[str, Any]:
    """The official TLP 2.0 marking-definition object of ``level``, as a plain dict."""
    level = level.lower()
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP_MARKING_IDS[level],
        "created": TLP2_CREATED,
        "name": f"TLP:{level.upper()}",
        "extensions": {TLP2_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": level}},
    }
