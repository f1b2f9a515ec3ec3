"""Incidents inside an outline (a PSPO's area, an adopted problem location), by month and crime
type, before and after the date something started there.

The month it started is its own period (partly before, partly after), so the before and after
rates compare whole months only. Months with no data at all in the borough are left out of both
(not zero: not loaded), and the notes say so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Engine

from core.themes import ALL_CRIME
from geo.areas import resolve_area
from geo.crs import BNG, WGS84, reproject
from hotspots.analysis import area_incidents
from hotspots.change import change_test


@dataclass
class PlaceIncidents:
    """What happened inside one outline: per month and type, and before against after."""

    start_month: str
    by_month: pd.DataFrame  # month, period, one column per crime type, ALL_CRIME
    by_type: pd.DataFrame  # crime_type, before, after, per-month rates, change %, p, significant
    months_before: list[str]
    months_after: list[str]
    incidents: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def place_incidents(engine: Engine, area_code: str, outline: BaseGeometry, start: date,
                    categories: list[str] | None = None, *,
                    started: str = "it started",
                    start_period: str = "month started") -> PlaceIncidents:
    """Incidents inside `outline` (WGS84; points on its edge count, as hotspot cells' edges run
    through police.uk's snap points) over every month loaded for the borough, split at the
    month of `start`; `started` words the split in the notes ('the order was made') and
    `start_period` names that month's period ('month made')."""
    borough = resolve_area(engine, area_code)
    everything = area_incidents(engine, borough, None, None)
    have = sorted(set(everything["month"]))
    points = everything if not categories else everything[everything["category"].isin(
        categories)]
    # 1 cm of tolerance: an outline kept in longitude/latitude comes back a few nanometres off
    # the snap points that lay on its edge
    shape = reproject(outline, WGS84, BNG).buffer(0.01)
    inside = points[shapely.intersects_xy(shape, points["easting"].to_numpy(),
                                        points["northing"].to_numpy())].copy()
    start_month = start.strftime("%Y-%m")
    period = pd.Series(["before" if m < start_month else "after" if m > start_month else
                        start_period for m in have], index=have, dtype=object)
    counts = pd.crosstab(inside["month"], inside["category"]).reindex(have, fill_value=0)
    counts.index.name = "month"
    counts[ALL_CRIME] = counts.sum(axis=1)
    by_month = counts.reset_index()
    by_month.insert(1, "period", by_month["month"].map(period))
    months_before = [m for m in have if period[m] == "before"]
    months_after = [m for m in have if period[m] == "after"]
    by_type = _before_after(counts, months_before, months_after)
    notes = _notes(have, start_month, months_before, months_after, borough.name, started)
    return PlaceIncidents(start_month, by_month, by_type, months_before, months_after, inside,
                          notes)


def _before_after(counts: pd.DataFrame, before: list[str], after: list[str]) -> pd.DataFrame:
    """Per crime type: counts and monthly rates before and after, % change of the rate and an
    exact Poisson test of it (scaled for periods of different lengths)."""
    b = counts.loc[before].sum() if before else counts.sum() * 0
    a = counts.loc[after].sum() if after else counts.sum() * 0
    table = pd.DataFrame({"crime_type": counts.columns, "before": b.to_numpy(dtype=int),
                          "after": a.to_numpy(dtype=int)})
    table["before_per_month"] = (table["before"] / len(before)).round(2) if before else np.nan
    table["after_per_month"] = (table["after"] / len(after)).round(2) if after else np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        change = (table["after_per_month"] / table["before_per_month"] - 1) * 100
    table["change_pct"] = change.where(table["before"] > 0).round(1)
    if before and after:
        table["p_value"] = change_test(table["before"].to_numpy(), table["after"].to_numpy(),
                                       len(after) / len(before)).round(4)
    else:
        table["p_value"] = np.nan
    table["significant"] = table["p_value"] < 0.05
    order = [ALL_CRIME, *sorted(c for c in counts.columns if c != ALL_CRIME)]
    return table.set_index("crime_type").loc[order].reset_index()


def _notes(have: list[str], start_month: str, before: list[str], after: list[str],
           area_name: str, started: str) -> list[str]:
    notes = []
    if not have:
        return [f"No incidents are loaded for {area_name}: import police.uk months first."]
    notes.append(f"Data loaded for {area_name}: {have[0]} to {have[-1]} ({len(have)} months). "
                 f"The month {started} ({start_month}) is counted in neither period.")
    if not before:
        notes.append(f"No month before {started} is loaded, so there is nothing to compare "
                     "with: import earlier police.uk months.")
    if not after:
        notes.append(f"No whole month after {started} is loaded yet.")
    if before and after:
        notes.append(f"Before: {_span(before)}; after: {_span(after)}. Rates are per month; "
                     "the p-value is an exact Poisson test of the change in rate (below 0.05: "
                     "beyond chance). Many things change at once: read it as a trend, not as "
                     "the effect of one action.")
    return notes


def _span(months: list[str]) -> str:
    if len(months) == 1:
        return f"1 month ({months[0]})"
    return f"{len(months)} months ({months[0]} to {months[-1]})"
