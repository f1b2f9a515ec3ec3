"""The dedup key of a council log row: its mapped reference and day, or else its content as
stored; never the file's name or the dataset label, so the same log imported again under
another name (or with another dataset label) adds nothing.

The key is made from values as they are stored (time to the second, coordinates as rounded at
import, the postcode as normalised), so migration 0006 could give rows imported before it the
same keys from the database alone (its frozen copy of this rule is tested against this one).
"""

from __future__ import annotations

import pandas as pd

from core.import_result import stable_keys

PREFIX = "council"
LATLON = "exact coordinates"
GRID = "exact coordinates (OS grid)"


def _blank(values: pd.Series) -> pd.Series:
    return values.astype(object).where(values.notna(), "").astype(str)


def council_identity(frame: pd.DataFrame) -> pd.Series:
    """Per accepted council row (core.import_result.INCIDENT_COLUMNS): 'ref:<reference>|<day>' when
    a reference is mapped and filled in, else time|category|place|postcode|location|notes,
    the place being the coordinates the file gave (lat/lon to 6 decimals, or easting/northing
    to 0.1 m) and nothing for a row placed by its postcode (whose centroid may be revised)."""
    when = pd.to_datetime(frame["occurred_at"])
    reference = _blank(frame["crime_id"])
    lonlat = frame["lon"].map("{:.6f}".format) + "," + frame["lat"].map("{:.6f}".format)
    grid = frame["easting"].map("{:.1f}".format) + "," + frame["northing"].map("{:.1f}".format)
    place = pd.Series("", index=frame.index, dtype=object)
    place = place.where(frame["located_by"] != LATLON, lonlat)
    place = place.where(frame["located_by"] != GRID, grid)
    content = (when.dt.strftime("%Y-%m-%dT%H:%M:%S") + "|" + _blank(frame["category"]) + "|"
               + place + "|" + _blank(frame["postcode"]) + "|" + _blank(frame["location"])
               + "|" + _blank(frame["notes"]))
    by_reference = "ref:" + reference + "|" + when.dt.strftime("%Y-%m-%d")
    return content.where(reference == "", by_reference)


def council_keys(frame: pd.DataFrame) -> pd.Series:
    """Keys for a file's accepted council rows (identical rows numbered, as for police.uk)."""
    if frame.empty:
        return pd.Series([], index=frame.index, dtype=object)
    return stable_keys(PREFIX, council_identity(frame))
