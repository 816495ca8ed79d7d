"""Conversion itself: runs in worker processes (or in-process for a handful of cells).

Each process builds a backend once per (target, pipelines) and reuses it for every rule
it gets. The rule's YAML was parsed once, in the main process; here the pySigma objects
are built from those dicts (``SigmaCollection.from_dicts``, about 0.2 ms) once per target,
because a backend applies its pipeline to the rule objects *in place*: sharing one
collection between backends would hand each backend the previous one's field names.
Work pySigma repeats, or that cannot change a cell, is done once or left out
(:mod:`talr_tools.convert.fastpath`).

Anything a third-party backend raises (``Exception``, not only ``SigmaError``) becomes
a failed outcome with its message. A conversion that runs past its time limit is stopped
and fails its cell (:mod:`talr_tools.convert.timelimit`); a backend that kills its process
ends only the cells of that batch (see :mod:`talr_tools.convert.runner`).
"""

from __future__ import annotations

import importlib
import json
import re
import socket
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from talr_tools.convert.cells import Outcome
from talr_tools.convert.fastpath import (
    outcome_only,
    prepare_conversion_process,
    reuse_combined_pipeline,
    share_loki_partitions,
)
from talr_tools.convert.timelimit import CellTimeout, time_limit

# Per-process state, filled on first use in each worker (never at import time).
_BACKENDS: dict[tuple[str, tuple[str, ...]], Any] = {}
_PIPELINES: dict[str, Any] = {}
_LOCATIONS: dict[str, str] = {}

MAX_MESSAGE = 600

Docs = Sequence[Mapping[str, Any]]
Task = tuple[str, tuple[str, ...], str]  # target, pipelines, output format


_NO_SOURCE = re.compile(r"\s*\((?:while|when) [^()]*? rule None\)")


def error_message(exc: BaseException) -> str:
    """One line: exception type and message, whitespace collapsed, bounded length.

    pySigma's "(while converting rule None)" suffix is dropped: rules built from parsed data
    have no source, and the cell already names the file.
    """
    text = _NO_SOURCE.sub("", " ".join(str(exc).split())) or "(no message)"
    line = f"{type(exc).__name__}: {text}"
    return line if len(line) <= MAX_MESSAGE else line[: MAX_MESSAGE - 1] + "…"


def use_locations(locations: Mapping[str, str]) -> None:
    """Tell this process where plugins live (see :meth:`Catalogue.locations`); pool initializer.

    Also sets up the process for conversion (:func:`.fastpath.prepare_conversion_process`).
    """
    prepare_conversion_process()
    _LOCATIONS.clear()
    _LOCATIONS.update(locations)


GC_THRESHOLDS = (10_000, 20, 20)  # allocations before a young collection; young collections per older one


def start_worker(locations: Mapping[str, str]) -> None:
    """Pool initializer of a conversion worker process: :func:`use_locations`, and a garbage
    collector tuned for conversion.

    A worker is forked from the main process after it parsed every rule: everything it
    inherits (the parsed rules, the imported plugins) lives as long as the worker, and
    ``gc.freeze`` takes it out of the collector's way. pySigma allocates many short-lived
    objects (rule objects, condition trees, parent links that make cycles): with Python's
    default thresholds (700, 10, 10) a worker spent about 15% of its time in the collector,
    mostly in full collections walking the inherited objects. Only in worker processes:
    an in-process conversion leaves the caller's collector as it is.
    """
    import gc

    use_locations(locations)
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def _plugin(kind: str, name: str) -> Any:
    """A backend class or pipeline factory: imported directly when its location is known."""
    where = _LOCATIONS.get(f"{kind}:{name}")
    if where:
        module, _, attr = where.partition(":")
        try:
            return getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError):
            pass  # moved since the catalogue was cached: full discovery below
    from talr_tools.convert.discovery import load_plugins

    plugins = load_plugins()
    return (plugins.backends if kind == "backend" else plugins.pipelines)[name]


@contextmanager
def libyaml_safe_load() -> Iterator[None]:
    """Inside: ``yaml.safe_load``/``safe_load_all`` use libyaml's safe loader (same objects, ~10x faster).

    Some plugins parse bundled YAML data when their pipeline is built (Sumo Logic's CSE
    schema: 0.7 s in pure Python); this is only in effect while TALR builds backends and
    pipelines, and only when PyYAML has libyaml.
    """
    import yaml

    loader = getattr(yaml, "CSafeLoader", None)
    if loader is None:
        yield
        return
    real_load, real_load_all = yaml.safe_load, yaml.safe_load_all

    def safe_load(stream: Any) -> Any:
        return yaml.load(stream, Loader=loader)

    def safe_load_all(stream: Any) -> Iterator[Any]:
        return yaml.load_all(stream, Loader=loader)

    yaml.safe_load, yaml.safe_load_all = safe_load, safe_load_all
    try:
        yield
    finally:
        yaml.safe_load, yaml.safe_load_all = real_load, real_load_all


def backend_for(target: str, pipelines: tuple[str, ...]) -> Any:
    """The (per-process cached) backend for ``target`` with ``pipelines`` (applied by priority, like sigma-cli)."""
    key = (target, pipelines)
    backend = _BACKENDS.get(key)
    if backend is None:
        with libyaml_safe_load():
            backend = _build_backend(target, pipelines)
        reuse_combined_pipeline(backend)
        share_loki_partitions(backend)
        _BACKENDS[key] = backend
    return backend


def _build_backend(target: str, pipelines: tuple[str, ...]) -> Any:
    built = []
    for name in pipelines:
        if name not in _PIPELINES:  # some take a while to build (Sumo Logic's loads YAML schemas)
            _PIPELINES[name] = _plugin("pipeline", name)()
        built.append(_PIPELINES[name])
    pipeline = None
    # Priority order, stable (what sigma-cli's pipeline resolver does with several -p).
    for item in sorted(built, key=lambda p: p.priority):
        pipeline = item if pipeline is None else pipeline + item
    backend_class: Any = _plugin("backend", target)
    return backend_class(processing_pipeline=pipeline)


def normalise_queries(result: Any) -> list[str]:
    """A backend's output as a list of query texts (non-text outputs as JSON)."""
    items = result if isinstance(result, list) else [result]
    return [
        item if isinstance(item, str) else json.dumps(item, indent=2, ensure_ascii=False, default=str)
        for item in items
        if item is not None
    ]


_LOOPBACK = ("127.", "::1", "localhost")


@contextmanager
def no_network() -> Iterator[None]:
    """Refuse any name lookup or connection except to 127.0.0.1/localhost while inside.

    TALR must not touch the network at run time; some backend output formats download
    data (e.g. Elastic's ``siem_rule`` formats fetch MITRE ATT&CK). Inside this block such a
    backend fails at once with a clear message instead of waiting on a DNS timeout.
    """
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect

    def guard(host: Any) -> None:
        text = str(host[0] if isinstance(host, tuple) else host)
        if not text.startswith(_LOOPBACK):
            raise OSError(f"network access to {text} blocked by TALR (conversion must work offline)")

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        guard(host)
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(self: socket.socket, address: Any) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            guard(address)
        real_connect(self, address)

    socket.getaddrinfo = getaddrinfo
    socket.socket.connect = connect  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        socket.getaddrinfo = real_getaddrinfo
        socket.socket.connect = real_connect  # type: ignore[method-assign]


@contextmanager
def conversion_guards(only_outcome: bool = False) -> Iterator[None]:
    """Inside: warnings silenced, network refused (:func:`no_network`), and with ``only_outcome``
    formatting whose text is not kept left out (:func:`.fastpath.outcome_only`).

    Entered once per call of :func:`convert`, once per batch in :func:`run_batch`.
    """
    with warnings.catch_warnings(), no_network(), outcome_only(only_outcome):
        warnings.simplefilter("ignore")
        yield


def convert(
    docs: Docs,
    target: str,
    pipelines: tuple[str, ...],
    fmt: str,
    *,
    only_outcome: bool = False,
    limit: float | None = None,
) -> tuple[Outcome, list[str], bool]:
    """Convert one rule file for one target: the outcome, the queries, and whether they are JSON texts.

    With ``only_outcome`` (``test-convert``, which keeps outcomes, not query texts), query
    texts may be left unformatted where formatting cannot change the outcome (see
    :func:`talr_tools.convert.fastpath.outcome_only`). With ``limit`` (seconds), a
    conversion still running after that long fails (:mod:`.timelimit`).
    """
    with conversion_guards(only_outcome):
        return _convert(docs, target, pipelines, fmt, limit)


def _convert(
    docs: Docs, target: str, pipelines: tuple[str, ...], fmt: str, limit: float | None
) -> tuple[Outcome, list[str], bool]:
    """:func:`convert` without entering :func:`conversion_guards` (the caller is inside them)."""
    from sigma.collection import SigmaCollection

    try:
        backend = backend_for(target, pipelines)
    except Exception as exc:
        return Outcome(False, f"cannot set up backend: {error_message(exc)}"), [], False
    try:
        with time_limit(limit):
            collection = SigmaCollection.from_dicts([dict(d) for d in docs])
            result = backend.convert(collection, fmt)
            queries = normalise_queries(result)
    except CellTimeout as stopped:
        _BACKENDS.pop((target, pipelines), None)  # stopped half-way: the next rule gets a new one
        return Outcome(False, str(stopped), lasting=False), [], False
    except Exception as exc:
        return Outcome(False, error_message(exc)), [], False
    if not queries:
        return Outcome(False, "the backend returned no query"), [], False
    items = result if isinstance(result, list) else [result]
    structured = any(not isinstance(item, str) for item in items)
    return Outcome(True, "", len(queries)), queries, structured


def run_batch(
    batch: list[tuple[int, Docs, list[Task]]], limit: float | None = None
) -> list[tuple[int, list[list[Any]]]]:
    """Worker entry point: ``[(rule index, documents, tasks)]`` -> ``[(rule index, outcomes)]``.

    ``limit``: seconds each conversion may take (:mod:`.timelimit`).

    Converts backend by backend (all the batch's rules through one backend, then the next):
    a backend's combined pipeline then stays pointed at by its items from one rule to the
    next (see :func:`.fastpath.reuse_combined_pipeline`). The order changes no outcome.
    """
    by_task: dict[Task, list[tuple[list[Any], int, Docs]]] = {}
    results: list[tuple[int, list[list[Any]]]] = []
    for index, docs, tasks in batch:
        outcomes: list[Any] = [None] * len(tasks)
        results.append((index, outcomes))
        for position, task in enumerate(tasks):
            by_task.setdefault(task, []).append((outcomes, position, docs))
    with conversion_guards(only_outcome=True):
        for (target, pipes, fmt), cells in by_task.items():
            for outcomes, position, docs in cells:
                outcomes[position] = _convert(docs, target, pipes, fmt, limit)[0].to_json()
    return results
