"""Conversion work pySigma repeats, or that cannot change a ``test-convert`` cell: done once, or left out.

Each measured on the SigmaHQ corpus over all installed backends (see
``benchmarks/bench_convert.py`` and ``docs/conversion.md``, "Speed"); none changes a
cell's state, message or query count (``tests/test_convert_fastpath.py``). pySigma's own
objects are changed in place, so each function says where it applies: per backend, per
``with`` block, or per process (called from :func:`prepare_conversion_process`, when a
conversion process starts, never at import):

* :func:`reuse_combined_pipeline`: a backend combines its pipelines once, as it does when
  sigma-cli converts a whole folder in one call, instead of once per rule;
* :func:`outcome_only`: when only the outcome is kept, Panther's Python output is checked for
  syntax with :func:`ast.parse` instead of being formatted with black (a third of all
  conversion time), and JSON is written without indentation (C encoder); code that does not
  parse or JSON that does not encode still goes through the real function, for its error;
* :func:`remember_valid_regexes`: pySigma checks every regular expression it builds by compiling
  it; a pattern already found valid in this process is not compiled again;
* :func:`remember_parsed_strings`: a Sigma string value is parsed (wildcards, escapes) once per
  process, not again by each backend;
* :func:`copy_condition_trees_directly`: pySigma deep-copies a cached parse of each rule's
  condition for every conversion; a tree of plain condition nodes is copied node by node;
* :func:`short_circuit_rule_conditions`: a processing item whose rule conditions are all of
  pySigma's read-only kinds stops checking them once the result is known;
* :func:`share_loki_partitions`: Loki splits a query too long for LogQL into parts, deep-copying
  the whole condition tree once per part; each part now copies only its own share.
"""

from __future__ import annotations

import ast
import copy
import json
import re
import sys
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def _points_to(combined: Any) -> bool:
    """Whether every item of ``combined`` still has ``combined`` as its pipeline."""
    items = (*combined.items, *combined.postprocessing_items, *combined.finalizers)
    return all(getattr(item, "_pipeline", None) is combined for item in items)


_ORIGINAL_MESSAGES: dict[int, tuple[Any, str]] = {}  # id -> (transformation, message when first seen)


def _failure_messages(pipelines: list[Any]) -> list[tuple[Any, str]]:
    """The transformations with a text ``message`` in ``pipelines``, with their first-seen message.

    Seen first when a backend is built, before it converted anything (pipeline objects
    shared between backends keep the message recorded by the first).
    """
    found = []
    for pipeline in pipelines:
        for item in getattr(pipeline, "items", None) or ():
            transformation = getattr(item, "transformation", None)
            message = getattr(transformation, "message", None)
            if isinstance(message, str):
                found.append(_ORIGINAL_MESSAGES.setdefault(id(transformation), (transformation, message)))
    return found


def reuse_combined_pipeline(backend: Any) -> None:
    """Make ``backend`` combine its pipelines once, not on every ``convert`` call.

    pySigma's ``Backend.convert`` calls ``init_processing_pipeline``, which builds
    ``backend pipeline + processing pipeline + output format pipeline`` anew (re-pointing
    every processing item at the new object): about a tenth of the conversion time when
    each rule is converted on its own. sigma-cli converts a folder with one ``convert``
    call, so one combined pipeline serves all its rules; this gives each backend instance
    the same: the combination built on the first call is kept for that output format.
    ``ProcessingPipeline.apply`` resets the per-rule state (applied items, state, field
    mappings) on each rule.

    Pipeline objects are shared (between backends of one class, and between backends
    given the same pipeline), and building another combination re-points their items;
    before reuse, a combination whose items no longer point at it is re-pointed
    (``_clear_pipeline`` + ``set_pipeline``, what pySigma's ``+`` does). A call with
    another output format falls back to the backend's own method.

    Also, before each conversion, failure transformations get back their original
    ``message``: some plugins (Cortex XDR, SentinelOne, Carbon Black, Kusto) prepend each
    invalid field to the transformation's own ``message``, so every later failure in the
    process repeated the fields of all earlier ones (a message that depended on which
    rules a worker had converted before; it now names this rule's field, as a rule
    converted on its own does).
    """
    original = backend.init_processing_pipeline
    kept: dict[str, Any] = {}
    messages = _failure_messages(
        [
            backend.backend_processing_pipeline,
            backend.processing_pipeline,
            *backend.output_format_processing_pipeline.values(),
        ]
    )

    def init_processing_pipeline(output_format: str | None = None) -> None:
        for transformation, message in messages:
            transformation.message = message
        fmt = output_format or backend.default_format
        combined = kept.get(fmt)
        if combined is None:
            original(output_format)
            kept.clear()
            kept[fmt] = backend.last_processing_pipeline
            return
        if not _points_to(combined):
            combined._clear_pipeline()
            combined.set_pipeline()
        backend.last_processing_pipeline = combined

    backend.init_processing_pipeline = init_processing_pipeline


@contextmanager
def outcome_only(active: bool = True) -> Iterator[None]:
    """Inside (when ``active``): formatting whose text is not kept is left out.

    For cells whose query text is not kept (``test-convert`` stores the outcome and the
    number of queries):

    * black's ``format_file_contents`` only checks that the code parses (Panther's Python
      output). Code that :func:`ast.parse` accepts is returned as it is (black would
      reformat it: the generated code always ends in a whitespace-only line, so black
      never raises ``NothingChanged`` on it); anything else goes to the real black, so a
      failure keeps black's own error. Only when black is already imported (by a backend
      that uses it).
    * :func:`json.dumps` writes without indentation: with ``indent``, Python's json uses its
      pure-Python encoder, ten times slower than the C one (Sumo Logic writes each rule as
      indented JSON, reads it back and writes it again). Same objects accepted; anything
      the compact call rejects goes to the real call, so an error keeps its own message.

    Only while inside; each replaced function is put back on the way out.
    """
    if not active:
        yield
        return
    with _black_checks_syntax_only(), _compact_json():
        yield


@contextmanager
def _black_checks_syntax_only() -> Iterator[None]:
    black: Any = sys.modules.get("black")
    if black is None:
        yield
        return
    real = black.format_file_contents

    def format_file_contents(src_contents: str, **kwargs: Any) -> Any:
        try:
            ast.parse(src_contents)
        except (SyntaxError, ValueError):
            return real(src_contents, **kwargs)
        if src_contents.strip() == "" or (kwargs.get("mode") is not None and kwargs["mode"].is_ipynb):
            return real(src_contents, **kwargs)
        return src_contents

    black.format_file_contents = format_file_contents
    try:
        yield
    finally:
        black.format_file_contents = real


@contextmanager
def _compact_json() -> Iterator[None]:
    real = json.dumps

    def dumps(obj: Any, **kwargs: Any) -> str:
        if kwargs.get("indent") is None:
            return real(obj, **kwargs)
        try:
            return real(obj, **{**kwargs, "indent": None})
        except Exception:  # the real call, for its own error
            return real(obj, **kwargs)

    json.dumps = dumps
    try:
        yield
    finally:
        json.dumps = real


REGEX_CACHE = 4096


def enlarge_regex_cache(size: int = REGEX_CACHE) -> None:
    """Let :mod:`re` keep ``size`` compiled patterns (Python's default is 512).

    pySigma compiles each rule's wildcard values to regular expressions in every backend;
    with 512 entries, the 21 backends of one rule push each other's patterns out, and
    they are compiled again. Called when a conversion process starts (not at import).
    """
    if getattr(re, "_MAXCACHE", size) < size:
        setattr(re, "_MAXCACHE", size)  # noqa: B010 (private, not in the type stubs)


VALID_REGEX_LIMIT = 200_000  # (pattern, flags) pairs remembered per process (some tens of MB at most)
_VALID_REGEXES: set[tuple[str, int]] = set()


def remember_valid_regexes() -> None:
    """Make pySigma's regular expression check compile each (pattern, flags) once per process.

    ``SigmaRegularExpression.compile`` only checks that a pattern is valid: it compiles it
    and throws the result away, raising ``SigmaRegularExpressionError`` if it does not
    compile. pySigma builds such expressions from a rule's values in most backends (every
    wildcard value in several), so one rule's patterns are compiled again by each backend,
    and :mod:`re`'s own cache (first in, first out) drops them between backends: on the
    SigmaHQ corpus, 27,000 of 47,000 compilations in 300 rules were repeats. Here a
    pattern that compiled is remembered (its text and flags, not the compiled object) and
    not compiled again; an invalid one is never remembered, so it fails every time as
    before. Called when a conversion process starts.
    """
    from sigma.types import SigmaRegularExpression

    real = SigmaRegularExpression.compile
    if getattr(real, "talr_remembers", False):
        return

    def compile(self: Any) -> None:
        flags = 0
        for flag in self.flags:
            flags |= self.sigma_to_python_flags[flag]
        key = (str(self.regexp), int(flags))
        if key in _VALID_REGEXES:
            return
        real(self)
        if len(_VALID_REGEXES) >= VALID_REGEX_LIMIT:
            _VALID_REGEXES.clear()
        _VALID_REGEXES.add(key)

    compile.talr_remembers = True  # type: ignore[attr-defined]
    SigmaRegularExpression.compile = compile  # type: ignore[method-assign]


PARSED_STRING_LIMIT = 200_000  # distinct (text, escape) pairs remembered per process
_PARSED_STRINGS: dict[tuple[str, bool], tuple[Any, ...]] = {}


def remember_parsed_strings() -> None:
    """Make ``SigmaString(text)`` parse each text once per process.

    pySigma parses every string value of a rule character by character (wildcards and
    escapes) each time it builds a ``SigmaString``: when each backend builds the rule
    again from its data, and when pipelines and backends derive new strings. The parse
    depends on the text and the ``escape`` flag only, and its parts are plain strings and
    ``SpecialChars`` members (immutable), so the parts found for a text are kept and each
    new instance gets its own list of them. Called when a conversion process starts.
    """
    from sigma.types import SigmaString

    real = SigmaString.__init__
    if getattr(real, "talr_remembers", False):
        return

    def __init__(self: Any, s: str | None = None, escape: bool = True) -> None:
        text = "" if s is None else s
        if type(text) is not str:  # exactly str: anything else goes to pySigma as it is
            real(self, s, escape)
            return
        key = (text, bool(escape))
        parts = _PARSED_STRINGS.get(key)
        if parts is None:
            real(self, s, escape)
            if len(_PARSED_STRINGS) >= PARSED_STRING_LIMIT:
                _PARSED_STRINGS.clear()
            _PARSED_STRINGS[key] = tuple(self.s)
            return
        self.original = text
        self.s = list(parts)

    __init__.talr_remembers = True  # type: ignore[attr-defined]
    __init__.talr_original = real  # type: ignore[attr-defined]
    SigmaString.__init__ = __init__  # type: ignore[method-assign]


# pySigma's rule conditions that only read the rule (no state, no side effect, and no error
# on a well-formed rule): whether the later ones are checked cannot change anything.
READ_ONLY_RULE_CONDITIONS = (
    "LogsourceCondition",
    "RuleContainsFieldCondition",
    "RuleContainsDetectionItemCondition",
    "IsSigmaRuleCondition",
    "IsSigmaCorrelationRuleCondition",
    "RuleProcessingItemAppliedCondition",
)


def short_circuit_rule_conditions() -> None:
    """Make a processing item stop checking its rule conditions once ``all``/``any`` is decided.

    pySigma checks every rule condition of every processing item on every rule, then
    links the results with ``all`` or ``any``: an item mapping a field for one Windows
    log source still searches the whole detection of a Linux rule for that field (Logpoint's
    Windows pipeline: 339 items, most "log source X and the rule has field Y"). Where every
    condition of an item is one of pySigma's read-only kinds
    (:data:`READ_ONLY_RULE_CONDITIONS`, exact classes) and the linking is ``all`` or
    ``any``, the conditions are checked in the same order up to the first that decides;
    anything else goes to pySigma's method. Called when a conversion process starts.
    """
    from sigma.processing import pipeline
    from sigma.processing.conditions import rule as rule_conditions
    from sigma.processing.conditions import state as state_conditions

    base = pipeline.ProcessingItemBase
    real = base.match_rule_conditions
    if getattr(real, "talr_short_circuit", False):
        return
    read_only = {
        cls
        for module in (rule_conditions, state_conditions)
        for name in READ_ONLY_RULE_CONDITIONS
        if (cls := getattr(module, name, None)) is not None
    }
    linkings = (all, any)

    def match_rule_conditions(self: Any, rule: Any) -> bool:
        conditions = self.rule_conditions
        linking = self.rule_condition_linking
        if (
            self.rule_condition_expression is not None
            or linking not in linkings
            or type(conditions) is not list
            or not conditions
            or any(type(condition) not in read_only for condition in conditions)
        ):
            return real(self, rule)
        result = linking(condition.match(rule) for condition in conditions)
        return not result if self.rule_condition_negation else result

    match_rule_conditions.talr_short_circuit = True  # type: ignore[attr-defined]
    match_rule_conditions.talr_original = real  # type: ignore[attr-defined]
    base.match_rule_conditions = match_rule_conditions  # type: ignore[method-assign]


class _NotPlain(Exception):
    """A condition tree holds something :func:`copy_condition_tree` does not copy itself."""


_ATOMIC = (type(None), str, int, bool)


def copy_condition_tree(tree: Any, node_classes: frozenset[type]) -> Any:
    """A deep copy of a parsed Sigma condition, node by node; :func:`copy.deepcopy` for anything else.

    A freshly parsed condition is a tree of a few node classes (AND, OR, NOT, identifier,
    selector) whose attributes are an ``args`` list and plain values (text, None, the
    selector's class). Such a tree is copied directly, objects met twice copied once (as
    :func:`copy.deepcopy` does); a tree with anything else, and any other object, goes to
    :func:`copy.deepcopy` whole.
    """
    if type(tree) not in node_classes:
        return copy.deepcopy(tree)
    memo: dict[int, Any] = {}

    def copied(node: Any) -> Any:
        if type(node) is str:
            return node
        if type(node) not in node_classes:
            raise _NotPlain
        done = memo.get(id(node))
        if done is not None:
            return done
        new = object.__new__(type(node))
        memo[id(node)] = new
        attributes = {}
        for name, value in vars(node).items():
            if name == "args" and type(value) is list:
                attributes[name] = [copied(arg) for arg in value]
            elif type(value) in _ATOMIC or isinstance(value, type):
                attributes[name] = value
            else:
                raise _NotPlain
        vars(new).update(attributes)
        return new

    try:
        return copied(tree)
    except _NotPlain:
        return copy.deepcopy(tree)


class _ConditionCopyModule:
    """What ``sigma.conditions`` sees as its ``copy`` module: :func:`copy_condition_tree` as ``deepcopy``."""

    def __init__(self, node_classes: frozenset[type]) -> None:
        self.node_classes = node_classes

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        if memo is not None:
            return copy.deepcopy(value, memo)
        return copy_condition_tree(value, self.node_classes)

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


def copy_condition_trees_directly() -> None:
    """Make pySigma copy a cached condition parse with :func:`copy_condition_tree`.

    ``SigmaCondition.parse`` keeps pyparsing's result for each condition text and
    deep-copies it on every use (every conversion of every rule): :func:`copy.deepcopy`'s
    generic machinery costs more than the parse tree is worth. Only
    ``sigma.conditions``'s own reference to :mod:`copy` is replaced. Called when a
    conversion process starts.
    """
    from sigma import conditions

    if isinstance(getattr(conditions, "copy", None), _ConditionCopyModule):
        return
    names = ("ConditionAND", "ConditionOR", "ConditionNOT", "ConditionIdentifier", "ConditionSelector")
    node_classes = frozenset(cls for name in names if isinstance(cls := getattr(conditions, name, None), type))
    conditions.copy = _ConditionCopyModule(node_classes)  # type: ignore[assignment]


def prepare_conversion_process() -> None:
    """Process-wide settings for conversion (see the functions this calls)."""
    enlarge_regex_cache()
    remember_valid_regexes()
    remember_parsed_strings()
    short_circuit_rule_conditions()
    copy_condition_trees_directly()


LOKI_PARTITION = "sigma.backends.loki.loki:LogQLBackend.partition_rule"


def _top_or(condition: Any) -> Any:
    """The first ``ConditionOR`` in a breadth-first walk of ``condition`` (Loki's own search), or None."""
    from sigma.conditions import ConditionItem, ConditionOR

    queue = deque([condition])
    while queue:
        node = queue.popleft()
        if isinstance(node, ConditionOR):
            return node
        if isinstance(node, ConditionItem):
            queue.extend(node.args)
    return None


def _outside_parents(condition: Any) -> dict[int, Any]:
    """``id -> object`` for each parent a node of the tree ``condition`` points at outside the tree.

    Those are the rule's detection objects (a ``SigmaDetection`` or ``SigmaDetectionItem``
    holding every value of the detection once more), which Loki only reads for their type.
    """
    from sigma.conditions import ConditionItem

    inside: set[int] = set()
    outside: dict[int, Any] = {}
    nodes = [condition]
    while nodes:
        node = nodes.pop()
        inside.add(id(node))
        parent = getattr(node, "parent", None)
        if parent is not None:
            outside[id(parent)] = parent
        if isinstance(node, ConditionItem):
            nodes.extend(arg for arg in node.args if arg is not None)
    return {key: value for key, value in outside.items() if key not in inside}


def partition_condition(condition: Any, partitions: int) -> list[Any] | None:
    """Loki's ``partition_rule`` without copying the whole tree for each part.

    Splits the arguments of the highest OR of ``condition`` into ``partitions`` equal
    slices (what pySigma's Loki backend does to keep a query under LogQL's length limit):
    each part is a copy of the tree ``condition`` whose OR keeps one slice. Loki deep-copies
    everything the tree reaches for every part, the arguments the part drops and the rule's
    detection objects above the tree included (for a rule with 4,432 values split into 78
    parts: 17 million objects, 25 s). Here each part copies the tree nodes it keeps; the
    parents outside the tree (read by Loki only for their type) are shared with the
    original. Same queries (``tests/test_convert_fastpath.py``).

    Returns None where Loki would warn and change course (no OR, or fewer arguments than
    parts): the caller then runs Loki's own method.
    """
    top = _top_or(condition)
    if top is None or len(top.args) < partitions:
        return None
    outside = _outside_parents(condition)
    size = len(top.args) // partitions
    parts = []
    for index in range(partitions):
        start, end = index * size, (index + 1) * size
        kept = {id(arg) for arg in top.args[start:end]}
        memo: dict[int, Any] = {id(arg): arg for arg in top.args if id(arg) not in kept}
        memo.update(outside)
        part = copy.deepcopy(condition, memo)
        copied = memo[id(top)]
        copied.args = copied.args[start:end]
        parts.append(part)
    return parts


def share_loki_partitions(backend: Any) -> None:
    """Give a Loki backend :func:`partition_condition` (others are left as they are).

    Only when the backend's ``partition_rule`` is Loki's own (a subclass that overrides it
    keeps its method); cases :func:`partition_condition` does not handle go to Loki's.
    """
    method = getattr(type(backend), "partition_rule", None)
    if method is None or f"{method.__module__}:{method.__qualname__}" != LOKI_PARTITION:
        return
    original = backend.partition_rule

    def partition_rule(condition: Any, partitions: int) -> list[Any]:
        parts = partition_condition(condition, partitions)
        return parts if parts is not None else original(condition, partitions)

    backend.partition_rule = partition_rule
