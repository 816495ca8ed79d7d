"""Round-trip YAML (ruamel.yaml): edit rule files keeping comments and layout.

The single place that configures ruamel.yaml for TALR, so ``talr fmt`` and every command
that edits rules (``talr version bump``, ``talr new``) write the same canonical style.
"""

from __future__ import annotations

import io
from typing import Any

from ruamel.yaml import YAML


def make_yaml() -> YAML:
    """A round-trip YAML instance with TALR's canonical style (4-space indent, lists indented)."""
    yaml = YAML(typ="rt")
    yaml.indent(mapping=4, sequence=6, offset=4)
    yaml.width = 4096
    yaml.preserve_quotes = True
    yaml.allow_duplicate_keys = False
    yaml.explicit_start = False
    return yaml


def load_documents(text: str) -> list[Any]:
    """Every document of ``text`` as ruamel round-trip objects (CommentedMap, ...)."""
    return list(make_yaml().load_all(text))


def dump_documents(documents: list[Any]) -> str:
    """Serialise documents back to text, ``---`` between them."""
    stream = io.StringIO()
    make_yaml().dump_all(documents, stream)
    return stream.getvalue()
