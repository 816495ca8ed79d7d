"""Find the installed pySigma backends and pipelines, without importing them when possible.

Discovery goes through pySigma's own plugin discovery
(:meth:`sigma.plugins.InstalledSigmaPlugins.autodiscover`, local modules only, never the
online plugin directory), so a newly installed backend package is tested with no change
to TALR. Importing every backend costs most of a second, so the result (a list of
:class:`Target`) is cached in ``<cache>/convert/targets-<fingerprint>.json``, where the
fingerprint covers the installed pySigma distributions' versions and the plugin modules
present on disk: installing, upgrading or removing a plugin changes it.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata as md
import json
import os
import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from talr_tools.atomic import write_text_atomic

if TYPE_CHECKING:
    from sigma.plugins import InstalledSigmaPlugins


@dataclass(frozen=True)
class Target:
    """One installed conversion target (a pySigma backend)."""

    identifier: str
    class_path: str
    distribution: str
    version: str
    formats: tuple[str, ...]
    default_format: str
    requires_pipeline: bool


@dataclass(frozen=True)
class PipelineInfo:
    """One installed processing pipeline."""

    identifier: str
    name: str
    priority: int
    allowed_backends: tuple[str, ...]
    distribution: str
    version: str


def _is_sigma_distribution(name: str) -> bool:
    normal = name.lower().replace("_", "-").replace(".", "-")
    return normal.startswith(("pysigma", "sigma-"))


@cache
def plugin_fingerprint() -> str:
    """Hash of the pySigma distributions' versions and the plugin modules on disk.

    Cheap (no plugin import): reads installed distribution metadata and lists the
    ``sigma/backends`` and ``sigma/pipelines`` folders on ``sys.path``.
    """
    parts: list[str] = []
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        # ``<name>-<version>.dist-info`` folders: name and version without reading metadata.
        parts.extend(
            f"{entry}:{n}" for n in names if n.endswith((".dist-info", ".egg-info")) and _is_sigma_distribution(n)
        )
        for sub in ("backends", "pipelines"):
            folder = os.path.join(entry or ".", "sigma", sub)
            try:
                names = sorted(os.listdir(folder))  # plugin modules, however they were installed
            except OSError:
                continue
            parts.append(f"{folder}:{','.join(n for n in names if not n.startswith('__'))}")
    parts.sort()
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


@cache
def load_plugins() -> InstalledSigmaPlugins:
    """The installed backends and pipelines (imports every plugin module: slow, once per process)."""
    from sigma.plugins import InstalledSigmaPlugins

    return InstalledSigmaPlugins.autodiscover(include_validators=False)


def _distribution_of_modules() -> dict[str, tuple[str, str]]:
    """Map ``sigma/...`` file paths to (distribution, version)."""
    owners: dict[str, tuple[str, str]] = {}
    for dist in md.distributions():
        name = dist.metadata["Name"]
        if not name or not _is_sigma_distribution(name):
            continue
        for file in dist.files or []:
            text = str(file)
            if text.startswith("sigma/") and text.endswith(".py"):
                owners[text[:-3].replace("/", ".")] = (name, dist.version)
    return owners


def _owner(module: str, owners: dict[str, tuple[str, str]]) -> tuple[str, str]:
    parts = module.split(".")
    while parts:
        for candidate in (".".join(parts), ".".join([*parts, "__init__"])):
            if candidate in owners:
                return owners[candidate]
        parts.pop()
    return ("unknown", "unknown")


def discover_targets() -> list[Target]:
    """Import the plugins and describe every backend (sorted by identifier)."""
    plugins = load_plugins()
    owners = _distribution_of_modules()
    targets = []
    for identifier, backend_class in plugins.backends.items():
        cls: Any = backend_class
        dist, version = _owner(cls.__module__, owners)
        formats = tuple(getattr(cls, "formats", {"default": ""}).keys()) or ("default",)
        targets.append(
            Target(
                identifier=identifier,
                class_path=f"{cls.__module__}.{cls.__qualname__}",
                distribution=dist,
                version=version,
                formats=formats,
                default_format=str(getattr(cls, "default_format", "default")),
                requires_pipeline=bool(getattr(cls, "requires_pipeline", False)),
            )
        )
    return sorted(targets, key=lambda t: t.identifier)


def discover_pipelines() -> list[PipelineInfo]:
    """Describe every installed pipeline (instantiates each one)."""
    plugins = load_plugins()
    owners = _distribution_of_modules()
    result = []
    for identifier, factory in plugins.pipelines.items():
        inner = getattr(factory, "func", None)  # pySigma's @Pipeline decorator wraps the factory
        module = getattr(inner or factory, "__module__", "") or ""
        dist, version = _owner(module, owners)
        try:
            pipeline = factory()
            name, priority = str(pipeline.name), int(pipeline.priority)
            allowed = tuple(sorted(pipeline.allowed_backends or ()))
        except Exception as exc:  # a broken third-party pipeline is listed, not fatal
            name, priority, allowed = f"(cannot be built: {exc})", 0, ()
        result.append(PipelineInfo(identifier, name, priority, allowed, dist, version))
    return sorted(result, key=lambda p: p.identifier)


@dataclass(frozen=True)
class Catalogue:
    """What is installed: targets, and the pipelines (identifier -> ``module:attribute``)."""

    targets: tuple[Target, ...]
    pipelines: Mapping[str, str]

    def target(self, identifier: str) -> Target | None:
        """The target named ``identifier``, if installed."""
        return next((t for t in self.targets if t.identifier == identifier), None)

    def locations(self) -> dict[str, str]:
        """Where each plugin lives (``backend:<id>``/``pipeline:<id>`` -> ``module:attribute``).

        Lets a process import only the backends and pipelines it uses, not every plugin.
        """
        found = {f"backend:{t.identifier}": ":".join(t.class_path.rsplit(".", 1)) for t in self.targets}
        found.update({f"pipeline:{name}": where for name, where in self.pipelines.items() if where})
        return found


def _pipeline_location(factory: Any) -> str:
    """``module:attribute`` of a pipeline factory, when importing it back gives the same object."""
    inner = getattr(factory, "func", None)  # pySigma's @Pipeline decorator wraps the factory
    source = inner or factory
    module, name = getattr(source, "__module__", None), getattr(source, "__name__", None)
    if not module or not name:
        return ""
    found = getattr(sys.modules.get(module), name, None)
    return f"{module}:{name}" if found is factory else ""


def discover_catalogue() -> Catalogue:
    """Import the plugins and build the :class:`Catalogue`."""
    pipelines = {name: _pipeline_location(f) for name, f in load_plugins().pipelines.items()}
    return Catalogue(tuple(discover_targets()), pipelines)


def cached_catalogue(cache_dir: Path | None) -> Catalogue:
    """:func:`discover_catalogue`, read from the cache when the installed plugins did not change.

    A missing or corrupt cache file means a fresh discovery (and a new cache file).
    """
    if cache_dir is None:
        return discover_catalogue()
    path = cache_dir / "convert" / f"targets-{plugin_fingerprint()}.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return Catalogue(
            tuple(Target(**{**item, "formats": tuple(item["formats"])}) for item in raw["targets"]),
            {str(k): str(v) for k, v in raw["pipelines"].items()},
        )
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        pass  # absent, corrupt or from another TALR version: discover again
    catalogue = discover_catalogue()
    data: dict[str, Any] = {
        "targets": [asdict(t) for t in catalogue.targets],
        "pipelines": dict(sorted(catalogue.pipelines.items())),
    }
    with contextlib.suppress(OSError):  # a read-only cache folder only costs speed
        write_text_atomic(path, json.dumps(data, indent=1))
    return catalogue
