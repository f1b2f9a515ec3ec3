"""data.police.uk street-level crime CSVs, exactly as downloaded."""

from __future__ import annotations

import pandas as pd

from core.import_result import (
    INCIDENT_COLUMNS,
    REJECT_COLUMNS,
    FileImport,
    FileImportError,
    rejects_frame,
    stable_keys,
)
from ingest.door import mark_too_long
from ingest.readcsv import read_rows, sha256_of
from ingest.validate import RowReasons, check_lonlat, valid_months
from store.models import Incident

POLICE_COLUMNS = [
    "Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location",
    "LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context",
]
REQUIRED = ["Crime ID", "Month", "Falls within", "Longitude", "Latitude", "Location",
            "LSOA code", "Crime type"]
# The file's columns kept in a database column of bounded length.
STORED_AS = {"Crime ID": "crime_id", "Falls within": "dataset", "Crime type": "category",
             "LSOA code": "lsoa_code", "LSOA name": "lsoa_name"}
KIND = "police.uk"
LOCATED_BY = "police snap point"


def looks_like_police(header: list[str], file_name: str) -> bool:
    """A police.uk street file by its name (YYYY-MM-force-street.csv) or its header."""
    known = sum(1 for c in POLICE_COLUMNS if c in header)
    return file_name.lower().endswith("-street.csv") or known >= 5


def parse_police(name: str, data: bytes) -> FileImport:
    """Validate a police.uk street CSV; good rows become incidents, bad rows are kept aside."""
    table = read_rows(name, data)
    rows, ragged = table.rows, table.rejected
    missing = [c for c in REQUIRED if c not in rows.columns]
    if missing:
        found = [c for c in rows.columns if c != "_row"]
        raise FileImportError(
            name,
            f"not a data.police.uk street-level file: missing column(s) {', '.join(missing)}. "
            f"Expected {', '.join(POLICE_COLUMNS)}; found {', '.join(found)}",
        )
    for optional in POLICE_COLUMNS:
        if optional not in rows.columns:
            rows[optional] = ""
    points, reason, column = check_lonlat(rows["Longitude"], rows["Latitude"],
                                          "Longitude", "Latitude")
    reasons = RowReasons(rows.index)
    for label, stored in STORED_AS.items():
        mark_too_long(reasons, rows[label].fillna("").str.strip(), label,
                      Incident.__table__.c[stored])
    month = rows["Month"].fillna("").str.strip()
    reasons.mark(~valid_months(month),
                 lambda m: "Month '" + month[m] + "' is not a valid YYYY-MM month", "Month")
    reasons.mark(reason != "", reason, "")
    reasons.column[(reasons.column == "") & ~reasons.ok] = column
    crime_type = rows["Crime type"].fillna("").str.strip()
    reasons.mark(crime_type == "", "Crime type is empty", "Crime type")
    ok = reasons.ok
    rejected = [ragged] if not ragged.empty else []
    for col in reasons.column[~ok].unique():
        mask = ~ok & (reasons.column == col)
        rejected.append(rejects_frame(name, rows, mask, col, reasons.reason))
    good = rows[ok]
    crime_id = good["Crime ID"].fillna("").str.strip()
    identity = (
        good["Month"].str.strip() + "|" + good["Falls within"] + "|" + good["Longitude"] + "|"
        + good["Latitude"] + "|" + good["Location"] + "|" + good["LSOA code"] + "|"
        + crime_type[ok] + "|" + good["Context"]
    )
    identity = identity.where(crime_id == "", "id:" + crime_id)
    accepted = pd.DataFrame({
        "dedup_key": stable_keys("police.uk", identity),
        "source": KIND,
        "dataset": good["Falls within"].str.strip(),
        "crime_id": crime_id.where(crime_id != "", None),
        "month": month[ok],
        "occurred_at": None,
        "category": crime_type[ok],
        "location": good["Location"].str.strip(),
        "postcode": None,
        "lsoa_code": good["LSOA code"].str.strip(),
        "lsoa_name": good["LSOA name"].str.strip(),
        "outcome": good["Last outcome category"].str.strip(),
        "notes": good["Context"].str.strip(),
        "lon": points.loc[ok, "lon"],
        "lat": points.loc[ok, "lat"],
        "easting": points.loc[ok, "easting"],
        "northing": points.loc[ok, "northing"],
        "located_by": LOCATED_BY,
    }, columns=INCIDENT_COLUMNS)
    forces = accepted["dataset"].dropna().unique()
    rejected_frame = (pd.concat(rejected, ignore_index=True) if rejected
                      else pd.DataFrame(columns=REJECT_COLUMNS))
    return FileImport(
        file=name, kind=KIND, dataset=", ".join(sorted(forces)) or "police.uk",
        sha256=sha256_of(data), accepted=accepted.reset_index(drop=True),
        rejected=rejected_frame.sort_values("row").reset_index(drop=True),
        rows=table.read, notes=table.notes,
    )
