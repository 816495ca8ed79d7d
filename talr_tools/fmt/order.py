"""Canonical key orders: the order Sigma authors expect (SigmaHQ's), ``talr:`` last."""

from __future__ import annotations

# Top-level keys of a Sigma document, in SigmaHQ order. Unknown keys (``x_...`` custom
# attributes, SigmaHQ conventions not listed) keep their relative order after the known
# keys, and ``talr`` always comes last.
TOP_LEVEL: tuple[str, ...] = (
    "title",
    "id",
    "related",
    "name",
    "taxonomy",
    "status",
    "description",
    "license",
    "references",
    "author",
    "date",
    "modified",
    "tags",
    "logsource",
    "detection",
    "correlation",
    "filter",
    "fields",
    "falsepositives",
    "level",
    "scope",
    "simulation",
    "regression_tests_path",
)

TALR: tuple[str, ...] = ("version", "tlp", "changelog", "intel", "conversion", "tests")
CHANGELOG_ENTRY: tuple[str, ...] = ("version", "date", "note")
INTEL_LINK: tuple[str, ...] = ("kind", "name", "url", "external_id", "stix_id")
EXPECTED_FAILURE: tuple[str, ...] = ("target", "reason")
TEST_CASE: tuple[str, ...] = ("name", "description", "expect", "events", "file")
RELATED: tuple[str, ...] = ("id", "type")
CORRELATION: tuple[str, ...] = ("type", "rules", "aliases", "group-by", "timespan", "condition", "generate")

# Keys that go last in their mapping whatever else it holds (selections keep their order).
DETECTION_LAST: tuple[str, ...] = ("timeframe", "condition")
FILTER_FIRST: tuple[str, ...] = ("rules",)
FILTER_LAST: tuple[str, ...] = ("condition",)
