"""``talr convert``: the queries of one target, to standard output or one file per rule.

With ``-o DIR`` each rule file gives ``DIR/<rule id>.<ext>`` (the file's stem when the
rule has no id): text formats write every query the backend returned, one after the
other (separated by a blank line when one of them spans several lines), ``.txt``;
structured outputs (dicts, lists) are written as a JSON array, ``.json``. Each file is
written atomically; two rule files with the same id are refused before anything is written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from talr_tools.atomic import write_text_atomic
from talr_tools.convert.discovery import Catalogue, Target
from talr_tools.convert.mapping import PipelineMapping
from talr_tools.convert.rules import RuleSource, parse_source, summarise
from talr_tools.convert.runner import plan_pipelines
from talr_tools.errors import TalrError


@dataclass
class RuleQueries:
    """The result of one rule file: queries, or why there are none."""

    path: str
    rule_id: str | None
    queries: list[str] = field(default_factory=list)
    structured: bool = False
    error: str | None = None
    skipped: str | None = None
    expected: str | None = None  # declared reason, when the failure was expected

    @property
    def name(self) -> str:
        """The output file's stem."""
        return self.rule_id or Path(self.path).stem

    def text(self) -> str:
        """What goes in the output file (or to standard output)."""
        if self.structured:
            import json

            return json.dumps([json.loads(q) for q in self.queries], indent=2, ensure_ascii=False) + "\n"
        separator = "\n\n" if any("\n" in q.strip() for q in self.queries) else "\n"
        return separator.join(q.rstrip("\n") for q in self.queries) + "\n"


def check_request(catalogue: Catalogue, target: str, pipelines: Sequence[str], fmt: str | None) -> Target:
    """The target, after checking that it, the pipelines and the format exist (else :class:`TalrError`)."""
    found = catalogue.target(target)
    if found is None:
        installed = ", ".join(t.identifier for t in catalogue.targets)
        raise TalrError(f"unknown backend {target!r}; installed: {installed}")
    for name in pipelines:
        if name not in catalogue.pipelines:
            raise TalrError(f"unknown pipeline {name!r}; see `talr backends` for the installed ones")
    if fmt is not None and fmt not in found.formats:
        raise TalrError(f"backend {target} has no output format {fmt!r}; it has: {', '.join(found.formats)}")
    return found


def convert_sources(
    sources: list[RuleSource],
    catalogue: Catalogue,
    target: Target,
    mapping: PipelineMapping,
    *,
    pipelines: Sequence[str] = (),
    fmt: str | None = None,
    on_error: Callable[[str], None] | None = None,
    cell_timeout: float | None = None,
) -> list[RuleQueries]:
    """Convert every source for ``target``; pipelines from ``pipelines`` or, if empty, the mapping.

    ``cell_timeout``: seconds one rule's conversion may take (None: no limit).
    """
    from talr_tools.convert.worker import convert, use_locations

    use_locations(catalogue.locations())
    out_format = fmt or target.default_format
    results = []
    for source in sources:
        rule, findings = parse_source(source)
        if rule is None:
            for finding in findings:
                if on_error:
                    on_error(finding.render())
            results.append(RuleQueries(source.display, None, error=findings[0].message if findings else "unreadable"))
            continue
        summary = summarise(rule)
        result = RuleQueries(source.display, rule.id)
        declared = summary.expected.get(target.identifier)
        result.expected = declared[0] if declared else None
        if pipelines:
            pipes: tuple[str, ...] | None = tuple(pipelines)
        else:
            pipes, why = plan_pipelines(target, summary, mapping, catalogue.pipelines)
            if pipes is None:  # skipped
                result.skipped = why
                results.append(result)
                continue
        outcome, queries, structured = convert(
            [d.data for d in rule.documents], target.identifier, pipes or (), out_format, limit=cell_timeout
        )
        if outcome.ok:
            result.queries = queries
            result.structured = structured
        else:
            result.error = outcome.message
        results.append(result)
    return results


def write_outputs(results: list[RuleQueries], folder: Path, *, structured_ext: str = ".json") -> list[Path]:
    """One file per converted rule in ``folder`` (refuses duplicate names before writing)."""
    owners: dict[str, str] = {}
    for result in results:
        if not result.queries:
            continue
        if result.name in owners:
            raise TalrError(
                f"{result.path}: rule id {result.name} is also the id of {owners[result.name]}; "
                "cannot write both to one file"
            )
        owners[result.name] = result.path
    written = []
    for result in results:
        if result.queries:
            path = folder / f"{result.name}{structured_ext if result.structured else '.txt'}"
            write_text_atomic(path, result.text())
            written.append(path)
    return written
