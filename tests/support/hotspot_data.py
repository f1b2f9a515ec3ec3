"""Shared by the hotspot method tests (tests/test_kde.py, test_grid.py, test_gistar.py, ...):
the sample's year, Staines High Street, and synthetic incident frames.

The `spelthorne` and `all_crime` fixtures (the real sample's Spelthorne incidents over that
year) are in tests/conftest.py."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

FROM, TO = "2023-02", "2024-01"
STAINES = shapely.Point(503500, 171600)  # Staines High Street on the National Grid


def frame(xy: np.ndarray) -> pd.DataFrame:
    """Synthetic incidents: easting and northing columns, as every method takes."""
    return pd.DataFrame({"easting": xy[:, 0], "northing": xy[:, 1]})


def in_cell(origin: np.ndarray, col: int, row: int, k: int, month: str = "2023-05") -> pd.DataFrame:
    """k incidents inside the 50 m cell (col, row) from origin, in one month."""
    xy = np.tile(origin + [col * 50 + 20, row * 50 + 30], (k, 1))
    return frame(xy).assign(month=month)
