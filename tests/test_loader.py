"""The rule loader: one parse per file, positions, and every kind of bad input as a finding."""

from __future__ import annotations

from pathlib import Path

import pytest

from talr_tools.loader import MAX_EXPANDED_NODES, iter_rule_files, load_rule, parse_rule_bytes
from talr_tools.model import DocumentKind

from .conftest import write

RULE = """\
title: Test Rule
id: 5f1a8f43-3b1e-4a4f-9d2b-0c7f1e2d3a4b
status: test
logsource:
    product: windows
    category: process_creation
detection:
    selection:
        Image|endswith: '\\whoami.exe'
    condition: selection
level: low
talr:
    version: 2
    tlp: amber
    changelog:
        - version: 1
          date: 2026-01-02
          note: First version
        - version: 2
          date: 2026-02-03
          note: Narrower selection
    intel:
        - kind: group
          external_id: G0016
        - kind: report
          url: https://example.org/report
    conversion:
        expected_failures:
            - target: loki
              reason: no Windows logs in Loki
"""


def findings_of(data: bytes) -> list[tuple[str, int | None]]:
    result = parse_rule_bytes(data, Path("r.yml"))
    assert result.rule is None
    return [(f.code, f.line) for f in result.findings]


def test_good_rule_is_parsed_with_its_talr_block(tmp_path: Path) -> None:
    result = load_rule(write(tmp_path / "r.yml", RULE))
    assert result.findings == []
    rule = result.rule
    assert rule is not None
    assert rule.id == "5f1a8f43-3b1e-4a4f-9d2b-0c7f1e2d3a4b"
    assert rule.talr.version == 2 and rule.talr.tlp == "amber"
    assert [entry.version for entry in rule.talr.changelog] == [1, 2]
    assert rule.talr.intel[0].external_id == "G0016"
    assert rule.talr.expected_failures[0].target == "loki"
    assert rule.primary.kind is DocumentKind.RULE


def test_positions_come_from_the_single_parse(tmp_path: Path) -> None:
    rule = load_rule(write(tmp_path / "r.yml", RULE)).rule
    assert rule is not None
    assert rule.primary.position(["detection", "condition"]) == (10, 16)
    assert rule.primary.key_position(["detection", "condition"]) == (10, 5)
    assert rule.primary.position(["talr", "changelog", 1, "note"]) == (21, 17)
    # A missing key points at the deepest parent that exists.
    assert rule.primary.position(["detection", "nothing"]) == (8, 5)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"title: x\ndetection: [unclosed\n", ("TALR005", 3)),
        (b"\x00\x01\x02binary", ("TALR002", None)),
        (b"", ("TALR004", None)),
        (b"# only a comment\n", ("TALR004", None)),
        (b"title: ok\ndescription: caf\xe9\n", ("TALR003", 2)),
        (b"title: a\nid: 1\ntitle: b\n", ("TALR006", 3)),
        (b"- just\n- a list\n", ("TALR008", 1)),
    ],
    ids=["malformed", "binary", "empty", "comment-only", "non-utf8", "duplicate-key", "not-a-mapping"],
)
def test_bad_input_becomes_one_finding_with_its_line(data: bytes, expected: tuple[str, int | None]) -> None:
    assert findings_of(data) == [expected]


def test_alias_bomb_is_refused_before_expansion() -> None:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, 10):
        prev = f"*a{level - 1}"
        lines.append(f"a{level}: &a{level} [{', '.join([prev] * 9)}]")
    result = parse_rule_bytes("\n".join(lines).encode(), Path("bomb.yml"))
    assert [f.code for f in result.findings] == ["TALR007"]
    assert f"{MAX_EXPANDED_NODES:,}" in result.findings[0].message


def test_small_aliases_are_allowed() -> None:
    result = parse_rule_bytes(b"base: &b {x: 1}\nother: *b\n", Path("ok.yml"))
    assert result.findings == [] and result.rule is not None
    assert result.rule.documents[0].data["other"] == {"x": 1}


def test_file_over_the_size_limit_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "big.yml"
    path.write_bytes(b"title: x\n" + b"#" * 2000)
    result = load_rule(path, max_size=1000)
    assert [f.code for f in result.findings] == ["TALR001"]
    assert "over the limit of 1,000" in result.findings[0].message


def test_unreadable_path_is_a_finding(tmp_path: Path) -> None:
    result = load_rule(tmp_path / "missing.yml", display="missing.yml")
    assert [(f.code, f.path) for f in result.findings] == [("TALR001", "missing.yml")]


def test_multi_document_file_keeps_every_document_and_picks_the_talr_one() -> None:
    text = (
        "title: base\nid: 11111111-1111-4111-8111-111111111111\nlogsource: {product: windows}\n"
        "detection: {sel: {a: 1}, condition: sel}\n---\n"
        "title: corr\nid: 22222222-2222-4222-8222-222222222222\n"
        "correlation: {type: event_count, rules: [base], timespan: 5m, condition: {gte: 5}}\n"
        "talr: {version: 1}\n"
    )
    result = parse_rule_bytes(text.encode(), Path("multi.yml"))
    assert result.rule is not None
    rule = result.rule
    assert [d.kind for d in rule.documents] == [DocumentKind.RULE, DocumentKind.CORRELATION]
    assert rule.id == "22222222-2222-4222-8222-222222222222"
    assert rule.ids == ["11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"]
    assert rule.documents[1].line == 6


def test_iter_rule_files_finds_yaml_skips_hidden_and_keeps_explicit_files(tmp_path: Path) -> None:
    write(tmp_path / "rules" / "b.yml", "title: b\n")
    write(tmp_path / "rules" / "sub" / "a.yaml", "title: a\n")
    write(tmp_path / "rules" / ".git" / "x.yml", "title: hidden\n")
    write(tmp_path / "rules" / "notes.txt", "not a rule\n")
    explicit = write(tmp_path / "odd.rule", "title: odd\n")
    found = list(iter_rule_files([tmp_path / "rules", explicit, tmp_path / "rules" / "b.yml"]))
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["rules/b.yml", "rules/sub/a.yaml", "odd.rule"]
