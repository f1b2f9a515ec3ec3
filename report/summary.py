"""Counts per ward, town centre, river frontage or PSPO: by crime type, per km² of land, per
1,000 residents where the layer has a population, and as a share of the borough total.

Wards, LSOAs, town centres and the river split add up to the borough: every incident is in
exactly one row (with a "not in any ..." row if the layers leave gaps). PSPOs may overlap, so
an incident in two orders counts in both and the PSPO rows need not add up; the table says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Engine

from access.restricted import visibility
from core.themes import ALL_CRIME
from geo.areas import Area, resolve_area
from geo.joins import DEFAULT_FRONTAGE_M, ContextLayers, attribute_incidents, context_layers
from geo.population import population_note
from hotspots.analysis import area_incidents, months_between
from hotspots.result import HotspotInputError

BY = ("ward", "lsoa", "town-centre", "river", "pspo")
SELECTED = "All selected types"


def total_label(categories: list[str] | None) -> str:
    """The name of the total line: all crime, or only the crime types chosen."""
    return SELECTED if categories else ALL_CRIME
COLUMNS = ["unit_code", "unit", "crime_type", "incidents", "share_of_area_pct", "land_km2",
           "per_km2", "population", "per_1000_residents", "note"]


@dataclass
class Summary:
    """A summary table for one area, period and kind of unit, with what it rests on."""

    area: Area
    by: str
    month_from: str
    month_to: str
    table: pd.DataFrame  # long: one row per unit and crime type (total first)
    totals: pd.Series  # area total per crime type, total line first
    notes: list[str] = field(default_factory=list)
    frontage_m: float = DEFAULT_FRONTAGE_M

    def wide(self, value: str = "incidents") -> pd.DataFrame:
        """Units as rows, crime types as columns (all crime first), plus the area total row."""
        if self.table.empty:
            return pd.DataFrame()
        grid = self.table.pivot_table(index=["unit"], columns="crime_type", values=value,
                                      aggfunc="sum", sort=False, fill_value=0)
        total = self.totals.index[0]
        order = [total] + sorted(c for c in grid.columns if c != total)
        grid = grid[[c for c in order if c in grid.columns]]
        grid = grid.loc[self.table["unit"].drop_duplicates()]
        if value == "incidents":
            grid.loc[f"{self.area.name} total"] = self.totals.reindex(grid.columns).fillna(0)
            grid = grid.astype(int)
        return grid.reset_index()

    def overview(self) -> pd.DataFrame:
        """All-crime row per unit: incidents, share, rates, and the top three crime types."""
        if self.table.empty:
            return pd.DataFrame(columns=COLUMNS)
        total = self.totals.index[0]
        all_rows = self.table[self.table["crime_type"] == total].drop(columns="crime_type")
        types = self.table[self.table["crime_type"] != total]
        top = (types[types["incidents"] > 0].sort_values(["unit", "incidents"],
                                                          ascending=[True, False])
               .groupby("unit", sort=False)
               .apply(lambda g: "; ".join(f"{t} ({n})" for t, n in
                                         zip(g["crime_type"].head(3), g["incidents"].head(3),
                                             strict=True)), include_groups=False))
        out = all_rows.assign(top_types=all_rows["unit"].map(top).fillna(""))
        return out.reset_index(drop=True)

    def to_dict(self) -> dict:
        """Everything, for `--json`."""
        records = json.loads(self.table.to_json(orient="records", double_precision=4))
        return {"area": self.area.name, "area_code": self.area.code, "by": self.by,
                "from": self.month_from, "to": self.month_to,
                "totals": {k: int(v) for k, v in self.totals.items()},
                "rows": records, "notes": self.notes}


def incident_summary(engine: Engine, area: str, by: str, month_from: str, month_to: str,
                    categories: list[str] | None = None, frontage_m: float = DEFAULT_FRONTAGE_M,
                    layers: ContextLayers | None = None) -> Summary:
    """Summarise the area's stored incidents of the months by ward, LSOA, town centre,
    river frontage or PSPO."""
    if by not in BY:
        raise HotspotInputError(f"cannot summarise by '{by}'; choose one of {', '.join(BY)}")
    months_between(month_from, month_to)
    place = resolve_area(engine, area)
    layers = layers or context_layers(engine, place, frontage_m)
    # Counts per ward may include the categories shown to viewers only at ward level.
    points = area_incidents(engine, place, month_from, month_to, categories,
                            for_ward_counts=by == "ward")
    attributed = attribute_incidents(points, layers)
    units, membership, notes = _units(place, by, layers, attributed)
    table = _table(units, membership, attributed, place.land, total_label(categories))
    totals = _counts(attributed["category"], total_label(categories))
    if by == "pspo":
        notes.append("PSPO areas can overlap: an incident inside two orders counts in both, so "
                     "the rows can add up to more than the total")
    if table["population"].notna().any():
        source = population_note(engine, place.code)
        notes.append("Per 1,000 residents: incidents of the period per 1,000 usual residents."
                     + (f" {source}" if source else ""))
    elif by in ("ward", "lsoa"):
        notes.append(f"No populations are loaded for {place.name}'s {by}s, so no rates per 1,000 "
                     "residents: `hotspots setup` loads Census 2021 residents for the bundled "
                     f"boroughs, `hotspots layers population {by} FILE.csv` any others.")
    seen = visibility(engine)
    if not seen.sees_all:
        ward_only = sorted({c for c in totals.index if seen.restriction(c) == "ward"})
        if ward_only:
            notes.append(f"{', '.join(ward_only)}: shown as counts per ward only (restricted "
                         "category)")
        elif by != "ward":
            notes.append("Restricted categories are left out; some are shown as counts in the "
                         "summary by ward")
    if points.empty:
        notes.append(f"no incidents stored for {place.name} from {month_from} to {month_to}")
    return Summary(place, by, month_from, month_to, table, totals, notes, frontage_m)


def _counts(categories: pd.Series, label: str = ALL_CRIME) -> pd.Series:
    counts = categories.value_counts()
    return pd.concat([pd.Series({label: int(counts.sum())}), counts]).astype(int)


def _units(place: Area, by: str, layers: ContextLayers, attributed: pd.DataFrame):
    """Units (code, name, geometry, population, note) and, per unit code, the incident mask."""
    notes: list[str] = []
    if by in ("ward", "lsoa", "town-centre", "pspo"):
        source = {"ward": layers.wards, "lsoa": layers.lsoas, "town-centre": layers.town_centres,
                  "pspo": layers.pspos}[by].frame
        units = source[["code", "name", "population", "note", "geometry"]].copy()
        if by == "pspo":
            named = attributed["pspo"].str.split("; ")
            membership = {row.code: named.map(lambda names, n=row.name: n in names).to_numpy()
                          for row in units.itertuples()}
        else:
            column = {"ward": "ward_code", "lsoa": "lsoa_code", "town-centre": "town_centre"}[by]
            key = "name" if by == "town-centre" else "code"
            membership = {code: (attributed[column] == value).to_numpy()
                          for code, value in zip(units["code"], units[key], strict=True)}
        covered = shapely.union_all(units.geometry.to_numpy()) if len(units) else None
        rest = place.boundary.difference(covered) if covered is not None else place.boundary
        outside = ~np.logical_or.reduce(list(membership.values())) if membership \
            else np.ones(len(attributed), dtype=bool)
        label = {"ward": "Not in any ward", "lsoa": "Not in any LSOA",
                 "town-centre": f"Rest of {place.name} (outside town centres)",
                 "pspo": "Outside any PSPO"}[by]
        if by in ("town-centre", "pspo") or outside.any():
            units = pd.concat([units, pd.DataFrame([{
                "code": "", "name": label, "population": None, "note": None,
                "geometry": rest}])], ignore_index=True)
            membership[""] = outside
        if by in ("ward", "lsoa") and outside.any():
            notes.append(f"{int(outside.sum())} incidents inside {place.name} fall in no {by} "
                         "of the loaded layer (its boundary and the borough's differ slightly)")
        if by == "town-centre" and source["approximate"].any():
            notes.append("Approximate town centres (circles around a high street postcode, not "
                         "the council's boundaries; see each row's note): " + ", ".join(
                             source.loc[source["approximate"], "name"]))
        if by == "pspo" and source.empty:
            notes.append("no PSPO areas loaded for this area: add them as a PSPO areas "
                         "layer file (Data page, Layers) or in the PSPO register")
        if by == "ward" and source["note"].notna().any():
            notes.append(source["note"].dropna().iloc[0])
        return units, membership, notes
    # river: the frontage band along the water and the rest of the borough
    frontage = layers.frontage(place.land)
    on = attributed["river_frontage"].to_numpy(dtype=bool)
    units = pd.DataFrame([
        {"code": "frontage", "name": f"River frontage (within {layers.frontage_m:g} m of the "
         "water)", "population": None, "note": None, "geometry": frontage},
        {"code": "away", "name": "Away from the river", "population": None, "note": None,
         "geometry": place.boundary.difference(frontage)}])
    notes.append(f"River frontage: land within {layers.frontage_m:g} m of the water layer; "
                 "incidents on the water itself (bridges, moorings) count as frontage")
    return units, {"frontage": on, "away": ~on}, notes


def _table(units: pd.DataFrame, membership: dict, attributed: pd.DataFrame,
           land, label: str = ALL_CRIME) -> pd.DataFrame:
    """One row per unit and crime type; areas are of land (water taken out)."""
    totals = _counts(attributed["category"], label)
    types = list(totals.index)
    rows = []
    for unit in units.itertuples():
        mask = membership[unit.code]
        counts = _counts(attributed["category"][mask], label).reindex(types, fill_value=0)
        land_km2 = (float(shapely.area(shapely.intersection(unit.geometry, land))) / 1e6
                    if unit.geometry is not None else 0.0)
        population = None if pd.isna(unit.population) else int(unit.population)
        for crime_type, n in counts.items():
            share = 100 * n / totals[crime_type] if totals[crime_type] else np.nan
            rows.append({
                "unit_code": unit.code, "unit": unit.name, "crime_type": crime_type,
                "incidents": int(n), "share_of_area_pct": round(share, 1),
                "land_km2": round(land_km2, 3),
                "per_km2": round(n / land_km2, 1) if land_km2 > 0 else np.nan,
                "population": population,
                "per_1000_residents": round(1000 * n / population, 2) if population else np.nan,
                "note": unit.note if isinstance(unit.note, str) else ""})
    return pd.DataFrame(rows, columns=COLUMNS)
