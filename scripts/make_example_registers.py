"""Write the EXAMPLE registers in data/sample/registers/ (run once by a maintainer).

No council publishes its water-safety equipment list or PSPO maps as data, so the sample ships
an example, marked as such in every row: Spelthorne's plan counts 15 locked throwlines and 20
throw-rings on its Thames frontage; this places that many (and a few signs) evenly along the
bundled Thames bank inside Spelthorne, and a smaller set in Runnymede, each a few metres on
the land side of the water's edge, named after the nearest police.uk street. Checks for three
past months (and part of this one) show every state the register has. Two example PSPOs use
the real order name from Runnymede's plan (Addlestone Town Centre) and a Staines riverside
area, with stand-in outlines.

Deterministic: the same inputs give the same files.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from shapely.ops import linemerge, nearest_points

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
OUT = SAMPLE / "registers"
BNG = "EPSG:27700"
EXAMPLE_NOTE = "EXAMPLE DATA: not a real asset; placed on the bundled Thames frontage"
PLAN = {  # borough code -> (prefix, owner, {kind: count})
    "E07000213": ("SBC", "Spelthorne Borough Council",
                  {"throwline": 15, "throw-ring": 20, "signage": 6}),
    "E07000212": ("RBC", "Runnymede Borough Council",
                  {"throwline": 6, "throw-ring": 8, "signage": 3}),
}
# police.uk names some snap points by what is there ("Parking Area", "Supermarket"): name sites
# after streets only.
STREET = re.compile(r"\b(Road|Street|Lane|Close|Drive|Avenue|Way|Walk|Side|Terrace|Place|Mead|"
                    r"Court|Gardens|Green|Hill|Crescent|Path|Island|Bridge|Wharf|Row|Reach|"
                    r"Meadows?|Park Road)\b|^A\d+$")
SHORT = {"throwline": "TL", "throw-ring": "TR", "signage": "SG"}
CHECK_MONTHS = ("2026-08", "2026-09", "2026-10")
# (asset, month) -> (outcome, action, notes): the exceptions among otherwise good checks.
FINDINGS = {
    ("SBC-TR-12", "2026-09"): ("missing", "replaced", "Ring gone from post; spare fitted"),
    ("SBC-TR-07", "2026-10"): ("missing", "reported", "Post empty, rope cut"),
    ("SBC-TL-04", "2026-10"): ("lock-broken", "reported", "Cabinet lock forced"),
    ("SBC-SG-02", "2026-10"): ("signage-damaged", "reported", "Sign sprayed over"),
    ("RBC-TR-03", "2026-10"): ("vandalised", "reported", "Ring thrown in river, recovered"),
    ("SBC-TR-07", "2026-11"): ("missing", "replaced", "New ring fitted"),
}


def snap_streets() -> gpd.GeoDataFrame:
    """Distinct police.uk snap points with their street names, in BNG."""
    rows = {}
    for path in sorted((SAMPLE / "police").glob("*/*-street.csv")):
        with path.open(encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle):
                street = row["Location"].removeprefix("On or near ").strip()
                if row["Longitude"] and row["Latitude"] and STREET.search(street):
                    key = (float(row["Longitude"]), float(row["Latitude"]))
                    rows[key] = street
    frame = gpd.GeoDataFrame({"street": list(rows.values())},
                             geometry=gpd.points_from_xy(*zip(*rows.keys(), strict=True)),
                             crs="EPSG:4326")
    return frame.to_crs(BNG)


def bank_points(borough, water, count: int) -> list:
    """`count` points evenly along the borough's own Thames bank, 6 m onto the land."""
    bank = water.boundary.intersection(borough.buffer(-2))
    lines = linemerge(bank) if bank.geom_type == "MultiLineString" else bank
    parts = sorted(getattr(lines, "geoms", [lines]), key=lambda g: -g.length)
    parts = [p for p in parts if p.length > 150]
    total = sum(p.length for p in parts)
    land = borough.difference(water.buffer(5)).intersection(water.buffer(7))
    points = []
    for i in range(count):
        at = (i + 0.5) * total / count
        for part in parts:
            if at <= part.length:
                on_bank = part.interpolate(at)
                points.append(nearest_points(land, on_bank)[0])
                break
            at -= part.length
    return points


def equipment_rows() -> list[dict]:
    areas = gpd.read_file(SAMPLE / "boundaries" / "lad_2013_sample.geojson").to_crs(BNG)
    water = shapely.union_all(gpd.read_file(SAMPLE / "water" / "thames_sample.geojson")
                              .to_crs(BNG).geometry.to_numpy())
    streets = snap_streets()
    rows = []
    for code, (prefix, owner, counts) in PLAN.items():
        borough = areas.loc[areas["LAD13CD"] == code].geometry.iloc[0]
        kinds = [k for k, n in counts.items() for _ in range(n)]
        # spread the kinds along the bank: every kind's items interleaved
        order = sorted(range(len(kinds)), key=lambda i: (kinds[:i + 1].count(kinds[i]) /
                                                         counts[kinds[i]], kinds[i]))
        points = bank_points(borough, water, len(kinds))
        numbers = dict.fromkeys(counts, 0)
        for point, index in zip(points, order, strict=True):
            kind = kinds[index]
            numbers[kind] += 1
            nearest = streets.distance(point).idxmin()
            street = streets.loc[nearest, "street"]
            lon, lat = gpd.GeoSeries([point], crs=BNG).to_crs("EPSG:4326").iloc[0].coords[0]
            rows.append({
                "Asset ID": f"{prefix}-{SHORT[kind]}-{numbers[kind]:02d}",
                "Type": kind, "Latitude": f"{lat:.6f}", "Longitude": f"{lon:.6f}",
                "Site": f"Thames bank near {street}", "River": "River Thames",
                "Installed": "01/04/2021" if kind != "signage" else "15/05/2023",
                "Owner": f"{owner} (EXAMPLE)", "Notes": EXAMPLE_NOTE,
            })
    return sorted(rows, key=lambda r: r["Asset ID"])


def check_rows(items: list[dict]) -> list[dict]:
    rows = []
    checkers = ("A. Example (EXAMPLE)", "B. Example (EXAMPLE)")
    for month in (*CHECK_MONTHS, "2026-11"):
        for i, item in enumerate(items):
            asset = item["Asset ID"]
            if month == "2026-11" and not (asset.startswith("SBC") and i % 3 == 0) and \
                    (asset, month) not in FINDINGS:
                continue  # this month: only some checked so far
            outcome, action, notes = FINDINGS.get((asset, month), ("serviceable", "none", ""))
            day = 2 + (i * 7) % 20
            rows.append({"Asset ID": asset, "Date": f"{day:02d}/{month[5:]}/{month[:4]}",
                         "Time": f"{9 + i % 7:02d}:{(i * 13) % 60:02d}",
                         "Checked by": checkers[i % 2], "Outcome": outcome,
                         "Action": action, "Notes": notes})
    return rows


def pspo_features() -> dict:
    codepoint = SAMPLE / "postcodes" / "codepoint_open" / "Data" / "CSV"
    where = {}
    for name in ("kt.csv", "tw.csv"):
        with (codepoint / name).open(encoding="utf-8", newline="") as handle:
            for row in csv.reader(handle):
                if row[0] in ("KT152BP", "KT15 2BP", "TW184DR", "TW18 4DR"):
                    where[row[0].replace(" ", "")] = shapely.Point(int(row[2]), int(row[3]))
    areas = gpd.read_file(SAMPLE / "boundaries" / "lad_2013_sample.geojson").to_crs(BNG)
    spelthorne = areas.loc[areas["LAD13CD"] == "E07000213"].geometry.iloc[0]
    water = shapely.union_all(gpd.read_file(SAMPLE / "water" / "thames_sample.geojson")
                              .to_crs(BNG).geometry.to_numpy())
    addlestone = where["KT152BP"].buffer(350, quad_segs=8)
    riverside = (water.buffer(80).difference(water).intersection(spelthorne)
                 .intersection(where["TW184DR"].buffer(700)))
    riverside = shapely.union_all([p for p in getattr(riverside, "geoms", [riverside])
                                   if p.area > 2000]).simplify(3)
    orders = [
        {"reference": "EXAMPLE-RBC-PSPO-1", "area": "E07000212",
         "name": "EXAMPLE: Addlestone Town Centre (stand-in outline)", "made_on": "2023-07-03",
         "expires_on": "2026-07-03", "review_every_days": 42,
         "published_url": "https://www.runnymede.gov.uk/",
         "consultation_notes": "EXAMPLE: the order's name is from Runnymede's Community Safety "
                               "Plan; its outline here is a 350 m stand-in, not the council's "
                               "map.",
         "prohibits": [["Consuming alcohol, or having an open container of alcohol, when "
                        "asked to stop by an authorised officer", "at all times",
                        "licensed premises and their outdoor seating"],
                       ["Behaving in a way that causes or is likely to cause harassment, alarm "
                        "or distress", "at all times", ""]],
         "requires": [["Surrendering alcohol to an authorised officer when asked", "", ""]],
         "events": [["extended", "2026-06-15", "2029-06-15",
                     "EXAMPLE: extended for three years after consultation"],
                    ["reviewed", "2026-10-20", "", "EXAMPLE: reviewed at JAG; no change"]],
         "geometry": addlestone},
        {"reference": "EXAMPLE-SBC-PSPO-1", "area": "E07000213",
         "name": "EXAMPLE: Staines-upon-Thames riverside (stand-in outline)",
         "made_on": "2023-12-18", "expires_on": "2026-12-18", "review_every_days": 42,
         "published_url": "https://www.spelthorne.gov.uk/",
         "consultation_notes": "EXAMPLE: a stand-in order for the riverside by Staines town "
                               "centre (land within 80 m of the Thames, 700 m of the High "
                               "Street), not a real order.",
         "prohibits": [["Entering the river from the riverside walk to swim", "",
                        "organised events with the council's permission"],
                       ["Lighting fires or barbecues", "at all times", ""]],
         "requires": [["Putting dogs on a lead when asked by an authorised officer",
                       "at all times", "assistance dogs"]],
         "events": [["reviewed", "2026-09-29", "", "EXAMPLE: reviewed at JAG"]],
         "geometry": riverside},
    ]
    features = []
    for order in orders:
        shape = gpd.GeoSeries([order.pop("geometry")], crs=BNG).to_crs("EPSG:4326").iloc[0]
        shape = shapely.set_precision(shape, 1e-6)
        features.append({"type": "Feature", "properties": order,
                         "geometry": json.loads(shapely.to_geojson(shape))})
    return {"type": "FeatureCollection", "name": "example_pspos", "features": features}


def write_csv(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"{path.relative_to(ROOT)}: {len(rows)} rows")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    items = equipment_rows()
    write_csv(OUT / "example_equipment.csv", items)
    write_csv(OUT / "example_checks.csv", check_rows(items))
    pspos = pspo_features()
    (OUT / "example_pspos.geojson").write_text(json.dumps(pspos, indent=1) + "\n",
                                               encoding="utf-8")
    print(f"data/sample/registers/example_pspos.geojson: {len(pspos['features'])} orders")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
