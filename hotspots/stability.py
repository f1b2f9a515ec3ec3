"""Stability: are last period's hotspots hotspots again this period? Per crime type, beside the
evaluation (hotspots.evaluate), on the same grid and coverage.

Each period's hotspots are found the way the map finds them (the default method, weighted
counts, with all crime of the period as background), laid on the evaluation grid (50 m land
cells) and taken best first until they cover the same share of the land (1%), as
`hotspots evaluate` does (EvaluationGrid.choose). Then, for the two ranked lists of cells:

- again: how many of last period's hotspot cells are hotspot cells this period, and `share`,
  that number over last period's hotspot cells;
- spearman: Spearman's rank correlation (scipy.stats.spearmanr, ties averaged) between last
  period's hotspot cells' counts then and their counts now: does last period's order hold?
  (Over the cells hot in either period instead, cells hot in one period only would push it
  below 0 by their selection alone.)
- rbo: rank-biased overlap (Webber, Moffat & Zobel 2010), the extrapolated RBO_ext of their
  eq. 32 with persistence p = 0.9: how far the two rankings agree, weighting the top most
  (1 = the same list in the same order, 0 = no cell in common). No well-kept Python package
  implements it (PyPI's `rbo` is a small one-person package), and it is a dozen lines.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Engine

from core.months import months_before
from core.themes import ALL_CRIME
from hotspots.evaluate import EvaluationGrid
from hotspots.result import HotspotInputError, points_xy

RBO_P = 0.9
CELL_SIZE = 50.0
COVERAGE = 0.01
STABILITY_COLUMNS = ["crime_type", "before", "after", "incidents_before", "incidents_after",
                     "hotspots_before", "hotspots_after", "again", "share", "spearman", "rbo",
                     "reading"]


def rank_biased_overlap(first: list, second: list, p: float = RBO_P) -> float:
    """Extrapolated rank-biased overlap of two ranked lists without repeats (Webber et al.
    2010, eq. 32), for lists of any lengths; NaN when either is empty.

    With S the shorter list (length s), L the longer (length l) and X_d the overlap of their
    top d (S whole beyond s):
        RBO_ext = (1 - p)/p [sum_{d=1..l} X_d/d p^d + sum_{d=s+1..l} X_s (d - s)/(s d) p^d]
                  + [(X_l - X_s)/l + X_s/s] p^l
    Worked by hand: S = a b c, L = a c b, p = 0.9: X_1 = 1, X_2 = 1 ({a,b} and {a,c}),
    X_3 = 3; the sum = 1 x 0.9 + 0.5 x 0.81 + 1 x 0.729 = 2.034, times 0.1/0.9 = 0.2260;
    plus [0 + 1] x 0.729, so RBO = 0.9550. The same list gives 1 exactly.
    """
    if not 0 < p < 1:
        raise HotspotInputError(f"the persistence p must be between 0 and 1, not {p}")
    if not first or not second:
        return math.nan
    short, long_ = (first, second) if len(first) <= len(second) else (second, first)
    s, length = len(short), len(long_)
    seen_short, seen_long, overlap = set(), set(), 0
    x = np.zeros(length + 1)
    for d in range(1, length + 1):
        if d <= s:
            item = short[d - 1]
            overlap += item in seen_long
            seen_short.add(item)
        item = long_[d - 1]
        overlap += item in seen_short
        seen_long.add(item)
        x[d] = overlap
    depth = np.arange(1, length + 1)
    weights = p ** depth
    total = np.sum(x[1:] / depth * weights)
    beyond = depth > s
    total += np.sum(x[s] * (depth[beyond] - s) / (s * depth[beyond]) * weights[beyond])
    return float((1 - p) / p * total + ((x[length] - x[s]) / length + x[s] / s) * p ** length)


def period_cells(grid: EvaluationGrid, land: BaseGeometry, incidents: pd.DataFrame,
                 background: pd.DataFrame, method: str) -> np.ndarray:
    """The period's hotspot cells on the evaluation grid, best first (empty when none)."""
    from hotspots import METHODS, method_options

    if not len(incidents):
        return np.array([], dtype=int)
    params = {}
    options = method_options(method)
    if "cell_size" in options:
        params["cell_size"] = grid.raster.size
    if "background" in options:
        params["background"] = background
    try:
        found = METHODS[method](incidents, land, **params)
    except HotspotInputError:
        return np.array([], dtype=int)
    return grid.choose(found, grid.counts(points_xy(incidents)))


def compare_rankings(before: np.ndarray, after: np.ndarray, counts_before: np.ndarray,
                     counts_after: np.ndarray) -> dict:
    """Again, share, Spearman and RBO of two ranked lists of cell indices."""
    again = len(set(before.tolist()) & set(after.tolist()))
    spearman = math.nan
    if len(before) >= 3:
        a, b = counts_before[before], counts_after[before]
        if np.ptp(a) > 0 and np.ptp(b) > 0:
            spearman = float(stats.spearmanr(a, b).statistic)
    return {"hotspots_before": len(before), "hotspots_after": len(after), "again": again,
            "share": again / len(before) if len(before) else math.nan,
            "spearman": spearman, "rbo": rank_biased_overlap(before.tolist(), after.tolist())}


def reading(row: dict) -> str:
    """One line for the table: '12 of 40 hotspots again (30%); order kept weakly (rho 0.21)'."""
    if not row["hotspots_before"]:
        return "no hotspots in the earlier period"
    text = (f"{row['again']} of {row['hotspots_before']} hotspots again "
            f"({row['share']:.0%})")
    rho = row["spearman"]
    if rho == rho:
        strength = ("strongly" if abs(rho) >= 0.6 else "moderately" if abs(rho) >= 0.3
                    else "weakly")
        text += (f"; order kept {strength} (Spearman {rho:.2f})" if rho > 0
                 else f"; order reversed {strength} (Spearman {rho:.2f})")
    return text


def stability_table(incidents: pd.DataFrame, land: BaseGeometry, before: list[str],
                    after: list[str], crime_types: list[str] | None = None,
                    cell_size: float = CELL_SIZE, coverage: float = COVERAGE,
                    method: str = "weighted") -> pd.DataFrame:
    """One row per crime type (all crime first, then each type with incidents in either
    period): hotspot cells before and after, how many again, share, Spearman and RBO."""
    grid = EvaluationGrid.over(land, cell_size, coverage)
    first = incidents[incidents["month"].isin(before)]
    second = incidents[incidents["month"].isin(after)]
    if crime_types is None:
        both = pd.concat([first, second])
        crime_types = [ALL_CRIME, *sorted(both["category"].dropna().unique())]
    rows = []
    for crime in crime_types:
        def pick(frame: pd.DataFrame, c: str = crime) -> pd.DataFrame:
            return frame if c == ALL_CRIME else frame[frame["category"] == c]
        b, a = pick(first), pick(second)
        cells_b = period_cells(grid, land, b, first, method)
        cells_a = period_cells(grid, land, a, second, method)
        row = {"crime_type": crime, "before": f"{before[0]} to {before[-1]}",
               "after": f"{after[0]} to {after[-1]}", "incidents_before": len(b),
               "incidents_after": len(a),
               **compare_rankings(cells_b, cells_a, grid.counts(points_xy(b)),
                                  grid.counts(points_xy(a)))}
        row["reading"] = reading(row)
        rows.append(row)
    table = pd.DataFrame(rows, columns=STABILITY_COLUMNS)
    table.attrs["parameters"] = {"cell_size_m": cell_size, "coverage": coverage,
                                 "method": method, "rbo_p": RBO_P,
                                 "cells_budget": grid.budget}
    return table


def stability(engine: Engine, area: str, to_month: str, months: int = 6,
              crime_types: list[str] | None = None, cell_size: float = CELL_SIZE,
              coverage: float = COVERAGE) -> pd.DataFrame:
    """Stability of the area's hotspots: the `months` months to `to_month` against the
    `months` before them, per crime type (stability_table). Notes (months with no data
    loaded) are in `attrs["notes"]`."""
    from geo.areas import resolve_area
    from hotspots.analysis import area_incidents

    if months < 1:
        raise HotspotInputError("a period is at least one month")
    after = [*months_before(to_month, months - 1), to_month]
    before = months_before(after[0], months)
    place = resolve_area(engine, area)
    points = area_incidents(engine, place, before[0], after[-1], None)
    have = set(points["month"])
    gaps = [m for m in before + after if m not in have]
    if all(m in gaps for m in after) or all(m in gaps for m in before):
        raise HotspotInputError(
            f"no incidents are loaded for {place.name} in {before[0]} to {before[-1]} or "
            f"{after[0]} to {after[-1]}: import those months or choose another end month")
    table = stability_table(points, place.land, before, after, crime_types, cell_size,
                            coverage)
    table.attrs["area"] = place.name
    table.attrs["notes"] = ([f"no incidents are loaded for {', '.join(gaps)}: those months "
                             "count as empty"] if gaps else [])
    return table
