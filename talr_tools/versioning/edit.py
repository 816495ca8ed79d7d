"""Round-trip edit of a rule file for a version bump (comments and layout survive)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from talr_tools.roundtrip import dump_documents, load_documents

# ``modified`` goes right after the first of these keys present (Sigma's usual key order).
_MODIFIED_AFTER = ("date", "author", "references", "description", "status", "id")


def bump_text(text: str, rule_id: str, version: int, today: dt.date, note: str) -> str:
    """``text`` with the rule ``rule_id`` at ``version``: ``modified`` and a changelog entry set.

    The primary document gets (or keeps) a ``talr:`` block at its end; ``talr.version`` is
    set, a ``{version, date, note}`` entry is appended to ``talr.changelog`` (created after
    ``version`` when absent), and ``modified`` is set to ``today`` (inserted after ``date``
    when absent). The rest of the file is written back by ruamel as it was read.
    """
    documents = load_documents(text)
    doc = _primary(documents, rule_id)
    talr = doc.get("talr")
    if not isinstance(talr, CommentedMap):
        talr = CommentedMap()
        doc["talr"] = talr
    if "version" in talr:
        talr["version"] = version
    else:
        talr.insert(0, "version", version)
    changelog = talr.get("changelog")
    if not isinstance(changelog, CommentedSeq):
        changelog = CommentedSeq()
        talr.insert(list(talr).index("version") + 1, "changelog", changelog)
    entry = CommentedMap()
    entry["version"] = version
    entry["date"] = _fresh(today)
    entry["note"] = note
    changelog.append(entry)
    if "modified" in doc:
        doc["modified"] = _fresh(today)
    else:
        keys = list(doc)
        after = next((k for k in _MODIFIED_AFTER if k in doc), None)
        doc.insert(keys.index(after) + 1 if after else len(keys), "modified", _fresh(today))
    out = dump_documents(documents)
    if text.lstrip().startswith("---") and not out.startswith("---"):
        out = "---\n" + out
    return _format(out)


def _fresh(day: dt.date) -> dt.date:
    """A new date object: ruamel writes an anchor/alias for one object used twice."""
    return dt.date(day.year, day.month, day.day)


def _primary(documents: list[Any], rule_id: str) -> CommentedMap:
    """The document carrying the ``talr:`` block, else the one with id ``rule_id``."""
    maps = [d for d in documents if isinstance(d, CommentedMap)]
    for doc in maps:
        if isinstance(doc.get("talr"), Mapping):
            return doc
    for doc in maps:
        if str(doc.get("id")) == rule_id:
            return doc
    raise ValueError(f"no document with id {rule_id}")


def _format(text: str) -> str:
    """``talr fmt``'s canonical form, so a bumped file is fmt-clean (unchanged if fmt refuses it)."""
    from talr_tools.fmt import FormatError, format_text

    try:
        return format_text(text)
    except FormatError:
        return text
