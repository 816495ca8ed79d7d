"""What counts as a change to a rule: the canonical content hash."""

from __future__ import annotations

from pathlib import Path

from talr_tools.loader import parse_rule_bytes

BASE = """\
title: Whoami
id: 5f1a8f43-3b1e-4a4f-9d2b-0c7f1e2d3a4b
date: 2026-01-02
modified: 2026-01-02
logsource:
    product: windows
    category: process_creation
detection:
    selection:
        Image|endswith: '\\whoami.exe'
    condition: selection
level: low
talr:
    version: 1
    tlp: clear
    changelog:
        - version: 1
          date: 2026-01-02
          note: First version
"""


def hash_of(text: str) -> str:
    rule = parse_rule_bytes(text.encode(), Path("r.yml")).rule
    assert rule is not None
    return rule.content_hash


def test_formatting_comments_and_key_order_do_not_count() -> None:
    reformatted = (
        "# a comment\nid: 5f1a8f43-3b1e-4a4f-9d2b-0c7f1e2d3a4b\ntitle: \"Whoami\"\ndate: 2026-01-02\n"
        "modified: 2026-01-02\nlevel: low\nlogsource: {category: process_creation, product: windows}\n"
        "detection:\n  condition: selection  # why\n  selection:\n    Image|endswith: \"\\\\whoami.exe\"\n"
        "talr: {tlp: clear, version: 1, changelog: [{version: 1, date: 2026-01-02, note: First version}]}\n"
    )
    assert hash_of(reformatted) == hash_of(BASE)


def test_version_modified_and_changelog_do_not_count() -> None:
    bumped = BASE.replace("modified: 2026-01-02", "modified: 2026-03-04").replace("version: 1\n    tlp", "version: 2\n    tlp")
    bumped += "        - version: 2\n          date: 2026-03-04\n          note: Bump\n"
    assert hash_of(bumped) == hash_of(BASE)


def test_detection_logsource_title_level_and_tlp_count() -> None:
    base = hash_of(BASE)
    assert hash_of(BASE.replace("whoami.exe", "hostname.exe")) != base
    assert hash_of(BASE.replace("process_creation", "image_load")) != base
    assert hash_of(BASE.replace("title: Whoami", "title: Who Am I")) != base
    assert hash_of(BASE.replace("level: low", "level: high")) != base
    assert hash_of(BASE.replace("tlp: clear", "tlp: amber")) != base


def test_conversion_expectations_and_tests_do_not_count() -> None:
    extended = BASE + "    conversion:\n        expected_failures:\n            - target: loki\n              reason: x\n"
    assert hash_of(extended) == hash_of(BASE)
