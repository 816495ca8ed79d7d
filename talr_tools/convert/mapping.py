"""Which processing pipelines each target gets for a rule's logsource.

The default mapping ships as ``talr_tools/data/pipelines.toml`` (its header documents the
format); ``[convert.pipelines.<target>]`` in ``talr.toml`` replaces a target's list.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

from talr_tools.errors import ConfigError

Logsource = tuple[str | None, str | None, str | None]  # (product, category, service)
MATCH_KEYS = ("product", "category", "service")


def format_logsource(logsource: Logsource) -> str:
    """``product/category/service`` with ``-`` for absent parts."""
    return "/".join(part or "-" for part in logsource)


@dataclass(frozen=True)
class MappingEntry:
    """One ``(logsource match) -> pipelines`` entry."""

    match: tuple[tuple[str, frozenset[str]], ...]
    pipelines: tuple[str, ...]

    def matches(self, logsource: Logsource) -> bool:
        """Whether every field this entry names has one of its values in ``logsource``."""
        values = dict(zip(MATCH_KEYS, logsource, strict=True))
        return all(values[key] in allowed for key, allowed in self.match)


@dataclass(frozen=True)
class PipelineMapping:
    """Per-target ordered entries; the first match wins."""

    entries: Mapping[str, tuple[MappingEntry, ...]]

    def pipelines_for(self, target: str, logsources: Iterable[Logsource]) -> tuple[str, ...] | None:
        """Pipelines for a rule file whose rule documents have ``logsources``.

        Returns the ordered union over the logsources, ``()`` when the target has no
        entry at all, and None when the target has entries and one logsource matches none.
        """
        entries = self.entries.get(target)
        if not entries:
            return ()
        chosen: list[str] = []
        for logsource in logsources:
            entry = next((e for e in entries if e.matches(logsource)), None)
            if entry is None:
                return None
            chosen.extend(p for p in entry.pipelines if p not in chosen)
        return tuple(chosen)

    def unmatched(self, target: str, logsources: Iterable[Logsource]) -> Logsource | None:
        """The first logsource with no entry for ``target`` (None when all match)."""
        entries = self.entries.get(target) or ()
        for logsource in logsources:
            if not any(e.matches(logsource) for e in entries):
                return logsource
        return None

    def has_entries(self, target: str) -> bool:
        """Whether the mapping says anything about ``target``."""
        return bool(self.entries.get(target))


def _parse_entries(raw: Any, where: str) -> dict[str, tuple[MappingEntry, ...]]:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: pipeline mapping must be a table of targets")
    result: dict[str, tuple[MappingEntry, ...]] = {}
    for target, items in raw.items():
        if not isinstance(items, list):
            raise ConfigError(f"{where}: [[{target}]] must be an array of tables")
        entries = []
        for n, item in enumerate(items, 1):
            label = f"{where}: {target} entry {n}"
            if not isinstance(item, Mapping):
                raise ConfigError(f"{label} must be a table")
            unknown = set(item) - {*MATCH_KEYS, "pipelines"}
            if unknown:
                raise ConfigError(f"{label}: unknown key(s) {', '.join(sorted(unknown))}")
            pipes = item.get("pipelines")
            if not isinstance(pipes, list) or not all(isinstance(p, str) for p in pipes):
                raise ConfigError(f"{label}: 'pipelines' must be a list of pipeline names")
            match = []
            for key in MATCH_KEYS:
                if key in item:
                    value = item[key]
                    values = [value] if isinstance(value, str) else value
                    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                        raise ConfigError(f"{label}: '{key}' must be a string or a list of strings")
                    match.append((key, frozenset(values)))
            entries.append(MappingEntry(tuple(match), tuple(pipes)))
        result[str(target)] = tuple(entries)
    return result


def default_mapping_text() -> str:
    """The shipped mapping file's text."""
    return files("talr_tools").joinpath("data/pipelines.toml").read_text(encoding="utf-8")


def load_mapping(convert_section: Mapping[str, Any] | None = None, *, where: str = "talr.toml") -> PipelineMapping:
    """The shipped mapping, with ``[convert.pipelines]`` of ``talr.toml`` replacing whole targets."""
    entries = _parse_entries(tomllib.loads(default_mapping_text()), "talr_tools/data/pipelines.toml")
    override = (convert_section or {}).get("pipelines")
    if override is not None:
        entries.update(_parse_entries(override, f"{where} [convert.pipelines]"))
    return PipelineMapping(entries)


def logsource_of(data: Mapping[str, Any]) -> Logsource:
    """The (product, category, service) of one Sigma document."""
    raw = data.get("logsource")
    raw = raw if isinstance(raw, Mapping) else {}

    def text(key: str) -> str | None:
        value = raw.get(key)
        return str(value) if value is not None else None

    return (text("product"), text("category"), text("service"))


def rule_logsources(documents: Sequence[Mapping[str, Any]]) -> list[Logsource]:
    """Distinct logsources of the documents that have one, in file order."""
    seen: list[Logsource] = []
    for data in documents:
        if isinstance(data.get("logsource"), Mapping):
            logsource = logsource_of(data)
            if logsource not in seen:
                seen.append(logsource)
    return seen
