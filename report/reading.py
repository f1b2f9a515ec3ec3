"""A change in plain English, one wording for the pages, the CLI and the spreadsheets:
"fell by 12% (more than chance would explain)", "rose by 3% (within normal variation)"."""

from __future__ import annotations

import math

SIGNIFICANCE = 0.05  # the exact test's level: "more than chance would explain" below it
BEYOND_CHANCE = "more than chance would explain"
WITHIN_CHANCE = "within normal variation"


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def change_reading(current: int | None, previous: int | None, p_value: float | None,
                   reason: str = "") -> str:
    """How a count changed between two periods, and whether chance would explain it. `reason`
    (why no change is given, e.g. too few months to compare) wins over the counts."""
    if reason:
        return f"not compared: {reason}"
    if _missing(current) or _missing(previous):
        return "not compared: no counts"
    current, previous = int(current), int(previous)
    chance = "" if _missing(p_value) else (
        f" ({BEYOND_CHANCE if p_value < SIGNIFICANCE else WITHIN_CHANCE})")
    if current == previous:
        return "no change" + ("" if current else " (none in either period)")
    if previous == 0:
        return f"up from none to {current:,}{chance}"
    pct = 100 * (current - previous) / previous
    direction = "rose" if pct > 0 else "fell"
    size = "less than 1%" if abs(pct) < 0.5 else f"{abs(pct):.0f}%"
    return f"{direction} by {size}{chance}"
