"""Per backend: pipelines combined once per backend, failure messages reset per rule."""

from __future__ import annotations

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
