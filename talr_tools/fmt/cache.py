"""The fmt cache: sha256 of file bytes already known to be canonical (``.talr-cache/fmt/``).

A file whose bytes hash to a known canonical hash is not parsed again. One JSON pack per
fingerprint (TALR version, ruamel.yaml and PyYAML versions and the formatter's own source),
so any change to how formatting works starts a fresh pack. A pack that cannot be read is a
miss, never an error; it is replaced atomically and only when it gained entries.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path

from talr_tools import __version__
from talr_tools.atomic import write_text_atomic

CACHE_FORMAT = 1


def fingerprint() -> str:
    """Hash of everything besides the file bytes that decides the canonical form."""
    from importlib import resources
    from importlib.metadata import PackageNotFoundError, version

    digest = hashlib.sha256(f"{CACHE_FORMAT}\0{__version__}\0".encode())
    for dist in ("ruamel.yaml", "PyYAML"):
        try:
            digest.update(f"{dist}={version(dist)}\0".encode())
        except PackageNotFoundError:
            digest.update(f"{dist}=absent\0".encode())
    package = resources.files("talr_tools")
    for name in ("fmt/core.py", "fmt/order.py", "roundtrip.py"):
        with contextlib.suppress(OSError):
            digest.update((package / name).read_bytes())
    return digest.hexdigest()[:20]


class CanonicalCache:
    """Set of canonical file hashes, loaded from and saved to ``cache_dir/fmt/``."""

    def __init__(self, cache_dir: Path) -> None:
        self.path = cache_dir / "fmt" / f"{fingerprint()}.json"
        self.hashes: set[str] = set()
        self._loaded = 0
        with contextlib.suppress(OSError, ValueError, TypeError):
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if isinstance(data, list):
                self.hashes = {h for h in data if isinstance(h, str)}
        self._loaded = len(self.hashes)

    def save(self) -> None:
        """Write the pack if it gained entries (failures to write are ignored)."""
        if len(self.hashes) == self._loaded:
            return
        with contextlib.suppress(OSError):
            write_text_atomic(self.path, json.dumps(sorted(self.hashes)))
