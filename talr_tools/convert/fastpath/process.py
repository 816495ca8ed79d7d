"""Per process: work pySigma repeats in every backend, done once (called when a conversion process starts)."""

from __future__ import annotations

import copy
import re
from typing import Any

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
