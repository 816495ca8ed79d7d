"""TALR configuration: ``talr.toml`` at the root of a rule repository.

Every setting has a default, so TALR works on a folder of rules with no ``talr.toml``.
Sections owned by one capability (``[convert]``, ``[build]``, ...) are kept raw in
:attr:`TalrConfig.sections` and parsed by that capability, so this module never imports it.

Layout of ``talr.toml``::

    rule_dirs = ["rules"]            # folders holding rules, relative to the file
    default_tlp = "clear"            # TLP 2.0 level of rules that don't set one

    [producer]                        # who releases this repository's rules (STIX identity)
    name = "Example SOC"
    identity_class = "organization"
    contact = "soc@example.org"

    [lint]
    select = []                       # code prefixes to run; empty = all
    ignore = ["TALR4"]                # code prefixes to skip
    max_file_size = 1048576           # bytes; a larger file is a finding, not parsed
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from talr_tools.errors import ConfigError

CONFIG_NAME = "talr.toml"
TLP_LEVELS = ("clear", "green", "amber", "amber+strict", "red")
DEFAULT_MAX_FILE_SIZE = 1024 * 1024


@dataclass(frozen=True)
class Producer:
    """The organisation that releases the rules (becomes the STIX ``identity``)."""

    name: str = "TALR rule repository"
    identity_class: str = "organization"
    contact: str | None = None


@dataclass(frozen=True)
class LintSettings:
    """Lint code selection and limits."""

    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    max_file_size: int = DEFAULT_MAX_FILE_SIZE


@dataclass(frozen=True)
class TalrConfig:
    """The settings of one rule repository."""

    root: Path
    path: Path | None = None
    rule_dirs: tuple[str, ...] = ("rules",)
    default_tlp: str = "clear"
    producer: Producer = field(default_factory=Producer)
    lint: LintSettings = field(default_factory=LintSettings)
    sections: dict[str, Any] = field(default_factory=dict)

    @property
    def rule_paths(self) -> list[Path]:
        """Absolute rule folders."""
        return [self.root / d for d in self.rule_dirs]

    @property
    def cache_dir(self) -> Path:
        """Content-hash cache folder (git-ignored)."""
        return self.root / ".talr-cache"

    def section(self, name: str) -> dict[str, Any]:
        """The raw table ``[name]`` (empty when absent)."""
        value = self.sections.get(name, {})
        return value if isinstance(value, dict) else {}


def find_config(start: Path) -> Path | None:
    """The nearest ``talr.toml`` in ``start`` or one of its parents."""
    start = start.resolve()
    if start.is_file():
        start = start.parent
    for folder in (start, *start.parents):
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate
    return None


def load_config(path: Path | None = None, *, start: Path | None = None) -> TalrConfig:
    """Load ``path``, or the nearest ``talr.toml`` above ``start`` (default: cwd).

    With no file found, returns the defaults rooted at ``start``.
    Raises :class:`ConfigError` with file and line on a broken file.
    """
    if path is None:
        path = find_config(start or Path.cwd())
        if path is None:
            root = (start or Path.cwd()).resolve()
            return TalrConfig(root=root.parent if root.is_file() else root)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: configuration file not found") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
    return _from_dict(raw, path)


def _from_dict(raw: dict[str, Any], path: Path) -> TalrConfig:
    root = path.resolve().parent
    rule_dirs = _str_tuple(raw.get("rule_dirs", ["rules"]), path, "rule_dirs")
    default_tlp = raw.get("default_tlp", "clear")
    if default_tlp not in TLP_LEVELS:
        raise ConfigError(f"{path}: default_tlp must be one of {', '.join(TLP_LEVELS)}, not {default_tlp!r}")
    producer_raw = _table(raw.get("producer", {}), path, "producer")
    producer = Producer(
        name=str(producer_raw.get("name", Producer.name)),
        identity_class=str(producer_raw.get("identity_class", Producer.identity_class)),
        contact=producer_raw.get("contact"),
    )
    lint_raw = _table(raw.get("lint", {}), path, "lint")
    max_size = lint_raw.get("max_file_size", DEFAULT_MAX_FILE_SIZE)
    if not isinstance(max_size, int) or isinstance(max_size, bool) or max_size <= 0:
        raise ConfigError(f"{path}: lint.max_file_size must be a positive integer")
    lint = LintSettings(
        select=_str_tuple(lint_raw.get("select", []), path, "lint.select"),
        ignore=_str_tuple(lint_raw.get("ignore", []), path, "lint.ignore"),
        max_file_size=max_size,
    )
    known = {"rule_dirs", "default_tlp", "producer", "lint"}
    sections = {k: v for k, v in raw.items() if k not in known}
    return TalrConfig(
        root=root,
        path=path,
        rule_dirs=rule_dirs,
        default_tlp=default_tlp,
        producer=producer,
        lint=lint,
        sections=sections,
    )


def _table(value: Any, path: Path, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: [{name}] must be a table")
    return value


def _str_tuple(value: Any, path: Path, name: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{path}: {name} must be a list of strings")
    return tuple(value)
