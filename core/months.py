"""Month arithmetic on "YYYY-MM" text, written once for every layer: a month n later or
earlier, the months from one to another, the n months before one or ending with one, and how
many months lie between two.

Months are parsed as pandas monthly periods, so "2024-01" and the like are read as police.uk
writes them; text that is no month raises ValueError.
"""

from __future__ import annotations

import pandas as pd


def _period(month: str) -> pd.Period:
    return pd.Period(month, freq="M")


def shift_month(month: str, n: int) -> str:
    """The month `n` months after `month` (before it, when `n` is negative)."""
    return str(_period(month) + n)


def month_range(month_from: str, month_to: str) -> list[str]:
    """Every month from `month_from` to `month_to`, both included; empty when the first is
    later than the last."""
    return [str(m) for m in pd.period_range(month_from, month_to, freq="M")]


def months_before(month: str, n: int) -> list[str]:
    """The `n` months just before `month` (not including it), oldest first."""
    period = _period(month)
    return [str(period - i) for i in range(n, 0, -1)]


def months_ending(month: str, n: int) -> list[str]:
    """The `n` months ending with `month` (including it), oldest first."""
    return [*months_before(month, n - 1), str(_period(month))] if n > 0 else []


def months_apart(first: str, second: str) -> int:
    """How many months `second` is after `first` (negative when it is before); one month to
    the next is 1, a month to itself 0."""
    return (_period(second) - _period(first)).n


def month_of(day: object) -> str:
    """The "YYYY-MM" month a date, datetime or date text falls in."""
    return str(pd.Period(day, freq="M"))
