"""Read rule files safely and once: bytes -> text -> YAML nodes -> Python data.

Uses libyaml (``CSafeLoader``) for speed; nodes keep line numbers, so findings can point
at a line without a second parse. Every kind of bad input becomes a :class:`Finding`
with the file (and line where there is one), never an exception:

========  ==========================================================
TALR001   file cannot be read, or is larger than ``lint.max_file_size``
TALR002   binary file (NUL bytes)
TALR003   not valid UTF-8
TALR004   empty file (or only comments)
TALR005   YAML syntax error
TALR006   duplicate mapping key
TALR007   YAML aliases expand too far ("billion laughs")
TALR008   a document is not a mapping
========  ==========================================================
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from talr_tools.config import DEFAULT_MAX_FILE_SIZE
from talr_tools.model import Finding, Rule, RuleDocument

RULE_SUFFIXES = (".yml", ".yaml")
MAX_EXPANDED_NODES = 200_000

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _DuplicateKeyError(yaml.MarkedYAMLError):
    pass


class _StrictLoader(_Loader):  # type: ignore[valid-type,misc]
    """libyaml loader that refuses duplicate keys."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _value in node.value:
            if isinstance(key_node, ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                key = key_node.value
                if key in seen:
                    raise _DuplicateKeyError(
                        None, None, f"duplicate key {key!r}", key_node.start_mark
                    )
                seen.add(key)
        return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return,unused-ignore]



@dataclass
class LoadResult:
    """The outcome of reading one file: a rule, or the findings that stopped it."""

    path: Path
    rule: Rule | None = None
    findings: list[Finding] = field(default_factory=list)


def load_rule(path: Path, *, display: str | None = None, max_size: int = DEFAULT_MAX_FILE_SIZE) -> LoadResult:
    """Read and parse one rule file. ``display`` is the path printed in findings."""
    shown = display or str(path)
    result = LoadResult(path=path)
    try:
        size = path.stat().st_size
        if size > max_size:
            result.findings.append(
                Finding(shown, None, None, "TALR001", f"file is {size:,} bytes, over the limit of {max_size:,}")
            )
            return result
        data = path.read_bytes()
    except OSError as exc:
        result.findings.append(Finding(shown, None, None, "TALR001", f"cannot read file: {exc.strerror or exc}"))
        return result
    return parse_rule_bytes(data, path, display=shown)


def parse_rule_bytes(data: bytes, path: Path, *, display: str | None = None) -> LoadResult:
    """Parse a rule from its bytes (what :func:`load_rule` and git-blob readers share)."""
    shown = display or str(path)
    result = LoadResult(path=path)

    def fail(code: str, message: str, line: int | None = None, col: int | None = None) -> LoadResult:
        result.findings.append(Finding(shown, line, col, code, message))
        return result

    if b"\x00" in data[:8192]:
        return fail("TALR002", "binary file (contains NUL bytes), not a YAML rule")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        return fail("TALR003", f"not valid UTF-8: byte 0x{data[exc.start]:02x}", line, col)
    if text.startswith("\ufeff"):
        text = text[1:]
    documents: list[RuleDocument] = []
    try:
        loader = _StrictLoader(text)
        try:
            index = 0
            while loader.check_node():
                node = loader.get_node()
                if node is None:
                    continue
                if _expanded_size(node) > MAX_EXPANDED_NODES:
                    return fail(
                        "TALR007",
                        f"YAML aliases expand to more than {MAX_EXPANDED_NODES:,} nodes (alias bomb?)",
                        node.start_mark.line + 1,
                        node.start_mark.column + 1,
                    )
                value = loader.construct_document(node)
                if value is None:
                    continue
                if not isinstance(value, dict):
                    return fail(
                        "TALR008",
                        f"document {index + 1} is a {type(value).__name__}, not a mapping",
                        node.start_mark.line + 1,
                        node.start_mark.column + 1,
                    )
                documents.append(RuleDocument(data=value, index=index, node=node))
                index += 1
        finally:
            loader.dispose()
    except _DuplicateKeyError as exc:
        mark = exc.problem_mark
        return fail("TALR006", exc.problem or "duplicate key", *_mark(mark))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = " ".join(str(part) for part in (exc.context, exc.problem) if part) or "invalid YAML"
        return fail("TALR005", f"invalid YAML: {message}", *_mark(mark))
    except (yaml.YAMLError, ValueError, TypeError, RecursionError) as exc:
        return fail("TALR005", f"invalid YAML: {type(exc).__name__}: {exc}".splitlines()[0])
    if not documents:
        return fail("TALR004", "empty file: no YAML document")
    result.rule = Rule(
        path=path,
        documents=documents,
        file_hash=hashlib.sha256(data).hexdigest(),
        text=text,
    )
    return result


def _mark(mark: Any) -> tuple[int | None, int | None]:
    if mark is None:
        return (None, None)
    return (mark.line + 1, mark.column + 1)


def _expanded_size(root: Node) -> int:
    """Number of nodes the document has once every alias is expanded (memoised, stops early)."""
    memo: dict[int, int] = {}

    def size(node: Node) -> int:
        key = id(node)
        if key in memo:
            return memo[key]
        memo[key] = 1  # cycles count once
        total = 1
        if isinstance(node, SequenceNode):
            for child in node.value:
                total += size(child)
                if total > MAX_EXPANDED_NODES:
                    break
        elif isinstance(node, MappingNode):
            for key_node, value_node in node.value:
                total += size(key_node) + size(value_node)
                if total > MAX_EXPANDED_NODES:
                    break
        memo[key] = total
        return total

    try:
        return size(root)
    except RecursionError:
        return MAX_EXPANDED_NODES + 1


def iter_rule_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Rule files (``*.yml``/``*.yaml``) under ``paths``, sorted, each once.

    A file named explicitly is yielded whatever its suffix. Hidden folders are skipped.
    Folders are walked with :func:`os.scandir` (file types come from the directory entries,
    no ``stat`` per file); symlinked folders are not followed.
    """
    seen: set[str] = set()
    for root in paths:
        if root.is_file() or not root.exists():
            candidates: list[tuple[Path, str]] = [(root, os.path.realpath(root))]
        else:
            real_root = os.path.realpath(root)
            candidates = [
                (root.joinpath(*parts), real or os.path.join(real_root, *parts))
                for parts, real in sorted(_walk(str(root), ()))
            ]
        for candidate, canonical in candidates:
            if canonical not in seen:
                seen.add(canonical)
                yield candidate


def _walk(folder: str, prefix: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], str]]:
    """(relative parts, realpath or "" when no symlink is involved) of rule files under ``folder``."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            if not entry.name.startswith("."):
                yield from _walk(entry.path, (*prefix, entry.name))
        elif entry.name.endswith(RULE_SUFFIXES) and entry.is_file():
            yield (*prefix, entry.name), (os.path.realpath(entry.path) if entry.is_symlink() else "")
