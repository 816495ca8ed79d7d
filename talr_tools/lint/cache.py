"""The lint cache: per-file results keyed by file bytes, under ``.talr-cache/lint/``.

One JSON *pack* per fingerprint (``lint/<fingerprint>.json``) maps the resolved path of each
file to ``{sha256, findings, ids, titles}``. An entry is used only when the file's current
bytes have the same sha256. The fingerprint covers the TALR version, the lint code registry,
the JSON schema, the ATT&CK index, the source of the checks, the installed pySigma
distributions and the max file size, so any of these changing starts a fresh pack. Findings
are cached for *every* code, and ``--select``/``--ignore`` apply after, so changing the
selection never invalidates the cache.

Safe to share between runs: the pack is replaced atomically (:mod:`talr_tools.atomic`) and
only when something changed; a pack that cannot be read, or an entry of the wrong shape, is
treated as a miss, never as an error. Two concurrent runs may each write; the last one wins
and the other's new entries are simply re-checked next time.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path
from typing import Any

from talr_tools import __version__
from talr_tools.atomic import write_text_atomic
from talr_tools.lint.worker import FileResult

CACHE_FORMAT = 1


def fingerprint(max_size: int) -> str:
    """Hash of everything besides the file bytes that decides a file's findings."""
    from importlib import resources

    from talr_tools.lint.codes import registry

    digest = hashlib.sha256()
    digest.update(f"{CACHE_FORMAT}\0{__version__}\0{max_size}\0".encode())
    digest.update(",".join(sorted(registry())).encode())
    package = resources.files("talr_tools")
    # The checks' own code too: a development install changes it without a version bump.
    sources = sorted(f"lint/{entry.name}" for entry in (package / "lint").iterdir() if entry.name.endswith(".py"))
    for name in ("schemas/talr-rule.schema.json", "data/attack-index.json", "loader.py", "model.py",
                 "attack/index.py", *sources):
        try:
            digest.update((package / name).read_bytes())
        except OSError:
            digest.update(b"missing:" + name.encode())
    digest.update(_pysigma_distributions().encode())
    return digest.hexdigest()[:20]


def _pysigma_distributions() -> str:
    """Names (with versions) of the installed pySigma distributions, from their dist-info folders.

    Listing site-packages is ~100x cheaper than :mod:`importlib.metadata` lookups, and this
    path runs on every warm lint."""
    import importlib.util
    import os

    spec = importlib.util.find_spec("sigma")
    folders = {os.path.dirname(p) for p in (spec.submodule_search_locations or [])} if spec else set()
    names: list[str] = []
    for folder in sorted(folders):
        try:
            names.extend(n for n in os.listdir(folder)
                         if n.lower().startswith(("pysigma", "sigma_cli")) and n.endswith(".dist-info"))
        except OSError:
            continue
    return ",".join(sorted(names)) or "pysigma absent"


class LintCache:
    """Load once, look up per file, save once (only when entries changed)."""

    def __init__(self, folder: Path, key: str) -> None:
        self.file = folder / "lint" / f"{key}.json"
        self.entries: dict[str, Any] = {}
        self.dirty = False
        try:
            data = json.loads(self.file.read_text(encoding="utf-8"))
            if isinstance(data, dict) and isinstance(data.get("entries"), dict):
                self.entries = data["entries"]
        except (OSError, ValueError):
            self.entries = {}

    def get(self, resolved: str, sha256: str, display: str, today: str) -> FileResult | None:
        """The cached result for this file content, or None (also when a future date has come)."""
        entry = self.entries.get(resolved)
        if not isinstance(entry, dict) or entry.get("sha256") != sha256:
            return None
        expires = entry.get("expires")
        if isinstance(expires, str) and today >= expires:
            return None
        try:
            return FileResult.from_cache(display, entry)
        except (KeyError, TypeError, ValueError):
            return None

    def put(self, resolved: str, result: FileResult) -> None:
        """Remember one file's result."""
        self.entries[resolved] = result.to_cache()
        self.dirty = True

    def save(self, seen: set[str] | None = None) -> None:
        """Write the pack, dropping entries of files that no longer exist (files in ``seen``,
        this run's files, are known to). Errors are ignored: the cache is an optimisation."""
        if not self.dirty:
            return
        seen = seen or set()
        kept = {path: entry for path, entry in self.entries.items() if path in seen or Path(path).exists()}
        with contextlib.suppress(OSError):  # a read-only or full disk must not fail the lint run
            write_text_atomic(self.file, json.dumps({"format": CACHE_FORMAT, "entries": kept},
                                                    separators=(",", ":")))
