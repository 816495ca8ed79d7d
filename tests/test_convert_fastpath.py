"""The conversion shortcuts (talr_tools.convert.fastpath) change no result.

Expected outputs come from pySigma itself: a fresh backend and fresh pipeline objects for
every single conversion, as if each rule were converted on its own by sigma-cli.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest

from talr_tools.convert import worker
from talr_tools.convert.discovery import discover_catalogue, load_plugins
from talr_tools.convert.fastpath import outcome_only
from talr_tools.convert.mapping import load_mapping
from talr_tools.convert.rules import RuleSource, parse_source, summarise
from talr_tools.convert.runner import plan_pipelines
from tests.conftest import FIXTURES

RULES = FIXTURES / "convert" / "rules"
WINDOWS_PROC = ("windows", "process_creation", None)
# Targets sharing pipeline objects (ECS pipelines between the Elastic backends), with
# their own combination code (Loki, Panther), or their own init (SQLite).
TARGETS = ("splunk", "lucene", "esql", "eql", "opensearch_lucene", "loki", "panther", "sqlite", "kusto")
FILES = ("proc_whoami.yml", "linux_shell.yml", "keywords_mimikatz.yml", "null_field.yml")


def _fresh(docs: Any, target: str, pipelines: tuple[str, ...], fmt: str) -> Any:
    """pySigma alone: new pipelines, new backend, one rule."""
    from sigma.collection import SigmaCollection

    plugins = load_plugins()
    built = sorted((plugins.pipelines[name]() for name in pipelines), key=lambda p: p.priority)
    pipeline = None
    for item in built:
        pipeline = item if pipeline is None else pipeline + item
    backend = plugins.backends[target](processing_pipeline=pipeline)
    try:
        return worker.normalise_queries(backend.convert(SigmaCollection.from_dicts([dict(d) for d in docs]), fmt))
    except Exception as exc:  # a failing conversion is a result too
        return worker.error_message(exc)


def _cells() -> list[tuple[str, Any, str, tuple[str, ...], str]]:
    catalogue = discover_catalogue()
    worker.use_locations(catalogue.locations())
    mapping = load_mapping()
    cells = []
    for name in FILES:
        source = RuleSource(name, (RULES / name).read_bytes())
        rule, _ = parse_source(source)
        assert rule is not None
        summary = summarise(rule)
        docs = [doc.data for doc in rule.documents]
        for identifier in TARGETS:
            target = catalogue.target(identifier)
            if target is None:
                continue
            pipes, _ = plan_pipelines(target, summary, mapping, catalogue.pipelines)
            if pipes is not None:
                cells.append((name, docs, identifier, pipes, target.default_format))
    return cells


def test_backends_reused_across_rules_give_what_fresh_backends_give() -> None:
    """Rule after rule, target after target (one reused backend per target, shared pipeline
    objects re-pointed between them): every query equals pySigma's from fresh objects."""
    cells = _cells()
    assert {c[2] for c in cells} >= {"splunk", "lucene", "esql", "panther", "loki"}
    combined: dict[tuple[str, tuple[str, ...]], set[int]] = {}
    for _round in range(2):  # twice: the second time every backend and combination is reused
        for name, docs, target, pipes, fmt in cells:
            outcome, queries, _ = worker.convert(docs, target, pipes, fmt)
            expected = _fresh(docs, target, pipes, fmt)
            got = queries if outcome.ok else outcome.message
            assert got == expected, (name, target, pipes)
            backend = worker.backend_for(target, pipes)
            # what pySigma's ``+`` sets up: every item of the pipeline just applied points at it
            applied = backend.last_processing_pipeline
            items = (*applied.items, *applied.postprocessing_items, *applied.finalizers)
            assert all(item._pipeline is applied for item in items), (name, target, pipes)
            combined.setdefault((target, pipes), set()).add(id(getattr(backend, "last_processing_pipeline", None)))
    # the base class's convert (not Loki's or Panther's own) keeps one combination per backend
    assert combined[("splunk", ("splunk_windows",))] and len(combined[("splunk", ("splunk_windows",))]) == 1


def test_outcome_only_keeps_the_outcome_of_every_cell() -> None:
    for name, docs, target, pipes, fmt in _cells():
        full = worker.convert(docs, target, pipes, fmt)[0]
        quick = worker.convert(docs, target, pipes, fmt, only_outcome=True)[0]
        assert quick == full, (name, target)


def test_outcome_only_skips_black_for_code_that_parses_and_keeps_its_errors() -> None:
    pytest.importorskip("black")
    import black
    import black.parsing

    real = black.format_file_contents
    mode = black.FileMode(line_length=100)
    code = "def rule(event):\n    if event.get('a')=='b':\n        return True\n    return False\n        "
    assert real(code, fast=True, mode=mode) != code  # black would reformat it
    with outcome_only():
        assert black.format_file_contents(code, fast=True, mode=mode) == code  # not formatted: not kept
        with pytest.raises(black.parsing.InvalidInput):
            black.format_file_contents("def rule(event):\n    if (:\n", fast=True, mode=mode)
    assert black.format_file_contents is real
    with outcome_only(False):
        assert black.format_file_contents is real
    assert "black" in sys.modules


def _process_rule(field: str) -> dict[str, Any]:
    return {
        "title": f"Uses {field}",
        "id": "5b2c3e4f-0a1b-4c2d-8e3f-0000000000" + str(len(field)).zfill(2),
        "logsource": {"category": "process_creation", "product": "windows"},
        "detection": {"selection": {f"{field}|contains": "x"}, "condition": "selection"},
    }


@pytest.mark.parametrize("target", ["cortex_xdr", "sentinel_one_pq"])
def test_a_failure_message_names_only_this_rules_field(target: str) -> None:
    """Some plugins prepend each invalid field to their transformation's own message; a cell's
    message names only its own rule's field, whatever was converted before in the process."""
    catalogue = discover_catalogue()
    worker.use_locations(catalogue.locations())
    info = catalogue.target(target)
    if info is None:
        pytest.skip(f"{target} not installed")
    pipes = load_mapping().pipelines_for(target, [WINDOWS_PROC]) or ()
    for field in ("TalrNoSuchField", "TalrOtherField", "TalrNoSuchField"):
        outcome, _, _ = worker.convert([_process_rule(field)], target, pipes, info.default_format)
        assert not outcome.ok, (target, field)
        assert f"field name encountered: {field}." in outcome.message
        assert outcome.message.count("field name encountered") == 1, outcome.message
