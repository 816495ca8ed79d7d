"""The TALR rule JSON schema (schemas/talr-rule.schema.json)."""

from __future__ import annotations

import copy
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.conftest import PROJECT_ROOT, write

SCHEMA_PATH = PROJECT_ROOT / "talr_tools" / "schemas" / "talr-rule.schema.json"
SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)

RULE: dict[str, Any] = {
    "title": "Example",
    "id": "0b7e0e8f-1111-4222-8333-444455556666",
    "status": "experimental",
    "description": "Detects an example.",
    "author": "Someone",
    "date": "2025-01-31",
    "tags": ["attack.execution", "attack.t1059.001"],
    "logsource": {"product": "windows", "category": "process_creation"},
    "detection": {"selection": {"Image|endswith": "\\x.exe"}, "condition": "selection"},
    "level": "high",
    "talr": {
        "version": 2,
        "tlp": "amber+strict",
        "changelog": [
            {"version": 1, "date": "2025-01-31", "note": "First."},
            {"version": 2, "date": "2025-02-01", "note": "Second."},
        ],
        "intel": [
            {"kind": "group", "external_id": "G0016", "stix_id":
             "intrusion-set--899ce53f-13a0-479b-a0e4-67d46e241542", "name": "APT29"},
            {"kind": "blog", "url": "https://example.org/post"},
            {"kind": "vulnerability", "external_id": "CVE-2021-44228"},
        ],
        "conversion": {"expected_failures": [{"target": "loki", "reason": "no regex lookbehind"}]},
        "tests": [
            {"name": "hit", "expect": "match", "events": [{"Image": "C:\\x.exe"}]},
            {"name": "miss", "expect": "no_match", "file": "samples/miss.json"},
        ],
    },
}

CORRELATION = {
    "title": "Many",
    "id": "1b7e0e8f-1111-4222-8333-444455556666",
    "correlation": {
        "type": "value_count",
        "rules": ["base_rule"],
        "group-by": ["IpAddress"],
        "timespan": "10m",
        "condition": {"gte": 10, "field": "TargetUserName"},
        "generate": False,
        "aliases": {"src": {"base_rule": "IpAddress"}},
    },
    "level": "high",
}

FILTER = {
    "title": "Filter admin host",
    "id": "2b7e0e8f-1111-4222-8333-444455556666",
    "logsource": {"product": "windows"},
    "filter": {"rules": "any", "selection": {"Computer": "admin01"}, "condition": "not selection"},
}


def errors(doc: dict[str, Any]) -> list[str]:
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in VALIDATOR.iter_errors(doc)]


def changed(path: str, value: Any, base: dict[str, Any] = RULE) -> dict[str, Any]:
    """A copy of ``base`` with ``path`` (dotted) set to ``value`` (``...`` deletes it)."""
    doc = copy.deepcopy(base)
    *parents, last = path.split(".")
    node: Any = doc
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if value is ...:
        del node[last]
    else:
        node[int(last) if isinstance(node, list) else last] = value
    return doc


def test_schema_is_valid_draft_2020_12() -> None:
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_every_property_has_a_description() -> None:
    missing: list[str] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            for name, sub in node.get("properties", {}).items():
                if "description" not in sub:
                    missing.append(f"{where}.{name}")
            for key, sub in node.items():
                walk(sub, f"{where}.{key}")
        elif isinstance(node, list):
            for index, sub in enumerate(node):
                walk(sub, f"{where}[{index}]")

    walk(SCHEMA, "$")
    assert missing == []


def test_the_installed_package_ships_the_schema_behind_the_symlink() -> None:
    from importlib.resources import files

    shipped = files("talr_tools") / "schemas" / "talr-rule.schema.json"
    assert json.loads(shipped.read_text(encoding="utf-8")) == SCHEMA
    assert (PROJECT_ROOT / "schemas" / "talr-rule.schema.json").resolve() == SCHEMA_PATH.resolve()


@pytest.mark.parametrize("doc", [RULE, CORRELATION, FILTER], ids=["rule", "correlation", "filter"])
def test_valid_documents_pass(doc: dict[str, Any]) -> None:
    assert errors(doc) == []


def test_plain_sigma_without_talr_block_passes() -> None:
    assert errors(changed("talr", ...)) == []


def test_custom_x_attributes_pass() -> None:
    assert errors(changed("x_ticket", "SOC-123")) == []


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("tag", ["attack.execution"], "'tag' does not match any of the regexes"),  # unknown top-level key
        ("status", "done", "status: 'done' is not one of"),
        ("level", 3, "level: 3 is not one of"),
        ("tags", "attack.execution", "tags: 'attack.execution' is not of type 'array'"),
        ("tags", ["Attack Execution"], "tags.0: 'Attack Execution' does not match"),
        ("id", "not-a-uuid", "id: 'not-a-uuid' does not match"),
        ("date", "2025/01/31", "date: '2025/01/31' does not match"),
        ("title", ["a"], "title: ['a'] is not of type 'string'"),
        ("logsource", {}, "logsource: {} is not valid under any of the given schemas"),
        ("detection", {"selection": {"a": 1}}, "detection: 'condition' is a required property"),
        ("detection.selection", {}, "detection.selection: {} is not valid under any of the given schemas"),
        ("detection", ..., "'detection' is a required property"),
        ("talr", "v1", "talr: 'v1' is not of type 'object'"),
        ("talr.version", "1", "talr.version: '1' is not of type 'integer'"),
        ("talr.version", 0, "talr.version: 0 is less than the minimum of 1"),
        ("talr.version", ..., "talr: 'version' is a required property"),
        ("talr.tlp", "white", "talr.tlp: 'white' is not one of"),
        ("talr.owner", "me", "talr: Additional properties are not allowed ('owner' was unexpected)"),
        ("talr.changelog", {"1": "x"}, "talr.changelog: {'1': 'x'} is not of type 'array'"),
        ("talr.changelog.0.note", ..., "talr.changelog.0: 'note' is a required property"),
        ("talr.intel.1", {"kind": "blog"}, "talr.intel.1: {'kind': 'blog'} is not valid under any"),
        ("talr.intel.1.kind", "rumour", "talr.intel.1.kind: 'rumour' is not one of"),
        ("talr.intel.0.stix_id", "G0016", "talr.intel.0.stix_id: 'G0016' does not match"),
        ("talr.intel.1.url", "ftp://x", "talr.intel.1.url: 'ftp://x' does not match"),
        ("talr.conversion.expected_failures.0.reason", ..., "'reason' is a required property"),
        ("talr.tests.0.expect", "hit", "talr.tests.0.expect: 'hit' is not one of"),
        ("talr.tests.1.events", [{"a": 1}], "is valid under each of"),  # events and file together
    ],
)
def test_bad_documents_are_rejected_with_a_precise_error(path: str, value: Any, expected: str) -> None:
    found = errors(changed(path, value))
    assert any(expected in e for e in found), found


def test_correlation_rule_cannot_also_have_a_detection() -> None:
    doc = changed("detection", {"s": {"a": 1}, "condition": "s"}, CORRELATION)
    assert errors(doc)


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("correlation.type", "sum", "correlation.type: 'sum' is not one of"),
        ("correlation.timespan", "10 minutes", "correlation.timespan: '10 minutes' does not match"),
        ("correlation.rules", ..., "correlation: 'rules' is a required property"),
        ("correlation.condition", {"more": 3}, "correlation.condition"),
        ("correlation.generate", "yes", "correlation.generate: 'yes' is not of type 'boolean'"),
    ],
)
def test_bad_correlations_are_rejected(path: str, value: Any, expected: str) -> None:
    found = errors(changed(path, value, CORRELATION))
    assert any(expected in e for e in found), found


def test_filter_needs_rules_and_condition() -> None:
    assert any("'rules' is a required property" in e for e in errors(changed("filter.rules", ..., FILTER)))
    assert any("'logsource' is a required property" in e for e in errors(changed("logsource", ..., FILTER)))


def _json_ready(value: Any) -> Any:
    """What lint feeds the schema: PyYAML data with dates as ISO strings."""
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_ready(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


@pytest.mark.corpus
@pytest.mark.slow
def test_every_sigmahq_corpus_rule_validates(corpus: Path) -> None:
    failures: list[str] = []
    count = 0
    for path in sorted(corpus.rglob("*.yml")):
        for doc in yaml.load_all(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader):
            if doc is None:
                continue
            count += 1
            for error in VALIDATOR.iter_errors(_json_ready(doc)):
                failures.append(f"{path.relative_to(corpus)}: {error.message}")
    print(f"{count} corpus documents, {len(failures)} schema errors")
    assert count >= 3141
    assert failures == []


def _check_jsonschema(*files: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("check-jsonschema")
    return subprocess.run(
        [str(exe), "--schemafile", str(SCHEMA_PATH), *map(str, files)],
        capture_output=True, text=True, timeout=300,
    )


def _single_documents(tmp_path: Path, rule_file: Path) -> list[Path]:
    """check-jsonschema reads one document per file: split multi-document rules."""
    docs = rule_file.read_text(encoding="utf-8").split("\n---\n")
    if len(docs) == 1:
        return [rule_file]
    out = []
    for index, text in enumerate(docs):
        out.append(write(tmp_path / f"{rule_file.stem}.{index}.yml", text))
    return out


def test_check_jsonschema_accepts_the_repository_rules(tmp_path: Path) -> None:
    rule_files = sorted((PROJECT_ROOT / "rules").rglob("*.yml"))
    assert len(rule_files) >= 5
    targets = [p for f in rule_files for p in _single_documents(tmp_path, f)]
    result = _check_jsonschema(*targets)
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_jsonschema_rejects_a_bad_rule(tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.yml", """\
        title: Bad
        logsource:
            product: windows
        detection:
            selection:
                a: 1
            condition: selection
        tag:
            - attack.execution
        talr:
            version: one
        """)
    result = _check_jsonschema(bad)
    assert result.returncode == 1
    assert "'tag' does not match any of the regexes" in result.stdout
    assert "'one' is not of type 'integer'" in result.stdout
