"""Hotspot methods. Every `hotspot_*` function takes incidents (easting/northing in EPSG:27700)
and an area's land, and returns the same GeoDataFrame columns: rank, count, score, method,
parameters (JSON text) and geometry (EPSG:27700), ranked best first.
"""

from __future__ import annotations

import inspect

from hotspots.dbscan import hotspot_dbscan
from hotspots.forecast import hotspot_forecast
from hotspots.gistar import hotspot_gistar
from hotspots.grid import hotspot_grid
from hotspots.hdbscan import hotspot_hdbscan
from hotspots.kde import DensitySurface, density_surface, hotspot_kde
from hotspots.result import HOTSPOT_COLUMNS, select_coverage
from hotspots.weighted import hotspot_weighted

METHODS = {
    "weighted": hotspot_weighted,
    "forecast": hotspot_forecast,
    "grid": hotspot_grid,
    "kde": hotspot_kde,
    "dbscan": hotspot_dbscan,
    "hdbscan": hotspot_hdbscan,
    "gistar": hotspot_gistar,
}

METHOD_NAMES = {
    "weighted": "Where it happened most (weighted counts)",
    "forecast": "Where it is likely next month (pooled forecast)",
    "grid": "Grid counts",
    "kde": "Kernel density",
    "dbscan": "DBSCAN clusters",
    "hdbscan": "HDBSCAN clusters",
    "gistar": "Getis-Ord Gi*",
}


def method_options(method: str) -> set[str]:
    """The keyword parameters a method accepts (beyond incidents and area)."""
    return set(list(inspect.signature(METHODS[method]).parameters)[2:])


def takes_cell_size(method: str) -> bool:
    """Whether a method works on cells (and so takes a cell size)."""
    return "cell_size" in method_options(method)


__all__ = ["HOTSPOT_COLUMNS", "METHODS", "METHOD_NAMES", "DensitySurface", "density_surface",
           "hotspot_dbscan", "hotspot_forecast", "hotspot_gistar", "hotspot_grid",
           "hotspot_hdbscan", "hotspot_kde", "hotspot_weighted", "method_options",
           "select_coverage", "takes_cell_size"]
