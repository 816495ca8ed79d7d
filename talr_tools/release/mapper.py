"""Rule -> signed STIX objects, in this process or in worker processes (a large plain folder).

YAML parsing, mapping and per-object signing are independent per rule, so a large build runs
them in a process pool: each worker builds its own mapping context and loads the signing key
itself (from the same ``--sign-key`` spec), and sends back each object already dumped as its
bundle line (cheaper to send than dicts).
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from talr_tools.attack.index import load_index
from talr_tools.loader import LoadResult, load_rule, parse_rule_bytes
from talr_tools.model import Rule
from talr_tools.release.times import sigma_times
from talr_tools.stix.bundle import Entry, entry
from talr_tools.stix.ids import EXTENSION_DEFINITION_ID
from talr_tools.stix.mapping import MappingContext, RuleSource, RuleTimes, map_rule

#: Below this many files, worker processes cost more than they save.
PARALLEL_THRESHOLD = 400


@dataclass(frozen=True)
class MapSettings:
    """What every rule's mapping needs; picklable, so workers can rebuild their context."""

    producer_id: str
    default_tlp: str
    sigma_spec_version: str
    repository_url: str | None = None
    dirty: bool = False
    sign_key: str | None = None
    max_file_size: int = 1024 * 1024


@dataclass
class FileResult:
    """One file mapped: its objects, or the one-line error (naming file and line) that stops the build."""

    path: str
    rule_id: str | None
    entries: list[Entry] = field(default_factory=list)
    markings: set[str] = field(default_factory=set)
    error: str | None = None


class RuleMapper:
    """Maps (and signs) rules with one context and key."""

    def __init__(self, settings: MapSettings) -> None:
        self.settings = settings
        self.ctx = MappingContext(
            producer_id=settings.producer_id, default_tlp=settings.default_tlp, attack=load_index(),
            sigma_spec_version=settings.sigma_spec_version,
        )
        self.key: Any = None
        if settings.sign_key is not None:
            from talr_tools.signing import load_signing_key

            self.key = load_signing_key(settings.sign_key)

    def objects(self, rule: Rule, times: RuleTimes, source: RuleSource) -> list[dict[str, Any]]:
        """The indicator (signed when there is a key), its relationships and referenced objects."""
        if self.settings.repository_url and source.commit:
            source = RuleSource(path=source.path, commit=source.commit, repository_url=self.settings.repository_url)
        mapped = map_rule(rule, times, source, self.ctx)
        indicator = mapped.indicator
        if self.settings.dirty:
            indicator["extensions"][EXTENSION_DEFINITION_ID]["dirty"] = True
        if self.key is not None:
            from talr_tools.signing import sign_object

            indicator = sign_object(indicator, self.key, in_place=True)
        return [indicator, *mapped.relationships, *mapped.objects]

    def file(self, path: Path, display: str) -> FileResult:
        """Load one plain Sigma file and map it with Sigma-date times."""
        result = load_rule(path, display=display, max_size=self.settings.max_file_size)
        rule = result.rule
        if rule is None:
            first = result.findings[0].render() if result.findings else f"{display}: cannot read rule"
            return FileResult(display, None, error=f"{first} (a release build needs every rule file to parse)")
        if rule.id is None:
            message = f"{display}:{rule.primary.line}:1: rule has no Sigma id, it cannot be published"
            return FileResult(display, None, error=message)
        objects = self.objects(rule, sigma_times(rule), RuleSource(path=display))
        return FileResult(display, rule.id, [entry(o) for o in objects], markings=marking_refs(objects))


def marking_refs(objects: list[dict[str, Any]]) -> set[str]:
    """Every marking-definition id the objects refer to."""
    return {ref for o in objects for ref in o.get("object_marking_refs", ())}


_WORKER: dict[str, RuleMapper] = {}


def _init(settings: MapSettings) -> None:
    _WORKER["mapper"] = RuleMapper(settings)


def _map_file(path: Path, display: str) -> FileResult:
    return _WORKER["mapper"].file(path, display)


def _parse(data: bytes, display: str) -> LoadResult:
    result = parse_rule_bytes(data, Path(display), display=display)
    if result.rule is not None:
        for doc in result.rule.documents:
            doc.node = None  # positions are not needed by a build, and nodes are slow to send back
    return result


def _map(rule: Rule, times: RuleTimes, source: RuleSource) -> tuple[list[Entry], set[str]]:
    objects = _WORKER["mapper"].objects(rule, times, source)
    return [entry(o) for o in objects], marking_refs(objects)


class Workers:
    """Parse and map in this process, or in a process pool started on the first large batch."""

    def __init__(self, settings: MapSettings, *, threshold: int | None = None, jobs: int | None = None):
        self.settings = settings
        self.threshold = PARALLEL_THRESHOLD if threshold is None else threshold
        self.jobs = jobs or min(os.cpu_count() or 1, 8)
        self._pool: ProcessPoolExecutor | None = None
        self._mapper: RuleMapper | None = None

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown()

    def _parallel(self, count: int) -> ProcessPoolExecutor | None:
        if self._pool is None and count >= self.threshold and self.jobs >= 2:
            self._pool = ProcessPoolExecutor(max_workers=self.jobs, initializer=_init, initargs=(self.settings,))
        return self._pool

    def _chunk(self, count: int) -> int:
        return max(16, count // (self.jobs * 4))

    @property
    def mapper(self) -> RuleMapper:
        """The in-process mapper (built on first use)."""
        if self._mapper is None:
            self._mapper = RuleMapper(self.settings)
        return self._mapper

    def parse(self, items: list[tuple[bytes, str]]) -> list[LoadResult]:
        """:func:`parse_rule_bytes` of each (bytes, repository path), in order."""
        pool = self._parallel(len(items))
        if pool is None:
            return [parse_rule_bytes(data, Path(path), display=path) for data, path in items]
        return list(pool.map(_parse, *zip(*items, strict=True), chunksize=self._chunk(len(items))))

    def map(self, plan: list[tuple[Rule, RuleTimes, RuleSource]]) -> list[tuple[list[Entry], set[str]]]:
        """Bundle entries and marking refs of each planned rule, in order."""
        pool = self._parallel(len(plan))
        if pool is None:
            results = []
            for rule, times, source in plan:
                objects = self.mapper.objects(rule, times, source)
                results.append(([entry(o) for o in objects], marking_refs(objects)))
            return results
        return list(pool.map(_map, *zip(*plan, strict=True), chunksize=self._chunk(len(plan))))


def map_files(files: list[Path], shown: list[str], settings: MapSettings, *,
              threshold: int | None = None, jobs: int | None = None) -> list[FileResult]:
    """Map every file (in order), in ``jobs`` worker processes when there are ``threshold`` or more."""
    jobs = jobs or min(os.cpu_count() or 1, 8)
    threshold = PARALLEL_THRESHOLD if threshold is None else threshold
    if len(files) < threshold or jobs < 2:
        mapper = RuleMapper(settings)
        return [mapper.file(f, s) for f, s in zip(files, shown, strict=True)]
    with ProcessPoolExecutor(max_workers=jobs, initializer=_init, initargs=(settings,)) as pool:
        chunk = max(16, len(files) // (jobs * 4))
        return list(pool.map(_map_file, files, shown, chunksize=chunk))
