"""Repeat locations: the snap points and addresses with the most incidents, month by month.

police.uk moves every crime to one of a fixed set of snap points ("On or near High Street"),
and council logs carry addresses, so the same place recurs exactly: counting by place finds
the shop, car park or block that a problem-solving plan can name.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.crs import BNG


def repeat_locations(incidents: pd.DataFrame, top: int = 20,
                     min_count: int = 2) -> gpd.GeoDataFrame:
    """The `top` places with at least `min_count` incidents: location text, point, count,
    crime types, first and last month, and one column per month with its count."""
    columns = ["rank", "location", "count", "top_types", "first_month", "last_month"]
    if incidents.empty:
        return gpd.GeoDataFrame(columns=[*columns, "geometry"], geometry="geometry", crs=BNG)
    frame = incidents.assign(
        _x=np.round(incidents["easting"].to_numpy(dtype=float)),
        _y=np.round(incidents["northing"].to_numpy(dtype=float)),
        location=incidents["location"].fillna("").replace("", "(no description)"))
    keys = ["_x", "_y", "location"]
    grouped = frame.groupby(keys, sort=False)
    table = grouped.size().rename("count").reset_index()
    table = table[table["count"] >= min_count]
    table = table.sort_values(["count", "_x", "_y"], ascending=[False, True, True]).head(top)
    if table.empty:
        return gpd.GeoDataFrame(columns=[*columns, "geometry"], geometry="geometry", crs=BNG)
    chosen = frame.merge(table[keys], on=keys)
    by_month = chosen.pivot_table(index=keys, columns="month", values="easting",
                                  aggfunc="size", fill_value=0)
    months = sorted(frame["month"].unique())
    by_month = by_month.reindex(columns=months, fill_value=0).reset_index()
    types = chosen.groupby(keys)["category"].agg(
        lambda s: "; ".join(f"{k} ({v})" for k, v in s.value_counts().head(3).items()))
    span = chosen.groupby(keys)["month"].agg(["min", "max"])
    table = table.merge(types.rename("top_types").reset_index(), on=keys)
    table = table.merge(span.rename(columns={"min": "first_month", "max": "last_month"})
                        .reset_index(), on=keys)
    table = table.merge(by_month, on=keys)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    points = gpd.points_from_xy(table["_x"], table["_y"])
    return gpd.GeoDataFrame(table.drop(columns=["_x", "_y"])[[*columns, *months]],
                            geometry=points, crs=BNG)
