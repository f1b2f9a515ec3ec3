"""Council logs (ASB reports, fly-tipping, CCTV incidents) with user-mapped columns."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import pandas as pd

from core.import_result import (
    INCIDENT_COLUMNS,
    REJECT_COLUMNS,
    FileImport,
    FileImportError,
    rejects_frame,
)
from core.safe_text import clean_value, fit, limit_of
from geo.postcodes import PostcodeLookup, load_postcodes, normalise_postcode
from ingest.council_keys import council_keys
from ingest.door import mark_too_long
from ingest.readcsv import read_rows, sha256_of
from ingest.validate import RowReasons, check_bng, check_lonlat, future_dates, parse_dates
from store.models import Incident

KIND = "council log"
# Mapped fields kept in a database column of bounded length.
STORED_AS = {"reference": "crime_id", "category": "category"}

# Header names councils use, compared lower-case with punctuation removed.
SYNONYMS: dict[str, list[str]] = {
    "date": ["date", "datereported", "reporteddate", "incidentdate", "dateofincident",
             "datetime", "occurred", "occurredon", "reported", "received", "datereceived",
             "created", "createdon", "logged", "datelogged", "eventdate", "dateopened"],
    "time": ["time", "incidenttime", "timereported", "timeofincident", "timeoccurred"],
    "category": ["category", "type", "incidenttype", "crimetype", "asbtype", "offence",
                 "classification", "nature", "problem", "problemtype", "reporttype",
                 "categoryname", "subject", "issue", "issuetype"],
    "latitude": ["latitude", "lat", "ywgs84", "latwgs84"],
    "longitude": ["longitude", "lon", "lng", "long", "xwgs84", "lonwgs84"],
    "easting": ["easting", "eastings", "x", "osx", "gride", "east", "xcoord", "xcoordinate"],
    "northing": ["northing", "northings", "y", "osy", "gridn", "north", "ycoord",
                 "ycoordinate"],
    "postcode": ["postcode", "postalcode", "pc", "postcodes", "incidentpostcode"],
    "location": ["location", "address", "street", "locationdescription", "place", "site",
                 "streetname", "incidentlocation", "locationaddress"],
    "reference": ["reference", "ref", "id", "incidentid", "casenumber", "caseref",
                  "casereference", "lognumber", "logref", "incidentnumber", "referencenumber",
                  "refno", "referenceno", "caseno", "logno", "incidentno"],
    "notes": ["notes", "description", "details", "comments", "summary", "narrative"],
}


def _simplify(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


@dataclass
class ColumnMapping:
    """Which column of the council's file holds each field; blank fields are not used."""

    date: str = ""
    category: str = ""
    time: str = ""
    latitude: str = ""
    longitude: str = ""
    easting: str = ""
    northing: str = ""
    postcode: str = ""
    location: str = ""
    reference: str = ""
    notes: str = ""
    dataset: str = ""

    @classmethod
    def from_file(cls, path: str | Path) -> ColumnMapping:
        """Read a JSON mapping file: {"date": "Date reported", "category": "Type", ...}."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
        except (OSError, json.JSONDecodeError) as exc:
            raise FileImportError(str(path), f"cannot read the mapping file: {exc}") from None
        if not isinstance(data, dict):
            raise FileImportError(str(path), "the mapping file must hold one JSON object")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise FileImportError(
                str(path), f"unknown mapping key(s) {', '.join(unknown)}; "
                f"known keys are {', '.join(sorted(known))}")
        return cls(**{k: str(v or "") for k, v in data.items()})

    def to_dict(self) -> dict[str, str]:
        """The mapping as plain JSON-ready data."""
        return asdict(self)

    def location_fields(self) -> list[str]:
        """Which location kinds this mapping provides, in order of preference."""
        kinds = []
        if self.latitude and self.longitude:
            kinds.append("lat/lon")
        if self.easting and self.northing:
            kinds.append("easting/northing")
        if self.postcode:
            kinds.append("postcode")
        return kinds


def guess_mapping(columns: list[str]) -> ColumnMapping:
    """Guess the mapping from header names; the user confirms or corrects it."""
    simple = {_simplify(c): c for c in columns}
    guessed: dict[str, str] = {}
    for field_name, names in SYNONYMS.items():
        for candidate in names:
            if candidate in simple and simple[candidate] not in guessed.values():
                guessed[field_name] = simple[candidate]
                break
    return ColumnMapping(**guessed)


def _check_mapping(name: str, mapping: ColumnMapping, columns: list[str]) -> None:
    problems = []
    if not mapping.date:
        problems.append("no column is mapped to the date")
    if not mapping.category:
        problems.append("no column is mapped to the category")
    if not mapping.location_fields():
        problems.append("no location is mapped (latitude+longitude, easting+northing "
                        "or postcode)")
    mapped = {k: v for k, v in mapping.to_dict().items() if v and k != "dataset"}
    absent = [f"{k} -> '{v}'" for k, v in mapped.items() if v not in columns]
    if absent:
        problems.append("mapped column(s) not in the file: " + ", ".join(absent))
    if problems:
        raise FileImportError(
            name, "; ".join(problems) + ". Columns found: " + ", ".join(columns))


def parse_council(name: str, data: bytes, mapping: ColumnMapping | None = None,
                  postcodes: PostcodeLookup | None = None) -> FileImport:
    """Validate a council log; locate rows by lat/lon, easting/northing or postcode centroid."""
    table = read_rows(name, data)
    rows, ragged = table.rows, table.rejected
    columns = [c for c in rows.columns if c != "_row"]
    mapping = mapping or guess_mapping(columns)
    _check_mapping(name, mapping, columns)
    dataset = _dataset(name, mapping)
    col = {k: (rows[v].fillna("").str.strip() if v else pd.Series("", index=rows.index))
           for k, v in mapping.to_dict().items() if k != "dataset"}
    reasons = RowReasons(rows.index)
    for field_name, stored in STORED_AS.items():
        if getattr(mapping, field_name):
            mark_too_long(reasons, col[field_name], getattr(mapping, field_name),
                          Incident.__table__.c[stored])
    when = parse_dates(col["date"], col["time"] if mapping.time else None)
    reasons.mark(col["date"] == "", f"{mapping.date} is empty", mapping.date)
    shown = col["date"] + ((" " + col["time"]) if mapping.time else "")
    reasons.mark(when.isna(), "date '" + shown.str.strip() + "' is not a date "
                 "(expected dd/mm/yyyy or yyyy-mm-dd, optionally with hh:mm)", mapping.date)
    reasons.mark(future_dates(when), "date '" + shown.str.strip() + "' is in the future",
                 mapping.date)
    reasons.mark(col["category"] == "", f"{mapping.category} is empty", mapping.category)

    points = pd.DataFrame(index=rows.index, columns=["lon", "lat", "easting", "northing"],
                          dtype=float)
    located_by = pd.Series("", index=rows.index, dtype=object)
    pending = pd.Series(True, index=rows.index)
    if mapping.latitude and mapping.longitude:
        has = (col["latitude"] != "") | (col["longitude"] != "")
        pts, why, where = check_lonlat(col["longitude"], col["latitude"],
                                       mapping.longitude, mapping.latitude)
        _take(points, located_by, pending, has, pts, "exact coordinates")
        reasons.mark(has & (why != ""), why, "")
        _fill_column(reasons, where)
        pending &= ~has
    if mapping.easting and mapping.northing:
        has = pending & ((col["easting"] != "") | (col["northing"] != ""))
        pts, why, where = check_bng(col["easting"], col["northing"],
                                    mapping.easting, mapping.northing)
        _take(points, located_by, pending, has, pts, "exact coordinates (OS grid)")
        reasons.mark(has & (why != ""), why, "")
        _fill_column(reasons, where)
        pending &= ~has
    canon = pd.Series(None, index=rows.index, dtype=object)
    if mapping.postcode:
        has = pending & (col["postcode"] != "")
        canon = col["postcode"].map(normalise_postcode)
        reasons.mark(has & canon.isna(), "postcode '" + col["postcode"] + "' is not a valid "
                     "UK postcode", mapping.postcode)
        lookup = postcodes or load_postcodes()
        found = lookup.locate(col["postcode"].where(has & canon.notna(), ""))
        reasons.mark(has & canon.notna() & found["easting"].isna(),
                     "postcode '" + canon.fillna("") + "' is not in the postcode lookup "
                     "(Code-Point Open; set HOTSPOTS_POSTCODES for the national file)",
                     mapping.postcode)
        hit = has & found["easting"].notna()
        points.loc[hit] = found.loc[hit, ["lon", "lat", "easting", "northing"]].to_numpy()
        located_by[hit] = "postcode centroid"
        pending &= ~has
    reasons.mark(pending, "no location: no coordinates and no postcode",
                 "/".join(v for v in (mapping.latitude, mapping.longitude, mapping.easting,
                                      mapping.northing, mapping.postcode) if v))
    ok = reasons.ok
    rejected = [ragged] if not ragged.empty else []
    for column_name in reasons.column[~ok].unique():
        mask = ~ok & (reasons.column == column_name)
        rejected.append(rejects_frame(name, rows, mask, column_name, reasons.reason))

    reference = col["reference"][ok]
    accepted = pd.DataFrame({
        "dedup_key": None,
        "source": KIND,
        "dataset": dataset,
        "crime_id": reference.where(reference != "", None),
        "month": when[ok].dt.strftime("%Y-%m"),
        "occurred_at": when[ok],
        "category": col["category"][ok],
        "location": col["location"][ok].where(col["location"][ok] != "", None),
        "postcode": canon[ok],
        "lsoa_code": None,
        "lsoa_name": None,
        "outcome": None,
        "notes": col["notes"][ok].where(col["notes"][ok] != "", None),
        "lon": points.loc[ok, "lon"],
        "lat": points.loc[ok, "lat"],
        "easting": points.loc[ok, "easting"],
        "northing": points.loc[ok, "northing"],
        "located_by": located_by[ok],
    }, columns=INCIDENT_COLUMNS)
    accepted["dedup_key"] = council_keys(accepted)
    rejected_frame = (pd.concat(rejected, ignore_index=True) if rejected
                      else pd.DataFrame(columns=REJECT_COLUMNS))
    return FileImport(
        file=name, kind=KIND, dataset=dataset, sha256=sha256_of(data),
        accepted=accepted.reset_index(drop=True),
        rejected=rejected_frame.sort_values("row").reset_index(drop=True),
        rows=table.read, notes=table.notes,
    )


def _dataset(name: str, mapping: ColumnMapping) -> str:
    """The dataset label: the one mapped (refused when too long to keep), else the file's
    name without its extension (cut to fit). A label only: dedup keys do not use it."""
    limit = limit_of(Incident.__table__.c.dataset) or 200
    given = clean_value(mapping.dataset.strip())
    if len(given) > limit:
        raise FileImportError(name, f"the dataset name is {len(given):,} characters long; "
                                    f"at most {limit}")
    return given or fit(str(clean_value(Path(name).stem)), limit)


def _take(points: pd.DataFrame, located_by: pd.Series, pending: pd.Series, has: pd.Series,
          found: pd.DataFrame, how: str) -> None:
    """Copy located points for rows that had this kind of location and passed its checks."""
    good = pending & has & found["easting"].notna()
    points.loc[good] = found.loc[good].to_numpy()
    located_by[good] = how


def _fill_column(reasons: RowReasons, where: pd.Series) -> None:
    """Give reasons marked without a column the column the coordinate check named."""
    blank = (reasons.column == "") & ~reasons.ok
    reasons.column[blank] = where[blank]
