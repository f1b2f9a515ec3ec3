"""PSPO editor (admins only): add an order to the register (upload its map or draw it) and
record reviews, extensions and discharges. A page function, so the role is checked first
whoever calls it, from the navigation, by URL or directly; the register functions check it
again."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

import streamlit as st
from streamlit_folium import st_folium

from access.roles import MANAGE_PSPOS
from access.scope import require
from geo.areas import UnknownAreaError, resolve_area
from present.assets import assets_ready
from present.map import drawing_map
from present.markdown import markdown_text
from registers.common import RegisterError
from registers.outlines import AREA_FILE_TYPES, read_area_file
from registers.pspo import (
    DEFAULT_REVIEW_DAYS,
    Condition,
    add_order,
    discharge_order,
    extend_order,
    list_orders,
    review_order,
)
from views import state

md = markdown_text

def pspo_editor() -> None:
    """The editor page; raises AccessDenied for anyone who may not manage PSPOs."""
    require(MANAGE_PSPOS)
    st.title("PSPO editor")
    engine = state.engine()
    version = state.data_version()
    area_list = state.areas(version)
    user = state.current_user()
    orders = list_orders(engine)
    st.header("Record a review, an extension or a discharge")
    if len(orders):
        labels = {int(r.id): f"{r.reference} – {r.name} ({r.area})"
                  for r in orders.itertuples()}
        chosen = st.selectbox("Order", list(labels), format_func=labels.get,
                              key="pspo_order")
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

    st.header("Add an order")
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
        draw_context = state.map_layers(new_area, version)
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
