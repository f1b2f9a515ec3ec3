"""PSPOs page: the register of Public Spaces Protection Orders with its map, expiry and review
alerts, each order's conditions, history and incidents before and after it was made. Changing
the register is the PSPO editor's job (views/pspo_editor.py, admins only)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from core.months import month_of
from core.words import readable
from present.assets import SETUP_HINT, assets_ready
from present.map import PSPO_COLOUR, build_map
from present.markdown import markdown_safe, markdown_text
from registers.export import orders_csv, orders_geojson
from registers.pspo import (
    get_order,
    list_orders,
)
from registers.pspo_incidents import order_incidents
from views import state, trends

STATUS_COLOURS = {"in force": PSPO_COLOUR, "expired": "#888888", "discharged": "#555555"}
CONDITION_LABELS = {"kind": "Kind", "wording": "Wording", "times": "Times",
                    "exemptions": "Exemptions", "active": "In the order"}
EVENT_LABELS = {"kind": "What", "happened_on": "On", "expires_on": "Expiry after it",
                "notes": "Notes", "recorded_at": "Recorded at", "recorded_by": "Recorded by"}
ORDER_LABELS = {"reference": "Reference", "name": "Name", "area": "Borough",
                "status": "Status", "made_on": "Made", "expires_on": "Expires",
                "next_review": "Next review", "alerts": "Alerts", "example": "Example"}
md = markdown_text

st.title("PSPOs")
engine = state.engine()
version = state.data_version()
area_list = state.areas(version)


orders = list_orders(engine)
alerting = orders[orders["alerts"] != ""]
for row in alerting.itertuples():
    for alert in row.alerts.split("; "):
        st.warning(md(f"{row.reference} – {row.name} ({row.area}): {alert}"))
if orders.empty:
    st.info("No orders in the register yet: an admin adds them in the PSPO editor.")
else:
    st.caption(f"{len(orders)} orders; {int((orders['status'] == 'in force').sum())} in force. "
               "An order has effect for at most 3 years from when it is made or last extended "
               "(Anti-social Behaviour, Crime and Policing Act 2014, s.60); the register warns "
               "90 days before expiry and when a review is overdue.")
    shown = orders.assign(example=orders["example"].map({True: "EXAMPLE", False: ""}))
    st.table(markdown_safe(readable(shown, ORDER_LABELS)), hide_index=True)
    left, right = st.columns(2)
    left.download_button("Download the register (GeoJSON)", orders_geojson(engine, orders),
                         file_name="pspo_register.geojson", mime="application/geo+json")
    right.download_button("Download the register (CSV)", orders_csv(engine, orders),
                          file_name="pspo_register.csv", mime="text/csv")

st.header("An order")
if len(orders):
    labels = {int(r.id): f"{r.reference} – {r.name} ({r.area})" for r in orders.itertuples()}
    chosen = st.selectbox("Order", list(labels), format_func=labels.get, key="pspo_order")
    record = get_order(engine, chosen)
    o = record.order
    info, where = st.columns([2, 3])
    with info:
        st.markdown(f"**{md(o['name'])}** ({md(record.area_name)}), reference "
                    f"{md(o['reference'])}" + (" – **EXAMPLE**" if o["example"] else ""))
        st.write(f"Status: **{record.status}**. Made {o['made_on']}, expires "
                 f"{o['expires_on']}" + (f", discharged {o['discharged_on']}"
                                         if o["discharged_on"] else "")
                 + (f"; next review due {record.next_review}" if record.next_review else ""))
        for alert in record.alerts:
            st.warning(md(alert))
        if o["published_url"]:
            st.link_button("Open the published order", o["published_url"])
    with where:
        if assets_ready():
            context = state.map_layers(record.area_name, version)
            shape = gpd.GeoDataFrame({"name": [o["name"]]}, geometry=[record.area], crs=4326)
            fmap = build_map(context.boundary, context.wards, context.water,
                             pd.DataFrame(columns=["lat", "lon"]),
                             gpd.GeoDataFrame(geometry=[], crs=4326), pspos=shape)
            minx, miny, maxx, maxy = record.area.bounds
            fmap.fit_bounds([[miny, minx], [maxy, maxx]])
            st_folium(fmap, height=380, use_container_width=True, returned_objects=[],
                      key="pspo_map")
        else:
            st.error(f"The map's files are missing: {SETUP_HINT}.")

    st.subheader("Prohibitions and requirements")
    conditions = record.conditions.copy()
    conditions["active"] = conditions["active"].map({True: "yes", False: "no (varied away)"})
    st.table(markdown_safe(readable(conditions, CONDITION_LABELS)), hide_index=True)
    st.subheader("History")
    st.table(markdown_safe(readable(record.events, EVENT_LABELS)), hide_index=True)
    for label, note in (("Consultation", o["consultation_notes"]),
                        ("Publication", o["publication_notes"])):
        if note:
            st.caption(f"{label}: {md(note)}")
    st.subheader("Incidents inside the area, before and after the order was made")
    result = order_incidents(engine, chosen)
    trends.show_place_incidents(result, "After", "the area",
                                f"the order was made in {result.made_month}")
    trends.did_it_work(
        "order", month_of(o["made_on"]), f"pspo_wdd_{chosen}",
        lambda before, after, ring: trends.order_assessment(
            str(o["reference"]), record.area_name, before, after, ring, version))

