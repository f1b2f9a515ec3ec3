"""The pooled forecast, "Where it is likely next month": weighted counts that also show squares
with none of the chosen crime where all crime concentrates.

For a sparse crime type (burglary, vehicle crime) the places where all crime concentrates
predict next month better than the type's own few past incidents, so this ranks every square
by the weighted count (hotspots.weighted.weighted_surface) and shows squares where the chosen
crime has not (yet) been recorded. It is a forecast, not a map of where the crime happened:
its caption and notes say how many shown squares held none of it. `hotspots evaluate`
measures its gain over the default, which shows only squares holding the chosen crime.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from shapely.geometry.base import BaseGeometry

from hotspots.result import empty_result, make_result
from hotspots.weighted import POOL, SMOOTH, weighted_counts

NAME = "Where it is likely next month"


def hotspot_forecast(incidents: pd.DataFrame, area: BaseGeometry, cell_size: float | None = None,
                     background: pd.DataFrame | None = None, pool: float = POOL,
                     smooth: float = SMOOTH) -> object:
    """Squares ranked by the weighted count: the selection's own incidents, plus all crime of
    the same period scaled to the selection's size (`background`), plus a tenth of the
    neighbouring squares' mean. Squares on land with no incident of the selection are shown
    when that count puts them high.

    score = weighted count; count = the selection's own incidents in the square.
    """
    raster, own, score, params = weighted_counts(incidents, area, cell_size, background, pool,
                                                 smooth)
    params["ranking"] = (
        "a forecast for next month: incidents of the selection in each square"
        + (", plus all crime there scaled to the selection's size" if params["pool"] else "")
        + ", plus a tenth of the 8 neighbouring squares' mean; squares with none of the "
        "selection can be shown")
    if own.size == 0:
        return empty_result("forecast", params, "no incidents match the selection")
    keep = (own > 0) | ((score > 0) & raster.land_mask(area))
    rows, cols = np.nonzero(keep)
    return make_result(list(raster.boxes(rows, cols)), own[rows, cols], score[rows, cols],
                       "forecast", params)
