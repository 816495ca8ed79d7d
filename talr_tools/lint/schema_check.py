"""TALR1xx schema findings: each document against ``talr_tools/schemas/talr-rule.schema.json``.

The schema is loaded lazily, once per process. Loaded YAML is turned into JSON types first
(dates -> ISO strings, keys -> strings). Errors map to lines through the document's node tree.

Speed: ``jsonschema`` (pure Python) took about as long as parsing the YAML (~0.4 ms per
document on the SigmaHQ corpus). ``jsonschema-rs`` (Rust, draft 2020-12) answers "valid?" in
~5 us, so it screens every document and only invalid ones go through ``jsonschema``'s
``Draft202012Validator``, whose errors (paths, keywords, messages) the findings are built from.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from functools import lru_cache
from importlib import resources
from typing import Any

from talr_tools.model import DocumentKind, Finding, RuleDocument

_ADDITIONAL = re.compile(r"'([^']+)' (?:does not match any of the regexes|was unexpected)")


def to_json(value: Any) -> Any:
    """YAML-loaded data as JSON types: dates become ``YYYY-MM-DD`` strings, keys strings."""
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_json(v) for v in value]
    if isinstance(value, dt.date):  # datetime too: isoformat with T..., which the schema rejects
        return value.isoformat()
    return value


@lru_cache(maxsize=1)
def schema_text() -> str:
    """The schema shipped with the package, as text."""
    return (resources.files("talr_tools") / "schemas" / "talr-rule.schema.json").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _validator() -> Any:
    # jsonschema imports rfc3987_syntax (when installed) for the "iri" formats; it builds a lark
    # grammar at import time (~1.3 s). The TALR schema uses no iri format and format checks are
    # off, so keep that import out for this one import.
    blocked = "rfc3987_syntax" not in sys.modules
    if blocked:
        sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]
    try:
        from jsonschema import Draft202012Validator
    finally:
        if blocked and sys.modules.get("rfc3987_syntax", 0) is None:
            del sys.modules["rfc3987_syntax"]
    return Draft202012Validator(json.loads(schema_text()))


@lru_cache(maxsize=1)
def _fast_validator() -> Any:
    try:
        import jsonschema_rs
    except ImportError:  # optional speed-up: without it every document goes through jsonschema
        return None
    return jsonschema_rs.validator_for(json.loads(schema_text()))


def check_schema(doc: RuleDocument, display: str) -> list[Finding]:
    """Schema findings for one document (Sigma v1 ``action`` documents are skipped)."""
    if doc.kind is DocumentKind.GLOBAL or "action" in doc.data:
        return []
    instance = to_json(doc.data)
    fast = _fast_validator()
    if fast is not None:
        try:
            if fast.is_valid(instance):
                return []
        except Exception:  # a value jsonschema-rs cannot take (e.g. a huge integer): use jsonschema
            pass
    findings: list[Finding] = []
    for error in _validator().iter_errors(instance):
        findings.extend(_finding(error, doc, display))
    return findings


def _finding(error: Any, doc: RuleDocument, display: str) -> list[Finding]:
    path = list(error.absolute_path)
    in_talr = bool(path) and path[0] == "talr"
    keyword = error.validator
    if keyword in ("additionalProperties", "unevaluatedProperties"):
        keys = _ADDITIONAL.findall(error.message) or [""]
        out = []
        for key in keys:
            line, col = doc.key_position([*path, key]) if key else doc.position(path)
            code = "TALR112" if in_talr else "TALR103"
            where = "talr: block" if in_talr else ("top level" if not path else _dotted(path))
            out.append(Finding(display, line, col, code, f"unknown key {key!r} at {where}"))
        return out
    if keyword == "required":
        line, col = doc.key_position(path) if path else doc.position(())
        code = "TALR111" if in_talr else "TALR102"
        where = f" in {_dotted(path)}" if path else ""
        return [Finding(display, line, col, code, f"{_short(error.message)}{where}")]
    line, col = doc.position(path)
    code = "TALR110" if in_talr else "TALR101"
    return [Finding(display, line, col, code, f"{_dotted(path) or 'document'}: {_short(error.message)}")]


def _dotted(path: list[Any]) -> str:
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out


def _short(message: str, limit: int = 160) -> str:
    message = " ".join(message.split())
    return message if len(message) <= limit else message[: limit - 3] + "..."
