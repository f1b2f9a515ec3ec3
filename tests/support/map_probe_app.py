"""Tiny Streamlit page that draws one folium map with every layer type the app uses.

Used by tests/browser/test_offline_map.py to prove maps render with no internet: ward polygons
(GeoJson), a HeatMap, a MarkerCluster of CircleMarkers with popups, a LayerControl and an
attribution, all on a map without tiles. Data: Spelthorne wards and January 2024 Surrey crimes.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import folium
import folium.plugins
import streamlit as st
from streamlit_folium import st_folium

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from present.assets import SETUP_HINT, add_offline_support, assets_ready  # noqa: E402

DATA = ROOT / "data" / "sample"
WARDS = DATA / "boundaries" / "wards_2013_E07000213.geojson"
CRIMES = DATA / "police" / "2024-01" / "2024-01-surrey-street.csv"
WARD_COLOUR = "#3355ff"  # the test looks for SVG paths with this stroke


def spelthorne_points(limit: int = 400) -> list[tuple[float, float, str]]:
    """Return up to ``limit`` (lat, lon, crime type) rows whose LSOA is in Spelthorne."""
    rows: list[tuple[float, float, str]] = []
    with CRIMES.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["LSOA name"].startswith("Spelthorne") and row["Latitude"]:
                rows.append((float(row["Latitude"]), float(row["Longitude"]), row["Crime type"]))
                if len(rows) >= limit:
                    break
    return rows


st.title("Offline map probe")
if not assets_ready():
    st.error(f"Map files are missing: {SETUP_HINT}.")
    st.stop()

wards = json.loads(WARDS.read_text(encoding="utf-8"))
points = spelthorne_points()

m = folium.Map(location=[51.42, -0.48], zoom_start=12, tiles=None)
m.options["maxZoom"] = 18
add_offline_support(
    m, attribution="Crime data: police.uk (OGL v3.0). Boundaries: ONS, © Crown copyright."
)
folium.GeoJson(
    wards,
    name="Wards",
    style_function=lambda _: {"color": WARD_COLOUR, "weight": 2, "fillOpacity": 0.05},
    tooltip=folium.GeoJsonTooltip(fields=["WD13NM"], aliases=["Ward"]),
).add_to(m)
folium.plugins.HeatMap([[lat, lon] for lat, lon, _ in points], name="Heat", radius=15).add_to(m)
cluster = folium.plugins.MarkerCluster(name="Crimes").add_to(m)
for lat, lon, kind in points[:150]:
    folium.CircleMarker(
        [lat, lon], radius=5, color="#d62728", fill=True, popup=folium.Popup(kind), tooltip=kind
    ).add_to(cluster)
folium.LayerControl(collapsed=False).add_to(m)
m.fit_bounds(m.get_bounds())

st_folium(m, height=500, returned_objects=[])
st.caption(f"{len(points)} crimes, {len(wards['features'])} wards")
