"""A rule's canonical content and its hash: what counts as a change to the rule.

Counts (any change needs a new rule version): every field the author controls that
ends up in what consumers receive: detection, logsource, correlation, filter, title,
description, level, status, tags, references, false positives, fields, related, author,
date, license, custom fields, and in ``talr:`` the TLP and the intelligence links.

Does not count: ``modified``, ``talr.version``, ``talr.changelog`` (they record the
change itself), ``talr.conversion`` and ``talr.tests`` (they describe how TALR checks
the rule, not what it detects), YAML comments, key order, quoting and indentation.
List order counts (it is the author's choice and may change a detection's meaning).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from talr_tools.model import Rule

VOLATILE_SIGMA_KEYS = frozenset({"modified"})
VOLATILE_TALR_KEYS = frozenset({"version", "changelog", "conversion", "tests"})


def canonical_document(data: Mapping[str, Any]) -> dict[str, Any]:
    """One document without the fields that do not count."""
    result = {k: v for k, v in data.items() if k not in VOLATILE_SIGMA_KEYS}
    talr = result.get("talr")
    if isinstance(talr, Mapping):
        kept = {k: v for k, v in talr.items() if k not in VOLATILE_TALR_KEYS}
        if kept:
            result["talr"] = kept
        else:
            del result["talr"]
    return result


def canonical_json(documents: list[Mapping[str, Any]]) -> str:
    """Canonical JSON text of a rule's documents (sorted keys, ISO dates)."""
    return json.dumps(
        [canonical_document(d) for d in documents],
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=_json_default,
    )


def content_hash(rule: Rule) -> str:
    """SHA-256 of :func:`canonical_json` of the rule's documents."""
    return content_hash_of([doc.data for doc in rule.documents])


def content_hash_of(documents: list[Mapping[str, Any]]) -> str:
    """SHA-256 of :func:`canonical_json` of ``documents``."""
    return hashlib.sha256(canonical_json(documents).encode("utf-8")).hexdigest()


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    return str(value)
