"""Bundle assembly and its one, reproducible serialisation.

Objects are de-duplicated by id and sorted by (type, id); every object is dumped with sorted
keys, no ASCII escaping and compact separators, one object per line, so a bundle diffs well
in git and two builds of the same input are byte-identical. The bundle id is a UUIDv5 of the
SHA-256 of the serialised objects: the same objects give the same bundle id.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from typing import Any

from talr_tools.stix.ids import TALR_NAMESPACE

_TYPE_ORDER = {
    "identity": 0,
    "marking-definition": 1,
    "extension-definition": 2,
    "note": 3,
    "indicator": 4,
    "vulnerability": 5,
    "relationship": 6,
}


def dump_object(obj: dict[str, Any]) -> str:
    """The canonical one-line JSON text of one object."""
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def sort_objects(objects: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Objects de-duplicated by id (the first wins) and sorted by type group, then id."""
    unique: dict[str, dict[str, Any]] = {}
    for obj in objects:
        unique.setdefault(obj["id"], obj)
    return sorted(unique.values(), key=lambda o: (_TYPE_ORDER.get(o["type"], 9), o["type"], o["id"]))


#: An object ready for the bundle: its sort key (type group, type, id) and its JSON line.
Entry = tuple[tuple[int, str, str], str]


def entry(obj: dict[str, Any]) -> Entry:
    """``obj`` dumped once, with its sort key (worker processes send entries, not dicts)."""
    return (_TYPE_ORDER.get(obj["type"], 9), obj["type"], obj["id"]), dump_object(obj)


def serialize_bundle(objects: Iterable[dict[str, Any]]) -> bytes:
    """The bundle file: ``{"id":..., "objects":[...], "type":"bundle"}``, one object per line."""
    return serialize_entries(entry(o) for o in objects)


def serialize_entries(entries: Iterable[Entry]) -> bytes:
    """:func:`serialize_bundle` of objects already dumped by :func:`entry` (first of an id wins)."""
    unique: dict[str, Entry] = {}
    for item in entries:
        unique.setdefault(item[0][2], item)
    lines = [line for _key, line in sorted(unique.values(), key=lambda e: e[0])]
    digest = hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()
    bundle_id = f"bundle--{uuid.uuid5(TALR_NAMESPACE, 'bundle' + chr(0x1F) + digest)}"
    text = '{"id":' + json.dumps(bundle_id) + ',"objects":[\n' + ",\n".join(lines) + '\n],"type":"bundle"}\n'
    return text.encode("utf-8")
