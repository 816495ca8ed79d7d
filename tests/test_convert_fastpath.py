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


def _cells(targets: tuple[str, ...] = TARGETS) -> list[tuple[str, Any, str, tuple[str, ...], str]]:
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
        for identifier in targets:
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
    cells = _cells((*TARGETS, "sumologic_cse", "secops", "sumologic_cse_rule"))
    assert {c[2] for c in cells} >= {"panther", "sumologic_cse"}  # black and indented JSON
    for name, docs, target, pipes, fmt in cells:
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


def test_outcome_only_writes_json_compactly_and_keeps_its_errors() -> None:
    import json

    real = json.dumps
    data = {"rules": [{"name": "x", "tags": ["a", "b"], "score": 1.5}]}
    with outcome_only():
        text = json.dumps(data, indent=4, sort_keys=False)
        assert "\n" not in text and json.loads(text) == data
        assert json.dumps(data) == real(data)  # no indent asked: the real call
        with pytest.raises(ValueError, match="not JSON compliant: nan"):  # the indented call's own message
            json.dumps({"f": float("nan")}, indent=4, allow_nan=False)
        with pytest.raises(TypeError, match="set is not JSON serializable"):
            json.dumps({"s": {1}}, indent=2)
    assert json.dumps is real
    with outcome_only(False):
        assert json.dumps is real


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


def _long_rule(values: int, condition: str = "selection") -> dict[str, Any]:
    """A rule whose Loki query exceeds LogQL's length limit, so Loki splits it into parts."""
    return {
        "title": "Many hashes",
        "id": "5b2c3e4f-0a1b-4c2d-8e3f-00000000aa" + str(values % 100).zfill(2),
        "logsource": {"category": "driver_load", "product": "windows"},
        "detection": {
            "selection": {"Hashes|contains": [f"SHA256={index:064x}" for index in range(values)]},
            "selection_img": {"ImageLoaded|endswith": [".sys", ".dll"]},
            "filter": {"Signed": "true", "ImageLoaded|startswith": "C:\\Windows\\"},
            "condition": condition,
        },
    }


@pytest.mark.parametrize(
    "condition",
    [
        "selection",  # one OR at the top
        "selection and selection_img and not filter",  # the OR nested under an AND
        "(selection or selection_img) and not filter",  # OR of an OR: the top OR has two arguments
    ],
)
def test_loki_parts_are_what_loki_itself_gives(condition: str) -> None:
    """Loki splits an over-long query into parts; TALR's cheaper split gives the same queries,
    including where Loki reduces the number of parts (fewer OR arguments than parts). Loki
    splits queries of its default (plain LogQL) output format only."""
    from sigma.collection import SigmaCollection

    from talr_tools.convert.fastpath import partition_condition, share_loki_partitions

    plugins = load_plugins()
    if "loki" not in plugins.backends:
        pytest.skip("Loki backend not installed")
    rule = _long_rule(400, condition)
    plain = plugins.backends["loki"]()
    expected = plain.convert(SigmaCollection.from_dicts([rule]))
    assert len(expected) > 1  # Loki did split it
    fast = plugins.backends["loki"]()
    share_loki_partitions(fast)
    calls: list[bool] = []

    def spy(condition_tree: Any, partitions: int) -> Any:
        parts = partition_condition(condition_tree, partitions)
        calls.append(parts is not None)
        return parts

    import talr_tools.convert.fastpath.loki as fastpath

    real = fastpath.partition_condition
    fastpath.partition_condition = spy  # type: ignore[assignment]
    try:
        got = fast.convert(SigmaCollection.from_dicts([rule]))
    finally:
        fastpath.partition_condition = real  # type: ignore[assignment]
    assert got == expected
    assert calls and calls[0] is (condition != "(selection or selection_img) and not filter")


def test_loki_split_shares_only_what_is_outside_the_tree() -> None:
    """Each part is its own tree (changing one part's nodes changes no other part or the
    original); only the detection objects above the tree are shared."""
    from sigma.collection import SigmaCollection
    from sigma.conditions import ConditionOR

    from talr_tools.convert.fastpath import partition_condition

    rule = SigmaCollection.from_dicts([_long_rule(90)]).rules[0]
    tree = rule.detection.parsed_condition[0].parsed
    assert isinstance(tree, ConditionOR) and len(tree.args) == 90
    parts = partition_condition(tree, 3)
    assert parts is not None and len(parts) == 3
    assert [len(part.args) for part in parts] == [30, 30, 30]
    assert [str(arg.value) for part in parts for arg in part.args] == [str(arg.value) for arg in tree.args]
    ids_original = {id(arg) for arg in tree.args}
    for part in parts:
        assert part is not tree and not ids_original & {id(arg) for arg in part.args}
        assert all(arg.parent is part for arg in part.args)
        assert part.parent is tree.parent
    assert len(tree.args) == 90  # the original is untouched
    assert partition_condition(tree, 91) is None  # fewer arguments than parts: Loki's own method decides


def test_loki_split_is_left_to_other_backends() -> None:
    from talr_tools.convert.fastpath import share_loki_partitions

    plugins = load_plugins()
    backend = plugins.backends["splunk"]()
    share_loki_partitions(backend)
    assert "partition_rule" not in vars(backend)


def test_regexes_found_valid_are_not_compiled_again_and_invalid_ones_still_fail(monkeypatch: Any) -> None:
    import re

    from sigma.exceptions import SigmaRegularExpressionError
    from sigma.types import SigmaRegularExpression, SigmaRegularExpressionFlag

    from talr_tools.convert import fastpath

    fastpath.remember_valid_regexes()
    fastpath.remember_valid_regexes()  # twice: installed once
    assert getattr(SigmaRegularExpression.compile, "talr_remembers", False)
    compiled: list[tuple[str, int]] = []
    real_compile = re.compile

    def counting(pattern: Any, flags: int = 0) -> Any:
        compiled.append((pattern, int(flags)))
        return real_compile(pattern, flags)

    monkeypatch.setattr(re, "compile", counting)
    pattern = r"talr-\d+-test-(?:valid|ok)"
    SigmaRegularExpression(pattern)
    SigmaRegularExpression(pattern)
    assert compiled.count((pattern, 0)) == 1  # the second one was known valid
    with_flag = SigmaRegularExpression(pattern, {SigmaRegularExpressionFlag.IGNORECASE})
    assert (pattern, int(re.IGNORECASE)) in compiled  # flags are part of what was checked
    with_flag.compile()
    assert compiled.count((pattern, int(re.IGNORECASE))) == 1
    for _ in range(2):  # an invalid pattern is never remembered: it fails every time, as in pySigma
        with pytest.raises(SigmaRegularExpressionError, match="is invalid"):
            SigmaRegularExpression("talr-(unclosed")
    assert compiled.count(("talr-(unclosed", 0)) == 2


def test_strings_parsed_once_give_pysigmas_parts_in_their_own_list() -> None:
    from sigma.types import SigmaString, SpecialChars

    from talr_tools.convert import fastpath

    texts = ["plain", "*\\cmd.exe", "a?b*c", "esc\\*aped\\?", "trailing\\", "\\\\server\\share", "", "ünï*cödé"]
    fastpath.remember_parsed_strings()
    assert getattr(SigmaString.__init__, "talr_remembers", False)
    pysigma_init = SigmaString.__init__.talr_original  # type: ignore[attr-defined]

    def parsed_by_pysigma(text: str, escape: bool) -> Any:
        value = SigmaString.__new__(SigmaString)
        pysigma_init(value, text, escape)
        return value.s

    for _round in range(2):  # the second round comes from what the first remembered
        for text in texts:
            for escape in (True, False):
                value = SigmaString(text, escape=escape)
                assert value.s == parsed_by_pysigma(text, escape) and value.original == text, (text, escape)
    first, second = SigmaString("a*b"), SigmaString("a*b")
    assert first.s == ["a", SpecialChars.WILDCARD_MULTI, "b"]
    first.s.append("changed")  # pySigma edits parts in place: instances never share a list
    assert second.s == ["a", SpecialChars.WILDCARD_MULTI, "b"]
    assert SigmaString("a*b").s == ["a", SpecialChars.WILDCARD_MULTI, "b"]
    assert SigmaString(None).s == [] and SigmaString(None).original == ""


def test_rule_conditions_stop_at_the_first_that_decides_with_pysigmas_results(monkeypatch: Any) -> None:
    from sigma.collection import SigmaCollection
    from sigma.processing.conditions import LogsourceCondition, RuleContainsFieldCondition
    from sigma.processing.pipeline import ProcessingItem, ProcessingItemBase
    from sigma.processing.transformations import FieldMappingTransformation

    from talr_tools.convert import fastpath

    fastpath.short_circuit_rule_conditions()
    fastpath.short_circuit_rule_conditions()  # twice: installed once
    patched = ProcessingItemBase.match_rule_conditions
    assert getattr(patched, "talr_short_circuit", False)
    original = patched.talr_original  # type: ignore[attr-defined]

    class CountingFieldCondition(RuleContainsFieldCondition):
        """A subclass: not one of pySigma's own read-only classes, so every condition is checked."""

    searched: list[str | None] = []
    real_find = RuleContainsFieldCondition.find_detection_item

    def find(self: Any, detection: Any) -> bool:
        searched.append(self.field)
        return bool(real_find(self, detection))

    monkeypatch.setattr(RuleContainsFieldCondition, "find_detection_item", find)
    windows, linux = (
        SigmaCollection.from_dicts([_process_rule("CommandLine")]).rules[0],
        SigmaCollection.from_dicts([{**_process_rule("CommandLine"), "logsource": {"product": "linux"}}]).rules[0],
    )
    on_windows = LogsourceCondition(product="windows")
    items = []
    for linking in (all, any):
        for negation in (False, True):
            for conditions in (
                [on_windows, RuleContainsFieldCondition("CommandLine")],
                [on_windows, RuleContainsFieldCondition("Image")],
                [RuleContainsFieldCondition("Image"), on_windows],
                [on_windows, CountingFieldCondition("CommandLine")],
                [],
            ):
                items.append(
                    ProcessingItem(
                        FieldMappingTransformation({"CommandLine": "cmd"}),
                        rule_conditions=list(conditions),
                        rule_condition_linking=linking,
                        rule_condition_negation=negation,
                    )
                )
    for item in items:
        for rule in (windows, linux):
            assert patched(item, rule) == original(item, rule), (item.rule_conditions, item.rule_condition_linking)
    searched.clear()
    assert patched(items[0], linux) is False  # all(): the log source decides; the detection is not searched
    assert searched == []
    assert original(items[0], linux) is False
    assert searched and set(searched) == {"CommandLine"}  # pySigma searched it anyway
    searched.clear()
    assert patched(items[3], linux) is False  # a subclass: pySigma's method, every condition checked
    assert searched and set(searched) == {"CommandLine"}


CONDITIONS = (
    "selection",
    "selection and not filter",
    "1 of selection_* and not 1 of filter_*",
    "(a or b) and not (c and d)",
    "all of them",
    "a and (b or c or d) and not 1 of f*",
)


@pytest.mark.parametrize("text", CONDITIONS)
def test_condition_trees_copied_directly_equal_deep_copies(text: str) -> None:
    import copy

    from sigma import conditions
    from sigma.conditions import _parse_condition_string

    from talr_tools.convert import fastpath

    fastpath.copy_condition_trees_directly()
    assert isinstance(conditions.copy, fastpath.process._ConditionCopyModule)  # what SigmaCondition.parse uses
    tree = _parse_condition_string(text)
    direct = conditions.copy.deepcopy(tree)
    assert direct == copy.deepcopy(tree)  # same classes, same arguments, all the way down

    def nodes(node: Any) -> list[Any]:
        children = [arg for arg in getattr(node, "args", []) if not isinstance(arg, str)]
        return [node, *(n for child in children for n in nodes(child))]

    assert not {id(n) for n in nodes(tree)} & {id(n) for n in nodes(direct)}  # nothing shared
    direct.args.append("changed")
    assert _parse_condition_string(text) == tree and "changed" not in tree.args


def test_condition_copy_falls_back_to_deepcopy_and_keeps_shared_nodes_shared() -> None:
    import copy

    from sigma.conditions import ConditionAND, ConditionIdentifier, ConditionOR
    from sigma.exceptions import SigmaRuleLocation

    from talr_tools.convert.fastpath import copy_condition_tree

    classes = frozenset({ConditionAND, ConditionOR, ConditionIdentifier})
    shared = ConditionIdentifier(["a"])
    tree = ConditionAND([shared, ConditionOR([shared, ConditionIdentifier(["b"])])])
    direct = copy_condition_tree(tree, classes)
    assert direct == tree and direct.args[0] is direct.args[1].args[0]  # met twice, copied once
    located = ConditionAND([ConditionIdentifier(["a"])], source=SigmaRuleLocation("rule.yml", 3))
    fallback = copy_condition_tree(located, classes)  # not a plain value: copy.deepcopy, whole
    assert fallback == located and fallback.source == located.source and fallback.source is not located.source
    assert copy_condition_tree({"x": [1]}, classes) == copy.deepcopy({"x": [1]})


def _collector_settings() -> tuple[tuple[int, int, int], int]:
    import gc

    return gc.get_threshold(), gc.get_freeze_count()


def test_conversion_workers_tune_their_collector_and_the_caller_keeps_its_own() -> None:
    import gc
    from concurrent.futures import ProcessPoolExecutor

    locations = discover_catalogue().locations()
    before = gc.get_threshold()
    worker.use_locations(locations)  # in-process conversion: the caller's collector is left alone
    assert gc.get_threshold() == before
    with ProcessPoolExecutor(max_workers=1, initializer=worker.start_worker, initargs=(locations,)) as pool:
        thresholds, frozen = pool.submit(_collector_settings).result()
    assert thresholds == worker.GC_THRESHOLDS != before
    assert frozen > 10_000  # what the worker inherited (imported modules, this test session) is frozen
