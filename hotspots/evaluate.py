"""Out-of-sample accuracy: a rolling-origin test of every method on the imported data.

For each test month, each method is fitted on the N months before it, and its hotspots are laid
on one evaluation grid (50 m cells by default, aligned to the national grid): a cell is taken
when its centre lies in a hotspot (or a hotspot smaller than a cell lies in it), best-ranked
hotspot first and, within a hotspot, the cells with the most training incidents first, until
the cells cover the chosen share of the land. Then:

- hit rate = share of the test month's incidents inside the chosen cells;
- PAI = hit rate / share of the land the cells cover;
- PEI* = PAI / PAI of the best possible cells of the same total area (the test month's own
  densest cells), so 1.0 is the limit and methods with different shapes compare fairly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from core.months import months_before
from core.themes import ALL_CRIME
from hotspots.cells import Raster, check_land
from hotspots.result import HotspotInputError, points_xy


@dataclass(frozen=True)
class Candidate:
    """A method with fixed parameters, as the evaluation runs it."""

    label: str
    method: str
    params: dict = field(default_factory=dict)

    def fit(self, train: pd.DataFrame, land: BaseGeometry, cell_size: float,
            background: pd.DataFrame | None = None):
        """Run the method on the training incidents, at the evaluation cell size if it works
        on cells, with all crime of the period as background if it pools."""
        from hotspots import METHODS, method_options

        params = dict(self.params)
        options = method_options(self.method)
        if "cell_size" in options and "cell_size" not in params:
            params["cell_size"] = cell_size
        if "background" in options:
            params["background"] = background
        return METHODS[self.method](train, land, **params)


def default_candidates() -> list[Candidate]:
    """Every method with its stated rules: the default weighted counts, and the pooled
    forecast beside them so its gain is measured."""
    return [
        Candidate("grid counts", "grid"),
        Candidate("hex grid counts", "grid", {"shape": "hex"}),
        Candidate("KDE quartic", "kde"),
        Candidate("KDE Gaussian", "kde", {"kernel": "gaussian"}),
        Candidate("DBSCAN", "dbscan"),
        Candidate("HDBSCAN", "hdbscan"),
        Candidate("Gi*", "gistar"),
        Candidate("weighted counts", "weighted"),
        Candidate("pooled forecast", "forecast"),
    ]


@dataclass
class EvaluationGrid:
    """The land cells of the evaluation grid, with their outlines for overlap tests."""

    raster: Raster
    rows: np.ndarray
    cols: np.ndarray
    tree: shapely.STRtree
    budget: int
    land_index: np.ndarray  # per raster cell (flat), its index among the land cells, or -1

    @classmethod
    def over(cls, land: BaseGeometry, cell_size: float, coverage: float) -> EvaluationGrid:
        """Cells with their centre on land; `budget` cells make up `coverage` of the land."""
        check_land(land)
        if not 0 < coverage <= 1:
            raise HotspotInputError(f"coverage must be a fraction between 0 and 1, not "
                                    f"{coverage}")
        raster = Raster.over(land, cell_size)
        rows, cols = np.nonzero(raster.land_mask(land))
        cx, cy = raster.centres()
        centres = shapely.points(cx[rows, cols], cy[rows, cols])
        budget = int(np.floor(coverage * land.area / (cell_size * cell_size)))
        if budget < 1:
            raise HotspotInputError(
                f"{coverage:.2%} of this land is less than one {cell_size:g} m cell: "
                "raise the coverage or use smaller evaluation cells")
        land_index = np.full(raster.nrows * raster.ncols, -1)
        land_index[rows * raster.ncols + cols] = np.arange(len(rows))
        return cls(raster, rows, cols, shapely.STRtree(centres), budget, land_index)

    def counts(self, xy: np.ndarray) -> np.ndarray:
        """Incidents per land cell."""
        return self.raster.count(xy)[self.rows, self.cols]

    def choose(self, hotspots, train_counts: np.ndarray) -> np.ndarray:
        """Indices of the land cells taken: by best hotspot rank, then training count."""
        if hotspots is None or len(hotspots) == 0:
            return np.array([], dtype=int)
        outlines = hotspots.geometry.to_numpy()
        spot_idx, cell_idx = self.tree.query(outlines, predicate="contains")
        # A hotspot smaller than a cell may hold no centre: it takes the cell it lies in.
        inner = shapely.point_on_surface(outlines)
        row, col, on_raster = self.raster.locate(shapely.get_coordinates(inner))
        own_cell = np.full(len(outlines), -1)
        own_cell[on_raster] = self.land_index[row[on_raster] * self.raster.ncols
                                              + col[on_raster]]
        extra = own_cell >= 0
        spot_idx = np.concatenate([spot_idx, np.nonzero(extra)[0]])
        cell_idx = np.concatenate([cell_idx, own_cell[extra]])
        if len(cell_idx) == 0:
            return np.array([], dtype=int)
        ranks = hotspots["rank"].to_numpy()[spot_idx]
        best = pd.Series(ranks).groupby(cell_idx).min()
        cells = best.index.to_numpy()
        order = np.lexsort((cells, -train_counts[cells], best.to_numpy()))
        return cells[order][: self.budget]


def score_selection(chosen: np.ndarray, test_counts: np.ndarray, cell_area: float,
                    land_area: float, total: int | None = None) -> dict:
    """Hit rate, PAI and PEI* of the chosen cells against the test month's incidents.

    `total` is every test incident in the area (default: those on the grid's land cells); a
    method that chose nothing scores 0, not "not measured".
    """
    total = float(test_counts.sum() if total is None else total)
    hits = float(test_counts[chosen].sum()) if len(chosen) else 0.0
    best = float(np.sort(test_counts)[::-1][: len(chosen)].sum()) if len(chosen) else 0.0
    share = len(chosen) * cell_area / land_area
    hit_rate = hits / total if total else np.nan
    if not total:
        pai = pei = np.nan
    elif not len(chosen):
        pai = pei = 0.0
    else:
        pai = hit_rate / share
        pei = hits / best if best else 0.0
    return {"hit_rate": hit_rate, "pai": pai, "pei_star": pei, "hits": int(hits),
            "area_km2": len(chosen) * cell_area / 1e6, "area_share": share,
            "incidents": int(total)}


def rolling_origin(incidents: pd.DataFrame, land: BaseGeometry, test_months: list[str],
                   train_months: int = 12, coverage: float = 0.01, cell_size: float = 50.0,
                   crime_types: list[str] | None = None,
                   candidates: list[Candidate] | None = None,
                   progress: Callable[[float, str], None] | None = None) -> pd.DataFrame:
    """One row per method, crime type and test month: hit rate, PAI, PEI*, area, incidents.

    `incidents` needs easting, northing (BNG), month and category; crime_types None means all
    crime together plus each type with at least one incident in a test month.
    """
    if train_months < 1:
        raise HotspotInputError("training needs at least one month")
    candidates = candidates or default_candidates()
    grid = EvaluationGrid.over(land, cell_size, coverage)
    cell_area = cell_size * cell_size
    if crime_types is None:
        in_tests = incidents[incidents["month"].isin(test_months)]
        crime_types = [ALL_CRIME, *sorted(in_tests["category"].dropna().unique())]
    rows = []
    steps = max(1, len(test_months) * len(crime_types))
    for i, month in enumerate(test_months):
        window = months_before(month, train_months)
        everything = incidents[incidents["month"].isin(window)]
        for j, crime in enumerate(crime_types):
            if progress:
                progress((i * len(crime_types) + j) / steps, f"{month}: {crime}")
            chosen_type = incidents if crime == ALL_CRIME else incidents[
                incidents["category"] == crime]
            train = chosen_type[chosen_type["month"].isin(window)]
            test = chosen_type[chosen_type["month"] == month]
            train_counts = grid.counts(points_xy(train))
            test_counts = grid.counts(points_xy(test))
            for candidate in candidates:
                base = {"method": candidate.label, "crime_type": crime, "test_month": month,
                        "train_months": train_months, "train_incidents": len(train)}
                if len(test) == 0:
                    continue
                try:
                    found = (candidate.fit(train, land, cell_size, everything)
                             if len(train) else None)
                    note = "" if found is None or len(found) else found.attrs.get("message", "")
                except HotspotInputError as exc:
                    found, note = None, str(exc)
                chosen = grid.choose(found, train_counts)
                rows.append({**base, **score_selection(chosen, test_counts, cell_area,
                                                       land.area, len(test)), "note": note})
    if progress:
        progress(1.0, "done")
    return pd.DataFrame(rows, columns=[
        "method", "crime_type", "test_month", "train_months", "train_incidents", "hit_rate",
        "pai", "pei_star", "hits", "area_km2", "area_share", "incidents", "note"])


def accuracy_summary(results: pd.DataFrame) -> pd.DataFrame:
    """Mean PEI*, PAI and hit rate per crime type and method over the test months, best
    method first within each crime type."""
    if results.empty:
        return pd.DataFrame(columns=["crime_type", "method", "pei_star", "pai", "hit_rate",
                                     "months", "incidents"])
    summary = results.groupby(["crime_type", "method"], as_index=False).agg(
        pei_star=("pei_star", "mean"), pai=("pai", "mean"), hit_rate=("hit_rate", "mean"),
        months=("test_month", "nunique"), incidents=("incidents", "sum"))
    return summary.sort_values(["crime_type", "pei_star"], ascending=[True, False],
                               na_position="last").reset_index(drop=True)


def recommend(summary: pd.DataFrame, crime_type: str = ALL_CRIME) -> str | None:
    """The method with the highest mean PEI* for a crime type, or None if not measured."""
    rows = summary[(summary["crime_type"] == crime_type) & summary["pei_star"].notna()]
    if rows.empty:
        return None
    return str(rows.sort_values("pei_star", ascending=False).iloc[0]["method"])
