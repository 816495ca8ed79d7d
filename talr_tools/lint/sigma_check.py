"""TALR2xx and SV codes: pySigma parsing and the offline pySigma validators.

Works on the documents the loader already produced (``SigmaCollection.from_dicts``), never
re-reads YAML. pySigma is imported here only, so runs served from the cache never load it.
Validators are imported from their modules (``sigma.validators.core`` and
``sigma.validators.sigmahq``), not through plugin autodiscovery, which would import every
installed backend.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from talr_tools.lint.codes import enabled_validators, registry
from talr_tools.model import Finding, Rule, RuleDocument, Severity

_SEVERITY = {"high": Severity.ERROR, "medium": Severity.WARNING, "low": Severity.WARNING,
             "informational": Severity.INFO}

# Where a pySigma error or issue points, from words in its class name (first match wins).
_FIELD_HINTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("timespan", ("correlation", "timespan")),
    ("correlationtype", ("correlation", "type")),
    ("correlationcondition", ("correlation", "condition")),
    ("rulenotfound", ("correlation", "rules")),
    ("filterruleref", ("filter", "rules")),
    ("filtercondition", ("filter", "condition")),
    ("correlation", ("correlation",)),
    ("filter", ("filter",)),
    ("condition", ("detection", "condition")),
    ("title", ("title",)),
    ("description", ("description",)),
    ("author", ("author",)),
    ("modified", ("modified",)),
    ("date", ("date",)),
    ("status", ("status",)),
    ("level", ("level",)),
    ("falsepositive", ("falsepositives",)),
    ("reference", ("references",)),
    ("link", ("references",)),
    ("logsource", ("logsource",)),
    ("identifier", ("id",)),
    ("related", ("related",)),
    ("license", ("license",)),
    ("name", ("name",)),
    ("taxonomy", ("taxonomy",)),
    ("scope", ("scope",)),
    ("tag", ("tags",)),
    ("fields", ("fields",)),
)


@lru_cache(maxsize=1)
def _validators() -> list[tuple[str, Any]]:
    """(code, validator instance) for every enabled validator; built once per process."""
    from sigma.validators.core import validators as core
    from sigma.validators.sigmahq import validators as sigmahq

    known = {**core, **sigmahq}
    return [(code, known[ident]()) for code, ident in enabled_validators() if ident in known]


@lru_cache(maxsize=1)
def _location_class() -> Any:
    """pySigma's source location, with ``str()`` computed once: validators call it per rule and
    pySigma's own ``__str__`` resolves the path (a syscall chain) every time."""
    from sigma.exceptions import SigmaRuleLocation

    class _Location(SigmaRuleLocation):
        def __str__(self) -> str:
            cached = self.__dict__.get("_text")
            if cached is None:
                cached = self.__dict__["_text"] = super().__str__()
            return str(cached)

    return _Location


def _hint_path(class_name: str) -> tuple[str, ...]:
    lowered = class_name.lower()
    for word, path in _FIELD_HINTS:
        if word in lowered:
            return path
    if any(word in lowered for word in ("detection", "value", "wildcard", "modifier", "field", "character",
                                        "number", "regex", "hash", "eventid")):
        return ("detection",)
    return ()


def _where(doc: RuleDocument, path: tuple[str, ...]) -> tuple[int, int]:
    return doc.key_position(list(path)) if path else doc.position(())


def check_sigma(rule: Rule, display: str, run_validators: bool = True) -> list[Finding]:
    """Parse the file's documents with pySigma and run the offline validators on the results."""
    from sigma.collection import SigmaCollection

    findings: list[Finding] = []
    docs = rule.documents
    first = docs[0]
    try:
        collection = SigmaCollection.from_dicts(
            [dict(doc.data) for doc in docs],
            collect_errors=True,
            source=_location_class()(Path(rule.path)),
            collect_filters=True,
            resolve_references=False,
        )
    except Exception as exc:  # pySigma raises more than SigmaError on odd input
        line, col = first.position(())
        return [Finding(display, line, col, "TALR201", f"pySigma cannot parse the file: {_text(exc)}")]
    parsed = [*collection.rules, *collection.filters]
    owner = _document_of(docs, collection)
    seen_errors: set[int] = set()
    for item in parsed:
        doc = owner.get(id(item), first)
        for error in getattr(item, "errors", []):
            seen_errors.add(id(error))
            line, col = _where(doc, _hint_path(type(error).__name__))
            findings.append(Finding(display, line, col, "TALR201", f"{type(error).__name__}: {_text(error)}"))
    for error in collection.errors:
        if id(error) not in seen_errors:
            line, col = first.position(())
            findings.append(Finding(display, line, col, "TALR202", f"{type(error).__name__}: {_text(error)}"))
    if run_validators:
        for item in collection.rules:
            if getattr(item, "errors", None):
                continue  # broken rules are reported above; validators would only echo it
            findings.extend(_validate(item, owner.get(id(item), first), display))
    return findings


def _document_of(docs: list[RuleDocument], collection: Any) -> dict[int, RuleDocument]:
    """Map parsed pySigma objects back to the YAML documents (Sigma v1 actions included)."""
    producing = [d for d in docs if d.data.get("action") in (None, "repeat")]
    rules = [r for r in collection.rules]
    filters = list(collection.filters)
    out: dict[int, RuleDocument] = {}
    rule_docs = [d for d in producing if "filter" not in d.data or "correlation" in d.data]
    filter_docs = [d for d in producing if "filter" in d.data and "correlation" not in d.data]
    for item, doc in zip(rules, rule_docs, strict=False):
        out[id(item)] = doc
    for item, doc in zip(filters, filter_docs, strict=False):
        out[id(item)] = doc
    return out


def _validate(item: Any, doc: RuleDocument, display: str) -> list[Finding]:
    codes = registry()
    findings: list[Finding] = []
    for code, validator in _validators():
        try:
            issues = validator.validate(item)
        except Exception as exc:
            line, col = doc.position(())
            ident = codes[code].validator
            findings.append(Finding(display, line, col, "TALR209", f"validator {ident} failed: {_text(exc)}",
                                    Severity.WARNING))
            continue
        for issue in issues:
            finding = _issue_finding(issue, code, doc, display)
            if finding is not None:
                findings.append(finding)
    return findings


def _issue_finding(issue: Any, code: str, doc: RuleDocument, display: str) -> Finding | None:
    import dataclasses

    extras: list[str] = []
    tag_text: str | None = None
    for field in dataclasses.fields(issue):
        if field.name in ("rules", "severity", "description"):
            continue
        value = getattr(issue, field.name)
        if field.name == "fieldname" and isinstance(value, list):
            value = [v for v in value if v != "talr"]  # TALR's own block is a known custom attribute
            if not value:
                return None
        if field.name == "tag":
            tag_text = str(value)
        extras.append(f"{field.name}={_value_text(value)}")
    line, col = _issue_position(issue, doc, tag_text)
    message = str(getattr(issue, "description", "")) + (f" ({', '.join(extras)})" if extras else "")
    severity = _SEVERITY.get(getattr(getattr(issue, "severity", None), "name", "").lower(), Severity.WARNING)
    return Finding(display, line, col, code, message, severity)


def _issue_position(issue: Any, doc: RuleDocument, tag_text: str | None) -> tuple[int, int]:
    tags = doc.data.get("tags")
    if tag_text is not None and isinstance(tags, list):
        for index, tag in reversed(list(enumerate(tags))):  # last: for duplicates, the repeated one
            if isinstance(tag, str) and tag.lower() == tag_text.lower():
                return doc.position(["tags", index])
    name = type(issue).__name__
    if "filename" in name.lower():
        return doc.position(())
    return _where(doc, _hint_path(name))


def _value_text(value: Any) -> str:
    if isinstance(value, list | tuple | set):
        return "[" + ", ".join(_value_text(v) for v in value) + "]"
    if all(hasattr(value, key) for key in ("category", "product", "service")):  # SigmaLogSource
        parts = [f"{key}:{getattr(value, key)}" for key in ("category", "product", "service")
                 if getattr(value, key)]
        return "{" + " ".join(parts) + "}"
    text = str(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _text(exc: BaseException) -> str:
    # SigmaError's str() appends the absolute source path; the finding already names the file.
    first = exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)
    text = " ".join(first.split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."
