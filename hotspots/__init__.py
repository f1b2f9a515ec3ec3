"""Hotspot methods. Every `hotspot_*` function returns the same GeoDataFrame columns:
geometry (EPSG:27700), count, score, rank, method, parameters (JSON text).
"""

from hotspots.dbscan import hotspot_dbscan
from hotspots.grid import hotspot_grid
from hotspots.result import HOTSPOT_COLUMNS, select_coverage

METHODS = {"grid": hotspot_grid, "dbscan": hotspot_dbscan}

__all__ = ["HOTSPOT_COLUMNS", "METHODS", "hotspot_dbscan", "hotspot_grid", "select_coverage"]
