"""Which codes a run reports: ``--select``/``--ignore`` code prefixes and ``[lint]`` in talr.toml.

Rules (as ruff): a code is reported when it matches a *select* prefix (no select = every
code) and the longest matching select prefix is longer than the longest matching ignore
prefix (so ``--ignore TALR1 --select TALR101`` keeps TALR101; on a tie, ignore wins).
``--select`` on the command line replaces ``[lint] select``; ``--ignore`` adds to
``[lint] ignore``. ``ALL`` selects everything. Prefixes are case-insensitive.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from talr_tools.errors import TalrError
from talr_tools.lint.codes import registry


def split_prefixes(values: Iterable[str]) -> tuple[str, ...]:
    """``["TALR1,SV", "TALR4"]`` -> ``("TALR1", "SV", "TALR4")`` (upper-cased, blanks dropped)."""
    out: list[str] = []
    for value in values:
        out.extend(part.strip().upper() for part in value.split(",") if part.strip())
    return tuple(out)


@dataclass(frozen=True)
class Selection:
    """Select and ignore prefixes, validated against the registry."""

    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()

    @classmethod
    def build(cls, select: Iterable[str], ignore: Iterable[str], *, origin: str = "command line") -> Selection:
        """A selection; an unknown prefix (one that matches no code) is a :class:`TalrError`."""
        sel, ign = split_prefixes(select), split_prefixes(ignore)
        codes = registry()
        for prefix in (*sel, *ign):
            if prefix != "ALL" and not any(code.startswith(prefix) for code in codes):
                raise TalrError(f"{origin}: {prefix!r} matches no lint code (see docs/lint-codes.md)")
        return cls(sel, ign)

    def wants(self, code: str) -> bool:
        """Whether findings of ``code`` are reported."""
        best_select = -1 if self.select else 0
        for prefix in self.select:
            if prefix == "ALL":
                best_select = max(best_select, 0)
            elif code.startswith(prefix):
                best_select = max(best_select, len(prefix))
        if best_select < 0:
            return False
        best_ignore = -1
        for prefix in self.ignore:
            if prefix == "ALL":
                best_ignore = max(best_ignore, 0)
            elif code.startswith(prefix):
                best_ignore = max(best_ignore, len(prefix))
        return best_select > best_ignore
