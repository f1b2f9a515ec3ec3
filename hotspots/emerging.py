"""Emerging hot spots as ArcGIS Pro's Emerging Hot Spot Analysis defines them: a space-time
Getis-Ord Gi* for every cell and period, a Mann-Kendall trend test of each cell's Gi* z-scores,
and each cell's pattern (new, consecutive, intensifying, persistent, diminishing, sporadic,
oscillating or historical, hot or cold; else "no pattern").

The cube: square land cells (hotspots.gistar.land_cells: the same cells and neighbours as
Gi*), one slice per period. A bin's neighbours are the cells within the distance band (itself
included) in its own period and the `time_lag` periods before it (ArcGIS's neighbourhood time
step, default 1; backward only, as ArcGIS). The global mean and spread are those of the whole
cube (ArcGIS's "entire cube" global window), so Gi* is hotspots.gistar.gistar_z on the
space-time weights; p-values are two-sided and corrected over the cube with the Benjamini-
Hochberg false discovery rate, as ArcGIS does. A bin is a significant hot (cold) spot when its
adjusted p is at most `critical_p` (0.10: ArcGIS's Gi_Bin +-1 to +-3, 90% confidence or more).

Mann-Kendall (Mann 1945; Kendall 1975) on each cell's series of Gi* z-scores, oldest first:
    S = sum over i < j of sign(x_j - x_i)
    Var(S) = (n(n-1)(2n+5) - sum over groups of tied values t(t-1)(2t+5)) / 18
    z = (S - 1) / sqrt(Var S) if S > 0, (S + 1) / sqrt(Var S) if S < 0, else 0
(with the continuity correction, as esda's EmergingHotSpot on its main branch, xarray-spatial
and pyMannKendall), two-sided p from the normal. Without the correction, S / sqrt(Var S) is
the z behind scipy.stats.kendalltau(time, x) (tau-b, asymptotic p): tests/test_emerging.py
checks S, tau and p against scipy, and the Gi* cube against esda's G_Local. esda 2.9, the
newest release, has no EmergingHotSpot class (it is on esda's main branch only), so the trend
test is written here.

Patterns (ArcGIS's definitions; "hot" below means a significant hot spot bin; cold spots
mirror them, with the trend's sign reversed), checked in this order for the side (hot or
cold) that holds the final period:
- new: hot in the final period and never before;
- intensifying / persistent / diminishing: hot in at least 90% of the periods including the
  final one, with a significant upward trend / no significant trend / a significant downward
  trend in the Gi* z-scores (trend p at most `trend_p`, 0.10 by default);
- consecutive: a single run of at least two hot periods at the end, never hot before it, and
  hot in under 90% of the periods;
- oscillating: hot in the final period, under 90%, and a significant cold spot before;
- sporadic: hot in the final period, under 90%, off and on, never a cold spot.
Earlier cold spots do not stop a cell being new or consecutive: those come first in ArcGIS's
list of patterns, and say more about now.
Then, when the final period is neither: historical = hot in at least 90% of the periods but
not the final one. Everything else is "no pattern". With fewer than 10 periods, 90% means
every period, so no cell can be historical (ArcGIS asks for 10 periods or more).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import stats
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Engine

from geo.crs import BNG
from hotspots.gistar import confidence_bins, gistar_z, land_cells
from hotspots.result import HOTSPOT_COLUMNS, HotspotInputError, points_xy

KINDS = ("new", "consecutive", "intensifying", "persistent", "diminishing", "sporadic",
         "oscillating", "historical")
NO_PATTERN = "no pattern"
# The ranking: what a JAG should look at first. Hot spots that are hot now and getting worse
# or staying hot, then new ones, then on-and-off ones, cooling ones and past ones; then no
# pattern; then cold spots in the same order.
RANK_ORDER = ("intensifying", "persistent", "new", "consecutive", "sporadic", "oscillating",
              "diminishing", "historical")
PATTERNS = ([f"{k} hot spot" for k in RANK_ORDER] + [NO_PATTERN]
            + [f"{k} cold spot" for k in RANK_ORDER])
DEFAULTS = {"critical_p": 0.10, "trend_p": 0.10, "time_lag": 1}
NINETY = 0.9
MIN_PERIODS = 3  # the trend test needs three values; ArcGIS asks for 10
EHSA_RANKING = ("the pattern (intensifying, persistent, new, consecutive, sporadic, "
                "oscillating, diminishing, historical hot spots first; cold spots last), then "
                "the Mann-Kendall trend z of the Gi* z-scores, then incidents")


@dataclass(frozen=True)
class MannKendall:
    """The Mann-Kendall trend test of each row of a (cells, periods) array: S, its variance
    with the correction for ties, z (continuity-corrected), two-sided p and Kendall's tau-b
    against time."""

    s: np.ndarray
    var_s: np.ndarray
    z: np.ndarray
    p: np.ndarray
    tau: np.ndarray


def mann_kendall(series: np.ndarray) -> MannKendall:
    """Mann-Kendall trend test of each row (oldest value first), vectorised over rows.

    Worked by hand, x = 1, 2, 3, 4, 5: every one of the 10 pairs rises, so S = 10;
    Var S = 5 x 4 x 15 / 18 = 16.667; z = (10 - 1) / 4.0825 = 2.2045; p = 0.0275; tau = 1.
    x = 3, 1, 3, 2 (two 3s tied): pairs (3,1) -1, (3,3) 0, (3,2) -1, (1,3) +1, (1,2) +1,
    (3,2) -1, so S = -1; Var S = (4 x 3 x 13 - 2 x 1 x 9) / 18 = 7.667; z = 0 (S + 1 = 0).
    """
    x = np.atleast_2d(np.asarray(series, dtype=float))
    n = x.shape[1]
    s = np.zeros(len(x))
    for i in range(n - 1):
        s += np.sign(x[:, i + 1:] - x[:, i:i + 1]).sum(axis=1)
    # Each value's count of equal values in its row (itself included): a group of t tied
    # values gives t elements of count t, so sum (c - 1)(2c + 5) = sum t(t - 1)(2t + 5).
    equal = (x[:, :, None] == x[:, None, :]).sum(axis=2)
    ties = ((equal - 1) * (2 * equal + 5)).sum(axis=1)
    var_s = (n * (n - 1) * (2 * n + 5) - ties) / 18.0
    root = np.sqrt(np.clip(var_s, 0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(root > 0, (s - np.sign(s)) / root, 0.0)
        pairs = n * (n - 1) / 2.0
        tied_pairs = (equal - 1).sum(axis=1) / 2.0
        tau = np.where(pairs > tied_pairs, s / np.sqrt(pairs * (pairs - tied_pairs)), 0.0)
    p = 2 * stats.norm.sf(np.abs(z))
    return MannKendall(s, var_s, z, p, tau)


def spacetime_weights(spatial: sp.csr_matrix, periods: int, time_lag: int) -> sp.csr_matrix:
    """Binary space-time weights over a cube flattened period by period (bin = t x cells + i):
    a bin's neighbours are its spatial neighbours (itself included) in its own period and the
    `time_lag` periods before it."""
    steps = np.arange(periods)
    lag = steps[:, None] - steps[None, :]
    in_time = sp.csr_matrix(((lag >= 0) & (lag <= time_lag)).astype(float))
    return sp.kron(in_time, spatial, format="csr")


def classify_patterns(bins: np.ndarray, trend_z: np.ndarray, trend_p: np.ndarray,
                      trend_alpha: float = DEFAULTS["trend_p"]) -> np.ndarray:
    """Each cell's pattern from its (cells, periods) significant-bin signs (+1 hot, -1 cold,
    0 neither; oldest first) and the trend test of its Gi* z-scores (module docstring)."""
    bins = np.atleast_2d(np.asarray(bins))
    periods = bins.shape[1]
    pattern = np.full(len(bins), NO_PATTERN, dtype=object)
    for sign, kind in ((1, "hot spot"), (-1, "cold spot")):
        side = bins * sign > 0
        other = bins * sign < 0
        count = side.sum(axis=1)
        final = side[:, -1]
        mostly = count >= NINETY * periods - 1e-9
        run = np.cumprod(side[:, ::-1], axis=1).sum(axis=1)
        trend = (trend_p <= trend_alpha) & (trend_z * sign > 0)
        against = (trend_p <= trend_alpha) & (trend_z * sign < 0)
        new = final & (count == 1)
        steady = final & ~new & mostly
        rest = final & ~new & ~mostly
        consecutive = rest & (run >= 2) & (run == count)
        oscillating = rest & ~consecutive & other.any(axis=1)
        rules = [
            (new, "new"), (steady & trend, "intensifying"),
            (steady & ~trend & ~against, "persistent"), (steady & against, "diminishing"),
            (consecutive, "consecutive"), (oscillating, "oscillating"),
            (rest & ~consecutive & ~oscillating, "sporadic"),
        ]
        for mask, name in rules:
            pattern[mask] = f"{name} {kind}"
    for sign, kind in ((1, "hot spot"), (-1, "cold spot")):
        side = bins * sign > 0
        historical = (side.sum(axis=1) >= NINETY * periods - 1e-9) & ~side[:, -1]
        pattern[historical & (pattern == NO_PATTERN)] = f"historical {kind}"
    return pattern


def hotspot_emerging(periods: list[pd.DataFrame], area: BaseGeometry,
                     cell_size: float | None = None, distance: float | None = None,
                     k: int | None = None, time_lag: int = DEFAULTS["time_lag"],
                     critical_p: float = DEFAULTS["critical_p"],
                     trend_p: float = DEFAULTS["trend_p"],
                     labels: list[str] | None = None) -> gpd.GeoDataFrame:
    """Emerging hot spot analysis of incidents in consecutive periods (oldest first) over the
    area's land: every land cell with its pattern, in the hotspot result shape.

    Columns: rank, count (incidents over all periods), score (= trend_z), method ("ehsa"),
    parameters (JSON), geometry (EPSG:27700), then pattern, trend_z and trend_p (Mann-Kendall
    of the cell's Gi* z-scores), tau, hot_periods, cold_periods, periods, last_z and last_bin
    (Gi* z and ArcGIS confidence bin, -3..3, in the final period). `attrs["gi_z"]` holds the
    (cells, periods) Gi* z-scores and `attrs["periods"]` the period labels."""
    if len(periods) < MIN_PERIODS:
        raise HotspotInputError(f"emerging hot spot analysis needs at least {MIN_PERIODS} "
                                f"periods for its trend test, not {len(periods)}: choose a "
                                "longer span or shorter periods")
    if not (isinstance(time_lag, int | np.integer) and 0 <= time_lag < len(periods)):
        raise HotspotInputError(f"the neighbourhood time step must be a whole number of periods "
                                f"from 0 to {len(periods) - 1}, not {time_lag}")
    for name, value in (("critical_p", critical_p), ("trend_p", trend_p)):
        if not (0 < value < 1):
            raise HotspotInputError(f"{name} must be between 0 and 1, not {value}")
    cells = land_cells(area, cell_size, distance, k, fdr=True)
    n_cells, n_periods = len(cells.rows), len(periods)
    counts = np.vstack([cells.raster.count(points_xy(frame))[cells.rows, cells.cols]
                        for frame in periods])  # (periods, cells)
    weights = spacetime_weights(cells.weights, n_periods, int(time_lag))
    z = gistar_z(counts.ravel(), weights).reshape(n_periods, n_cells).T  # (cells, periods)
    p = 2 * stats.norm.sf(np.abs(z))
    p_adjusted = stats.false_discovery_control(p.ravel(), method="bh").reshape(p.shape)
    bins = confidence_bins(z.ravel(), p_adjusted.ravel()).reshape(z.shape)
    significant = np.where(p_adjusted <= critical_p, np.sign(z), 0).astype(int)
    # Round so that equal z-scores count as ties despite floating-point noise.
    trend = mann_kendall(np.round(z, 9))
    pattern = classify_patterns(significant, trend.z, trend.p, trend_p)
    params = {**{key: value for key, value in cells.parameters.items() if key != "ranking"},
              "periods": n_periods, "time_lag": int(time_lag),
              "time_lag_rule": "bins of the same cells in the previous period(s) are "
                               "neighbours too (ArcGIS's neighbourhood time step)",
              "global_window": "entire cube", "critical_p": critical_p, "trend_p": trend_p,
              "trend_test": "Mann-Kendall on each cell's Gi* z-scores, continuity-corrected",
              "ranking": EHSA_RANKING}
    if labels:
        params["first_period"], params["last_period"] = labels[0], labels[-1]
    frame = gpd.GeoDataFrame({
        "count": counts.sum(axis=0).astype(int),
        "score": np.round(trend.z, 4),
        "method": "ehsa",
        "parameters": json.dumps(params, sort_keys=True),
        "pattern": pattern,
        "trend_z": np.round(trend.z, 4),
        "trend_p": np.round(trend.p, 6),
        "tau": np.round(trend.tau, 4),
        "hot_periods": (significant > 0).sum(axis=1),
        "cold_periods": (significant < 0).sum(axis=1),
        "periods": n_periods,
        "last_z": np.round(z[:, -1], 4),
        "last_bin": bins[:, -1],
    }, geometry=list(cells.raster.boxes(cells.rows, cells.cols)), crs=BNG)
    priority = -np.array([PATTERNS.index(name) for name in frame["pattern"]])
    side = np.where(frame["pattern"].str.endswith("cold spot"), -1, 1)
    centres = frame.geometry.centroid
    order = np.lexsort([centres.y.to_numpy(), centres.x.to_numpy(), -frame["count"].to_numpy(),
                        -side * frame["trend_z"].to_numpy(), -priority])
    frame = frame.iloc[order].reset_index(drop=True)
    frame.insert(0, "rank", np.arange(1, len(frame) + 1))
    frame = frame[[*HOTSPOT_COLUMNS[:-1], "pattern", "trend_z", "trend_p", "tau",
                   "hot_periods", "cold_periods", "periods", "last_z", "last_bin", "geometry"]]
    frame.attrs["parameters"] = params
    frame.attrs["gi_z"] = z[order]
    frame.attrs["periods"] = list(labels or [str(i + 1) for i in range(n_periods)])
    found = frame["pattern"].value_counts()
    frame.attrs["message"] = (
        "; ".join(f"{found[name]} {name}" for name in PATTERNS if name in found
                  and name != NO_PATTERN) or "no cell shows a pattern") + (
        f" ({math.floor(NINETY * 100)}% rules need {math.ceil(NINETY * n_periods - 1e-9)} "
        f"of {n_periods} periods)")
    return frame


def pattern_counts(frame: gpd.GeoDataFrame) -> pd.DataFrame:
    """Cells and incidents per pattern, in the ranking's order (patterns found only)."""
    table = frame.groupby("pattern").agg(cells=("rank", "size"), incidents=("count", "sum"))
    order = [name for name in PATTERNS if name in table.index]
    return table.loc[order].reset_index()


def split_periods(months: list[str], period_months: int) -> list[list[str]]:
    """Consecutive periods of `period_months` months (oldest first); refuses a span that does
    not divide evenly, since a short final period would look like a fall."""
    if period_months < 1:
        raise HotspotInputError("a period is at least one month")
    if len(months) % period_months:
        raise HotspotInputError(
            f"{len(months)} months ({months[0]} to {months[-1]}) do not split into whole "
            f"periods of {period_months} months: a short last period would look like a fall; "
            f"choose a span of a multiple of {period_months} months")
    return [months[i:i + period_months] for i in range(0, len(months), period_months)]


def missing_months(points: pd.DataFrame, months: list[str]) -> list[str]:
    """Months with no incident at all in the selection's area: not loaded, not zero."""
    have = set(points["month"]) if len(points) else set()
    return [m for m in months if m not in have]


def emerging_hotspots(engine: Engine, area: str, month_from: str, month_to: str,
                      categories: list[str] | None = None, period_months: int = 1,
                      cell_size: float | None = None, time_lag: int = DEFAULTS["time_lag"],
                      critical_p: float = DEFAULTS["critical_p"],
                      trend_p: float = DEFAULTS["trend_p"]) -> gpd.GeoDataFrame:
    """Emerging hot spots of the area's stored incidents (hotspot_emerging) over periods of
    `period_months` months from `month_from` to `month_to`. Refuses a span with a month that
    has no data loaded for the area at all (it would read as a cold spell)."""
    from geo.areas import resolve_area
    from hotspots.analysis import area_incidents, months_between

    months = months_between(month_from, month_to)
    slices = split_periods(months, period_months)
    place = resolve_area(engine, area)
    everything = area_incidents(engine, place, month_from, month_to, None)
    gaps = missing_months(everything, months)
    if gaps:
        raise HotspotInputError(
            f"no incidents are loaded for {place.name} in {', '.join(gaps)}: those months "
            "would read as a sudden cold spell; import them or choose a span without them")
    points = everything if not categories else everything[
        everything["category"].isin(list(categories))]
    labels = [s[0] if len(s) == 1 else f"{s[0]} to {s[-1]}" for s in slices]
    frame = hotspot_emerging([points[points["month"].isin(s)] for s in slices], place.land,
                             cell_size, time_lag=time_lag, critical_p=critical_p,
                             trend_p=trend_p, labels=labels)
    frame.attrs["area"] = place.name
    frame.attrs["incidents"] = len(points)
    return frame
