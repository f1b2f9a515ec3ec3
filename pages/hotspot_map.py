"""Hotspot map page: pick area, months, crime types and method; see the map and the ranking."""

from __future__ import annotations

import streamlit as st
from streamlit_folium import st_folium

from geo.areas import UnknownAreaError
from hotspots import METHODS
from hotspots.result import HotspotInputError
from present import appstate
from present.assets import SETUP_HINT, assets_ready
from present.export import hotspots_csv, hotspots_geojson, hotspots_table
from present.map import build_map

METHOD_LABELS = {"grid": "Grid counts", "dbscan": "DBSCAN clusters"}

st.title("Hotspot map")
version = appstate.data_version()
months = appstate.months_available(version)
area_list = appstate.areas(version)
if not months or not area_list:
    st.warning("No incidents imported yet. Open the **Data** page to import police.uk or "
               "council files, or run `hotspots setup` to load the bundled sample.")
    st.stop()

with st.sidebar:
    st.header("Selection")
    area = st.selectbox("Area", area_list, key="area")
    default_from = months[-12] if len(months) >= 12 else months[0]
    month_from, month_to = st.select_slider("Months", options=months,
                                            value=(default_from, months[-1]), key="months")
    crime_types = st.multiselect("Crime types (none = all)", appstate.category_list(version),
                                 key="crime_types")
    method = st.radio("Method", list(METHODS), format_func=lambda m: METHOD_LABELS.get(m, m),
                      key="method", horizontal=True)
    coverage_pct = st.slider("Hotspots cover at most this % of the land", 0.25, 10.0, 1.0, 0.25,
                             key="coverage")
    with st.expander("Method parameters (blank = chosen by rule)"):
        if method == "grid":
            cell = st.number_input("Cell size (m)", min_value=0, max_value=5000, value=0,
                                   step=25, help="0 = 1/50 of the area's shorter side")
            params = (("cell_size", float(cell)),) if cell else ()
        else:
            eps = st.number_input("eps (m)", min_value=0, max_value=2000, value=0, step=25,
                                  help="0 = mean spacing of distinct locations, 50-150 m")
            min_samples = st.number_input("min_samples", min_value=0, max_value=100000,
                                          value=0, help="0 = 3x the even-spread count")
            params = tuple((k, float(v)) for k, v in (("eps", eps), ("min_samples", min_samples))
                           if v)

try:
    report = appstate.hotspot_report(area, month_from, month_to, tuple(crime_types), method,
                                     coverage_pct / 100, params, version)
except (HotspotInputError, UnknownAreaError) as exc:
    st.error(str(exc))
    st.stop()

for note in report.notes:
    st.info(note)

boundary, wards, water = appstate.context_layers(area, version)
left, right = st.columns([3, 2])
with left:
    if not assets_ready():
        st.error(f"The map's files are missing: {SETUP_HINT}.")
    else:
        fmap = build_map(boundary, wards, water, report.incidents, report.hotspots)
        st_folium(fmap, height=620, use_container_width=True, returned_objects=[],
                  key="hotspot_map")
    st.caption(report.caption())
    note = wards["note"].dropna().unique()
    if len(note):
        st.caption(f"Wards: {note[0]}")
with right:
    st.subheader(f"{len(report.hotspots)} hotspots, ranked")
    covered = report.hotspots.attrs.get("covered_share")
    st.metric("Incidents in the selection", f"{len(report.incidents):,}")
    if len(report.hotspots):
        inside = int(report.hotspots["count"].sum())
        st.write(f"The hotspots hold **{inside:,}** incidents "
                 f"({inside / max(len(report.incidents), 1):.0%}) on "
                 f"{(covered or 0):.2%} of the land.")
        table = hotspots_table(report.hotspots)
        st.dataframe(table[["rank", "ward", "count", "top_types", "top_location"]],
                     hide_index=True, width="stretch", key="hotspot_table")
        stem = f"hotspots_{report.area.name}_{month_from}_{month_to}_{method}".lower()
        st.download_button("Download GeoJSON", hotspots_geojson(report.hotspots),
                           file_name=f"{stem}.geojson", mime="application/geo+json")
        st.download_button("Download CSV", hotspots_csv(report.hotspots),
                           file_name=f"{stem}.csv", mime="text/csv")
