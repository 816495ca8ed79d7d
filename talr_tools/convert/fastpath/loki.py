"""Per Loki backend: an over-long query split into parts without copying the whole rule per part."""

from __future__ import annotations

import copy
from collections import deque
from typing import Any

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
