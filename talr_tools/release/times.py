"""A rule's STIX ``created``/``modified`` times, never from the build clock.

* From git history (a build of a commit): ``created`` is the commit time of the commit that
  introduced version 1 (the first recorded version), ``modified`` the commit time of the commit
  that introduced the current version. Times are made strictly increasing per rule at
  millisecond precision (:func:`talr_tools.stix.timestamps.strictly_increasing`), so two
  versions committed in the same second still get distinct ``modified`` values.
* Without history (a plain folder of Sigma rules, or a rule history does not know): ``created``
  is the Sigma ``date`` (midnight UTC), ``modified`` the Sigma ``modified`` (or ``date``), never
  before ``created``; a rule with neither uses the constant :data:`TALR_EPOCH`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from talr_tools.model import Rule
from talr_tools.stix.mapping import RuleTimes
from talr_tools.stix.timestamps import MILLISECOND, TALR_EPOCH, as_datetime, strictly_increasing

if TYPE_CHECKING:
    from talr_tools.versioning.history import VersionRecord

    #: One version of a rule in git history (engineer C's record type).
    VersionLike = VersionRecord


def history_times(records: Sequence[VersionRecord], version: int | None, *, dirty: bool = False) -> RuleTimes:
    """Times of ``version`` from its history records (sorted by version).

    A version not in the history (only possible in a ``--dirty`` build of an uncommitted bump)
    is placed one millisecond after the last recorded version.
    """
    times = strictly_increasing([r.committed_at for r in records])
    wanted = version if version is not None else 1
    for record, when in zip(records, times, strict=True):
        if record.version == wanted:
            return RuleTimes(created=times[0], modified=when)
    if dirty or wanted > records[-1].version:
        return RuleTimes(created=times[0], modified=times[-1] + MILLISECOND)
    return RuleTimes(created=times[0], modified=times[-1])


def sigma_times(rule: Rule) -> RuleTimes:
    """Times from the rule's Sigma ``date`` and ``modified`` (the no-history fallback)."""
    data = rule.primary.data
    created = as_datetime(data.get("date")) or TALR_EPOCH
    modified = as_datetime(data.get("modified")) or created
    created, modified = strictly_increasing([created])[0], strictly_increasing([modified])[0]
    return RuleTimes(created=created, modified=max(created, modified))
