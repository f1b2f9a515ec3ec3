"""Offline postcode lookup from Ordnance Survey Code-Point Open.

The bundled file covers the sample areas (TW, KT, GU). For the whole country, download
Code-Point Open (OS OpenData, free) and set HOTSPOTS_POSTCODES to its folder (the one holding
Data/CSV/*.csv) or to a single CSV in the same column layout.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import UserError
from geo.crs import bng_to_lonlat

BUNDLED_POSTCODES = Path(__file__).resolve().parents[1] / "data" / "sample" / "postcodes" / (
    "codepoint_open"
)
CODEPOINT_COLUMNS = [
    "postcode", "quality", "easting", "northing", "country_code",
    "nhs_region", "nhs_ha", "county_code", "district_code", "ward_code",
]
_POSTCODE_RE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}$")


def normalise_postcode(text: str) -> str | None:
    """Return a postcode in the canonical 'TW18 4XX' form, or None if it is not one."""
    compact = re.sub(r"\s+", "", str(text or "")).upper()
    if not _POSTCODE_RE.match(compact):
        return None
    return f"{compact[:-3]} {compact[-3:]}"


@dataclass(frozen=True)
class PostcodeLookup:
    """Postcode centroids: canonical postcode -> (easting, northing, lon, lat)."""

    table: pd.DataFrame  # index: postcode; columns easting, northing, lon, lat
    source: str

    def locate(self, postcodes: pd.Series) -> pd.DataFrame:
        """Look up many postcodes at once; unknown ones come back as NaN rows."""
        canon = postcodes.map(normalise_postcode)
        found = self.table.reindex(canon.to_numpy())
        found.index = postcodes.index
        return found

    def __len__(self) -> int:
        return len(self.table)


def _codepoint_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    csv_dir = path / "Data" / "CSV"
    files = sorted((csv_dir if csv_dir.is_dir() else path).glob("*.csv"))
    return [f for f in files if not f.name.lower().startswith(("doc", "code-point_open_column"))]


class PostcodesMissing(UserError, FileNotFoundError):
    """No Code-Point Open files where the postcodes were looked for."""


@lru_cache(maxsize=4)
def load_postcodes(path: str | None = None) -> PostcodeLookup:
    """Load Code-Point Open (folder or CSV); default HOTSPOTS_POSTCODES, else the bundled one."""
    root = Path(path or os.environ.get("HOTSPOTS_POSTCODES") or BUNDLED_POSTCODES)
    files = _codepoint_files(root)
    if not files:
        raise PostcodesMissing(f"No Code-Point Open CSV files found under {root}")
    frames = [
        pd.read_csv(f, header=None, names=CODEPOINT_COLUMNS, usecols=[0, 2, 3], dtype={0: str})
        for f in files
    ]
    table = pd.concat(frames, ignore_index=True)
    table = table[(table.easting > 0) & (table.northing > 0)]
    table["postcode"] = table["postcode"].map(normalise_postcode)
    table = table.dropna(subset=["postcode"]).drop_duplicates("postcode").set_index("postcode")
    lon, lat = bng_to_lonlat(table.easting.to_numpy(), table.northing.to_numpy())
    table["lon"] = np.round(lon, 6)
    table["lat"] = np.round(lat, 6)
    return PostcodeLookup(table=table[["easting", "northing", "lon", "lat"]], source=str(root))
