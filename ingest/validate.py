"""Row checks shared by every importer: months, dates and coordinates, vectorised."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from geo.crs import bng_to_lonlat, in_gb_bng, in_gb_lonlat, lonlat_to_bng

_MONTH_RE = r"^\d{4}-(0[1-9]|1[0-2])$"
DATE_FORMATS = [
    "%Y-%m-%d", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S",
    "%d/%m/%Y", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d-%m-%Y", "%d-%m-%Y %H:%M",
    "%d-%m-%Y %H:%M:%S", "%d.%m.%Y", "%d/%m/%y", "%d/%m/%y %H:%M", "%Y/%m/%d",
]


class RowReasons:
    """First failing reason and column per row; '' where the row is still good."""

    def __init__(self, index: pd.Index):
        self.reason = pd.Series("", index=index, dtype=object)
        self.column = pd.Series("", index=index, dtype=object)

    def mark(self, mask: pd.Series, why: pd.Series | str, column: str) -> None:
        """Record `why` for rows in `mask` that have no reason yet (earlier checks win)."""
        todo = mask & (self.reason == "")
        self.reason[todo] = why[todo] if isinstance(why, pd.Series) else why
        self.column[todo] = column

    @property
    def ok(self) -> pd.Series:
        """True where no check failed."""
        return self.reason == ""


def valid_months(values: pd.Series) -> pd.Series:
    """True where a value is a real YYYY-MM month (so 2024-13 is refused)."""
    return values.str.strip().str.match(_MONTH_RE, na=False)


def parse_dates(values: pd.Series, times: pd.Series | None = None) -> pd.Series:
    """Parse ISO or UK day-first dates (with or without time); NaT where none fits.

    Day-first is the UK convention, so 03/04/2024 is 3 April; 12/31/2024 is refused.
    """
    text = values.fillna("").str.strip()
    if times is not None:
        extra = times.fillna("").str.strip()
        text = (text + " " + extra).str.strip()
    parsed = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    for fmt in DATE_FORMATS:
        todo = parsed.isna() & (text != "")
        if not todo.any():
            break
        parsed[todo] = pd.to_datetime(text[todo], format=fmt, errors="coerce")
    todo = parsed.isna() & text.str.match(r"^\d{4}-\d{2}-\d{2}T", na=False)
    if todo.any():
        iso = pd.to_datetime(text[todo], format="ISO8601", errors="coerce", utc=True)
        parsed[todo] = iso.dt.tz_convert("Europe/London").dt.tz_localize(None)
    return parsed


def future_dates(parsed: pd.Series, now: datetime | None = None) -> pd.Series:
    """True where a parsed date lies after now (a typing error, not a real incident)."""
    return parsed > pd.Timestamp(now or datetime.now())


def check_lonlat(lon_text: pd.Series, lat_text: pd.Series, lon_name: str, lat_name: str
                 ) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Check longitude/latitude text; return located points and per-row reason and column.

    The reason is '' where the row is good. Catches: empty, non-numeric, swapped, British
    National Grid numbers in lat/lon columns, and points outside Great Britain.
    """
    lon_s = lon_text.fillna("").str.strip()
    lat_s = lat_text.fillna("").str.strip()
    lon = pd.to_numeric(lon_s, errors="coerce")
    lat = pd.to_numeric(lat_s, errors="coerce")
    reasons = RowReasons(lon_text.index)
    mark = reasons.mark

    mark((lon_s == "") & (lat_s == ""), "no coordinates", f"{lon_name}/{lat_name}")
    mark(lon_s == "", f"{lon_name} is empty", lon_name)
    mark(lat_s == "", f"{lat_name} is empty", lat_name)
    mark(lon.isna(), f"{lon_name} '" + lon_s + "' is not a number", lon_name)
    mark(lat.isna(), f"{lat_name} '" + lat_s + "' is not a number", lat_name)
    inside = pd.Series(in_gb_lonlat(lon, lat), index=lon.index)
    swapped = pd.Series(in_gb_lonlat(lat, lon), index=lon.index)
    looks_bng = (lon.abs() > 180) | (lat.abs() > 90)
    mark(~inside & swapped, f"{lat_name} and {lon_name} look swapped "
         f"({lat_name} " + lat_s + f", {lon_name} " + lon_s + ")", f"{lon_name}/{lat_name}")
    mark(~inside & looks_bng, "coordinates " + lon_s + ", " + lat_s + " look like "
         "eastings/northings, not longitude/latitude", f"{lon_name}/{lat_name}")
    mark(~inside, "coordinates " + lon_s + ", " + lat_s + " are outside Great Britain",
         f"{lon_name}/{lat_name}")
    ok = reasons.ok
    points = pd.DataFrame(index=lon.index, columns=["lon", "lat", "easting", "northing"],
                          dtype=float)
    if ok.any():
        e, n = lonlat_to_bng(lon[ok].to_numpy(), lat[ok].to_numpy())
        points.loc[ok, "lon"] = lon[ok].round(6)
        points.loc[ok, "lat"] = lat[ok].round(6)
        points.loc[ok, "easting"] = np.round(e, 1)
        points.loc[ok, "northing"] = np.round(n, 1)
    return points, reasons.reason, reasons.column


def check_bng(e_text: pd.Series, n_text: pd.Series, e_name: str, n_name: str
              ) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Check Ordnance Survey easting/northing text; same contract as check_lonlat."""
    e_s = e_text.fillna("").str.strip()
    n_s = n_text.fillna("").str.strip()
    e = pd.to_numeric(e_s, errors="coerce")
    n = pd.to_numeric(n_s, errors="coerce")
    reasons = RowReasons(e_text.index)
    mark = reasons.mark

    mark((e_s == "") & (n_s == ""), "no coordinates", f"{e_name}/{n_name}")
    mark(e_s == "", f"{e_name} is empty", e_name)
    mark(n_s == "", f"{n_name} is empty", n_name)
    mark(e.isna(), f"{e_name} '" + e_s + "' is not a number", e_name)
    mark(n.isna(), f"{n_name} '" + n_s + "' is not a number", n_name)
    looks_lonlat = (e.abs() <= 180) & (n.abs() <= 90)
    mark(looks_lonlat, "easting/northing " + e_s + ", " + n_s + " look like longitude/latitude",
         f"{e_name}/{n_name}")
    inside = pd.Series(in_gb_bng(e, n), index=e.index)
    mark(~inside, "easting/northing " + e_s + ", " + n_s + " are outside Great Britain",
         f"{e_name}/{n_name}")
    ok = reasons.ok
    points = pd.DataFrame(index=e.index, columns=["lon", "lat", "easting", "northing"],
                          dtype=float)
    if ok.any():
        lon, lat = bng_to_lonlat(e[ok].to_numpy(), n[ok].to_numpy())
        points.loc[ok, "lon"] = np.round(lon, 6)
        points.loc[ok, "lat"] = np.round(lat, 6)
        points.loc[ok, "easting"] = e[ok].round(1)
        points.loc[ok, "northing"] = n[ok].round(1)
    return points, reasons.reason, reasons.column
