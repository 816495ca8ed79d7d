"""``talr fmt``: canonical formatting through the ruamel round-trip."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from talr_tools.fmt import FormatError, format_paths, format_text
from tests.conftest import FIXTURES, write

FMT = FIXTURES / "authoring" / "fmt"
MESSY = (FMT / "messy.yml").read_text(encoding="utf-8")
EXPECTED = (FMT / "messy.expected.yml").read_text(encoding="utf-8")

GOOD = """\
title: Already Canonical
id: 6f1d8a52-3c1b-4e0a-8f7e-2b9c4d5e6f70
status: test
logsource:
    product: windows
detection:
    selection:
        EventID: 4720
    condition: selection
level: low
"""


def _data(text: str) -> list[object]:
    return list(yaml.load_all(text, Loader=yaml.CSafeLoader))


def test_messy_rule_becomes_the_hand_written_canonical_form() -> None:
    assert format_text(MESSY) == EXPECTED


def test_formatting_twice_changes_nothing() -> None:
    once = format_text(MESSY)
    assert format_text(once) == once
    assert format_text(EXPECTED) == EXPECTED


def test_data_is_identical_after_formatting() -> None:
    assert _data(format_text(MESSY)) == _data(MESSY)


def test_comments_and_modeline_are_kept() -> None:
    out = format_text(MESSY)
    assert out.startswith("# yaml-language-server: $schema=")
    assert "# LOLBIN" in out


def test_top_level_keys_follow_sigmahq_order_with_talr_last() -> None:
    first_doc = format_text(MESSY).split("\n---\n")[0]
    keys = [line.split(":")[0] for line in first_doc.splitlines() if line and line[0].isalpha()]
    assert keys == ["title", "id", "status", "description", "author", "date", "tags", "logsource",
                    "detection", "level", "talr"]


def test_multi_document_file_keeps_both_documents() -> None:
    docs = _data(format_text(MESSY))
    assert [d["title"] for d in docs] == ["Messy Rule", "Messy Correlation"]


@pytest.mark.parametrize(
    ("source", "expected_line"),
    [
        ('a: "yes"\n', "a: 'yes'"),       # stays a string (PyYAML reads plain yes as bool)
        ('a: "0755"\n', "a: '0755'"),     # stays a string, not an octal int
        ('a: "1.0"\n', "a: '1.0'"),
        ('a: "it\'s"\n', 'a: "it\'s"'),  # a quote inside: double quotes kept
        ('a: "tab\\there"\n', 'a: "tab\\there"'),  # needs an escape: double quotes kept
        ("a: null\n", "a: null"),         # explicit null kept
        ("a: yes\n", "a: yes"),           # plain scalars never re-quoted
        ("a: 2024-01-31\n", "a: 2024-01-31"),
    ],
)
def test_quoting_never_changes_a_value_type(source: str, expected_line: str) -> None:
    out = format_text("title: t\n" + source)
    assert expected_line in out.splitlines()
    assert _data(out) == _data("title: t\n" + source)


def test_condition_goes_last_in_detection_selections_keep_their_order() -> None:
    out = format_text("detection:\n    condition: b or a\n    b: [1]\n    a: [2]\n")
    assert out.splitlines()[1:] == ["    b: [1]", "    a: [2]", "    condition: b or a"]


def test_talr_block_and_its_entries_are_ordered() -> None:
    out = format_text(
        "talr:\n    intel:\n        - url: https://e.org\n          kind: blog\n"
        "    version: 2\n    tlp: amber\ntitle: t\n"
    )
    assert out == (
        "title: t\ntalr:\n    version: 2\n    tlp: amber\n    intel:\n"
        "        - kind: blog\n          url: https://e.org\n"
    )


def test_comment_at_end_of_document_stays_at_the_end_when_keys_move() -> None:
    out = format_text("talr:\n    version: 1\ntitle: t\nlevel: high\n\n# closing note\n")
    assert out.rstrip("\n").endswith("# closing note")
    assert out.index("talr:") < out.index("# closing note")


def test_invalid_yaml_raises_with_line() -> None:
    with pytest.raises(FormatError) as info:
        format_text("title: t\ndetection:\n  sel: [unclosed\n")
    assert info.value.line is not None


def test_check_lists_files_exit_1_and_writes_nothing(tmp_path: Path, run_talr) -> None:
    (tmp_path / "rules").mkdir()
    messy = tmp_path / "rules" / "messy.yml"
    shutil.copy(FMT / "messy.yml", messy)
    write(tmp_path / "rules" / "good.yml", GOOD)
    before = messy.read_bytes()
    result = run_talr("fmt", "--check", str(tmp_path / "rules"), cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "messy.yml" in result.stdout
    assert "good.yml" not in result.stdout
    assert messy.read_bytes() == before


def test_fmt_writes_the_canonical_form_then_check_is_clean(tmp_path: Path, run_talr) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    shutil.copy(FMT / "messy.yml", rules / "messy.yml")
    result = run_talr("fmt", str(rules), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (rules / "messy.yml").read_text(encoding="utf-8") == EXPECTED
    again = run_talr("fmt", "--check", str(rules), cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr


def test_fmt_defaults_to_rule_dirs_of_talr_toml(tmp_path: Path, run_talr) -> None:
    write(tmp_path / "talr.toml", 'rule_dirs = ["detections"]\n')
    (tmp_path / "detections").mkdir()
    shutil.copy(FMT / "messy.yml", tmp_path / "detections" / "m.yml")
    result = run_talr("fmt", "--check", cwd=tmp_path)
    assert result.returncode == 1
    assert "m.yml" in result.stdout


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("broken.yml", b"title: t\ndetection:\n  sel: [unclosed\n", "TALR005"),
        ("binary.yml", b"\x00\x01\x02binary", "TALR002"),
        ("latin1.yml", "title: caf\u00e9\n".encode("latin-1"), "TALR003"),
        ("empty.yml", b"", "TALR004"),
        ("dupe.yml", b"title: a\ntitle: b\n", "TALR006"),
        ("big.yml", b"title: t\ndescription: '" + b"x" * (50 * 1024 * 1024) + b"'\n", "TALR001"),
        ("bomb.yml", b"a: &a [x, x, x, x, x, x, x, x, x, x]\n"
         + b"".join(b"%c: &%c [*%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c]\n" % ((n,) * 2 + (n - 1,) * 10)
                    for n in range(ord("b"), ord("j"))), "TALR007"),
    ],
)
def test_bad_file_is_reported_left_untouched_and_others_still_formatted(
    tmp_path: Path, run_talr, name: str, content: bytes, code: str
) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    bad = rules / name
    bad.write_bytes(content)
    shutil.copy(FMT / "messy.yml", rules / "messy.yml")
    result = run_talr("fmt", str(rules), cwd=tmp_path)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if code in line]
    assert len(lines) == 1 and lines[0].startswith(str(bad)), result.stderr
    assert "Traceback" not in result.stderr
    assert bad.read_bytes() == content
    assert (rules / "messy.yml").read_text(encoding="utf-8") == EXPECTED


def test_syntax_error_names_the_line(tmp_path: Path, run_talr) -> None:
    bad = write(tmp_path / "bad.yml", "title: t\nlevel: high\ndetection:\n  sel: [unclosed\n")
    result = run_talr("fmt", str(bad), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines()[0].startswith(f"{bad}:5:1: TALR005 invalid YAML")


def test_missing_path_is_a_usage_error(tmp_path: Path, run_talr) -> None:
    result = run_talr("fmt", str(tmp_path / "nope"), cwd=tmp_path)
    assert result.returncode == 2
    assert "nope: no such file or folder" in result.stderr


def test_library_report_counts(tmp_path: Path) -> None:
    write(tmp_path / "good.yml", GOOD)
    shutil.copy(FMT / "messy.yml", tmp_path / "messy.yml")
    report = format_paths([tmp_path], check=True)
    assert [f.path.name for f in report.changed] == ["messy.yml"]
    assert report.errors == []


@pytest.mark.corpus
@pytest.mark.slow
def test_corpus_sample_formats_idempotently_without_changing_data(corpus: Path) -> None:
    files = sorted(corpus.rglob("*.yml"))[::15]
    assert len(files) > 150
    for path in files:
        text = path.read_text(encoding="utf-8")
        once = format_text(text)
        assert format_text(once) == once, path
        assert _data(once) == _data(text), path


def test_cache_remembers_canonical_files_and_skips_parsing_them(tmp_path: Path) -> None:
    import hashlib

    from talr_tools.fmt.cache import CanonicalCache
    from talr_tools.fmt.files import Outcome, format_file

    rules = tmp_path / "rules"
    good = write(rules / "good.yml", GOOD)
    cache_dir = tmp_path / ".talr-cache"
    format_paths([rules], check=True, cache_dir=cache_dir)
    digest = hashlib.sha256(good.read_bytes()).hexdigest()
    assert digest in CanonicalCache(cache_dir).hashes
    # A known hash is trusted without parsing: even bytes that would not parse pass.
    broken = write(tmp_path / "broken.yml", "title: [unclosed\n")
    broken_hash = hashlib.sha256(broken.read_bytes()).hexdigest()
    assert format_file(broken, known_canonical=frozenset({broken_hash})).outcome is Outcome.UNCHANGED
    assert format_file(broken, known_canonical=frozenset({digest})).outcome is Outcome.ERROR


def test_cached_file_that_changes_is_formatted_again(tmp_path: Path, run_talr) -> None:
    write(tmp_path / "talr.toml", 'rule_dirs = ["rules"]\n')
    rules = tmp_path / "rules"
    good = write(rules / "good.yml", GOOD)
    assert run_talr("fmt", "--check", str(rules), cwd=tmp_path).returncode == 0
    assert list((tmp_path / ".talr-cache" / "fmt").glob("*.json"))
    good.write_text(MESSY, encoding="utf-8")
    result = run_talr("fmt", "--check", str(rules), cwd=tmp_path)
    assert result.returncode == 1 and "good.yml" in result.stdout


def test_many_files_are_formatted_in_parallel_workers(tmp_path: Path) -> None:
    for index in range(70):
        shutil.copy(FMT / "messy.yml", tmp_path / f"rule_{index:02d}.yml")
    write(tmp_path / "zz_broken.yml", "title: [unclosed\n")
    report = format_paths([tmp_path], jobs=2)
    assert len(report.changed) == 70 and len(report.errors) == 1
    assert all(p.read_text(encoding="utf-8") == EXPECTED for p in tmp_path.glob("rule_*.yml"))


def test_no_cache_is_written_without_talr_toml(tmp_path: Path, run_talr) -> None:
    rules = tmp_path / "rules"
    write(rules / "windows" / "good.yml", GOOD)
    assert run_talr("fmt", "--check", str(rules / "windows" / "good.yml"), cwd=tmp_path).returncode == 0
    assert not list(tmp_path.rglob(".talr-cache"))
