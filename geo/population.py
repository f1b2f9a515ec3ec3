"""Residents per ward, LSOA or other feature, so that summaries can give rates per 1,000
residents: read from a CSV (code, population), bad rows set aside with reasons; or Census 2021
LSOA populations laid onto the loaded (2011) LSOA polygons, summed to wards and boroughs."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Engine, select

from core.import_result import FileImport
from geo.crs import BNG
from geo.layers import (
    POPULATION_FIELDS,
    SAMPLE,
    LayerError,
    find_field,
    load_layer,
    set_population,
)
from store.models import Incident

CODE_FIELDS = (r"code", r".*cd", r"gss.*", r"geography code")


def _column(columns: list[str], patterns: tuple[str, ...], what: str, file: str) -> str:
    found = find_field(columns, patterns)
    if found is not None:
        return found
    raise LayerError(f"{file}: no {what} column (looked for {', '.join(patterns)}; the file has "
                     f"{', '.join(columns)})")


def import_population(engine: Engine, kind: str, path: str | Path) -> FileImport:
    """Set populations of loaded features of `kind` from a CSV; unknown codes, missing or
    non-numeric populations and codes given twice are set aside with row and column."""
    path = Path(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise LayerError(f"{path.name}: cannot be read as a CSV ({exc})") from None
    code_col = _column(list(frame.columns), CODE_FIELDS, "code", path.name)
    pop_col = _column([c for c in frame.columns if c != code_col], POPULATION_FIELDS,
                      "population", path.name)
    known = set(load_layer(engine, kind)["code"])
    accepted, rejected = [], []
    seen: set[str] = set()
    for i, row in frame.iterrows():
        line = int(i) + 2
        code, raw = row[code_col].strip(), row[pop_col].strip().replace(",", "")

        def refuse(column: str, reason: str, row=row, line=line) -> None:
            rejected.append({"file": path.name, "row": line, "column": column,
                             "reason": reason, "raw": row.to_dict()})

        if not code:
            refuse(code_col, "no code")
        elif code not in known:
            refuse(code_col, f"'{code}' is not a loaded {kind} code")
        elif code in seen:
            refuse(code_col, f"'{code}' is given twice; the first row is kept")
        elif not re.fullmatch(r"\d+(\.0+)?", raw):
            refuse(pop_col, f"population '{row[pop_col]}' is not a whole number of residents")
        else:
            seen.add(code)
            accepted.append({"code": code, "population": int(float(raw))})
    accepted_frame = pd.DataFrame(accepted, columns=["code", "population"])
    if len(accepted_frame):
        set_population(engine, kind, accepted_frame)
    result = FileImport(file=path.name, kind="population", dataset=kind)
    result.accepted = accepted_frame
    result.rejected = pd.DataFrame(rejected, columns=["file", "row", "column", "reason", "raw"])
    return result


# ---------------------------------------------------------------- Census 2021 onto 2011 LSOAs

CENSUS_SAMPLE = SAMPLE / "population" / "census2021_usual_residents_lsoa21_sample.csv"
CENSUS_SOURCE = "Census 2021 usual residents (ONS, OGL v3)"
BEST_FIT_NOTE = "Census 2021 residents by best fit"
MIN_POINT_SHARE = 0.1  # a 2011 LSOA holding less of a 2021 LSOA's points is boundary noise
WARD_RULE = ("each LSOA's residents counted in the ward holding the LSOA's centroid (best "
             "fit, as ONS's lookups)")


@dataclass
class PopulationMatch:
    """How Census 2021 LSOA populations were laid onto the loaded (2011) LSOA polygons:
    matched by an unchanged code, by best fit (the 2011 polygons holding a changed code's
    police.uk points, shared by point share), or not at all; and the sums for wards and
    boroughs."""

    census_lsoas: int
    by_code: list[str]  # 2011 LSOA codes whose 2021 code is the same
    best_fit: dict[str, list[tuple[str, float]]]  # 2011 code -> [(2021 code, share)]
    unmatched: list[str]  # 2021 codes placed on no loaded LSOA
    without_population: list[str]  # loaded LSOA codes left without residents
    lsoas: pd.DataFrame  # code, population, note
    wards: pd.DataFrame  # code, population
    areas: pd.DataFrame  # code, population
    wards_without: list[str] = field(default_factory=list)
    parents: dict[str, str] = field(default_factory=dict)  # loaded LSOA code -> borough code

    def census_by_best_fit(self, area_code: str | None = None) -> int:
        """2021 LSOAs placed by best fit (in one borough)."""
        return len({c for old, parts in self.best_fit.items() for c, _ in parts
                    if area_code is None or self.parents.get(old) == area_code})

    def summary(self, area_code: str | None = None) -> str:
        """One line for set-up (every borough) and the summaries' notes (one borough)."""
        def mine(codes: list[str]) -> list[str]:
            return [c for c in codes if area_code is None or self.parents.get(c) == area_code]
        by_code, without = mine(self.by_code), mine(self.without_population)
        loaded = mine(list(self.lsoas["code"]))
        unmatched = f", {len(self.unmatched)} could not be matched" + (
            f" ({', '.join(self.unmatched)})" if self.unmatched else "") if area_code is None \
            else ""
        return (f"{CENSUS_SOURCE} by LSOA: {len(by_code)} 2021 LSOAs matched to a "
                f"2011 LSOA by code, {self.census_by_best_fit(area_code)} by best fit (the 2011 "
                "LSOA holding most of their police.uk points; a merged one shared by point "
                f"share){unmatched}; {len(loaded) - len(without)} of {len(loaded)} LSOAs have "
                "residents. Wards: " + WARD_RULE + ".")


def read_census(path: str | Path) -> pd.DataFrame:
    """A census population CSV (an LSOA code column and a residents column, as ONS and the
    bundled extract give them) as code, name, population; bad rows refused with the row."""
    path = Path(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise LayerError(f"{path.name}: cannot be read as a CSV ({exc})") from None
    code_col = _column(list(frame.columns), (r"lsoa\d*[ _]?code", *CODE_FIELDS), "LSOA code",
                       path.name)
    pop_col = _column([c for c in frame.columns if c != code_col], POPULATION_FIELDS,
                      "population", path.name)
    name_col = find_field([c for c in frame.columns if c not in (code_col, pop_col)],
                          (r"lsoa\d*[ _]?name", r"name"))
    raw = frame[pop_col].str.strip().str.replace(",", "")
    bad = ~raw.str.fullmatch(r"\d+(\.0+)?") | (frame[code_col].str.strip() == "")
    if bad.any():
        row = int(np.nonzero(bad.to_numpy())[0][0]) + 2
        raise LayerError(f"{path.name} row {row}: no LSOA code or no whole number of residents "
                         f"('{frame[code_col].iloc[row - 2]}', '{frame[pop_col].iloc[row - 2]}')")
    codes = frame[code_col].str.strip()
    if codes.duplicated().any():
        raise LayerError(f"{path.name}: LSOA {codes[codes.duplicated()].iloc[0]} is given twice")
    return pd.DataFrame({"code": codes,
                         "name": frame[name_col].str.strip() if name_col else codes,
                         "population": raw.astype(float).astype(int)})


def match_census(census: pd.DataFrame, lsoas: gpd.GeoDataFrame,
                 points: pd.DataFrame, wards: gpd.GeoDataFrame | None = None
                 ) -> PopulationMatch:
    """Lay census LSOA populations (code, population) onto LSOA polygons (code, parent_code,
    geometry in BNG): by code where it is unchanged; a changed (2021) code goes to the changed
    (2011) polygons holding its incident points (`points`: lsoa_code, easting, northing),
    shared by point share (shares under 10% dropped as boundary noise). Wards (code,
    parent_code, geometry) get the residents of the LSOAs whose centroid they hold."""
    loaded = set(lsoas["code"])
    census = census[["code", "population"]]
    same = census[census["code"].isin(loaded)]
    changed_new = census[~census["code"].isin(loaded)]
    changed_old = lsoas[~lsoas["code"].isin(set(census["code"]))]
    population = dict(zip(same["code"], same["population"].astype(float), strict=True))
    best_fit: dict[str, list[tuple[str, float]]] = {}
    unmatched = []
    shapely.prepare(changed_old.geometry.to_numpy())
    for code, residents in zip(changed_new["code"], changed_new["population"], strict=True):
        mine = points[points["lsoa_code"] == code]
        held = np.array([shapely.contains_xy(g, mine["easting"].to_numpy(float),
                                             mine["northing"].to_numpy(float)).sum()
                         for g in changed_old.geometry], dtype=float)
        if not len(held) or held.sum() == 0:
            unmatched.append(code)
            continue
        share = held / held.sum()
        share[share < MIN_POINT_SHARE] = 0.0
        share /= share.sum()
        for old, part in zip(changed_old["code"], share, strict=True):
            if part > 0:
                population[old] = population.get(old, 0.0) + residents * part
                best_fit.setdefault(old, []).append((code, round(float(part), 3)))
    rows = []
    for code in lsoas["code"]:
        note = None
        if code in best_fit:
            parts = ", ".join(f"{c}" + ("" if s == 1 else f" ({s:.0%})") for c, s in
                              best_fit[code])
            note = (f"{BEST_FIT_NOTE}: its code changed in 2021; residents of 2021 LSOA "
                    f"{parts}, placed by their police.uk points")
        rows.append({"code": code, "population": round(population[code])
                     if code in population else None, "note": note})
    table = pd.DataFrame(rows, columns=["code", "population", "note"])
    without = table.loc[table["population"].isna(), "code"].tolist()
    ward_table, wards_without = _ward_sums(lsoas, table, wards)
    areas = (lsoas[["code", "parent_code"]].merge(table, on="code")
             .dropna(subset=["population"]).groupby("parent_code", as_index=False)
             ["population"].sum().rename(columns={"parent_code": "code"}))
    return PopulationMatch(len(census), sorted(same["code"]), best_fit, unmatched, without,
                           table, ward_table, areas, wards_without,
                           dict(zip(lsoas["code"], lsoas["parent_code"], strict=True)))


def _ward_sums(lsoas: gpd.GeoDataFrame, table: pd.DataFrame,
               wards: gpd.GeoDataFrame | None) -> tuple[pd.DataFrame, list[str]]:
    """Ward residents: each LSOA to the ward (of its borough) holding its centroid."""
    if wards is None or wards.empty:
        return pd.DataFrame(columns=["code", "population"]), []
    centres = lsoas.geometry.centroid
    inside = lsoas.geometry.contains(centres)
    centres = centres.where(inside, lsoas.geometry.representative_point())
    totals: dict[str, float] = {}
    residents = dict(zip(table["code"], table["population"], strict=True))
    for code, parent, centre in zip(lsoas["code"], lsoas["parent_code"], centres, strict=True):
        if pd.isna(residents.get(code)):
            continue
        own = wards[(wards["parent_code"] == parent) & wards.geometry.covers(centre)]
        if len(own):
            ward = own["code"].iloc[0]
            totals[ward] = totals.get(ward, 0) + residents[code]
    frame = pd.DataFrame({"code": list(totals), "population": [round(v) for v in
                                                              totals.values()]})
    return frame, sorted(set(wards["code"]) - set(totals))


def census_points(engine: Engine, codes: list[str]) -> pd.DataFrame:
    """Stored incidents' LSOA code and BNG position for the given (changed) LSOA codes."""
    if not codes:
        return pd.DataFrame(columns=["lsoa_code", "easting", "northing"])
    table = Incident.__table__
    query = select(table.c.lsoa_code, table.c.easting, table.c.northing).where(
        table.c.lsoa_code.in_(codes))
    with engine.connect() as conn:
        rows = conn.execute(query).fetchall()
    return pd.DataFrame(rows, columns=["lsoa_code", "easting", "northing"])


def load_census_population(engine: Engine, path: str | Path = CENSUS_SAMPLE) -> PopulationMatch:
    """Read a Census LSOA population CSV and set the residents of the loaded LSOAs, their
    wards and boroughs (match_census); the boroughs' notes say how the LSOAs matched."""
    census = read_census(path)
    lsoas = load_layer(engine, "lsoa").to_crs(BNG)
    if lsoas.empty:
        raise LayerError("no LSOAs are loaded to lay the populations onto: run `hotspots "
                         "setup` or `hotspots layers add lsoa FILE` first")
    changed = sorted(set(census["code"]) - set(lsoas["code"]))
    wards = load_layer(engine, "ward").to_crs(BNG)
    match = match_census(census, lsoas, census_points(engine, changed), wards)
    kept = match.lsoas.dropna(subset=["population"])
    stale = lsoas["note"].fillna("").str.startswith(BEST_FIT_NOTE).to_numpy()
    notes = match.lsoas[match.lsoas["note"].notna().to_numpy() | stale]
    set_population(engine, "lsoa", kept, notes=notes)
    if len(match.wards):
        set_population(engine, "ward", match.wards)
    if len(match.areas):
        areas = match.areas.assign(note=["Population: " + match.summary(c)
                                         for c in match.areas["code"]])
        set_population(engine, "area", areas, notes=areas)
    return match


def population_note(engine: Engine, area_code: str) -> str | None:
    """How the borough's populations were found (set by load_census_population), if they
    were."""
    areas = load_layer(engine, "area")
    note = areas.loc[areas["code"] == area_code, "note"]
    text = note.iloc[0] if len(note) else None
    return text if isinstance(text, str) and text.startswith("Population:") else None


def needs_population(engine: Engine) -> bool:
    """Whether any loaded LSOA has no residents yet (set-up then loads the census sample)."""
    lsoas = load_layer(engine, "lsoa")
    return bool(len(lsoas)) and bool(lsoas["population"].isna().any())


def area_population(engine: Engine, area_code: str) -> int | None:
    """The borough's residents, if loaded."""
    areas = load_layer(engine, "area")
    value = areas.loc[areas["code"] == area_code, "population"]
    return None if value.empty or pd.isna(value.iloc[0]) else int(value.iloc[0])
