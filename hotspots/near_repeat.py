"""Near repeat: after an incident, are more incidents than chance would explain close by in the
following days? The Knox test by Monte Carlo (Knox 1964; as the Near Repeat Calculator and
R's NearRepeat), for council logs that carry a date and an exact location.

Every pair of incidents falls in one distance band and one time band. Distance bands: the same
place (under 1 m apart), then steps of `distance_step` metres up to `distance` ("1-200 m" is
1 m or more and at most 200 m, "201-400 m" more than 200 and at most 400), then "more than
`distance`". Time bands: steps of `day_step`
days from 0 (same day) up to `days` (0-6 days apart with the defaults, 1,000 m and 7 days in
steps of 200 m and 1 day, after rcrimeanalysis), then "`days` days or more".

The observed table counts the pairs in each band. The expected counts come from
`simulations` shuffles of the dates among the incidents (locations stay, so any link between
place and time is broken): the mean over the shuffles. The Knox ratio is observed / expected,
and the Monte Carlo p-value (one-sided, more pairs than chance) is (1 + shuffles with at least
as many pairs) / (1 + shuffles); a band is beyond chance at p < 0.05 with a ratio above 1 (the
"beyond" bands are only the remainder, so they are never flagged). Only pairs within
`distance` are counted pair by pair: the pairs beyond it are each time band's total less
those, and the totals of every time band do not change under a shuffle (the same dates give
the same pairwise gaps).

Risk zones: where near repeats are beyond chance (the bands beyond chance joined to the closest
ones: risk_extent), the most recent incidents (in the last `window` days of the period,
`window` being the longest time those bands reach) are circled at the farthest distance they
reach, and each zone lasts until `window` days after its incident.

police.uk data cannot be used: it gives only the month, not the day, and moves every incident
to an anonymised snap point, so neither the days nor the distances between incidents are
known. Postcode-centroid locations are left out too (every address in a postcode shares one
point, which would fake "same place" pairs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import ndimage
from scipy.spatial import cKDTree
from sqlalchemy import Engine

from geo.crs import BNG
from hotspots.result import HotspotInputError

EXACT = ("exact coordinates", "exact coordinates (OS grid)")
SAME_PLACE_M = 1.0
DEFAULTS = {"distance": 1000.0, "distance_step": 200.0, "days": 7, "day_step": 1,
            "simulations": 999, "seed": 18}
SIGNIFICANCE = 0.05
POLICE_REASON = ("near repeat does not apply to police.uk data: it gives only the month of "
                 "each incident, not the day, and moves every incident to an anonymised snap "
                 "point, so neither the days nor the distances between incidents are known. "
                 "Use a council log with dates and exact locations (coordinates or grid "
                 "references)")


@dataclass
class KnoxTable:
    """The Knox test's table: one row per distance band and time band."""

    table: pd.DataFrame  # distance_band, days_band, observed, expected, knox_ratio, p_value,
    #                      significant, distance_from_m, distance_to_m, days_from, days_to
    incidents: int
    pairs: int
    simulations: int
    seed: int


def distance_edges(distance: float, step: float) -> np.ndarray:
    """Upper edges of the near distance bands (same place, then each step to `distance`)."""
    if not (math.isfinite(distance) and math.isfinite(step) and 0 < step <= distance):
        raise HotspotInputError(f"the distance step ({step:g} m) must be positive and no more "
                                f"than the distance ({distance:g} m)")
    steps = math.ceil(distance / step - 1e-9)
    if steps > 100:
        raise HotspotInputError(f"{steps} distance bands are too many: use a longer step")
    return np.array([SAME_PLACE_M, *np.minimum(np.arange(1, steps + 1) * step, distance)])


def day_edges(days: int, step: int) -> np.ndarray:
    """Lower edges of the time bands in days (0, step, 2 step, ... below `days`)."""
    if not (int(days) == days and int(step) == step and 0 < step <= days):
        raise HotspotInputError(f"the day step ({step}) must be a whole number of days, at "
                                f"least 1 and no more than the days ({days})")
    if days / step > 365:
        raise HotspotInputError("too many time bands: use a longer day step")
    return np.arange(0, int(days), int(step))


def band_labels(edges: np.ndarray, distance: float) -> list[str]:
    """'same place', '1-200 m', '201-400 m', ..., 'more than 1,000 m'."""
    labels = ["same place"]
    for lower, upper in zip(edges[:-1], edges[1:], strict=True):
        start = 1 if lower == SAME_PLACE_M else lower + 1  # (200, 400] reads "201-400 m"
        labels.append(f"{start:,.0f}-{upper:,.0f} m")
    return [*labels, f"more than {distance:,.0f} m"]


def day_labels(starts: np.ndarray, days: int, step: int) -> list[str]:
    """'0 days' (same day) ... '6 days', '7 days or more' (or '0-6 days' for longer steps)."""
    labels = []
    for start in starts:
        end = min(start + step, days) - 1
        unit = "day" if start == end == 1 else "days"
        labels.append(f"{start} {unit}" if start == end else f"{start}-{end} days")
    return [*labels, f"{days} days or more"]


def knox_test(xy: np.ndarray, day: np.ndarray, distance: float = DEFAULTS["distance"],
              distance_step: float = DEFAULTS["distance_step"], days: int = DEFAULTS["days"],
              day_step: int = DEFAULTS["day_step"],
              simulations: int = DEFAULTS["simulations"],
              seed: int = DEFAULTS["seed"]) -> KnoxTable:
    """The Knox test of incidents at `xy` (BNG metres) on `day` (whole days, any origin):
    observed and expected pairs per distance and time band, Knox ratio and Monte Carlo p."""
    xy = np.asarray(xy, dtype=float)
    day = np.asarray(day, dtype=np.int64)
    n = len(xy)
    if n < 3:
        raise HotspotInputError(f"the Knox test needs at least 3 incidents, not {n}")
    if not 1 <= simulations <= 99_999:
        raise HotspotInputError("simulations must be between 1 and 99,999")
    upper = distance_edges(distance, distance_step)
    starts = day_edges(days, day_step)
    n_dist, n_time = len(upper) + 1, len(starts) + 1
    pairs = cKDTree(xy).query_pairs(distance * (1 + 1e-12), output_type="ndarray")
    i, j = pairs[:, 0], pairs[:, 1]
    gap = np.linalg.norm(xy[i] - xy[j], axis=1)
    dist_band = np.searchsorted(upper, gap, side="left")  # d < 1 m -> 0; (1, 200] -> 1 ...
    dist_band = np.where(gap < SAME_PLACE_M, 0, np.maximum(dist_band, 1))

    def time_band(gaps: np.ndarray) -> np.ndarray:
        return np.minimum(gaps // day_step, n_time - 1)

    def near_counts(d: np.ndarray) -> np.ndarray:
        band = dist_band * n_time + time_band(np.abs(d[i] - d[j]))
        return np.bincount(band, minlength=(n_dist - 1) * n_time).reshape(n_dist - 1, n_time)

    # Pairs per time band over all pairs, from the sorted dates (invariant under shuffles).
    sorted_days = np.sort(day)
    all_pairs = np.zeros(n_time)
    for t in range(n_time - 1):
        low, high = starts[t], starts[t] + day_step  # gaps in [low, high)
        all_pairs[t] = _pairs_with_gap_below(sorted_days, high) - _pairs_with_gap_below(
            sorted_days, low)
    all_pairs[-1] = n * (n - 1) / 2 - all_pairs[:-1].sum()

    def full_table(near: np.ndarray) -> np.ndarray:
        return np.vstack([near, all_pairs - near.sum(axis=0)])

    observed = full_table(near_counts(day))
    rng = np.random.default_rng(seed)
    total = np.zeros_like(observed)
    at_least = np.zeros_like(observed)
    for _ in range(simulations):
        simulated = full_table(near_counts(rng.permutation(day)))
        total += simulated
        at_least += simulated >= observed - 1e-9
    expected = total / simulations
    p_value = (1 + at_least) / (1 + simulations)
    dist_names = band_labels(upper, distance)
    day_names = day_labels(starts, int(days), int(day_step))
    lower = np.array([0.0, SAME_PLACE_M, *upper[1:-1]])
    rows = []
    for a in range(n_dist):
        for b in range(n_time):
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = observed[a, b] / expected[a, b] if expected[a, b] > 0 else math.nan
            rows.append({
                "distance_band": dist_names[a], "days_band": day_names[b],
                "observed": int(round(observed[a, b])),
                "expected": round(float(expected[a, b]), 2),
                "knox_ratio": round(float(ratio), 3) if ratio == ratio else math.nan,
                "p_value": round(float(p_value[a, b]), 4),
                "significant": bool(p_value[a, b] < SIGNIFICANCE and ratio > 1
                                    and a < n_dist - 1 and b < n_time - 1),
                "distance_from_m": float(lower[a]) if a < n_dist - 1 else float(distance),
                "distance_to_m": float(upper[a]) if a < n_dist - 1 else math.inf,
                "days_from": int(starts[b]) if b < n_time - 1 else int(days),
                "days_to": int(min(starts[b] + day_step, days) - 1) if b < n_time - 1
                else math.inf,
            })
    table = pd.DataFrame(rows)
    table.attrs["parameters"] = {"distance_m": distance, "distance_step_m": distance_step,
                                 "days": int(days), "day_step": int(day_step),
                                 "simulations": simulations, "seed": seed,
                                 "same_place_m": SAME_PLACE_M}
    return KnoxTable(table, n, int(n * (n - 1) / 2), simulations, seed)


def _pairs_with_gap_below(sorted_days: np.ndarray, gap: int) -> int:
    """Pairs (i < j) of sorted days whose difference is less than `gap`."""
    if gap <= 0:
        return 0
    reach = np.searchsorted(sorted_days, sorted_days + gap, side="left")
    return int((reach - np.arange(len(sorted_days)) - 1).sum())


def risk_extent(table: pd.DataFrame) -> tuple[float, int] | None:
    """(radius in metres, window in days) of the near-repeat risk, or None when there is none.

    The bands beyond chance that join, band to adjacent band, the closest ones (the same place
    or the first distance band, on the first days): their farthest distance and longest time.
    A band beyond chance on its own further out is what 40-odd tests at 5% give by chance
    (about two), not a near-repeat pattern, so it does not make a zone."""
    near = table[np.isfinite(table["distance_to_m"]) & np.isfinite(
        table["days_to"].astype(float))]
    if near.empty:
        return None
    rows = pd.Index(near["distance_band"].unique())
    cols = pd.Index(near["days_band"].unique())
    grid = np.zeros((len(rows), len(cols)), dtype=bool)
    grid[rows.get_indexer(near["distance_band"]), cols.get_indexer(near["days_band"])] = \
        near["significant"].to_numpy()
    labels, _ = ndimage.label(grid)
    origin = {int(v) for v in labels[:2, 0] if v}
    if not origin:
        return None
    joined = np.isin(labels, list(origin))
    r, c = np.nonzero(joined)
    upper = near.drop_duplicates("distance_band").set_index("distance_band")["distance_to_m"]
    last = near.drop_duplicates("days_band").set_index("days_band")["days_to"]
    return float(upper[rows[r]].max()), int(last[cols[c]].max()) + 1


def risk_zones(incidents: pd.DataFrame, table: pd.DataFrame) -> gpd.GeoDataFrame:
    """Circles around the most recent incidents (within the risk window of the last date)
    where the Knox test found near repeats beyond chance; empty when it found none."""
    columns = ["incident_id", "date", "category", "location", "radius_m", "at_risk_until"]
    extent = risk_extent(table)
    if extent is None or not len(incidents):
        return gpd.GeoDataFrame(columns=[*columns, "geometry"], geometry="geometry", crs=BNG)
    radius, window = extent
    dates = pd.to_datetime(incidents["occurred_at"]).dt.normalize()
    last = dates.max()
    recent = incidents[dates > last - pd.Timedelta(days=window)]
    recent_dates = dates[recent.index]
    centres = shapely.points(recent["easting"].to_numpy(), recent["northing"].to_numpy())
    return gpd.GeoDataFrame({
        "incident_id": recent["id"].to_numpy() if "id" in recent else np.arange(len(recent)),
        "date": recent_dates.dt.strftime("%Y-%m-%d").to_numpy(),
        "category": recent["category"].to_numpy(),
        "location": recent["location"].to_numpy() if "location" in recent else None,
        "radius_m": radius,
        "at_risk_until": (recent_dates + pd.Timedelta(days=window)).dt.strftime(
            "%Y-%m-%d").to_numpy(),
    }, geometry=shapely.buffer(centres, radius), crs=BNG).sort_values(
        "date", ascending=False).reset_index(drop=True)


@dataclass
class NearRepeat:
    """A near-repeat analysis of an area's council log, or why it does not apply."""

    area: str
    month_from: str
    month_to: str
    categories: list[str]
    applies: bool
    reason: str = ""
    knox: KnoxTable | None = None
    zones: gpd.GeoDataFrame | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def table(self) -> pd.DataFrame:
        """The Knox table (empty when the test does not apply)."""
        return self.knox.table if self.knox else pd.DataFrame()

    def sentence(self) -> str:
        """What the test found, in one sentence for the JAG."""
        if not self.applies:
            return f"Not applicable: {self.reason}."
        extent = risk_extent(self.table)
        if extent is None:
            return (f"No near-repeat pattern beyond chance among {self.knox.incidents:,} "
                    "incidents: after an incident, the next days are no riskier nearby than "
                    "anywhere else.")
        radius, window = extent
        return (f"Near repeats beyond chance: after an incident, more incidents than chance "
                f"would explain follow within {radius:,.0f} m and {window} days; "
                f"{len(self.zones)} recent incident(s) mark risk zones.")

    def to_dict(self) -> dict:
        """Everything but geometry, for `--json`."""
        import json

        zones = [] if self.zones is None else json.loads(
            self.zones.drop(columns="geometry").to_json(orient="records", date_format="iso"))
        table = json.loads(self.table.replace([np.inf], None).to_json(orient="records"))
        return {"area": self.area, "from": self.month_from, "to": self.month_to,
                "categories": self.categories, "applies": self.applies,
                "reason": self.reason, "sentence": self.sentence(),
                "incidents": self.knox.incidents if self.knox else 0,
                "pairs": self.knox.pairs if self.knox else 0,
                "parameters": self.table.attrs.get("parameters", {}),
                "table": table, "zones": zones, "notes": self.notes}


def near_repeat(engine: Engine, area: str, month_from: str, month_to: str,
                categories: list[str] | None = None,
                distance: float = DEFAULTS["distance"],
                distance_step: float = DEFAULTS["distance_step"],
                days: int = DEFAULTS["days"], day_step: int = DEFAULTS["day_step"],
                simulations: int = DEFAULTS["simulations"],
                seed: int = DEFAULTS["seed"]) -> NearRepeat:
    """The Knox test and risk zones for the area's council-log incidents that carry a date and
    an exact location; a result that says plainly why not when there are none (police.uk)."""
    from geo.areas import resolve_area
    from hotspots.analysis import area_incidents, months_between

    months_between(month_from, month_to)
    place = resolve_area(engine, area)
    points = area_incidents(engine, place, month_from, month_to, categories)
    cats = list(categories or [])
    dated = points["occurred_at"].notna()
    exact = points["located_by"].isin(EXACT)
    police = (points["source"] == "police.uk") | (points["located_by"] == "police snap point")
    usable = points[dated & exact & ~police].reset_index(drop=True)
    notes = []
    if police.any():
        notes.append(f"{int(police.sum()):,} police.uk incidents left out: they have no day and "
                     "snap-point locations")
    postcode = ~police & ~exact
    if postcode.any():
        notes.append(f"{int(postcode.sum()):,} incidents located by postcode centroid left out: "
                     "every address in a postcode shares one point")
    undated = ~police & exact & ~dated
    if undated.any():
        notes.append(f"{int(undated.sum()):,} incidents without a date left out")
    result = NearRepeat(place.name, month_from, month_to, cats, applies=False, notes=notes)
    if len(usable) < 3:
        if len(points) and police.all():
            result.reason = POLICE_REASON
        else:
            result.reason = (f"{len(usable)} incident(s) in {place.name} from {month_from} to "
                             f"{month_to} carry a date and an exact location; the Knox test "
                             "needs at least 3 (import a council log with dates and "
                             "coordinates or grid references)")
        return result
    dates = pd.to_datetime(usable["occurred_at"]).dt.normalize()
    day = ((dates - dates.min()) / pd.Timedelta(days=1)).to_numpy().astype(np.int64)
    xy = usable[["easting", "northing"]].to_numpy(dtype=float)
    result.knox = knox_test(xy, day, distance, distance_step, days, day_step, simulations,
                            seed)
    result.applies = True
    result.zones = risk_zones(usable, result.knox.table)
    return result
