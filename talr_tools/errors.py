"""Exceptions that the CLI turns into a one-line message and exit code 2."""

from __future__ import annotations


class TalrError(Exception):
    """A user-facing error: bad configuration, bad arguments, unusable input.

    The message is complete and printed as it is (one line, naming file and line
    where there is one); the CLI exits with ``exit_code``.
    """

    exit_code = 2


class ConfigError(TalrError):
    """``talr.toml`` is missing a required value or holds a wrong one."""
