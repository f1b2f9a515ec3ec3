"""Water safety page: the equipment along the river coloured by its check state, the items due
this month, a check form that works at the riverside (pick the item from the list or the map,
outcome, note, save), corrections, the check history, and the register itself (add, retire,
import the council's spreadsheets, export)."""

from __future__ import annotations

from datetime import datetime

import geopandas as gpd
import pandas as pd
import streamlit as st
from sqlalchemy.exc import OperationalError
from streamlit_folium import st_folium

from access.roles import LOG_CHECKS, MANAGE_EQUIPMENT
from core.months import month_of, months_ending
from core.words import blank, month_name, readable
from geo.areas import resolve_area
from geo.layers import load_layer
from present.assets import SETUP_HINT, assets_ready
from present.map import build_map
from present.markdown import markdown_safe, markdown_text
from registers.checks import (
    ACTIONS,
    OUTCOMES,
    check_history,
    due_report,
    log_check,
)
from registers.common import RegisterError
from registers.equipment import KINDS, add_item, list_items, retire_item
from registers.export import equipment_csv, equipment_geojson, history_csv
from registers.imports import import_checks, import_equipment
from views import state

ALL_AREAS = "All areas"
BUSY = ("The database is busy (an import or another save is running), so this check is not "
        "saved yet. What you typed is kept: press Save check again in a moment (a check saved "
        "twice is kept once).")
md = markdown_text


def save_check(engine, user: str) -> None:
    """Save the form's check (a callback, so the form can be cleared for the next one while
    the person who checked, the date and the time stay). A refusal keeps everything typed."""
    session = st.session_state
    photo = session.get(f"ws_photo_{session.get('ws_saves', 0)}")
    try:
        logged = log_check(
            engine, asset_id=session["ws_item"],
            checked_at=datetime.combine(session["ws_day"], session["ws_time"]),
            checked_by=session["ws_checked_by"], outcome=session["ws_outcome"],
            action=session["ws_action"], notes=session["ws_notes"],
            photo=photo.getvalue() if photo else None, photo_name=photo.name if photo else None,
            corrects=session["ws_corrects"], source="app form", recorded_by=user)
    except RegisterError as exc:
        session["ws_error"], session["ws_saved"] = str(exc), None
        return
    except OperationalError:  # SQLite's "database is locked", a dropped connection
        session["ws_error"], session["ws_saved"] = BUSY, None
        return
    checked_at = datetime.combine(session["ws_day"], session["ws_time"])
    session["ws_saved"] = (f"Saved check {logged.id} for {logged.asset_id}: "
                           f"{OUTCOMES[session['ws_outcome']]}, {checked_at:%d/%m/%Y %H:%M}"
                           + (" (it had been saved already)" if logged.duplicate else ""))
    session["ws_error"] = None
    session["ws_saves"] = session.get("ws_saves", 0) + 1  # a fresh photo box
    session["ws_notes"] = ""
    session["ws_corrects"] = None
    session["ws_outcome"] = "serviceable"
    session["ws_action"] = "none"


def pick_from_map(report: pd.DataFrame) -> None:
    """A tap on an item of the map picks it in the check form (a callback: it runs before the
    form's widgets are made on the next run, so it may set the chosen item)."""
    point = (st.session_state.get("ws_map") or {}).get("last_object_clicked")
    if not point or point == st.session_state.get("ws_last_click"):
        return
    st.session_state["ws_last_click"] = point
    distance = (report["lat"] - point["lat"]) ** 2 + (report["lon"] - point["lng"]) ** 2
    st.session_state["ws_item"] = report.loc[distance.idxmin(), "asset_id"]


def check_form(report: pd.DataFrame, items: pd.DataFrame, now: datetime) -> None:
    """Log a check: the item (from the list, or tapped on the map), its outcome with big
    choices for a thumb, who checked; time, photo and corrections folded away."""
    st.header("Log a check")
    if not state.may(LOG_CHECKS):
        st.caption("Logging checks is for officers and admins.")
        return
    if items.empty:
        st.write("No items in service.")
        return
    state_of = report.set_index("asset_id")["state_label"].to_dict()
    order = report["asset_id"].tolist() + [a for a in items["asset_id"]
                                           if a not in set(report["asset_id"])]
    sites = items.set_index("asset_id")["site"].to_dict()
    if st.session_state.get("ws_item") not in order:
        st.session_state["ws_item"] = order[0]
    asset = st.selectbox("Item (or tap it on the map)", order, key="ws_item",
                         format_func=lambda a: f"{a} – {sites.get(a, '')} "
                                               f"({state_of.get(a, 'not due')})")
    history = check_history(engine, asset)
    counting = history[history["counts"]].iloc[::-1]
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
                              on_click=state.as_signed_in(save_check), args=(engine, user))
    if st.session_state.get("ws_error"):
        st.error(md(st.session_state["ws_error"]))
    if st.session_state.get("ws_saved"):
        st.success(md(st.session_state["ws_saved"]))
    if len(history):
        with st.expander(f"Earlier checks of {md(asset)} ({len(history)})"):
            st.caption("Newest first. A corrected check stays in the history, marked as "
                       "not counting.")
            shown = history.iloc[::-1]
            st.table(markdown_safe(pd.DataFrame({
                "Check": shown["check_id"].astype(int),
                "When": shown["checked_at"].map(lambda t: f"{t:%d/%m/%Y %H:%M}"),
                "Checked by": shown["checked_by"].map(blank),
                "Outcome": shown["outcome_label"].map(blank),
                "Action": shown["action"].map(lambda a: ACTIONS.get(a, blank(a))),
                "Notes": shown["notes"].map(blank),
                "Counts": shown["counts"].map({True: "yes", False: "no, corrected"}),
            })), hide_index=True)


def equipment_map(report: pd.DataFrame, area: str) -> None:
    """The items on the map, each state a symbol as well as a colour; a tap picks the item."""
    if not assets_ready():
        st.error(f"The map's files are missing: {SETUP_HINT}.")
        return
    if report.empty:
        return
    if area == ALL_AREAS:
        boundary = load_layer(engine, "area").to_crs(27700).geometry
        wards, water = load_layer(engine, "ward").iloc[:0], load_layer(engine, "water")
        pspos = None
    else:
        context = state.map_layers(area, version)
        boundary, wards, water, pspos = (context.boundary, context.wards, context.water,
                                         context.pspos)
    fmap = build_map(boundary, wards, water, pd.DataFrame(columns=["lat", "lon"]),
                     gpd.GeoDataFrame(geometry=[], crs=4326), pspos=pspos,
                     equipment=report, label=f"Water-safety equipment, {area}", fold_key=True)
    fmap.fit_bounds([[report["lat"].min(), report["lon"].min()],
                     [report["lat"].max(), report["lon"].max()]])
    st_folium(fmap, height=420, use_container_width=True, key="ws_map",
              returned_objects=["last_object_clicked"],
              on_change=lambda: pick_from_map(report))
    st.caption("Each item's state is its symbol: a diamond with ! needs attention, a square "
               "with ? is not yet checked, a circle with ✓ is checked and serviceable. Use two "
               "fingers to move the map on a phone.")


st.title("Water safety")
engine = state.engine()
version = state.data_version()
user = state.current_user()
area_list = state.areas(version)

now = datetime.now()
months = months_ending(month_of(now), 12)[::-1]
everything = list_items(engine)  # the whole register, retired items too: read once a run
names = state.area_codes_to_names(version)
busiest = everything.loc[everything["active"], "area_code"].map(names).value_counts()
choices = [ALL_AREAS, *area_list]
first, second = st.columns(2)
area = first.selectbox("Area", choices, key="ws_area",
                       index=choices.index(busiest.index[0]) if len(busiest) else 0)
month = second.selectbox("Month", months, key="ws_month", format_func=month_name)
area_code = None if area == ALL_AREAS else resolve_area(engine, area).code
report = due_report(engine, month, area_code)
to_check = report[report["needs_check"]]
attention = report[report["attention"]]
st.markdown(f"**{len(report):,}** items in service · **{len(to_check):,}** "
            + ("not yet checked" if month == months[0] else "not checked that month")
            + f" · **{len(attention):,}** needing attention")
if report.empty:
    st.info("No equipment in the register yet: add items or import the council's list below.")
if report["example"].any():
    st.caption("Items marked EXAMPLE are the bundled example register (no council publishes "
               "its equipment list): replace them with your own.")

register = everything if area_code is None else \
    everything[everything["area_code"] == area_code]
items = register[register["active"]]
# on a phone the columns stack: the check form first, the map below it
form_column, map_column = st.columns([2, 3])
with form_column:
    check_form(report, items, now)
with map_column:
    equipment_map(report, area)

st.header("To do this month" if month == months[0] else f"To do in {month_name(month)}")
todo = report[report["needs_check"] | report["attention"]]
if todo.empty:
    st.success("Every item in service has been checked and is serviceable.")
else:
    st.table(markdown_safe(readable(todo, {
        "asset_id": "Asset", "state_label": "State", "kind_label": "Type", "site": "Site",
        "last_checked_at": "Last checked", "last_outcome_label": "Last outcome",
        "last_checked_by": "Checked by"})), hide_index=True)

st.header("Check history")
body, rows = history_csv(engine)
st.download_button(f"Download every check ({rows:,}) as CSV, for audit and insurance", body,
                   file_name="water_safety_checks.csv", mime="text/csv")

st.header("The equipment register")
if len(register):
    shown = readable(register, {
        "asset_id": "Asset", "kind_label": "Type", "site": "Site",
        "grid_reference": "Grid reference", "river": "River", "installed_on": "Installed",
        "owner": "Owner", "active": "In service", "retired_on": "Retired",
        "example": "Example"})
    st.dataframe(shown, hide_index=True, width="stretch", key="ws_register")
    first, second = st.columns(2)
    first.download_button("Download the register (CSV)", equipment_csv(register),
                          file_name="water_safety_equipment.csv", mime="text/csv")
    second.download_button("Download the register (GeoJSON)", equipment_geojson(register),
                           file_name="water_safety_equipment.geojson",
                           mime="application/geo+json")

if state.may(MANAGE_EQUIPMENT):
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

if state.may(MANAGE_EQUIPMENT):
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
        st.table(markdown_safe(rejected[["file", "row", "column", "reason", "raw"]]),
                 hide_index=True)


if state.may(MANAGE_EQUIPMENT):
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
