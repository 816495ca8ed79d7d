"""``talr new``: scaffold a TALR rule file in the right folder.

Choices made where the issue is silent (documented in CONTRIBUTING.md):

- Folder: ``<rules dir>/<product>/<category or service>/`` (``<category>`` alone when there is
  no product), lowercase with ``-``/spaces turned into ``_``.
- File name: ``<prefix>_<snake_title>.yml`` where the prefix follows SigmaHQ's convention
  for the log source (``proc_creation_win``, ``file_event_lnx``, ``win_security``, ...; see
  :data:`PREFIXES`), else ``<product>_<category or service>``; the stem is cut to 90
  characters, matching lint's ``[a-z0-9_]+\\.yml`` convention and SigmaHQ's length limit.
- Content: a fresh UUID4, today's date (UTC) for ``date`` and changelog entry 1,
  ``status: experimental``, ``talr.version: 1`` and the TLP written explicitly (``--tlp``, else
  the repository's ``default_tlp``), so the sharing level never changes silently when the
  default does. The detection is a skeleton with an empty ``selection: {}`` that ``talr lint``
  rejects (schema and pySigma) until the author fills it in.
- First line: a ``yaml-language-server`` modeline pointing at the repository's
  ``schemas/talr-rule.schema.json`` (relative path) when it exists, else at the schema's
  published ``$id`` URL (editors fetch it; TALR itself never does).
- Author: ``--author``, else git's ``user.name`` (repository config, then global); neither
  gives a one-line error telling how to set it.
- An existing file is never overwritten.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

from talr_tools.config import TLP_LEVELS, TalrConfig
from talr_tools.errors import TalrError

SCHEMA_NAME = "talr-rule.schema.json"
MAX_STEM = 90
LEVELS = ("informational", "low", "medium", "high", "critical")

# SigmaHQ file name prefixes: (product, category or service) -> prefix. ``None`` product = any.
PREFIXES: dict[tuple[str | None, str], str] = {
    ("windows", "process_creation"): "proc_creation_win",
    ("linux", "process_creation"): "proc_creation_lnx",
    ("macos", "process_creation"): "proc_creation_macos",
    ("windows", "file_event"): "file_event_win",
    ("linux", "file_event"): "file_event_lnx",
    ("macos", "file_event"): "file_event_macos",
    ("windows", "file_delete"): "file_delete_win",
    ("windows", "file_access"): "file_access_win",
    ("windows", "file_rename"): "file_rename_win",
    ("windows", "file_change"): "file_change_win",
    ("windows", "network_connection"): "net_connection_win",
    ("linux", "network_connection"): "net_connection_lnx",
    ("macos", "network_connection"): "net_connection_macos",
    ("windows", "process_access"): "proc_access_win",
    ("windows", "dns_query"): "dns_query_win",
    ("windows", "driver_load"): "driver_load_win",
    ("windows", "image_load"): "image_load",
    ("windows", "pipe_created"): "pipe_created",
    ("windows", "create_remote_thread"): "create_remote_thread_win",
    ("windows", "create_stream_hash"): "create_stream_hash",
    ("windows", "registry_set"): "registry_set",
    ("windows", "registry_add"): "registry_add",
    ("windows", "registry_delete"): "registry_delete",
    ("windows", "registry_event"): "registry_event",
    ("windows", "ps_script"): "posh_ps",
    ("windows", "ps_module"): "posh_pm",
    ("windows", "ps_classic_start"): "posh_pc",
    ("windows", "wmi_event"): "sysmon_wmi",
    ("windows", "security"): "win_security",
    ("windows", "system"): "win_system",
    ("windows", "application"): "win_application",
    ("windows", "sysmon"): "sysmon",
    ("windows", "windefend"): "win_defender",
    ("linux", "auditd"): "lnx_auditd",
    ("linux", "syslog"): "lnx_syslog",
    ("aws", "cloudtrail"): "aws_cloudtrail",
    ("azure", "signinlogs"): "azure_signin",
    ("azure", "auditlogs"): "azure_audit",
    ("azure", "activitylogs"): "azure_activity",
    ("gcp", "gcp.audit"): "gcp_audit",
    ("okta", "okta"): "okta",
    (None, "proxy"): "proxy",
    (None, "webserver"): "web",
    (None, "firewall"): "net_firewall",
    (None, "dns"): "net_dns",
    (None, "antivirus"): "av",
}


@dataclass(frozen=True)
class NewRule:
    """What ``talr new`` is asked to create."""

    title: str
    product: str | None = None
    category: str | None = None
    service: str | None = None
    tlp: str | None = None
    level: str = "medium"
    author: str | None = None
    tags: tuple[str, ...] = ()


def snake(text: str) -> str:
    """``Suspicious LSASS Access!`` -> ``suspicious_lsass_access``."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def rule_folder(base: Path, spec: NewRule) -> Path:
    """``base/<product>/<category or service>/`` for the spec's log source."""
    parts = [p for p in (spec.product, spec.category or spec.service) if p]
    return base.joinpath(*(snake(p) for p in parts))


def file_prefix(spec: NewRule) -> str:
    """SigmaHQ-style file name prefix for the spec's log source."""
    source = spec.category or spec.service or ""
    for key in ((spec.product, source), (None, source)):
        if key in PREFIXES:
            return PREFIXES[key]
    return "_".join(snake(p) for p in (spec.product, source) if p)


def file_name(spec: NewRule) -> str:
    """``<prefix>_<snake_title>.yml``, stem at most 90 characters."""
    prefix = file_prefix(spec)
    title = snake(spec.title)
    if not title:
        raise TalrError(f"title {spec.title!r} has no letters or digits to name the file after")
    stem = f"{prefix}_{title}" if prefix else title
    return stem[:MAX_STEM].rstrip("_") + ".yml"


def git_author(start: Path) -> str | None:
    """``user.name`` from the git repository around ``start``, else the global git config."""
    import git

    try:
        repo = git.Repo(start, search_parent_directories=True)
        reader = repo.config_reader()
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        reader = git.GitConfigParser(
            [p for p in _global_git_configs() if p.is_file()], read_only=True
        )
    try:
        value = reader.get_value("user", "name", default="")
    except Exception:  # configparser errors on broken files: treat as unset
        return None
    name = str(value).strip()
    return name or None


def _global_git_configs() -> list[Path]:
    home = Path(os.environ.get("HOME", str(Path.home())))
    xdg = Path(os.environ.get("XDG_CONFIG_HOME", str(home / ".config")))
    return [xdg / "git" / "config", home / ".gitconfig"]


def modeline(config: TalrConfig, target: Path) -> str:
    """The ``# yaml-language-server: $schema=...`` first line for a rule at ``target``."""
    schema = config.root / "schemas" / SCHEMA_NAME
    if schema.is_file():
        ref = os.path.relpath(schema, target.parent).replace(os.sep, "/")
    else:
        from importlib.resources import files

        data = json.loads((files("talr_tools") / "schemas" / SCHEMA_NAME).read_text(encoding="utf-8"))
        ref = str(data["$id"])
    return f"# yaml-language-server: $schema={ref}"


def render(spec: NewRule, *, config: TalrConfig, target: Path, today: dt.date, rule_id: uuid.UUID,
           author: str) -> str:
    """The text of the new rule (canonical: passes ``talr fmt --check``)."""
    from talr_tools.fmt import format_text

    logsource = {k: v for k, v in (("product", spec.product), ("category", spec.category),
                                   ("service", spec.service)) if v}
    tlp = spec.tlp or config.default_tlp
    lines = [
        modeline(config, target),
        f"title: {_quote(spec.title)}",
        f"id: {rule_id}",
        "status: experimental",
        "description: |",
        f"    Detects {spec.title.strip().rstrip('.')}.",
        "    Explain what the rule finds, why it matters and what an analyst should check first.",
        f"author: {_quote(author)}",
        f"date: {today.isoformat()}",
    ]
    if spec.tags:
        lines.append("tags:")
        lines.extend(f"    - {tag}" for tag in spec.tags)
    lines.append("logsource:")
    lines.extend(f"    {key}: {_quote(value)}" for key, value in logsource.items())
    lines += [
        "detection:",
        "    # Fill in the selection (field|modifier: value) before committing.",
        "    selection: {}",
        "    condition: selection",
        "falsepositives:",
        "    - Administrative activity that matches the selection (describe it)",
        f"level: {spec.level}",
        "talr:",
        "    version: 1",
        f"    tlp: {_quote(tlp)}",
        "    changelog:",
        "        - version: 1",
        f"          date: {today.isoformat()}",
        "          note: Initial version.",
        "    intel: []",
    ]
    return format_text("\n".join(lines) + "\n")


def create_rule(spec: NewRule, *, config: TalrConfig, base: Path | None = None,
                today: dt.date | None = None) -> Path:
    """Write the scaffolded rule and return its path. Refuses to overwrite a file."""
    from talr_tools.atomic import write_text_atomic

    _validate(spec)
    base = base if base is not None else config.rule_paths[0]
    target = rule_folder(base, spec) / file_name(spec)
    if target.exists():
        raise TalrError(f"{target}: already exists; not overwritten (choose another title)")
    author = spec.author or git_author(base if base.exists() else config.root)
    if not author:
        raise TalrError(
            "no author: set one with `git config user.name \"Your Name\"` or pass --author"
        )
    day = today or dt.datetime.now(dt.UTC).date()
    text = render(spec, config=config, target=target, today=day, rule_id=uuid.uuid4(), author=author)
    write_text_atomic(target, text)
    return target


def _validate(spec: NewRule) -> None:
    if not spec.title.strip():
        raise TalrError("the title is empty")
    if not (spec.product or spec.category or spec.service):
        raise TalrError("a log source is needed: --product and --category or --service")
    if spec.category and spec.service:
        raise TalrError("--category and --service exclude each other (Sigma uses one or the other)")
    if spec.tlp is not None and spec.tlp not in TLP_LEVELS:
        raise TalrError(f"--tlp must be one of {', '.join(TLP_LEVELS)}, not {spec.tlp!r}")
    if spec.level not in LEVELS:
        raise TalrError(f"--level must be one of {', '.join(LEVELS)}, not {spec.level!r}")
    for value in (spec.product, spec.category, spec.service):
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_.-]+", value):
            raise TalrError(f"log source value {value!r}: use letters, digits, '_', '-', '.' only")
    for tag in spec.tags:
        if not re.fullmatch(r"[a-z0-9_-]+\.[a-z0-9._-]+", tag):
            raise TalrError(f"tag {tag!r}: tags are lowercase `namespace.value`, e.g. attack.t1003.001")


def _quote(value: str) -> str:
    """A YAML scalar for ``value`` that always reads back as this string."""
    return json.dumps(value, ensure_ascii=False) if _needs_quotes(value) else value


def _needs_quotes(value: str) -> bool:
    import yaml

    if not value or value != value.strip() or any(c in value for c in ":#'\"{}[],&*!|>%@`"):
        return True
    return yaml.safe_load(value) != value

