"""Action day planner page: choose a place (a hotspot, a problem location, a town centre, a
ward or an area drawn on the map), the day and a priority theme; the app builds the briefing
pack (map, recent incidents by type and month, repeat locations, PSPOs in force, water-safety
equipment and its state, open partner actions) to read here and download as a self-contained
HTML file or a printable A4 PDF."""

from __future__ import annotations

from datetime import date, timedelta

import shapely.geometry
import streamlit as st
import streamlit.components.v1 as components
from streamlit_folium import st_folium

from core.themes import ALL_CRIME, THEMES
from core.words import month_name, street_name
from geo.areas import resolve_area
from geo.crs import BNG, WGS84, reproject
from geo.layers import load_layer
from hotspots.analysis import DEFAULT_COVERAGE, DEFAULT_METHOD
from hotspots.profile import adoption_origin
from hotspots.result import HotspotInputError
from present.assets import SETUP_HINT, assets_ready
from present.map import drawing_map
from present.markdown import markdown_text
from registers.problems import list_problems
from report.briefing import BriefingError, Place, build_briefing, place_from_layer
from report.briefing_html import briefing_html
from report.briefing_pdf import briefing_pdf
from views import state

KINDS = ("Hotspot", "Problem location", "Town centre", "Ward", "Drawn area")
md = markdown_text


def to_bng(geometry) -> shapely.geometry.base.BaseGeometry:
    """A WGS84 outline in British National Grid metres."""
    return reproject(geometry, WGS84, BNG)


def choose_place(area: str, version, months: list[str]) -> Place | None:
    """The place widgets for the chosen kind; None until a place is chosen (or drawn)."""
    engine = state.engine()
    code = resolve_area(engine, area).code
    kind = st.radio("Place", KINDS, horizontal=True, key="ap_kind")
    if kind == "Hotspot":
        month_from = months[-12] if len(months) >= 12 else months[0]
        try:
            report = state.hotspot_report(area, month_from, months[-1], (), DEFAULT_METHOD,
                                             DEFAULT_COVERAGE, (), version)
        except HotspotInputError as exc:
            st.error(md(exc))
            return None
        spots = report.hotspots
        if spots.empty:
            st.info("No hotspots in the last 12 months here.")
            return None
        labels = {int(r.rank): f"{r.rank}: {street_name(r.top_location or '') or 'hotspot'} "
                               f"({r.ward}), {r.count} incidents" for r in spots.itertuples()}
        rank = st.selectbox(f"Hotspot ({month_name(month_from)} to {month_name(months[-1])}, "
                            "as on the Hotspot map with its defaults)", list(labels),
                            format_func=labels.get, key="ap_hotspot")
        row = spots[spots["rank"] == rank].iloc[0]
        return Place(f"Hotspot {rank}: {street_name(row['top_location'] or '') or row['ward']}",
                     "hotspot", code,
                     row.geometry, note=adoption_origin(report, rank))
    if kind == "Problem location":
        problems = list_problems(engine, area, include_closed=False)
        if problems.empty:
            st.info("No open problem locations here: adopt one from the Hotspot map.")
            return None
        labels = {int(r.id): r.name for r in problems.itertuples()}
        chosen = st.selectbox("Problem location", list(labels), format_func=labels.get,
                              key="ap_problem")
        row = problems[problems["id"] == chosen].iloc[0]
        return Place(row["name"], "problem location", code, to_bng(row.geometry),
                     note=f"Adopted {row['adopted_on']:%d/%m/%Y}: {row['objective']}")
    if kind in ("Town centre", "Ward"):
        layer_kind = "town-centre" if kind == "Town centre" else "ward"
        names = load_layer(engine, layer_kind, code)["name"].tolist()
        if not names:
            st.info(f"No {kind.lower()}s are loaded for {md(area)}: add them on the Data page.")
            return None
        name = st.selectbox(kind, names, key=f"ap_{layer_kind}")
        return place_from_layer(engine, layer_kind, name, area)
    if not assets_ready():
        st.error(f"The map's files are missing: {SETUP_HINT}.")
        return None
    st.caption("Draw the area with the polygon or rectangle tool (top left of the map).")
    context = state.map_layers(area, version)
    drawn = st_folium(drawing_map(context.boundary, context.wards, context.water,
                                  town_centres=context.town_centres, pspos=context.pspos),
                      height=420, use_container_width=True, key="ap_draw_map",
                      returned_objects=["last_active_drawing"])
    shape = (drawn or {}).get("last_active_drawing")
    name = st.text_input("Name of the drawn area", value="Drawn area", key="ap_drawn_name")
    if not shape:
        return None
    try:
        geometry = shapely.geometry.shape(shape["geometry"])
    except (KeyError, TypeError, ValueError, AttributeError):
        st.error("The drawn shape could not be read: draw it again.")
        return None
    return Place(name.strip() or "Drawn area", "drawn area", code, to_bng(geometry))


st.title("Action day planner")
version, months, area_list = state.data_or_stop()
engine = state.engine()
first, second, third, fourth = st.columns(4)
area = first.selectbox("Area", area_list, key="ap_area")
days_to_friday = (4 - date.today().weekday()) % 7 or 7
on = second.date_input("Action day", value=date.today() + timedelta(days=days_to_friday),
                       format="DD/MM/YYYY", key="ap_day")
theme = third.selectbox("Theme", [ALL_CRIME, *THEMES], key="ap_theme")
recent = fourth.number_input("Months of incidents", 1, 12, 3, key="ap_months",
                             help="The latest months loaded up to the action day (police.uk "
                                  "publishes each month about two months later)")
st.caption(state.currency_text(area))
place = choose_place(area, version, months)

if place is not None and st.button("Prepare the briefing pack", type="primary",
                                   key="ap_build"):
    try:
        with st.spinner("Preparing the briefing pack…"):
            briefing = build_briefing(engine, place, on, None if theme == ALL_CRIME else theme,
                                      months=int(recent))
            stem = "".join(c if c.isalnum() else "_" for c in
                           f"briefing_{place.name}_{on:%Y-%m-%d}".lower()).strip("_")[:80]
            st.session_state["ap_pack"] = {
                "title": f"{place.name}, {on:%d/%m/%Y}", "stem": stem,
                "html": briefing_html(briefing), "pdf": briefing_pdf(briefing),
                "incidents": len(briefing.incidents), "pspos": len(briefing.pspos),
                "equipment": len(briefing.equipment), "actions": len(briefing.actions)}
    except BriefingError as exc:
        st.session_state.pop("ap_pack", None)
        st.error(md(exc))

pack = st.session_state.get("ap_pack")
if pack:
    st.header(md(f"Briefing pack: {pack['title']}"))
    cols = st.columns(4)
    cols[0].metric("Incidents", f"{pack['incidents']:,}")
    cols[1].metric("PSPOs in force", pack["pspos"])
    cols[2].metric("Water-safety items", pack["equipment"])
    cols[3].metric("Open partner actions", pack["actions"])
    first, second = st.columns(2)
    first.download_button("Download the pack (HTML, opens offline)", pack["html"],
                          file_name=f"{pack['stem']}.html", mime="text/html",
                          key="ap_html", use_container_width=True)
    second.download_button("Download the pack (PDF, A4)", pack["pdf"],
                           file_name=f"{pack['stem']}.pdf", mime="application/pdf",
                           key="ap_pdf", use_container_width=True)
    st.caption("Preview (the HTML file as it will print):")
    components.html(pack["html"], height=1100, scrolling=True)
