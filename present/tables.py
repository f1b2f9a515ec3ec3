"""Tables shared by several pages, written for people: counts before and after an order or
an adoption with each change read out, in words, with its test."""

from __future__ import annotations

import math

import pandas as pd

from core.words import chance_words


def change_reading(change_pct: float | None, p_value: float | None) -> str:
    """'Fell by 40%: more than chance would explain' / 'Rose by 5%: within what chance would
    give' / 'No change' / 'Nothing before to compare with'."""
    if change_pct is None or (isinstance(change_pct, float) and math.isnan(change_pct)):
        return "Nothing before to compare with"
    if round(change_pct) == 0:
        verb = "No change"
    else:
        verb = f"{'Rose' if change_pct > 0 else 'Fell'} by {abs(change_pct):.0f}%"
    return f"{verb}: {chance_words(p_value)}"


def before_after_table(by_type: pd.DataFrame, before: str, after: str) -> pd.DataFrame:
    """A place's incidents by crime type before and after a date, with monthly rates and the
    change in the monthly rate read out (columns named `before` and `after` by the caller:
    'Before', 'Since adoption')."""
    def rate(value: float) -> str:
        return "–" if value is None or (isinstance(value, float) and math.isnan(value)) \
            else f"{value:.1f}"
    return pd.DataFrame({
        "Crime type": by_type["crime_type"],
        before: by_type["before"].astype(int),
        after: by_type["after"].astype(int),
        f"{before}, a month": by_type["before_per_month"].map(rate),
        f"{after}, a month": by_type["after_per_month"].map(rate),
        "The monthly rate": [change_reading(c, p) for c, p in
                             zip(by_type["change_pct"], by_type["p_value"], strict=True)],
    })
