"""The one result shape of every import: accepted rows plus rejected rows with reasons."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import pandas as pd

from core.errors import UserError

INCIDENT_COLUMNS = [
    "dedup_key", "source", "dataset", "crime_id", "month", "occurred_at", "category",
    "location", "postcode", "lsoa_code", "lsoa_name", "outcome", "notes",
    "lon", "lat", "easting", "northing", "located_by",
]
REJECT_COLUMNS = ["file", "row", "column", "reason", "raw"]


class FileImportError(UserError):
    """A whole file cannot be imported (wrong columns, empty, binary...); nothing is taken."""

    def __init__(self, file: str, message: str):
        super().__init__(f"{file}: {message}")
        self.file = file
        self.message = message


@dataclass
class FileImport:
    """What one file yielded: accepted incidents, rejected rows, or a file-level error."""

    file: str
    kind: str
    dataset: str = ""
    sha256: str = ""
    accepted: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=INCIDENT_COLUMNS))
    rejected: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=REJECT_COLUMNS))
    error: str | None = None
    skipped: str | None = None
    rows: int = 0  # records read after the header: accepted + duplicates + rejected
    notes: list[str] = field(default_factory=list)  # how the file was read (encoding...)

    def summary(self) -> dict:
        """Counts for reports and the CLI's JSON (duplicates are filled in when stored)."""
        return {
            "file": self.file,
            "kind": self.kind,
            "dataset": self.dataset,
            "rows": int(self.rows),
            "accepted": int(len(self.accepted)),
            "rejected": int(len(self.rejected)),
            "error": self.error,
            "skipped": self.skipped,
            "notes": list(self.notes),
        }


def rejects_frame(file: str, rows: pd.DataFrame, mask: pd.Series, column: str,
                  reasons: pd.Series | str) -> pd.DataFrame:
    """Build reject records for the rows in `mask` (rows carries the raw fields and _row)."""
    picked = rows[mask]
    if picked.empty:
        return pd.DataFrame(columns=REJECT_COLUMNS)
    raw_cols = [c for c in picked.columns if not c.startswith("_")]
    reason = reasons[mask] if isinstance(reasons, pd.Series) else reasons
    return pd.DataFrame({
        "file": file,
        "row": picked["_row"].astype(int),
        "column": column,
        "reason": reason,
        "raw": picked[raw_cols].to_dict("records"),
    })


def stable_keys(prefix: str, key_text: pd.Series) -> pd.Series:
    """Hash each row's identity plus its occurrence number among identical rows.

    Identical rows in one file can be distinct real incidents (police.uk snaps many to one
    point), so the nth copy gets key n: re-importing the file reproduces exactly the same keys.
    """
    occurrence = key_text.groupby(key_text, sort=False).cumcount().astype(str)
    text = prefix + "|" + key_text + "|" + occurrence
    sha1 = hashlib.sha1
    return pd.Series([sha1(s.encode("utf-8")).hexdigest() for s in text.tolist()],
                     index=text.index, dtype=object)
