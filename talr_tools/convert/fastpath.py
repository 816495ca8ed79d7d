"""Conversion work pySigma does that cannot change a ``test-convert`` cell, skipped.

Both measured on the SigmaHQ corpus over all installed backends (see
``benchmarks/bench_convert.py``); neither changes a cell's state, message or query count
(``tests/test_convert_fastpath.py``):

* :func:`reuse_combined_pipeline`: a backend combines its pipelines once, as it does when
  sigma-cli converts a whole folder in one call, instead of once per rule;
* :func:`outcome_only`: Panther's Python output is checked for syntax with :func:`ast.parse`
  instead of being formatted with black (a third of all conversion time), when only the
  outcome is kept; code that does not parse still goes through black, for its error.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def _points_to(combined: Any) -> bool:
    """Whether every item of ``combined`` still has ``combined`` as its pipeline."""
    items = (*combined.items, *combined.postprocessing_items, *combined.finalizers)
    return all(getattr(item, "_pipeline", None) is combined for item in items)


_ORIGINAL_MESSAGES: dict[int, tuple[Any, str]] = {}  # id -> (transformation, message when first seen)


def _failure_messages(pipelines: list[Any]) -> list[tuple[Any, str]]:
    """The transformations with a text ``message`` in ``pipelines``, with their first-seen message.

    Seen first when a backend is built, before it converted anything (pipeline objects
    shared between backends keep the message recorded by the first).
    """
    found = []
    for pipeline in pipelines:
        for item in getattr(pipeline, "items", None) or ():
            transformation = getattr(item, "transformation", None)
            message = getattr(transformation, "message", None)
            if isinstance(message, str):
                found.append(_ORIGINAL_MESSAGES.setdefault(id(transformation), (transformation, message)))
    return found


def reuse_combined_pipeline(backend: Any) -> None:
    """Make ``backend`` combine its pipelines once, not on every ``convert`` call.

    pySigma's ``Backend.convert`` calls ``init_processing_pipeline``, which builds
    ``backend pipeline + processing pipeline + output format pipeline`` anew (re-pointing
    every processing item at the new object): about a tenth of the conversion time when
    each rule is converted on its own. sigma-cli converts a folder with one ``convert``
    call, so one combined pipeline serves all its rules; this gives each backend instance
    the same: the combination built on the first call is kept for that output format.
    ``ProcessingPipeline.apply`` resets the per-rule state (applied items, state, field
    mappings) on each rule.

    Pipeline objects are shared (between backends of one class, and between backends
    given the same pipeline), and building another combination re-points their items;
    before reuse, a combination whose items no longer point at it is re-pointed
    (``_clear_pipeline`` + ``set_pipeline``, what pySigma's ``+`` does). A call with
    another output format falls back to the backend's own method.

    Also, before each conversion, failure transformations get back their original
    ``message``: some plugins (Cortex XDR, SentinelOne, Carbon Black, Kusto) prepend each
    invalid field to the transformation's own ``message``, so every later failure in the
    process repeated the fields of all earlier ones (a message that depended on which
    rules a worker had converted before; it now names this rule's field, as a rule
    converted on its own does).
    """
    original = backend.init_processing_pipeline
    kept: dict[str, Any] = {}
    messages = _failure_messages(
        [
            backend.backend_processing_pipeline,
            backend.processing_pipeline,
            *backend.output_format_processing_pipeline.values(),
        ]
    )

    def init_processing_pipeline(output_format: str | None = None) -> None:
        for transformation, message in messages:
            transformation.message = message
        fmt = output_format or backend.default_format
        combined = kept.get(fmt)
        if combined is None:
            original(output_format)
            kept.clear()
            kept[fmt] = backend.last_processing_pipeline
            return
        if not _points_to(combined):
            combined._clear_pipeline()
            combined.set_pipeline()
        backend.last_processing_pipeline = combined

    backend.init_processing_pipeline = init_processing_pipeline


@contextmanager
def outcome_only(active: bool = True) -> Iterator[None]:
    """Inside (when ``active``): black's ``format_file_contents`` only checks that the code parses.

    For cells whose query text is not kept (``test-convert`` stores the outcome and the
    number of queries). Code that :func:`ast.parse` accepts is returned as it is (black
    would reformat it: the generated code always ends in a whitespace-only line, so black
    never raises ``NothingChanged`` on it); anything else goes to the real black, so a
    failure keeps black's own error. Only in effect when black is already imported (by a
    backend that uses it), and only while inside.
    """
    black: Any = sys.modules.get("black") if active else None
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


REGEX_CACHE = 4096


def enlarge_regex_cache(size: int = REGEX_CACHE) -> None:
    """Let :mod:`re` keep ``size`` compiled patterns (Python's default is 512).

    pySigma compiles each rule's wildcard values to regular expressions in every backend;
    with 512 entries, the 21 backends of one rule push each other's patterns out, and
    they are compiled again. Called when a conversion process starts (not at import).
    """
    if getattr(re, "_MAXCACHE", size) < size:
        setattr(re, "_MAXCACHE", size)  # noqa: B010 (private, not in the type stubs)
