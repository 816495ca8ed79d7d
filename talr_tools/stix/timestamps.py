"""STIX timestamps: fixed millisecond precision, UTC, never the build clock."""

from __future__ import annotations

import datetime as dt

#: The time used for objects whose content never changes (TALR identity, extension definition,
#: CVE vulnerability objects) and for rules with no date at all: a constant, so builds reproduce.
TALR_EPOCH = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
MILLISECOND = dt.timedelta(milliseconds=1)


def stix_time(value: dt.datetime) -> str:
    """``2024-01-31T12:00:00.000Z``: UTC with exactly three fractional digits."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    value = value.astimezone(dt.UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def as_datetime(value: object) -> dt.datetime | None:
    """A Sigma ``date``/``modified`` value (date, datetime or ISO text) as a UTC datetime."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    if isinstance(value, str):
        text = value.strip().replace("/", "-")
        try:
            return as_datetime(dt.datetime.fromisoformat(text))
        except ValueError:
            return None
    return None


def strictly_increasing(times: list[dt.datetime]) -> list[dt.datetime]:
    """Times made strictly increasing at millisecond precision, deterministically.

    Each time is truncated to the millisecond; one not later than its predecessor becomes the
    predecessor plus one millisecond. So two versions committed in the same second (or with a
    committer clock that went backwards) never share a STIX ``modified``.
    """
    result: list[dt.datetime] = []
    for value in times:
        value = value.astimezone(dt.UTC).replace(microsecond=value.microsecond // 1000 * 1000)
        if result and value <= result[-1]:
            value = result[-1] + MILLISECOND
        result.append(value)
    return result
