"""Derive the bundled sample in data/sample/ from the real extracts in ../shared/data.

Run once by a maintainer (`python scripts/make_sample.py`); the output is committed so the app
and tests run offline. Every derivation is a filter or a clip of real public data; nothing is
synthesised. See data/sample/PROVENANCE.md for sources and licences.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
OUT = ROOT / "data" / "sample"
BOROUGHS = {"E07000213": "Spelthorne", "E07000212": "Runnymede", "E07000217": "Woking"}
# Whole-force Surrey months: 2023-01..2024-01, and 2022-01..2022-11 (2022-12 was not found).
POLICE_FOLDERS = ("surrey", "surrey_2022-01_to_2022-11")
POPULATION = SHARED / "population" / "census2021_usual_residents_lsoa21.csv"
POPULATION_OUT = OUT / "population" / "census2021_usual_residents_lsoa21_sample.csv"


def sha256(path: Path) -> str:
    """The file's SHA-256, for PROVENANCE.md."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def copy_police_months() -> None:
    """Keep sample-borough rows (by LSOA name) and no-location rows, lines byte-for-byte."""
    prefixes = tuple(f"{name} " for name in BOROUGHS.values())
    sources = sorted(src for folder in POLICE_FOLDERS
                     for src in (SHARED / "police" / folder).glob("*-surrey-street.csv"))
    for src in sources:
        month = src.name[:7]
        dest = OUT / "police" / month / src.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        raw = src.read_bytes().decode("utf-8")
        lines = raw.splitlines(keepends=True)
        kept = [lines[0]]
        for line in lines[1:]:
            fields = line.split(",")
            lsoa_name = fields[8] if len(fields) > 8 else ""
            no_location = fields[4] == "" and fields[5] == ""
            if lsoa_name.startswith(prefixes) or no_location:
                kept.append(line)
        dest.write_bytes("".join(kept).encode("utf-8"))
        print(f"{dest.relative_to(ROOT)}: {len(kept) - 1} rows; source sha256 {sha256(src)}, "
              f"sample sha256 {sha256(dest)}")


def copy_population() -> None:
    """Census 2021 usual residents of the sample boroughs' 2021 LSOAs (by LSOA name, as the
    police rows are cut), lines byte-for-byte with the header."""
    prefixes = tuple(f"{name} " for name in BOROUGHS.values())
    lines = POPULATION.read_bytes().decode("utf-8").splitlines(keepends=True)
    kept = [lines[0]] + [line for line in lines[1:]
                         if line.split(",")[1].startswith(prefixes)]
    POPULATION_OUT.parent.mkdir(parents=True, exist_ok=True)
    POPULATION_OUT.write_bytes("".join(kept).encode("utf-8"))
    print(f"{POPULATION_OUT.relative_to(ROOT)}: {len(kept) - 1} LSOAs; source sha256 "
          f"{sha256(POPULATION)}, sample sha256 {sha256(POPULATION_OUT)}")


def copy_boundaries() -> None:
    """Copy ward and LSOA files; cut the three LADs out of the England LAD file."""
    bdir = OUT / "boundaries"
    bdir.mkdir(parents=True, exist_ok=True)
    for code in BOROUGHS:
        for kind in ("wards_2013", "lsoa_2011"):
            shutil.copy(SHARED / "boundaries" / f"{kind}_{code}.geojson", bdir)
    lad = json.loads((SHARED / "boundaries" / "lad_2013_england_generalised.geojson").read_text())
    lad["features"] = [f for f in lad["features"] if f["properties"]["LAD13CD"] in BOROUGHS]
    (bdir / "lad_2013_sample.geojson").write_text(json.dumps(lad))


def clip_thames() -> None:
    """Keep Thames water polygons that touch the sample boroughs' bounding box (+2 km)."""
    import geopandas as gpd
    from shapely.geometry import box

    lad = gpd.read_file(OUT / "boundaries" / "lad_2013_sample.geojson").to_crs(27700)
    minx, miny, maxx, maxy = lad.total_bounds
    frame = box(minx - 2000, miny - 2000, maxx + 2000, maxy + 2000)
    water = gpd.read_file(SHARED / "water" / "river_thames_osm_water_polygons.geojson")
    water = water[water.geometry.notna()].to_crs(27700)
    water = water[water.intersects(frame)].copy()
    water["geometry"] = water.geometry.intersection(frame)
    water = water[~water.geometry.is_empty][["alt_name", "natural", "geometry"]]
    (OUT / "water").mkdir(parents=True, exist_ok=True)
    water.to_crs(4326).to_file(OUT / "water" / "thames_sample.geojson", driver="GeoJSON")
    print(f"thames polygons kept: {len(water)}")


def copy_postcodes() -> None:
    """Code-Point Open areas TW, KT and GU, unmodified, in the national product's layout."""
    src = SHARED / "postcodes" / "codepoint_open_2025_4"
    dest = OUT / "postcodes" / "codepoint_open"
    (dest / "Data" / "CSV").mkdir(parents=True, exist_ok=True)
    (dest / "Doc").mkdir(parents=True, exist_ok=True)
    for area in ("tw", "kt", "gu"):
        shutil.copy(src / f"{area}.csv", dest / "Data" / "CSV" / f"{area}.csv")
    for doc in src.glob("DOC_*"):
        shutil.copy(doc, dest / "Doc" / doc.name.removeprefix("DOC_"))


def main() -> int:
    if not SHARED.exists():
        print(f"shared data not found at {SHARED}", file=sys.stderr)
        return 1
    copy_police_months()
    copy_population()
    copy_boundaries()
    clip_thames()
    copy_postcodes()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
