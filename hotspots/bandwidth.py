"""How far kernel density smooths, and on what cells: stated rules for crime at street scale.

The rule used is the crime-mapping one of measuring how far apart the places that incidents
happen at are: the **mean distance from each distinct location to its 3rd-nearest distinct
location** (nearest-neighbour analysis of order k = 3, as in CrimeStat's k-order nearest
neighbour statistics). police.uk snaps incidents to shared map points, so distinct locations
(not incidents) are measured: a point holding 40 incidents counts once, and the distance is
the spacing of the places crime happens at, typically 150-450 m in a borough. The kernel then
reaches about three neighbouring locations.

sfhotspot's MASS `bandwidth.nrd` rule measures the spread of the whole borough instead (1-4 km
on the Surrey sample: 3,685 m for a year of Runnymede burglary), which smooths a street-level
pattern away; it is kept here for comparison (`bandwidth_nrd_rule`).
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from hotspots.result import nice_length, unique_pairs

NEIGHBOUR_ORDER = 3  # k: the kernel reaches about this many neighbouring locations
MAX_BANDWIDTH = 1000.0  # street scale: a sparser pattern is not smoothed further than 1 km
ONE_LOCATION_BANDWIDTH = 250.0  # no spacing to measure with one location
MIN_KDE_CELL = 25.0
CELLS_PER_BANDWIDTH = 5  # cells across the kernel's radius, so its shape is resolved


def ordinal(n: int) -> str:
    """'nearest', '2nd-nearest', '3rd-nearest', '4th-nearest'..."""
    if n == 1:
        return "nearest"
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}-nearest"


def nn_rule(order: int) -> str:
    """The rule in words for a neighbour order."""
    return f"mean distance from each distinct location to its {ordinal(order)} distinct location"


NN_RULE = nn_rule(NEIGHBOUR_ORDER)
KDE_CELL_RULE = (f"1/{CELLS_PER_BANDWIDTH} of the bandwidth, rounded down to a nice length, "
                 f"at least {MIN_KDE_CELL:g} m")


def bandwidth_nrd(values: np.ndarray) -> float:
    """MASS::bandwidth.nrd (as sfhotspot uses): 4 x 1.06 x min(sd, IQR/1.34) x n^(-1/5)."""
    values = np.asarray(values, dtype=float)
    if len(values) < 2:
        return 0.0
    q1, q3 = np.quantile(values, [0.25, 0.75])
    spread = min(float(np.std(values, ddof=1)), (q3 - q1) / 1.34)
    return 4 * 1.06 * spread * len(values) ** -0.2


def bandwidth_nrd_rule(xy: np.ndarray) -> float:
    """sfhotspot's rule, kept for comparison: the mean of bandwidth.nrd over eastings and
    northings, in metres (the spread of the whole selection, not the street scale)."""
    return (bandwidth_nrd(xy[:, 0]) + bandwidth_nrd(xy[:, 1])) / 2


def distinct_locations(xy: np.ndarray) -> np.ndarray:
    """The distinct locations of incidents, to the metre, as an (m, 2) array."""
    if len(xy) == 0:
        return np.empty((0, 2))
    keys = np.round(np.asarray(xy, dtype=float)).astype(np.int64)
    cells, _ = unique_pairs(keys[:, 0], keys[:, 1])
    return cells.astype(float)


def nearest_neighbour_bandwidth(xy: np.ndarray, k: int = NEIGHBOUR_ORDER) -> tuple[float, str]:
    """The street-scale bandwidth in metres (the quartic kernel's radius) and its rule in
    words: the mean distance from each distinct location to its k-th nearest distinct
    location (a lower order when there are only a few locations), at most 1 km."""
    places = distinct_locations(xy)
    if len(places) < 2:
        return ONE_LOCATION_BANDWIDTH, (f"fewer than 2 distinct locations, so no spacing to "
                                        f"measure: {ONE_LOCATION_BANDWIDTH:g} m")
    order = min(k, len(places) - 1)
    distances, _ = cKDTree(places).query(places, k=order + 1)
    bandwidth = float(np.mean(distances[:, order]))
    rule = nn_rule(order) + ("" if order == k else
                             f" (only {len(places)} distinct locations, so not the {ordinal(k)})")
    if bandwidth > MAX_BANDWIDTH:
        bandwidth, rule = MAX_BANDWIDTH, rule + f"; capped at {MAX_BANDWIDTH:g} m (street scale)"
    return bandwidth, rule


def kde_cell_size(bandwidth: float) -> float:
    """Cells that resolve the kernel: 1/5 of the bandwidth, rounded down to a nice length
    (25, 50, 75, 100 m...), at least 25 m."""
    return nice_length(bandwidth / CELLS_PER_BANDWIDTH, floor=MIN_KDE_CELL)
