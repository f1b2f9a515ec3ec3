"""Row checks shared by every importer: months, dates and coordinates, vectorised."""

from __future__ import annotations

from collections.abc import Callable
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

    def mark(self, mask: pd.Series, why: pd.Series | str | Callable[[pd.Series], pd.Series],
             column: str) -> None:
        """Record `why` for rows in `mask` that have no reason yet (earlier checks win).
        `why` may be a function of the rows to mark (a boolean mask), so a reason built from
        each row's values is built only for the rows that fail, not for every row."""
        todo = mask & (self.reason == "")
        if not todo.any():
            return
        if callable(why):
            self.reason[todo] = why(todo)  # aligned on the rows' labels
        else:
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


NO_POSITION = "no map position: the row gives no coordinates"


def future_dates(parsed: pd.Series, now: datetime | None = None) -> pd.Series:
    """True where a parsed date lies after now (a typing error, not a real incident)."""
    return parsed > pd.Timestamp(now or datetime.now())


def _number_pair(x_text: pd.Series, y_text: pd.Series, x_name: str, y_name: str
                 ) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series, RowReasons]:
    """Strip and parse two coordinate columns; mark empty and non-numeric values."""
    x_s = x_text.fillna("").str.strip()
    y_s = y_text.fillna("").str.strip()
    x = pd.to_numeric(x_s, errors="coerce")
    y = pd.to_numeric(y_s, errors="coerce")
    reasons = RowReasons(x_text.index)
    reasons.mark((x_s == "") & (y_s == ""), NO_POSITION, f"{x_name}/{y_name}")
    reasons.mark(x_s == "", f"{x_name} is empty", x_name)
    reasons.mark(y_s == "", f"{y_name} is empty", y_name)
    reasons.mark(x.isna(), lambda m: f"{x_name} '" + x_s[m] + "' is not a number", x_name)
    reasons.mark(y.isna(), lambda m: f"{y_name} '" + y_s[m] + "' is not a number", y_name)
    return x_s, y_s, x, y, reasons


def _located(reasons: RowReasons, lon: pd.Series, lat: pd.Series, easting: pd.Series,
             northing: pd.Series) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Points (both CRSs) for the rows that passed, NaN elsewhere, plus reasons and columns."""
    points = pd.DataFrame({"lon": lon.round(6), "lat": lat.round(6),
                           "easting": easting.round(1), "northing": northing.round(1)},
                          index=reasons.reason.index, dtype=float)
    points[~reasons.ok] = np.nan
    return points, reasons.reason, reasons.column


def check_lonlat(lon_text: pd.Series, lat_text: pd.Series, lon_name: str, lat_name: str
                 ) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Check longitude/latitude text; return located points and per-row reason and column.

    The reason is '' where the row is good. Catches: empty, non-numeric, swapped, British
    National Grid numbers in lat/lon columns, and points outside Great Britain.
    """
    lon_s, lat_s, lon, lat, reasons = _number_pair(lon_text, lat_text, lon_name, lat_name)
    both = f"{lon_name}/{lat_name}"
    inside = pd.Series(in_gb_lonlat(lon, lat), index=lon.index)
    swapped = pd.Series(in_gb_lonlat(lat, lon), index=lon.index)
    looks_bng = (lon.abs() > 180) | (lat.abs() > 90)
    reasons.mark(~inside & swapped, lambda m: f"{lat_name} and {lon_name} look swapped "
                 f"({lat_name} " + lat_s[m] + f", {lon_name} " + lon_s[m] + ")", both)
    reasons.mark(~inside & looks_bng, lambda m: "coordinates " + lon_s[m] + ", " + lat_s[m]
                 + " look like eastings/northings, not longitude/latitude", both)
    reasons.mark(~inside, lambda m: "coordinates " + lon_s[m] + ", " + lat_s[m]
                 + " are outside Great Britain", both)
    e, n = lonlat_to_bng(lon.where(reasons.ok, 0).to_numpy(), lat.where(reasons.ok, 0).to_numpy())
    return _located(reasons, lon, lat, pd.Series(e, index=lon.index),
                    pd.Series(n, index=lon.index))


def check_bng(e_text: pd.Series, n_text: pd.Series, e_name: str, n_name: str
              ) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Check Ordnance Survey easting/northing text; same contract as check_lonlat."""
    e_s, n_s, e, n, reasons = _number_pair(e_text, n_text, e_name, n_name)
    both = f"{e_name}/{n_name}"
    looks_lonlat = (e.abs() <= 180) & (n.abs() <= 90)
    reasons.mark(looks_lonlat, lambda m: "easting/northing " + e_s[m] + ", " + n_s[m]
                 + " look like longitude/latitude", both)
    inside = pd.Series(in_gb_bng(e, n), index=e.index)
    reasons.mark(~inside, lambda m: "easting/northing " + e_s[m] + ", " + n_s[m]
                 + " are outside Great Britain", both)
    lon, lat = bng_to_lonlat(e.where(reasons.ok, 0).to_numpy(), n.where(reasons.ok, 0).to_numpy())
    return _located(reasons, pd.Series(lon, index=e.index), pd.Series(lat, index=e.index), e, n)
