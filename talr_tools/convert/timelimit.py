"""A time limit on each conversion, so a backend that hangs fails its cell instead of the run.

pySigma has no cancellation hook, and a conversion runs third-party code. The limit is a
``SIGALRM`` timer: when it expires, :class:`CellTimeout` is raised inside whatever Python
code the backend is running, the cell fails with a message naming the limit, and the
worker goes on with the next cell. A backend stuck inside C code that never returns to
Python is not interrupted (documented in ``docs/conversion.md``). Only in a process's main
thread (where Python delivers signals), and only where the platform has ``setitimer``;
elsewhere conversions run without a limit.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from talr_tools.errors import ConfigError

DEFAULT_CELL_TIMEOUT = 60.0  # seconds; the slowest SigmaHQ cell takes about 1 s


class CellTimeout(BaseException):
    """Raised inside a conversion that ran past its limit.

    A ``BaseException``, so that a backend's own ``except Exception`` does not swallow it.
    """

    def __init__(self, seconds: float) -> None:
        super().__init__(f"conversion stopped after {seconds:g} s (time limit per cell: [convert] cell_timeout)")
        self.seconds = seconds


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Inside: :class:`CellTimeout` is raised once ``seconds`` have passed (no limit for None or 0).

    The caller catches :class:`CellTimeout` around the whole ``with`` block: the timer can
    expire just as the block ends.
    """
    if not seconds or not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(_signum: int, _frame: Any) -> None:
        raise CellTimeout(seconds)

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def cell_timeout_setting(convert_section: Mapping[str, Any], *, where: str = "talr.toml") -> float | None:
    """``[convert] cell_timeout`` in seconds: :data:`DEFAULT_CELL_TIMEOUT` when absent, None for 0 (no limit)."""
    value = convert_section.get("cell_timeout", DEFAULT_CELL_TIMEOUT)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"{where}: [convert] cell_timeout must be a number of seconds >= 0 (0: no limit)")
    return float(value) or None
