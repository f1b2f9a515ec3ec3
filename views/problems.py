"""Problem locations page: the JAG's register of adopted problem locations worked with OSARA
(Objective, Scanning, Analysis, Response, Assessment), the partner actions at each (lead agency,
due date, Open/Closed) and the incidents there before and since adoption. Adopt new ones from
the Hotspot map page (click a hotspot)."""

from __future__ import annotations

from datetime import date

import geopandas as gpd
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from access.roles import MANAGE_PROBLEMS
from core.words import readable
from present.assets import SETUP_HINT, assets_ready
from present.map import build_map
from present.markdown import markdown_safe, markdown_text
from registers.common import RegisterError
from registers.export import actions_csv, problems_csv
from registers.problems import (
    OSARA,
    STATUSES,
    add_action,
    close_problem,
    get_problem,
    list_problems,
    problem_actions,
    problem_incidents,
    reopen_problem,
    update_action,
    update_osara,
)
from views import state, trends

ALL_AREAS = "All areas"
md = markdown_text


def saved(message: str) -> None:
    """After a change: say so on the next run and clear the caches that read the register."""
    st.session_state["pl_saved"] = message
    st.rerun()


st.title("Problem locations")
engine = state.engine()
version = state.data_version()
user = state.current_user()
editable = state.may(MANAGE_PROBLEMS)  # officers and admins; the library checks again
today = date.today()
area_list = state.areas(version)

first, second = st.columns([1, 3])
area = first.selectbox("Area", [ALL_AREAS, *area_list], key="pl_area")
show_closed = first.toggle("Show closed locations", value=True, key="pl_closed")
problems = list_problems(engine, None if area == ALL_AREAS else area, today,
                         include_closed=show_closed)
if st.session_state.get("pl_saved"):
    st.success(md(st.session_state.pop("pl_saved")))
if problems.empty:
    st.info("No problem locations adopted yet: open the **Hotspot map**, click a hotspot and "
            "adopt it (its outline is kept here).")
    st.page_link("views/hotspot_map.py", label="Open the Hotspot map")
    st.stop()

with second:
    overdue = int(problems["overdue_actions"].sum())
    cols = st.columns(3)
    cols[0].metric("Open locations", int((problems["status"] == "Open").sum()))
    cols[1].metric("Open actions", int(problems["open_actions"].sum()))
    cols[2].metric("Overdue actions", overdue)
table = readable(problems, {"name": "Problem location", "area": "Borough", "status": "Status",
                            "theme": "Theme", "adopted_on": "Adopted",
                            "open_actions": "Open actions", "overdue_actions": "Overdue",
                            "next_due": "Next due"})
st.dataframe(table, hide_index=True, width="stretch", key="pl_table")
first, second = st.columns(2)
first.download_button("Download the register (CSV)", problems_csv(problems),
                      file_name="problem_locations.csv", mime="text/csv")
second.download_button("Download every action (CSV)", actions_csv(problem_actions(engine,
                                                                                  today=today)),
                       file_name="problem_actions.csv", mime="text/csv")

labels = {int(r.id): f"{r.name} ({r.area}, {r.status})" for r in problems.itertuples()}
chosen = st.selectbox("Work a location", list(labels), format_func=labels.get, key="pl_chosen")
record = get_problem(engine, chosen, today)
p = record.problem
st.header(md(p["name"]))
st.caption(md(f"{record.area_name}; adopted {p['adopted_on']:%d/%m/%Y} by {p['created_by']}; "
              f"from {p['origin']}") + (f"; closed {p['closed_on']:%d/%m/%Y}"
                                        if p["closed_on"] else ""))
left, right = st.columns([3, 2])
with right:
    if assets_ready():
        context = state.map_layers(record.area_name, version)
        fmap = build_map(context.boundary, context.wards, context.water,
                         pd.DataFrame(columns=["lat", "lon"]),
                         gpd.GeoDataFrame(geometry=[], crs=4326), pspos=context.pspos,
                         problems=gpd.GeoDataFrame({"name": [p["name"]]},
                                                   geometry=[record.area], crs=4326))
        minx, miny, maxx, maxy = record.area.bounds
        pad = 0.002
        fmap.fit_bounds([[miny - pad, minx - pad], [maxy + pad, maxx + pad]])
        st_folium(fmap, height=360, use_container_width=True, returned_objects=[],
                  key="pl_map")
    else:
        st.error(f"The map's files are missing: {SETUP_HINT}.")
with left:
    if not editable:
        st.markdown("**OSARA**")
        for field, label in OSARA.items():
            st.markdown(f"*{label}*: " + md(p[field] or "–"))
    else:
        with st.form("pl_osara"):
            st.markdown("**OSARA**")
            texts = {field: st.text_area(label, value=p[field] or "", key=f"pl_{field}_{chosen}",
                                         height=80 if field != "objective" else 68)
                     for field, label in OSARA.items()}
            save_osara = st.form_submit_button("Save OSARA")
        if save_osara:
            try:
                changed = update_osara(engine, chosen, texts, recorded_by=user)
            except RegisterError as exc:
                st.error(md(exc))
            else:
                saved(f"Saved {', '.join(OSARA[f] for f in changed)}." if changed
                      else "Nothing had changed.")

st.subheader("Partner actions (key points for delivery)")
actions = record.actions
if actions.empty:
    st.write("No actions yet.")
else:
    st.table(markdown_safe(readable(actions, {
        "action_id": "Action", "action": "What", "lead": "Lead", "measure": "Measure",
        "due_on": "Due", "status": "Status", "overdue": "Overdue", "closed_on": "Closed",
        "update_note": "Latest note"})), hide_index=True)
if editable and p["status"] == "Open":
    with st.expander("Add an action", expanded=actions.empty):
        with st.form("pl_add_action"):
            what = st.text_input("Action", key="pl_new_action",
                                 placeholder="e.g. Joint patrols Friday and Saturday evenings")
            first, second, third = st.columns(3)
            lead = first.text_input("Lead agency", key="pl_new_lead",
                                    placeholder="e.g. Surrey Police")
            due = second.date_input("Due", value=None, format="DD/MM/YYYY", key="pl_new_due")
            measure = third.text_input("Measure", key="pl_new_measure")
            add_it = st.form_submit_button("Add action", type="primary")
        if add_it:
            try:
                add_action(engine, chosen, action=what, lead=lead, due_on=due or "",
                           measure=measure, recorded_by=user)
            except RegisterError as exc:
                st.error(md(exc))
            else:
                saved(f"Added the action for {lead.strip()}.")
if editable and len(actions):
    with st.expander("Update an action"):
        with st.form("pl_update_action"):
            names = {int(r.action_id): f"{r.action_id}: {r.action} ({r.lead}, {r.status})"
                     for r in actions.itertuples()}
            action_id = st.selectbox("Action", list(names), format_func=names.get,
                                     key="pl_upd_id")
            first, second, third = st.columns(3)
            status = first.radio("Status", STATUSES, horizontal=True, key="pl_upd_status")
            new_due = second.date_input("Move the due date to", value=None,
                                        format="DD/MM/YYYY", key="pl_upd_due")
            closed_on = third.date_input("Closed on", value=today, format="DD/MM/YYYY",
                                         key="pl_upd_closed")
            note = st.text_input("Progress note", key="pl_upd_note")
            update_it = st.form_submit_button("Update")
        if update_it:
            try:
                changed = update_action(engine, action_id, status=status, due_on=new_due,
                                        note=note, on=closed_on, recorded_by=user)
            except RegisterError as exc:
                st.error(md(exc))
            else:
                saved(f"Action {action_id}: " + (", ".join(changed) + " updated." if changed
                                                  else "nothing had changed."))

st.subheader("Incidents here, before and since adoption")
result = problem_incidents(engine, chosen)
trends.show_place_incidents(result, "Since", "the outline", f"adopted in {result.start_month}")
trends.did_it_work(
    "location", f"{p['adopted_on']:%Y-%m}", f"pl_wdd_{chosen}",
    lambda before, after, ring: trends.problem_assessment(chosen, before, after, ring, version))

st.subheader("History")
st.table(markdown_safe(readable(record.events, {
    "recorded_at": "When", "kind": "What happened", "summary": "Changes (before → after)",
    "recorded_by": "Who"})), hide_index=True)

if editable:
    with st.expander("Close or reopen this location"):
        if p["status"] == "Open":
            with st.form("pl_close"):
                first, second = st.columns([1, 3])
                closed = first.date_input("Closed on", value=today, format="DD/MM/YYYY",
                                          key="pl_close_on")
                assessment = second.text_area("Assessment: what did the response achieve?",
                                              value=p["assessment"] or "", key="pl_close_assess")
                close_it = st.form_submit_button("Close the location")
            if close_it:
                try:
                    close_problem(engine, chosen, on=closed, assessment=assessment,
                                  recorded_by=user)
                except RegisterError as exc:
                    st.error(md(exc))
                else:
                    saved(f"Closed {p['name']}.")
        else:
            with st.form("pl_reopen"):
                reason = st.text_input("Why reopen it?", key="pl_reopen_reason")
                reopen_it = st.form_submit_button("Reopen")
            if reopen_it:
                try:
                    reopen_problem(engine, chosen, reason=reason, recorded_by=user)
                except RegisterError as exc:
                    st.error(md(exc))
                else:
                    saved(f"Reopened {p['name']}.")

