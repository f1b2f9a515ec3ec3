"""Water safety page: the equipment along the river coloured by its check state, the items due
this month, a check form that works at the riverside (pick the item from the list or the map,
outcome, note, save), corrections, the check history, and the register itself (add, retire,
import the council's spreadsheets, export)."""

from __future__ import annotations

import uuid
from datetime import datetime

import geopandas as gpd
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from access.roles import LOG_CHECKS, MANAGE_EQUIPMENT
from geo.areas import resolve_area
from geo.layers import load_layer
from present import appstate
from present.assets import SETUP_HINT, assets_ready
from present.map import build_map
from registers.checks import (
    ACTIONS,
    OUTCOMES,
    STATES,
    check_history,
    due_report,
    log_check,
)
from registers.common import RegisterError
from registers.equipment import KINDS, add_item, list_items, retire_item
from registers.export import equipment_csv, equipment_geojson, history_csv
from registers.imports import import_checks, import_equipment

ALL_AREAS = "All areas"
md = appstate.markdown_text
LABELS = {"asset_id": "Asset", "state_label": "State", "kind_label": "Type", "site": "Site",
          "river": "River", "last_checked_at": "Last checked", "last_outcome_label":
          "Last outcome", "last_checked_by": "Checked by", "installed_on": "Installed",
          "owner": "Owner", "grid_reference": "Grid reference", "active": "In service",
          "retired_on": "Retired",
          "example": "Example", "check_id": "Check", "checked_at": "When",
          "checked_by": "Checked by", "outcome_label": "Outcome", "action": "Action",
          "notes": "Notes", "counts": "Counts", "superseded_by_check": "Corrected by check"}

# At the riverside on a phone: big targets for thumbs (buttons, outcome choices, the item list)
PHONE_CSS = """<style>
div[data-testid="stFormSubmitButton"] button, div[data-testid="stButton"] button {
  min-height: 3.2rem; font-size: 1.1rem; }
div[data-testid="stRadio"] label { padding: 0.4rem 0; font-size: 1.05rem; }
div[data-testid="stRadio"] label > div:first-child { transform: scale(1.25); }
div[data-testid="stSelectbox"] div[data-baseweb="select"] > div { min-height: 3rem; }
</style>"""

st.html(PHONE_CSS)
st.title("Water safety")
engine = appstate.engine()
version = appstate.data_version()
user = appstate.current_user()
area_list = appstate.areas(version)

now = datetime.now()
months = [str(p) for p in pd.period_range(end=pd.Period(now, "M"), periods=12, freq="M")][::-1]
first, second = st.columns(2)
month = first.selectbox("Month", months, key="ws_month")
everything = list_items(engine)  # the whole register, retired items too: read once a run
names = appstate.area_codes_to_names(version)
busiest = everything.loc[everything["active"], "area_code"].map(names).value_counts()
choices = [ALL_AREAS, *area_list]
area = second.selectbox("Area", choices, key="ws_area",
                        index=choices.index(busiest.index[0]) if len(busiest) else 0)
area_code = None if area == ALL_AREAS else resolve_area(engine, area).code
report = due_report(engine, month, area_code)
if report.empty:
    st.info("No equipment in the register yet: add items or import the council's list below.")
if report["example"].any():
    st.caption("Items marked EXAMPLE are the bundled example register (no council publishes "
               "its equipment list): replace them with your own.")

to_check = report[report["needs_check"]]
attention = report[report["attention"]]
cols = st.columns(3)
cols[0].metric("Items in service", f"{len(report):,}")
cols[1].metric("Not yet checked" if month == months[0] else "Not checked that month",
               f"{len(to_check):,}")
cols[2].metric("Needing attention", f"{len(attention):,}")

# the map: clicking an item picks it in the check form below
if assets_ready() and len(report):
    if area == ALL_AREAS:
        boundary = load_layer(engine, "area").to_crs(27700).geometry
        wards, water = load_layer(engine, "ward").iloc[:0], load_layer(engine, "water")
        pspos = None
    else:
        context = appstate.context_layers(area, version)
        boundary, wards, water, pspos = (context.boundary, context.wards, context.water,
                                         context.pspos)
    fmap = build_map(boundary, wards, water, pd.DataFrame(columns=["lat", "lon"]),
                     gpd.GeoDataFrame(geometry=[], crs=4326), pspos=pspos,
                     equipment=report)
    fmap.fit_bounds([[report["lat"].min(), report["lon"].min()],
                     [report["lat"].max(), report["lon"].max()]])
    clicked = st_folium(fmap, height=420, use_container_width=True, key="ws_map",
                        returned_objects=["last_object_clicked"])
    point = (clicked or {}).get("last_object_clicked")
    if point and point != st.session_state.get("ws_last_click"):
        st.session_state["ws_last_click"] = point
        distance = (report["lat"] - point["lat"]) ** 2 + (report["lon"] - point["lng"]) ** 2
        st.session_state["ws_item"] = report.loc[distance.idxmin(), "asset_id"]
    st.caption("Colours: " + ", ".join(f"{label} ({colour_name})" for label, colour_name in (
        (STATES["attention"][0], "red"), (STATES["due"][0], "amber"),
        (STATES["checked"][0], "green"))) + ". Tap an item to pick it for a check.")
elif not assets_ready():
    st.error(f"The map's files are missing: {SETUP_HINT}.")

def save_check(engine, user: str) -> None:
    """Save the form's check (a callback, so the form can be cleared for the next one while
    the person who checked, the date and the time stay). A refusal keeps everything typed."""
    state = st.session_state
    photo = state.get(f"ws_photo_{state.get('ws_saves', 0)}")
    try:
        logged = log_check(
            engine, asset_id=state["ws_item"],
            checked_at=datetime.combine(state["ws_day"], state["ws_time"]),
            checked_by=state["ws_checked_by"], outcome=state["ws_outcome"],
            action=state["ws_action"], notes=state["ws_notes"],
            photo=photo.getvalue() if photo else None, photo_name=photo.name if photo else None,
            corrects=state["ws_corrects"], entry_key=state["ws_entry"], source="app form",
            recorded_by=user)
    except RegisterError as exc:
        state["ws_error"], state["ws_saved"] = str(exc), None
        return
    state["ws_saved"] = (f"Saved check {logged.id} for {logged.asset_id}: "
                         f"{OUTCOMES[state['ws_outcome']]}, "
                         f"{datetime.combine(state['ws_day'], state['ws_time']):%d/%m/%Y %H:%M}"
                         + (" (it had been saved already)" if logged.duplicate else ""))
    state["ws_error"] = None
    state["ws_entry"] = uuid.uuid4().hex
    state["ws_saves"] = state.get("ws_saves", 0) + 1  # a fresh photo box
    state["ws_notes"] = ""
    state["ws_corrects"] = None
    state["ws_outcome"] = "serviceable"
    state["ws_action"] = "none"


st.subheader("Log a check")
register = everything if area_code is None else \
    everything[everything["area_code"] == area_code]
items = register[register["active"]]
if not appstate.may(LOG_CHECKS):
    st.caption("Logging checks is for officers and admins.")
elif items.empty:
    st.write("No items in service.")
else:
    state_of = report.set_index("asset_id")["state_label"].to_dict()
    order = report["asset_id"].tolist() + [a for a in items["asset_id"]
                                           if a not in set(report["asset_id"])]
    sites = items.set_index("asset_id")["site"].to_dict()
    if st.session_state.get("ws_item") not in order:
        st.session_state["ws_item"] = order[0]
    asset = st.selectbox("Item", order, key="ws_item",
                         format_func=lambda a: f"{a} – {sites.get(a, '')} "
                                               f"({state_of.get(a, 'not due')})")
    history = check_history(engine, asset)
    counting = history[history["counts"]].iloc[::-1]
    if "ws_entry" not in st.session_state:
        st.session_state["ws_entry"] = uuid.uuid4().hex
    with st.form("ws_check", border=True):
        st.radio("Outcome", list(OUTCOMES), format_func=OUTCOMES.get, key="ws_outcome")
        st.radio("What was done", list(ACTIONS), format_func=ACTIONS.get, horizontal=True,
                 key="ws_action")
        st.text_input("Checked by", key="ws_checked_by")
        st.text_area("Notes (optional)", key="ws_notes", height=80)
        with st.expander("Time, photo, correction"):
            first, second = st.columns(2)
            first.date_input("Date", value=now.date(), format="DD/MM/YYYY", key="ws_day")
            second.time_input("Time", value=now.time().replace(second=0, microsecond=0),
                              key="ws_time")
            st.file_uploader("Photo (JPEG or PNG, up to 5 MB)", type=["jpg", "jpeg", "png"],
                             key=f"ws_photo_{st.session_state.get('ws_saves', 0)}")
            earlier = {int(r.check_id): f"check {r.check_id} of {r.checked_at:%d/%m/%Y %H:%M}: "
                       f"{r.outcome_label}" for r in counting.itertuples()}
            st.selectbox("This corrects an earlier check of this item", [None, *earlier],
                         format_func=lambda c: "no: a new check" if c is None else earlier[c],
                         key="ws_corrects")
        st.form_submit_button("Save check", type="primary", use_container_width=True,
                              on_click=appstate.as_signed_in(save_check), args=(engine, user))
    if st.session_state.get("ws_error"):
        st.error(md(st.session_state["ws_error"]))
    if st.session_state.get("ws_saved"):
        st.success(md(st.session_state["ws_saved"]))
    if len(history):
        st.caption(f"Checks of {md(asset)}, newest first (counts = no: corrected by a later "
                   "check, kept in the history)")
        shown = history.iloc[::-1][["check_id", "checked_at", "checked_by", "outcome_label",
                                    "action", "notes", "counts", "superseded_by_check"]]
        st.dataframe(shown.rename(columns=LABELS), hide_index=True, width="stretch",
                     key="ws_item_history")

st.subheader("To do this month" if month == months[0] else f"To do in {month}")
todo = report[report["needs_check"] | report["attention"]]
if todo.empty:
    st.success("Every item in service has been checked and is serviceable.")
else:
    st.dataframe(todo[["asset_id", "state_label", "kind_label", "site", "last_checked_at",
                       "last_outcome_label", "last_checked_by"]].rename(columns=LABELS),
                 hide_index=True, width="stretch", key="ws_due")

st.subheader("Check history")
body, rows = history_csv(engine)
st.download_button(f"Download every check ({rows:,}) as CSV, for audit and insurance", body,
                   file_name="water_safety_checks.csv", mime="text/csv")

st.subheader("The equipment register")
if len(register):
    shown = register[["asset_id", "kind_label", "site", "grid_reference", "river",
                      "installed_on", "owner", "active", "retired_on", "example"]]
    st.dataframe(shown.rename(columns=LABELS), hide_index=True, width="stretch",
                 key="ws_register")
    first, second = st.columns(2)
    first.download_button("Download the register (CSV)", equipment_csv(register),
                          file_name="water_safety_equipment.csv", mime="text/csv")
    second.download_button("Download the register (GeoJSON)", equipment_geojson(register),
                           file_name="water_safety_equipment.geojson",
                           mime="application/geo+json")

if appstate.may(MANAGE_EQUIPMENT):
    with st.expander("Add an item"):
        with st.form("ws_add_item"):
            first, second, third = st.columns(3)
            new_asset = first.text_input("Asset id", key="ws_new_asset")
            new_kind = second.selectbox("Type", list(KINDS), format_func=KINDS.get,
                                        key="ws_new_kind")
            new_site = third.text_input("Site", key="ws_new_site")
            st.caption("Location: latitude and longitude, or easting and northing, or an OS grid "
                       "reference (e.g. TQ 036 715)")
            first, second, third, fourth, fifth = st.columns(5)
            lat = first.text_input("Latitude", key="ws_new_lat")
            lon = second.text_input("Longitude", key="ws_new_lon")
            east = third.text_input("Easting", key="ws_new_e")
            north = fourth.text_input("Northing", key="ws_new_n")
            grid = fifth.text_input("Grid reference", key="ws_new_grid")
            first, second, third = st.columns(3)
            river = first.text_input("River", value="River Thames", key="ws_new_river")
            installed = second.date_input("Installed", value=None, format="DD/MM/YYYY",
                                          key="ws_new_installed")
            owner = third.text_input("Owner", key="ws_new_owner")
            item_notes = st.text_input("Notes", key="ws_new_notes")
            add_it = st.form_submit_button("Add item")
        if add_it:
            try:
                add_item(engine, {"asset_id": new_asset, "kind": new_kind, "site": new_site,
                                  "latitude": lat, "longitude": lon, "easting": east,
                                  "northing": north, "grid_reference": grid, "river": river,
                                  "installed_on": installed, "owner": owner,
                                  "notes": item_notes}, user)
            except RegisterError as exc:
                st.error(md(exc))
            else:
                st.success(md(f"Added {new_asset.strip()}."))

if appstate.may(MANAGE_EQUIPMENT):
    with st.expander("Retire an item (it stays in the register and its history)"):
        # read again: an item added just above is offered at once
        active = list_items(engine, area_code, include_retired=False)
        with st.form("ws_retire"):
            first, second = st.columns(2)
            retire_asset = first.selectbox("Item to retire", active["asset_id"].tolist(),
                                           key="ws_ret_asset")
            retire_on = second.date_input("Retired on", value=now.date(), format="DD/MM/YYYY",
                                          key="ws_ret_on")
            reason = st.text_input("Reason", key="ws_ret_reason")
            retire_it = st.form_submit_button("Retire")
        if retire_it and retire_asset:
            try:
                retire_item(engine, retire_asset, retire_on, reason, user)
            except RegisterError as exc:
                st.error(md(exc))
            else:
                st.success(md(f"Retired {retire_asset}."))


def show_import(result) -> None:
    """What an import did, with the rows set aside and why."""
    if result.error:
        st.error(md(f"{result.file}: {result.error}"))
        return
    st.success(md(f"{result.file}: {len(result.accepted):,} added, {result.duplicates:,} "
                  f"already in the register, {len(result.rejected):,} set aside."))
    if len(result.rejected):
        rejected = result.rejected.assign(raw=result.rejected["raw"].map(
            lambda raw: "; ".join(f"{k}={v}" for k, v in (raw or {}).items() if v)))
        st.table(appstate.markdown_safe(rejected[["file", "row", "column", "reason", "raw"]]),
                 hide_index=True)


if appstate.may(MANAGE_EQUIPMENT):
    with st.expander("Import the council's spreadsheets (CSV)"):
        st.write("Equipment list: asset id, type, site and a location (latitude/longitude, "
                 "easting/northing or grid reference); river, installed, owner, notes optional. "
                 "Past checks: asset id, date (and time), checked by, outcome; action and notes "
                 "optional. Bad rows are set aside with their row and reason; importing a file "
                 "again adds nothing.")
        first, second = st.columns(2)
        equipment_file = first.file_uploader("Equipment list", type=["csv"], key="ws_eq_file")
        checks_file = second.file_uploader("Past checks", type=["csv"], key="ws_ch_file")
        if equipment_file is not None and first.button("Import equipment", key="ws_eq_go"):
            show_import(import_equipment(engine, equipment_file.name, user,
                                         data=equipment_file.getvalue()))
        if checks_file is not None and second.button("Import checks", key="ws_ch_go"):
            show_import(import_checks(engine, checks_file.name, user, data=checks_file.getvalue()))
