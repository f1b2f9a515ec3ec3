"""Change and persistence per cell: two periods compared (sfhotspot's hotspot_change), and a
run of periods classified as emerging, persistent, intermittent or former hot spots
(sfhotspot's hotspot_classify, after ArcGIS Emerging Hot Spot Analysis).

These answer "is it getting better or worse here", so their shape is their own: one row per
cell with the before/after counts or the classification, not the ranked hotspot shape.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import stats
from shapely.geometry.base import BaseGeometry

from geo.crs import BNG
from hotspots.cells import Raster, check_land, choose_cell_size
from hotspots.gistar import land_cells
from hotspots.result import HotspotInputError, points_xy


def change_test(before: np.ndarray, after: np.ndarray, ratio: float = 1.0) -> np.ndarray:
    """Two-sided p-value that `after` differs from `before` beyond chance: given the total,
    after ~ Binomial(before + after, ratio / (1 + ratio)) when the rate is unchanged, where
    ratio = length of the after period / length of the before period (the exact conditional
    test for two Poisson counts, as R's poisson.test). The p-value sums every outcome no more
    likely than the one seen, as scipy's binomtest does."""
    before = np.asarray(before, dtype=int)
    after = np.asarray(after, dtype=int)
    total = before + after
    share = ratio / (1 + ratio)
    p = np.ones(len(total))
    for n in np.unique(total[total > 0]):
        pmf = stats.binom.pmf(np.arange(n + 1), n, share)
        rows = total == n
        seen = pmf[after[rows]]
        p[rows] = np.minimum(1.0, (pmf[None, :] <= seen[:, None] * (1 + 1e-7)) @ pmf)
    return p


def hotspot_change(before: pd.DataFrame, after: pd.DataFrame, area: BaseGeometry,
                   cell_size: float | None = None, before_months: int = 1,
                   after_months: int = 1) -> gpd.GeoDataFrame:
    """Incidents per cell in two periods: before, after, change, % change, p-value (exact
    Poisson test, scaled for periods of different lengths, FDR-adjusted across cells) and
    whether the change is significant at 95%. Cells empty in both periods are left out."""
    check_land(area)
    if before_months <= 0 or after_months <= 0:
        raise HotspotInputError("each period must be at least one month long")
    cell_size, rule = choose_cell_size(area, cell_size)
    raster = Raster.over(area, cell_size)
    n_before = raster.count(points_xy(before))
    n_after = raster.count(points_xy(after))
    rows, cols = np.nonzero((n_before + n_after) > 0)
    b, a = n_before[rows, cols].astype(int), n_after[rows, cols].astype(int)
    p = change_test(b, a, after_months / before_months) if len(b) else np.array([])
    p_adjusted = stats.false_discovery_control(p, method="bh") if len(p) else p
    expected = b * after_months / before_months
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(expected > 0, (a - expected) / expected * 100, np.nan)
    frame = gpd.GeoDataFrame({
        "before": b, "after": a, "change": a - b, "change_pct": np.round(pct, 1),
        "p_value": p, "p_adjusted": p_adjusted, "significant": p_adjusted < 0.05,
    }, geometry=list(raster.boxes(rows, cols)), crs=BNG)
    frame["direction"] = np.select(
        [frame["significant"] & (a > expected), frame["significant"] & (a < expected)],
        ["significant increase", "significant decrease"], "no significant change")
    frame.attrs["parameters"] = {"cell_size_m": cell_size, "cell_size_rule": rule,
                                 "before_months": before_months, "after_months": after_months,
                                 "test": "exact Poisson (conditional binomial), BH FDR"}
    return frame


CLASSIFY_DEFAULTS = {"hotspot_prop": 0.1, "persistent_prop": 0.8, "recent_prop": 0.2,
                     "critical_p": 0.05}


def _category(share: np.ndarray, older: np.ndarray, recent: np.ndarray, kind: str,
              p: dict) -> np.ndarray:
    """sfhotspot's rules, in its order: persistent, emerging, former, intermittent."""
    return np.select(
        [share >= p["persistent_prop"],
         (older < p["hotspot_prop"]) & (recent >= p["recent_prop"]),
         (older >= p["hotspot_prop"]) & (recent < p["hotspot_prop"]),
         share >= p["hotspot_prop"]],
        [f"persistent {kind}", f"emerging {kind}", f"former {kind}", f"intermittent {kind}"],
        "no pattern")


def hotspot_classify(periods: list[pd.DataFrame], area: BaseGeometry,
                     cell_size: float | None = None, **params: float) -> gpd.GeoDataFrame:
    """Classify each land cell over consecutive periods (oldest first) from its Gi* hot and
    cold spots in each period (95% after FDR by default).

    Rules (sfhotspot's defaults): persistent = significant in >= 80% of periods; emerging =
    in < 10% of the earlier periods and >= 20% of the recent ones (the last 20% of periods, at
    least one); former = in >= 10% of the earlier periods and < 10% of the recent ones;
    intermittent = in >= 10% of periods otherwise. A cell both hot and cold is "mixed".
    """
    check_land(area)
    p = {**CLASSIFY_DEFAULTS, **{k: v for k, v in params.items() if v is not None}}
    if len(periods) < 2:
        raise HotspotInputError("classifying hot spots needs at least two periods")
    cell_size, rule = choose_cell_size(area, cell_size)
    cells = land_cells(area, cell_size)  # the same cells and neighbours every period
    results = [cells.frame(frame) for frame in periods]
    z = np.column_stack([r["z"].to_numpy() for r in results])
    sig = np.column_stack([r["p_adjusted"].to_numpy() for r in results]) < p["critical_p"]
    hot, cold = sig & (z > 0), sig & (z < 0)
    n = len(periods)
    recent_n = max(1, int(np.floor(p["recent_prop"] * n)))
    recent_n = min(recent_n, n - 1)
    summary = {}
    for kind, flags in (("hotspot", hot), ("coldspot", cold)):
        share = flags.mean(axis=1)
        older = flags[:, : n - recent_n].mean(axis=1)
        recent = flags[:, n - recent_n:].mean(axis=1)
        summary[kind] = _category(share, older, recent, kind, p)
    is_hot = summary["hotspot"] != "no pattern"
    is_cold = summary["coldspot"] != "no pattern"
    category = np.where(is_hot & is_cold, "mixed hot/coldspot",
                        np.where(is_hot, summary["hotspot"], summary["coldspot"]))
    frame = gpd.GeoDataFrame({
        "category": category,
        "count": np.column_stack([r["count"].to_numpy() for r in results]).sum(axis=1),
        "hot_periods": hot.sum(axis=1), "cold_periods": cold.sum(axis=1), "periods": n,
    }, geometry=results[0].geometry.to_numpy(), crs=BNG)
    frame.attrs["parameters"] = {**p, "cell_size_m": cell_size, "cell_size_rule": rule,
                                 "periods": n, "recent_periods": recent_n}
    return frame
