"""Release notes (Markdown for a GitHub release, JSON for machines) from git history.

Compares the rule versions at the build's commit with those at the previous release: the
nearest ``v*`` tag reachable from the commit's parent (``git describe``), or ``--since REF``.
New rules are ids absent at the base; updated rules have a higher version than at the base
(each version in between listed with its changelog note); deprecated rules are updated or new
rules whose status is now ``deprecated`` (and was not at the base); removed rules are in the
base commit's tree and not in the build. Without history (a plain folder) the notes say so
and list no changes. Dates are commit dates, never the build clock.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from talr_tools.model import Rule

if TYPE_CHECKING:
    from talr_tools.versioning.history import VersionRecord as VersionLike


@dataclass(frozen=True)
class Baseline:
    """The previous release: what ``--since`` or the last tag named, and its commit."""

    ref: str
    commit: str


@dataclass
class ReleaseNotes:
    """What changed in a release, ready for :func:`render_markdown` and :func:`render_json`."""

    commit: str | None
    commit_date: str | None
    since: Baseline | None
    history: bool
    dirty: bool
    rule_count: int
    new: list[dict[str, Any]] = field(default_factory=list)
    updated: list[dict[str, Any]] = field(default_factory=list)
    deprecated: list[dict[str, Any]] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "format": "talr-release-notes/1",
            "commit": self.commit,
            "commit_date": self.commit_date,
            "since": {"ref": self.since.ref, "commit": self.since.commit} if self.since else None,
            "history": self.history,
            "dirty": self.dirty,
            "rule_count": self.rule_count,
            "new": self.new,
            "updated": self.updated,
            "deprecated": self.deprecated,
            "removed": self.removed,
        }


def compute_notes(
    rules: Sequence[tuple[Rule, str]],
    head: Mapping[str, Sequence[VersionLike]] | None,
    base: Mapping[str, Sequence[VersionLike]] | None,
    *,
    commit: str | None,
    commit_date: str | None,
    since: Baseline | None,
    dirty: bool,
    default_tlp: str,
    base_rules: Mapping[str, tuple[Rule, str]] | None = None,
) -> ReleaseNotes:
    """Release notes for ``rules`` (rule, repository path) given their history at the build
    commit (``head``) and at the previous release (``base``; ``None`` = no previous release).

    ``base_rules`` (rule id -> (rule, path) in the base commit) tells which rules were already
    deprecated at the base (not announced again) and which were removed since.
    """
    notes = ReleaseNotes(
        commit=commit, commit_date=commit_date, since=since, history=head is not None,
        dirty=dirty, rule_count=len(rules),
    )
    if head is None:
        return notes
    for rule, path in sorted(rules, key=lambda rp: (rp[0].title.lower(), rp[1])):
        rule_id = str(rule.id)
        version = rule.talr.version or 1
        entry: dict[str, Any] = {
            "id": rule_id, "title": rule.title, "path": path, "version": version,
            "tlp": rule.tlp(default_tlp), "status": rule.status,
        }
        before = _version_at(base, rule_id) if base is not None else None
        if before is None:
            notes.new.append(entry)  # first release (no base): every rule is new
        elif version > before:
            entry["from_version"] = before
            entry["changes"] = _changes(rule, head.get(rule_id, ()), before, version)
            notes.updated.append(entry)
        else:
            continue
        was = base_rules.get(rule_id) if base_rules and before is not None else None
        if rule.status == "deprecated" and not (was and was[0].status == "deprecated"):
            notes.deprecated.append(entry)
    present = {str(rule.id) for rule, _path in rules}
    for rule_id, (old, path) in sorted((base_rules or {}).items(), key=lambda kv: (kv[1][0].title.lower(), kv[0])):
        if rule_id not in present:
            notes.removed.append({"id": rule_id, "title": old.title, "path": path,
                                  "version": old.talr.version or 1, "status": old.status})
    return notes


def _version_at(history: Mapping[str, Sequence[VersionLike]] | None, rule_id: str) -> int | None:
    records = history.get(rule_id) if history else None
    return max(r.version for r in records) if records else None


def _changes(rule: Rule, records: Sequence[VersionLike], before: int, after: int) -> list[dict[str, Any]]:
    by_version: dict[int, dict[str, Any]] = {}
    for record in records:
        if before < record.version <= after:
            by_version[record.version] = {
                "version": record.version,
                "commit": record.commit,
                "date": record.committed_at.date().isoformat(),
                "note": str(getattr(record, "note", "") or ""),
            }
    for entry in rule.talr.changelog:
        if before < entry.version <= after:
            change = by_version.setdefault(entry.version, {"version": entry.version})
            if entry.note:
                change["note"] = entry.note
            if "date" not in change and entry.date:
                change["date"] = entry.date.isoformat()
    return [by_version[v] for v in sorted(by_version)]


def render_json(notes: ReleaseNotes) -> str:
    """The machine form: sorted keys, two-space indentation, trailing newline."""
    return json.dumps(notes.to_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render_markdown(notes: ReleaseNotes) -> str:
    """The Markdown body of a GitHub release."""
    lines = ["# Release notes", ""]
    if notes.dirty:
        lines += ["> **Not a release:** built from a working tree with uncommitted changes (`--dirty`).", ""]
    if not notes.history:
        lines += [
            f"Built from a plain folder of {notes.rule_count} rules: there is no git history, "
            "so no new, updated or deprecated rules are listed.",
            "",
        ]
        return "\n".join(lines)
    where = f"{notes.rule_count} rules at commit `{(notes.commit or '')[:12]}`"
    if notes.commit_date:
        where += f" ({notes.commit_date})"
    if notes.since:
        where += f", changes since `{_md(notes.since.ref)}` (`{notes.since.commit[:12]}`)."
    else:
        where += ": first release (no previous `v*` tag), every rule is new."
    lines += [where, ""]
    lines += _section("New rules", notes.new, _new)
    lines += _section("Updated rules", notes.updated, _updated)
    lines += _section("Deprecated rules", notes.deprecated, lambda e: [f"- {_rule(e)}: version {e['version']}"])
    if notes.removed:
        lines += _section("Removed rules", notes.removed, lambda e: [f"- {_rule(e)}: last version {e['version']}"])
    return "\n".join(lines)


def _new(entry: Mapping[str, Any]) -> list[str]:
    return [f"- {_rule(entry)}: version {entry['version']}, TLP:{entry['tlp'].upper()}"]


def _updated(entry: Mapping[str, Any]) -> list[str]:
    out = [f"- {_rule(entry)}: version {entry['from_version']} → {entry['version']}"]
    for change in entry.get("changes", []):
        note = _md(change.get("note") or "(no changelog note)")
        out.append(f"  - v{change['version']}: {note}")
    return out


def _section(title: str, entries: list[dict[str, Any]], fmt: Any) -> list[str]:
    lines = [f"## {title} ({len(entries)})", ""]
    if not entries:
        return [*lines, "None.", ""]
    for entry in entries:
        lines += fmt(entry)
    return [*lines, ""]


def _rule(entry: Mapping[str, Any]) -> str:
    return f"**{_md(entry['title'])}** (`{entry['id']}`, `{entry['path']}`)"


def _md(text: str) -> str:
    """Escape the Markdown characters that would change how a one-line text renders."""
    text = " ".join(str(text).split())
    for char in ("\\", "`", "*", "_", "[", "]", "<", ">", "#", "|"):
        text = text.replace(char, "\\" + char)
    return text
