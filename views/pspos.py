"""PSPOs page: the register of Public Spaces Protection Orders with its map, expiry and review
alerts, each order's conditions, history and incidents before and after it was made; add an
order (upload its map or draw it), record reviews, extensions, variations and discharges."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

import geopandas as gpd
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo.areas import UnknownAreaError, resolve_area
from present import appstate
from present.assets import SETUP_HINT, assets_ready
from present.map import PSPO_COLOUR, build_map, drawing_map
from registers.common import RegisterError
from registers.export import orders_csv, orders_geojson
from registers.pspo import (
    AREA_FILE_TYPES,
    DEFAULT_REVIEW_DAYS,
    Condition,
    add_order,
    discharge_order,
    extend_order,
    get_order,
    list_orders,
    read_area_file,
    review_order,
)
from registers.pspo_incidents import ALL, order_incidents

STATUS_COLOURS = {"in force": PSPO_COLOUR, "expired": "#888888", "discharged": "#555555"}
CONDITION_LABELS = {"kind": "Kind", "wording": "Wording", "times": "Times",
                    "exemptions": "Exemptions", "active": "In the order"}
EVENT_LABELS = {"kind": "What", "happened_on": "On", "expires_on": "Expiry after it",
                "notes": "Notes", "recorded_at": "Recorded at", "recorded_by": "Recorded by"}
ORDER_LABELS = {"reference": "Reference", "name": "Name", "area": "Borough",
                "status": "Status", "made_on": "Made", "expires_on": "Expires",
                "next_review": "Next review", "alerts": "Alerts", "example": "Example"}
md = appstate.markdown_text

st.title("PSPOs")
engine = appstate.engine()
version = appstate.data_version()
area_list = appstate.areas(version)
user = appstate.current_user()

orders = list_orders(engine)
alerting = orders[orders["alerts"] != ""]
for row in alerting.itertuples():
    for alert in row.alerts.split("; "):
        st.warning(md(f"{row.reference} – {row.name} ({row.area}): {alert}"))
if orders.empty:
    st.info("No orders in the register yet: add one below.")
else:
    st.caption(f"{len(orders)} orders; {int((orders['status'] == 'in force').sum())} in force. "
               "An order has effect for at most 3 years from when it is made or last extended "
               "(Anti-social Behaviour, Crime and Policing Act 2014, s.60); the register warns "
               "90 days before expiry and when a review is overdue.")
    shown = orders[["reference", "name", "area", "status", "made_on", "expires_on",
                    "next_review", "alerts", "example"]].copy()
    shown["example"] = shown["example"].map({True: "EXAMPLE", False: ""})
    st.dataframe(shown.rename(columns=ORDER_LABELS), hide_index=True, width="stretch",
                 key="pspo_table")
    left, right = st.columns(2)
    left.download_button("Download the register (GeoJSON)", orders_geojson(engine, orders),
                         file_name="pspo_register.geojson", mime="application/geo+json")
    right.download_button("Download the register (CSV)", orders_csv(engine, orders),
                          file_name="pspo_register.csv", mime="text/csv")

st.subheader("An order")
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
            context = appstate.context_layers(record.area_name, version)
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

    st.markdown("**Prohibitions and requirements**")
    conditions = record.conditions.copy()
    conditions["active"] = conditions["active"].map({True: "yes", False: "no (varied away)"})
    st.table(appstate.markdown_safe(conditions.drop(columns="position").fillna("").rename(
        columns=CONDITION_LABELS)), hide_index=True)
    st.markdown("**History**")
    st.table(appstate.markdown_safe(record.events.fillna("").rename(columns=EVENT_LABELS)),
             hide_index=True)
    for label, note in (("Consultation", o["consultation_notes"]),
                        ("Publication", o["publication_notes"])):
        if note:
            st.caption(f"{label}: {md(note)}")
    st.markdown("**Incidents inside the area, before and after the order was made**")
    result = order_incidents(engine, chosen)
    for note in result.notes:
        st.caption(md(note))
    st.dataframe(result.by_type, hide_index=True, width="stretch", key="pspo_before_after",
                 column_config={
                     "crime_type": "Crime type", "before": "Before", "after": "After",
                     "before_per_month": "Per month before",
                     "after_per_month": "Per month after",
                     "change_pct": st.column_config.NumberColumn(
                         "Change in monthly rate (%)", format="%+.0f"),
                     "p_value": "p", "significant": st.column_config.CheckboxColumn(
                         "Beyond chance")})
    monthly = result.by_month.set_index("month")
    if len(monthly):
        st.bar_chart(monthly[[ALL]], height=200)
        st.caption(f"{ALL} per month inside the area; the order was made in "
                   f"{result.made_month}.")

    with st.expander("Record a review, an extension or a discharge"):
        with st.form("pspo_event"):
            kind = st.radio("What happened", ["reviewed", "extended", "discharged"],
                            horizontal=True, key="pspo_event_kind")
            first, second = st.columns(2)
            on_day = first.date_input("On", value=date.today(), format="DD/MM/YYYY",
                                      key="pspo_event_on")
            new_expiry = second.date_input("New expiry (extensions only)", value=None,
                                           format="DD/MM/YYYY", key="pspo_event_expiry")
            notes = st.text_area("Notes", key="pspo_event_notes")
            record_it = st.form_submit_button("Record")
        if record_it:
            try:
                if kind == "reviewed":
                    review_order(engine, chosen, on=on_day, notes=notes, recorded_by=user)
                elif kind == "extended":
                    if new_expiry is None:
                        raise RegisterError("give the new expiry date", "expires_on")
                    extend_order(engine, chosen, on=on_day, expires_on=new_expiry,
                                 notes=notes, recorded_by=user)
                else:
                    discharge_order(engine, chosen, on=on_day, notes=notes, recorded_by=user)
            except RegisterError as exc:
                st.error(md(exc))
            else:
                st.cache_data.clear()
                st.success(f"Recorded: {kind} on {on_day}.")
                st.rerun()

st.subheader("Add an order")
st.write("Upload the order's published map (GeoJSON, KML, GeoPackage or a zipped Shapefile, in "
         "any declared coordinate system) or draw its area on the map below. An outline that "
         "crosses itself, or lies outside the borough, is refused.")
with st.form("pspo_add"):
    first, second, third = st.columns(3)
    new_area = first.selectbox("Borough", area_list, key="pspo_new_area")
    reference = second.text_input("Reference", key="pspo_new_reference")
    name = third.text_input("Name", key="pspo_new_name")
    first, second, third = st.columns(3)
    made = first.date_input("Made on", value=None, format="DD/MM/YYYY", key="pspo_new_made")
    expires = second.date_input("Expires on (at most 3 years later)", value=None,
                                format="DD/MM/YYYY", key="pspo_new_expires")
    cadence = third.number_input("Review every (days)", 1, 366, DEFAULT_REVIEW_DAYS,
                                 key="pspo_new_cadence")
    st.caption("One condition per line; after its wording, optionally ' | times: 20:00-06:00'"
               " and ' | exempt: licensed premises'.")
    first, second = st.columns(2)
    prohibitions = first.text_area("Prohibitions", key="pspo_new_prohibits", height=120)
    requirements = second.text_area("Requirements", key="pspo_new_requires", height=120)
    url = st.text_input("Link to the published order", key="pspo_new_url")
    consultation = st.text_area("Consultation notes", key="pspo_new_consultation")
    publication = st.text_area("Publication notes", key="pspo_new_publication")
    area_file = st.file_uploader("The order's map (or draw it below)",
                                 type=list(AREA_FILE_TYPES), key="pspo_new_file")
    add_it = st.form_submit_button("Add the order", type="primary")

st.caption("Draw the area (polygon or rectangle tool, top left) if you have no map file; "
           "then press Add the order.")
if assets_ready() and area_list:
    draw_context = appstate.context_layers(new_area, version)
    drawn = st_folium(drawing_map(draw_context.boundary, draw_context.wards,
                                  draw_context.water, pspos=draw_context.pspos),
                      height=420, use_container_width=True, key="pspo_draw_map",
                      returned_objects=["last_active_drawing"])
    shape = (drawn or {}).get("last_active_drawing") or None
else:
    shape = None

if add_it:
    try:
        parsed = [Condition.parse(kind, line) for kind, lines in
                  (("prohibition", prohibitions), ("requirement", requirements))
                  for line in lines.splitlines() if line.strip()]
        if area_file is not None:
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / Path(area_file.name).name
                path.write_bytes(area_file.getvalue())
                geometry, source = read_area_file(path)
        elif shape is not None:
            geometry, source = shape["geometry"], "drawn on the map"
        else:
            raise RegisterError("upload the order's map or draw its area on the map", "area")
        resolve_area(engine, new_area)
        add_order(engine, area=new_area, reference=reference, name=name, geometry=geometry,
                  area_source=source, made_on=made or "", expires_on=expires or "",
                  conditions=parsed, review_every_days=int(cadence), published_url=url,
                  consultation_notes=consultation, publication_notes=publication,
                  recorded_by=user)
    except (RegisterError, UnknownAreaError) as exc:
        st.error(md(exc))
    else:
        st.cache_data.clear()
        st.success(md(f"Added {reference.strip()} ({name.strip()}) to the register."))
