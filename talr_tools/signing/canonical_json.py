"""RFC 8785 (JCS) canonical JSON, with an exact fast path for float-free objects.

``rfc8785.dumps`` is the reference. For objects holding only strings, booleans, null, lists,
dicts and integers within +-(2**53 - 1), and whose keys are all below U+D800 (so ordering by
UTF-16 code units equals Python's code-point ordering), ``json.dumps(sort_keys=True,
separators=(",", ":"), ensure_ascii=False)`` yields the same bytes: JCS and Python escape the
same characters (``"``, ``\\``, and U+0000-U+001F, with ``\\b \\t \\n \\f \\r`` short forms
and lowercase ``\\u00xx`` otherwise). Anything else (floats, big integers, astral keys) goes to
``rfc8785``. The tests compare both routes on real indicators and on edge cases.
"""

from __future__ import annotations

import json
from typing import Any

import rfc8785

_MAX_SAFE = 2**53 - 1


def canonical_json(obj: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of ``obj``.

    Raises ``ValueError`` for values outside I-JSON (NaN/infinity, integers beyond 2**53 - 1,
    lone surrogates), as ``rfc8785`` does.
    """
    if _fast_ok(obj):
        return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return rfc8785.dumps(obj)


def _fast_ok(value: Any) -> bool:
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return -_MAX_SAFE <= value <= _MAX_SAFE
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or (not key.isascii() and max(key) >= "\ud800") or not _fast_ok(item):
                return False
        return True
    if kind is list:
        return all(_fast_ok(item) for item in value)
    return False
