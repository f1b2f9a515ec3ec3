"""Like for like when months are missing: each month of the current period paired with its
counterpart in the earlier one (the same calendar month a year before for a 12-month or
since-the-last-JAG comparison; the month as far back as the period is long otherwise), keeping
the pairs where both months have data.

A month "has data" when at least one incident of any kind is stored for the borough in it: a
month police.uk has not been imported for, not a quiet month. A comparison is made when at least
three quarters of the months can be compared; below that it is not given, and says why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.months import month_range, shift_month

MIN_SHARE = 0.75  # at least three quarters of the months must be comparable


def months_text(months: list[str]) -> str:
    """'2023-12', '2022-02 to 2022-12' for a run, else the months listed."""
    if not months:
        return "none"
    if len(months) == 1:
        return months[0]
    return f"{months[0]} to {months[-1]}" if month_range(months[0], months[-1]) == months else \
        ", ".join(months)


@dataclass(frozen=True)
class MonthPairs:
    """Each month of the current period with its counterpart `lag` months earlier, and which
    pairs can be compared (both months with data)."""

    current: tuple[str, str]
    lag: int
    pairs: tuple[tuple[str, str], ...]  # (current month, earlier month), oldest first
    compared: tuple[tuple[str, str], ...]
    dropped: tuple[tuple[str, str, str], ...]  # (current month, earlier month, reason)

    @property
    def previous(self) -> tuple[str, str]:
        """The earlier period's first and last months."""
        return (self.pairs[0][1], self.pairs[-1][1])

    @property
    def months(self) -> int:
        """Months in each period."""
        return len(self.pairs)

    @property
    def months_compared(self) -> int:
        """Pairs with data in both months."""
        return len(self.compared)

    @property
    def needed(self) -> int:
        """Pairs needed for a comparison: three quarters of the months, rounded up."""
        return math.ceil(MIN_SHARE * self.months)

    @property
    def enough(self) -> bool:
        """Whether enough months can be compared for a change, a test and a RAG."""
        return self.months_compared >= self.needed and self.months_compared > 0

    @property
    def current_months(self) -> list[str]:
        """The current period's months that are compared."""
        return [c for c, _ in self.compared]

    @property
    def previous_months(self) -> list[str]:
        """The earlier period's months that are compared."""
        return [p for _, p in self.compared]

    def dropped_text(self) -> str:
        """The dropped pairs in words: '2023-12 (no data for 2022-12)'; '' when none."""
        return "; ".join(f"{c} ({reason})" for c, _, reason in self.dropped)

    def summary(self) -> str:
        """'11 of 12 months compared' (plus what was dropped)."""
        text = f"{self.months_compared} of {self.months} months compared"
        return text + (f"; dropped {self.dropped_text()}" if self.dropped else "")

    def to_dict(self) -> dict:
        """For JSON exports."""
        return {"months": self.months, "months_compared": self.months_compared,
                "needed": self.needed, "comparable": self.enough,
                "compared": [list(p) for p in self.compared],
                "dropped": [{"current": c, "previous": p, "reason": r}
                            for c, p, r in self.dropped]}


def pair_months(current: tuple[str, str], lag: int, have: set[str]) -> MonthPairs:
    """Pair each month of `current` (first, last) with the month `lag` months before it and
    keep the pairs where both months are in `have` (months with data)."""
    if lag < 1:
        raise ValueError(f"the earlier period is at least one month earlier, not {lag}")
    pairs = tuple((m, shift_month(m, -lag)) for m in month_range(*current))
    if not pairs:
        raise ValueError(f"the period starts ({current[0]}) after it ends ({current[1]})")
    compared, dropped = [], []
    for now, before in pairs:
        missing = [m for m in (now, before) if m not in have]
        if missing:
            dropped.append((now, before, "no data for " + " or ".join(missing)))
        else:
            compared.append((now, before))
    return MonthPairs(current, lag, pairs, tuple(compared), tuple(dropped))
