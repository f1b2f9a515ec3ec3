"""An area's incidents with their context: each stored incident of the months in the area,
with its ward, LSOA, town centre, distance to the river and PSPO (`hotspots incidents`)."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine

from geo.areas import resolve_area
from geo.joins import DEFAULT_FRONTAGE_M, attribute_incidents, context_layers
from hotspots.analysis import area_incidents, months_between


def incidents_in_context(engine: Engine, area: str, month_from: str, month_to: str,
                         crime_types: list[str] | tuple[str, ...] | None = None,
                         frontage_m: float = DEFAULT_FRONTAGE_M) -> pd.DataFrame:
    """The area's stored incidents of the months (the crime types, or all) that the acting
    principal may see, each with its ward, LSOA, town centre, river distance and PSPO."""
    months_between(month_from, month_to)
    place = resolve_area(engine, area)
    points = area_incidents(engine, place, month_from, month_to, list(crime_types or []) or None)
    return attribute_incidents(points, context_layers(engine, place, frontage_m))
