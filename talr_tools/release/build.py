"""``talr build``: the rule repository -> ``talr-bundle.json`` (+ ``.sig``) and release notes.

Sources (see :mod:`talr_tools.release.sources`):

* a commit (default ``HEAD``, or ``--rev``): rule blobs are read from the git tree, times come
  from git history (:mod:`talr_tools.release.times`). Each indicator is built from the rule as it
  was in the commit that introduced its current version (its text, path and commit), so an
  indicator's content only changes with a new version (a re-indent or a moved file without a
  bump does not silently give the same ``id`` + ``modified`` two different contents);
* the working tree with ``--dirty``: current files, marked ``"dirty": true`` in every indicator's
  TALR extension and in the release notes (a dirty build is for trying things, not a release);
* a plain folder that is not in a git repository: times from Sigma dates, no release history.

Every file is written atomically; an unsigned build removes a stale ``talr-bundle.json.sig``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from talr_tools import gitblobs
from talr_tools.atomic import write_bytes_atomic, write_text_atomic
from talr_tools.config import TalrConfig
from talr_tools.errors import TalrError
from talr_tools.loader import iter_rule_files, parse_rule_bytes
from talr_tools.release import sources
from talr_tools.release.mapper import MapSettings, Workers, map_files
from talr_tools.release.notes import Baseline, ReleaseNotes, compute_notes, render_json, render_markdown
from talr_tools.release.times import history_times, sigma_times
from talr_tools.stix.bundle import Entry, entry, serialize_entries
from talr_tools.stix.mapping import SIGMA_SPEC_VERSION, RuleSource, RuleTimes
from talr_tools.stix.markings import TLP_MARKING_IDS, tlp_marking_definition
from talr_tools.stix.objects import extension_definition, producer_identity, producer_identity_id, talr_identity
from talr_tools.stix.timestamps import stix_time

if TYPE_CHECKING:
    import git

BUNDLE_NAME = "talr-bundle.json"
SIGNATURE_NAME = "talr-bundle.json.sig"
NOTES_MD = "release-notes.md"
NOTES_JSON = "release-notes.json"


@dataclass
class BuildOptions:
    """What ``talr build`` was asked to do."""

    output: Path
    rev: str = "HEAD"
    dirty: bool = False
    since: str | None = None
    sign_key: str | None = None
    paths: list[Path] | None = None


@dataclass
class BuildResult:
    """What a build wrote and a summary of it."""

    bundle: Path
    notes_md: Path
    notes_json: Path
    signature: Path | None
    indicators: int
    objects: int
    commit: str | None
    dirty: bool
    notes: ReleaseNotes
    uncommitted: list[str] = field(default_factory=list)


@dataclass
class _Prepared:
    entries: list[Entry]
    markings: set[str]
    notes: ReleaseNotes
    commit: str | None
    uncommitted: list[str]


def build_release(config: TalrConfig, options: BuildOptions) -> BuildResult:
    """Build, optionally sign, and write the release files; returns what was written.

    With no ``sign_key`` but ``$TALR_SIGNING_KEY`` set (a CI secret), the build signs with it.
    """
    settings = config.section("build")
    folders = list(options.paths) if options.paths else config.rule_paths
    sign_spec = options.sign_key
    if sign_spec is None and os.environ.get("TALR_SIGNING_KEY"):
        sign_spec = "env:TALR_SIGNING_KEY"
    key = _load_key(sign_spec)  # fail fast on a bad key, before any work
    url = settings.get("repository_url")
    map_settings = MapSettings(
        producer_id=producer_identity_id(config.producer), default_tlp=config.default_tlp,
        sigma_spec_version=str(settings.get("sigma_spec_version", SIGMA_SPEC_VERSION)),
        repository_url=str(url) if url else None, dirty=options.dirty, sign_key=sign_spec,
        max_file_size=config.lint.max_file_size,
    )
    repo = gitblobs.open_repo(folders[0] if folders and folders[0].exists() else config.root)
    if repo is not None and repo.working_tree_dir is not None:
        with Workers(map_settings) as workers:
            prepared = _from_git(repo, config, options, folders, workers)
    else:
        if options.rev != "HEAD" or options.since:
            raise TalrError(f"{folders[0]}: --rev and --since need a git repository, this is a plain folder")
        if options.dirty:
            raise TalrError(f"{folders[0]}: --dirty needs a git repository, this is a plain folder")
        prepared = _from_folder(config, folders, map_settings)
    fixed = [producer_identity(config.producer), talr_identity(), extension_definition()]
    fixed += [tlp_marking_definition(level) for level, mid in TLP_MARKING_IDS.items() if mid in prepared.markings]
    entries = [*map(entry, fixed), *prepared.entries]
    data = serialize_entries(entries)

    out = options.output
    bundle_path, sig_path = out / BUNDLE_NAME, out / SIGNATURE_NAME
    signature: Path | None = None
    if key is not None:
        from talr_tools.signing import sign_bytes

        armored = sign_bytes(data, key)
        write_bytes_atomic(bundle_path, data)
        write_text_atomic(sig_path, armored)
        signature = sig_path
    else:
        sig_path.unlink(missing_ok=True)  # a stale signature of an older bundle would fail verify
        write_bytes_atomic(bundle_path, data)
    write_text_atomic(out / NOTES_MD, render_markdown(prepared.notes))
    write_text_atomic(out / NOTES_JSON, render_json(prepared.notes))
    return BuildResult(
        bundle=bundle_path, notes_md=out / NOTES_MD, notes_json=out / NOTES_JSON, signature=signature,
        indicators=sum(1 for key, _ in entries if key[1] == "indicator"), objects=len({key[2] for key, _ in entries}),
        commit=prepared.commit, dirty=options.dirty, notes=prepared.notes, uncommitted=prepared.uncommitted,
    )


def _load_key(spec: str | None) -> Any:
    if spec is None:
        return None
    from talr_tools.signing import load_signing_key

    return load_signing_key(spec)


def _from_folder(config: TalrConfig, folders: list[Path], settings: MapSettings) -> _Prepared:
    base = config.root
    if not all(f.resolve().is_relative_to(config.root.resolve()) for f in folders) and folders[0].is_dir():
        base = folders[0]  # a folder outside the repository (e.g. a corpus): paths relative to it
    sources.check_exist(folders)
    files = list(iter_rule_files(folders))
    if not files:
        raise TalrError(f"{folders[0] if folders else config.root}: no rule files (*.yml, *.yaml) to build")
    shown = [sources.display_path(f, base) for f in files]
    entries: list[Entry] = []
    markings: set[str] = set()
    seen: dict[str, str] = {}
    for result in map_files(files, shown, settings):
        if result.error is not None:
            raise TalrError(result.error)
        assert result.rule_id is not None
        other = seen.setdefault(result.rule_id.lower(), result.path)
        if other != result.path:
            raise TalrError(f"{result.path}: rule id {result.rule_id} is also used by {other}")
        entries.extend(result.entries)
        markings |= result.markings
    notes = ReleaseNotes(commit=None, commit_date=None, since=None, history=False, dirty=False,
                         rule_count=len(files))
    return _Prepared(entries=entries, markings=markings, notes=notes, commit=None, uncommitted=[])


def _from_git(repo: git.Repo, config: TalrConfig, options: BuildOptions, folders: list[Path],
              workers: Workers) -> _Prepared:
    from talr_tools.versioning.history import rule_version_history

    rel = [gitblobs.repo_relative(repo, f) for f in folders]
    try:
        has_head = repo.head.is_valid()
    except ValueError:
        has_head = False
    if not has_head and not options.dirty:
        raise TalrError(f"{repo.working_tree_dir}: the repository has no commit yet; commit the rules or use --dirty")
    commit = gitblobs.resolve_commit(repo, options.rev) if has_head else None
    uncommitted: list[str] = []
    if options.dirty:
        top = Path(repo.working_tree_dir or ".")
        found = sources.rules_from_folders(folders, top, config.lint.max_file_size)
    else:
        assert commit is not None
        found = sources.rules_from_tree(repo, commit.hexsha, rel, parse=workers.parse)
        if options.rev == "HEAD":
            uncommitted = _uncommitted(repo, rel)
    if not found:
        shown = ", ".join(r or "." for r in rel)
        where = "in the working tree" if options.dirty else f"committed at {options.rev} (or try --dirty)"
        raise TalrError(f"{shown}: no rule files {where}")
    history = rule_version_history(config.root, rev=commit.hexsha) if commit is not None else {}

    plan: list[tuple[sources.SourceRule, RuleTimes, RuleSource]] = []
    for item in found:
        records = history.get(str(item.rule.id))
        if not records:
            plan.append((item, sigma_times(item.rule), RuleSource(path=item.path)))
            continue
        version = item.rule.talr.version
        times = history_times(records, version, dirty=options.dirty)
        record = next((r for r in records if r.version == (version or 1)), None)
        if record is None or options.dirty:
            plan.append((item, times, RuleSource(path=item.path)))
        else:
            plan.append((item, times, RuleSource(path=record.path, commit=record.commit)))
    if not options.dirty:
        plan = _as_released(repo, plan)
    mapped = workers.map([(item.rule, times, released_at) for item, times, released_at in plan])

    since = _baseline(repo, commit, options.since) if commit is not None else None
    base = rule_version_history(config.root, rev=since.commit) if since is not None else None
    base_rules = None
    if since is not None:
        known = {s.blob: s.rule for s in found if s.blob}
        at_base = sources.rules_at(repo, since.commit, rel, known)
        base_rules = {rule_id: (rule, str(rule.path.as_posix())) for rule_id, rule in at_base.items()}
    notes = compute_notes(
        [(s.rule, s.path) for s in found], history, base,
        commit=commit.hexsha if commit is not None else None,
        commit_date=stix_time(commit.committed_datetime)[:10] if commit is not None else None,
        since=since, dirty=options.dirty, default_tlp=config.default_tlp,
        base_rules=base_rules,
    )
    return _Prepared(entries=[e for entries, _m in mapped for e in entries],
                     markings=set().union(*(m for _e, m in mapped)), notes=notes,
                     commit=commit.hexsha if commit else None, uncommitted=uncommitted)


def _as_released(repo: git.Repo, plan: list[tuple[sources.SourceRule, RuleTimes, RuleSource]]
                 ) -> list[tuple[sources.SourceRule, RuleTimes, RuleSource]]:
    """Each rule as committed in the commit that introduced its current version.

    Only rules whose blob there differs from the built commit's are read (in one batch) and parsed.
    """
    trees = gitblobs.TreeReader(repo)
    released: dict[int, str] = {}
    for n, (item, _times, where) in enumerate(plan):
        if where.commit is not None:
            sha = trees.blob_sha(where.commit, where.path)
            if sha is not None and sha != item.blob:
                released[n] = sha
    data = gitblobs.read_blobs(repo, released.values())
    result = []
    for n, (item, times, where) in enumerate(plan):
        if n in released and released[n] in data:
            parsed = parse_rule_bytes(data[released[n]], Path(where.path), display=where.path).rule
            if parsed is not None and parsed.id == item.rule.id:
                item = sources.SourceRule(rule=parsed, path=where.path, blob=released[n])
        result.append((item, times, where))
    return result


def _baseline(repo: git.Repo, commit: git.Commit, since: str | None) -> Baseline | None:
    import git

    if since is not None:
        return Baseline(ref=since, commit=gitblobs.resolve_commit(repo, since).hexsha)
    if not commit.parents:
        return None
    try:
        tag = repo.git.describe("--tags", "--abbrev=0", "--match", "v*", f"{commit.hexsha}^")
    except git.GitCommandError:
        return None
    return Baseline(ref=tag, commit=repo.commit(tag).hexsha)


def _uncommitted(repo: git.Repo, folders: list[str]) -> list[str]:
    """Rule files changed, staged or untracked in the working tree (not part of a HEAD build)."""
    args = ["--porcelain", "--untracked-files=all", "--", *(f or "." for f in folders)]
    lines = repo.git.status(*args).splitlines()
    return sorted(line[3:] for line in lines if line[3:].endswith((".yml", ".yaml")))
