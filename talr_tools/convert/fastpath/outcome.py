"""Per ``with`` block: formatting whose text is not kept, left out (``test-convert`` keeps outcomes)."""

from __future__ import annotations

import ast
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def outcome_only(active: bool = True) -> Iterator[None]:
    """Inside (when ``active``): formatting whose text is not kept is left out.

    For cells whose query text is not kept (``test-convert`` stores the outcome and the
    number of queries):

    * black's ``format_file_contents`` only checks that the code parses (Panther's Python
      output). Code that :func:`ast.parse` accepts is returned as it is (black would
      reformat it: the generated code always ends in a whitespace-only line, so black
      never raises ``NothingChanged`` on it); anything else goes to the real black, so a
      failure keeps black's own error. Only when black is already imported (by a backend
      that uses it).
    * :func:`json.dumps` writes without indentation: with ``indent``, Python's json uses its
      pure-Python encoder, ten times slower than the C one (Sumo Logic writes each rule as
      indented JSON, reads it back and writes it again). Same objects accepted; anything
      the compact call rejects goes to the real call, so an error keeps its own message.

    Only while inside; each replaced function is put back on the way out.
    """
    if not active:
        yield
        return
    with _black_checks_syntax_only(), _compact_json():
        yield


@contextmanager
def _black_checks_syntax_only() -> Iterator[None]:
    black: Any = sys.modules.get("black")
    if black is None:
        yield
        return
    real = black.format_file_contents

    def format_file_contents(src_contents: str, **kwargs: Any) -> Any:
        try:
            ast.parse(src_contents)
        except (SyntaxError, ValueError):
            return real(src_contents, **kwargs)
        if src_contents.strip() == "" or (kwargs.get("mode") is not None and kwargs["mode"].is_ipynb):
            return real(src_contents, **kwargs)
        return src_contents

    black.format_file_contents = format_file_contents
    try:
        yield
    finally:
        black.format_file_contents = real


@contextmanager
def _compact_json() -> Iterator[None]:
    real = json.dumps

    def dumps(obj: Any, **kwargs: Any) -> str:
        if kwargs.get("indent") is None:
            return real(obj, **kwargs)
        try:
            return real(obj, **{**kwargs, "indent": None})
        except Exception:  # the real call, for its own error
            return real(obj, **kwargs)

    json.dumps = dumps
    try:
        yield
    finally:
        json.dumps = real
