"""Hotspot map page: pick area, months, crime types and method; see the map and the ranking,
which method predicts best here (measured on this area's own data) and the repeat locations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
import streamlit as st

from access.roles import EVALUATE, MANAGE_PROBLEMS
from core.months import month_range
from core.themes import ALL_CRIME, THEMES
from core.words import blank, month_name, month_span, settings_table, street_name
from geo.areas import UnknownAreaError
from hotspots import METHOD_NAMES, METHODS, method_options
from hotspots.analysis import DEFAULT_METHOD, Evaluation
from hotspots.evaluate import Candidate, default_candidates
from hotspots.profile import HotspotProfile, hotspot_at, hotspot_profile
from hotspots.result import HotspotInputError
from present.assets import SETUP_HINT, assets_ready
from present.export import hotspots_table
from present.markdown import markdown_safe, markdown_text
from registers.common import RegisterError
from registers.problems import adopt_hotspot
from views import state, trends

md = markdown_text


@dataclass(frozen=True)
class Param:
    """One method parameter as "More settings" asks for it: a number (0 = the method's rule) or a
    choice (the first choice is the method's default)."""

    name: str
    label: str
    help: str
    step: int = 25
    maximum: int = 5000
    integer: bool = False
    choices: tuple[str, ...] = ()


CELL_RULE = Param("cell_size", "Cell size (m)", "0 = 1/50 of the area's shorter side")
PARAMETERS: dict[str, list[Param]] = {
    "weighted": [Param("cell_size", "Cell size (m)",
                       "0 = 50 m, the street-scale cells the method was tested on")],
    "forecast": [Param("cell_size", "Cell size (m)",
                       "0 = 50 m, the street-scale cells the method was tested on")],
    "grid": [CELL_RULE, Param("shape", "Cell shape", "Hexagons: flat-to-flat width = cell size",
                              choices=("square", "hex"))],
    "kde": [CELL_RULE,
            Param("bandwidth", "Bandwidth (m)",
                  "0 = the bandwidth.nrd rule on the incidents, at least the cell size"),
            Param("kernel", "Kernel", "Quartic: the usual crime-mapping kernel",
                  choices=("quartic", "gaussian"))],
    "dbscan": [Param("eps", "eps (m)", "0 = mean spacing of distinct locations, 50-150 m",
                     maximum=2000),
               Param("min_samples", "min_samples",
                     "0 = 3x the even-spread count within eps, at least 5", step=1,
                     maximum=100000, integer=True)],
    "hdbscan": [Param("min_cluster_size", "min_cluster_size",
                      "0 = 3x the even-spread count within the mean spacing of locations, "
                      "at least 5", step=1, maximum=100000, integer=True),
                Param("min_samples", "min_samples", "0 = equal to min_cluster_size", step=1,
                      maximum=100000, integer=True)],
    "gistar": [CELL_RULE,
               Param("distance", "Neighbour distance (m)",
                     "0 = cell size x 1.41: the 8 touching cells"),
               Param("k", "Neighbours (k nearest cells)", "0 = use the neighbour distance",
                     step=1, maximum=500, integer=True)],
}
CANDIDATES = {c.label: c for c in default_candidates()}
PLAIN_WORDS = (
    "Each method is drawn from the months before a test month, and its hotspots are checked "
    "against where that month's incidents then happened. **Share caught**: the part of the "
    "month's incidents inside the hotspots. **Times the average (PAI)**: how many times more "
    "incidents the hotspots caught than their share of the land would. **Of the best "
    "possible (PEI\\*)**: the catch as a share of the best any hotspots of that size could "
    "have made, 1.0 being perfect.")


def parameter_inputs(method: str) -> tuple[tuple[str, float | int | str], ...]:
    """The method's parameter widgets; (name, value) pairs of those given (hashable)."""
    chosen: list[tuple[str, float | int | str]] = []
    for param in PARAMETERS.get(method, []):
        if param.name not in method_options(method):
            continue
        key = f"param_{method}_{param.name}"
        if param.choices:
            chosen.append((param.name, st.selectbox(param.label, param.choices, key=key,
                                                    help=param.help)))
            continue
        value = st.number_input(param.label, min_value=0, max_value=param.maximum, value=0,
                                step=param.step, key=key, help=param.help)
        if value:
            chosen.append((param.name, int(value) if param.integer else float(value)))
    return tuple(chosen)


def choices_of(method: str, params: dict) -> dict:
    """A method's choice parameters (shape, kernel), defaults filled in."""
    defaults = {p.name: p.choices[0] for p in PARAMETERS.get(method, []) if p.choices}
    return {**defaults, **{k: v for k, v in params.items() if k in defaults}}


def is_selected(candidate: Candidate, method: str, params: dict) -> bool:
    """Whether the map is drawn with the candidate's method and choices."""
    return (candidate.method == method
            and choices_of(method, params) == choices_of(method, candidate.params))


def describe(method: str, params: dict, cell_size: float | None = None) -> str:
    """How a method and its choices read in the sidebar, e.g. 'Grid counts (Cell shape: hex)';
    with `cell_size`, the cell size too for methods that work on cells."""
    labels = {p.name: p.label for p in PARAMETERS.get(method, [])}
    extra = [f"{labels[k]}: {v}" for k, v in choices_of(method, params).items()]
    if cell_size and "cell_size" in method_options(method):
        extra.append(f"{labels.get('cell_size', 'Cell size (m)')}: {cell_size:g}")
    name = METHOD_NAMES.get(method, method)
    return f"{name} ({', '.join(extra)})" if extra else name


def describe_months(months: list[str]) -> str:
    """'2024-01', or '2023-10 to 2024-01 (4 months)' for consecutive months."""
    if len(months) <= 2:
        return " and ".join(months)
    span = month_range(months[0], months[-1])
    if len(span) == len(months):
        return f"{months[0]} to {months[-1]} ({len(months)} months)"
    return ", ".join(months)


def accuracy_table(rows: pd.DataFrame) -> pd.DataFrame:
    """The evaluation summary as text, with names people read."""
    def fmt(value: float, pattern: str) -> str:
        return "–" if pd.isna(value) else format(value, pattern)
    return pd.DataFrame({
        "Method": rows["method"],
        "Of the best possible (PEI*)": rows["pei_star"].map(lambda v: fmt(v, ".2f")),
        "Times the average (PAI)": rows["pai"].map(lambda v: fmt(v, ".1f")),
        "Share caught": rows["hit_rate"].map(lambda v: fmt(v, ".0%")),
        "Incidents tested": rows["incidents"].map(lambda v: f"{int(v):,}"),
    })


def show_accuracy(result: Evaluation, focus: str, method: str, params: dict,
                  map_cell_size: float | None) -> None:
    """The summary table for one crime type and the method it recommends."""
    summary = result.summary
    best = result.best(focus)
    if best is None and focus != ALL_CRIME:
        st.info(f"Too few {markdown_text(focus)} incidents in the test month(s) to "
                "compare the methods; "
                f"showing {ALL_CRIME} instead.")
        focus, best = ALL_CRIME, result.best(ALL_CRIME)
    if best is None:
        st.info("No method could be measured: the test month(s) hold no incidents here.")
        return
    rows = summary[summary["crime_type"] == focus]
    st.table(markdown_safe(accuracy_table(rows)), hide_index=True)
    top = rows[rows["method"] == best].iloc[0]
    st.markdown(f"Recommended for {markdown_text(focus)}: "
                f"**{markdown_text(best)}** (PEI\\* {top['pei_star']:.2f}, tested on "
                f"{describe_months(result.test_months)}, fitted on the {result.train_months} "
                "months before)")
    candidate = CANDIDATES.get(best)
    if candidate is None:
        return
    if not is_selected(candidate, method, params):
        st.warning(f"The map is drawn with {describe(method, params)}, which did less well "
                   f"here: choose {describe(candidate.method, candidate.params, result.cell_size)}"
                   f" as the Method to use {best}.")
    else:
        st.success("The map already uses the recommended method.")
        if ("cell_size" in method_options(method) and map_cell_size
                and float(map_cell_size) != result.cell_size):
            st.caption(f"It was tested on {result.cell_size:g} m squares; the map uses "
                       f"{float(map_cell_size):g} m squares (set Cell size to "
                       f"{result.cell_size:g} under More settings to match).")
    for note in result.notes:
        st.caption(f"Note: {markdown_text(note)}")


def repeat_table(repeats: pd.DataFrame) -> pd.DataFrame:
    """Repeat locations as people read them: where, how many, what, first and last month."""
    return pd.DataFrame({
        "Rank": repeats["rank"].astype(int),
        "Place": repeats["location"].map(blank),
        "Incidents": repeats["count"].astype(int),
        "Main types": repeats["top_types"].map(blank),
        "First": repeats["first_month"].map(month_name),
        "Last": repeats["last_month"].map(month_name),
    })


def profile_tables(profile: HotspotProfile) -> None:
    """The profile's counts by month and type and its repeat locations."""
    st.markdown("**Incidents by month**")
    by_month = profile.by_month.assign(month=profile.by_month["month"].map(month_name))
    st.bar_chart(by_month.set_index("month")["count"], height=200, x_label="Month",
                 y_label="Incidents", sort=False)
    st.markdown("**By type**")
    by_type = pd.DataFrame({"Crime type": profile.by_type["crime_type"],
                            "Incidents": profile.by_type["count"].astype(int),
                            "Share": profile.by_type["share"].map(
                                lambda v: "under 1%" if 0 < v < 0.005 else f"{v:.0%}")})
    st.table(markdown_safe(by_type), hide_index=True)
    st.markdown("**Repeat locations in this hotspot**")
    if profile.repeats.empty:
        st.write("No place in it has two or more incidents.")
    else:
        st.table(markdown_safe(repeat_table(profile.repeats)), hide_index=True)


def adopt_form(report, profile: HotspotProfile) -> None:
    """Adopt the hotspot's outline as a problem location for the JAG to work (OSARA)."""
    top = profile.repeats["location"].iloc[0] if len(profile.repeats) else ""
    with st.form(f"adopt_{profile.rank}"):
        st.markdown("**Adopt as a problem location** (its outline is kept; work it on the "
                    "Problem locations page)")
        name = st.text_input("Name", value=f"{top or f'Hotspot {profile.rank}'} "
                             f"({profile.context['ward'] or report.area.name})"[:300],
                             key="adopt_name")
        objective = st.text_area("Objective", key="adopt_objective", height=68,
                                 placeholder="e.g. Reduce violence and public order at the "
                                 "station forecourt by 20% in six months")
        first, second = st.columns(2)
        theme = first.selectbox("Priority theme", [None, *THEMES], key="adopt_theme",
                                format_func=lambda t: "(none)" if t is None else t)
        adopted_on = second.date_input("Adopted on", value=datetime.now().date(),
                                       format="DD/MM/YYYY", key="adopt_on")
        scanning = st.text_area(
            "Scanning", key="adopt_scanning", height=68,
            value=f"{profile.count} incidents {report.month_from} to {report.month_to}: "
                  + "; ".join(f"{r.crime_type} {r.count}" for r in
                              profile.by_type.head(4).itertuples()) + f". {profile.trend}")
        adopt = st.form_submit_button("Adopt", type="primary")
    if adopt:
        try:
            adopt_hotspot(state.engine(), report, profile.rank, name=name,
                          objective=objective, adopted_on=adopted_on, theme=theme,
                          scanning=scanning, recorded_by=state.current_user(), profile=profile)
        except RegisterError as exc:
            st.error(markdown_text(exc))
        else:
            st.success(markdown_text(f"Adopted '{name.strip()}' as a problem "
                                              "location."))
            st.page_link("views/problems.py", label="Open Problem locations")


def selection_row(months: list[str], area_list: list[str], version) -> dict:
    """The selection in one row above the map (area, months, crime types, method), the rarer
    settings behind "More settings": all of it visible at 1366 x 768 without scrolling."""
    # a link can open the map on an area: /hotspot_map?area=Spelthorne
    linked = st.query_params.get("area")
    if "area" not in st.session_state and linked in area_list:
        st.session_state["area"] = linked
    area_col, months_col, types_col, method_col, more_col = st.columns(
        [1.1, 2.2, 2.2, 1.6, 0.9], vertical_alignment="bottom")
    area = area_col.selectbox("Area", area_list, key="area")
    default_from = months[-12] if len(months) >= 12 else months[0]
    month_from, month_to = months_col.select_slider(
        "Months", options=months, value=(default_from, months[-1]), key="months",
        format_func=month_name)
    crime_types = types_col.multiselect("Crime types (none chosen = all)",
                                        state.category_list(version), key="crime_types",
                                        placeholder=ALL_CRIME)
    method_keys = list(METHODS)
    method = method_col.selectbox("Method", method_keys,
                                  index=method_keys.index(DEFAULT_METHOD),
                                  format_func=lambda m: METHOD_NAMES.get(m, m), key="method")
    with more_col.popover("More settings", use_container_width=True):
        coverage_pct = st.slider("Hotspots cover at most this % of the land", 0.25, 10.0, 1.0,
                                 0.25, key="coverage")
        by_month = st.toggle("Month by month", key="by_month",
                             help="Step through the chosen months one at a time")
        st.markdown("**Method settings** (0 = chosen by the method's rule)")
        params = parameter_inputs(method)
        frontage_m = float(st.number_input(
            "River frontage (m)", min_value=10, max_value=500, value=50, step=10,
            key="frontage", help="Land within this distance of the water counts as river "
                                 "frontage (a light-blue band on the map)"))
    if by_month and month_from != month_to:
        span = months[months.index(month_from):months.index(month_to) + 1]
        month_from = month_to = st.select_slider("Month shown", options=span, value=span[-1],
                                                 key="month_shown", format_func=month_name)
    return {"area": area, "month_from": month_from, "month_to": month_to,
            "crime_types": tuple(crime_types), "method": method,
            "coverage": coverage_pct / 100, "params": params, "frontage_m": frontage_m}


def ranking_table(report) -> pd.DataFrame:
    """The ranked hotspots as the meeting reads them: four columns, named for people."""
    table = hotspots_table(report.hotspots)
    return pd.DataFrame({
        "Rank": table["rank"].astype(int),
        "Busiest street (on or near)": table["top_location"].map(
            lambda v: street_name(blank(v)) or "–"),
        "Ward": table["ward"].map(blank),
        "Incidents": table["count"].astype(int),
    })


def how_worked_out(report) -> None:
    """The method, its settings and rules, the data and the coordinate system, in words, for
    those who ask."""
    with st.expander("How this was worked out"):
        st.markdown(md(f"**{METHOD_NAMES.get(report.method, report.method)}** on "
                       f"{len(report.incidents):,} incidents."))
        for note in report.notes:
            st.caption(md(note))
        st.table(markdown_safe(settings_table(report.parameters)), hide_index=True)
        st.caption("Distances and areas are measured in metres on the Ordnance Survey's "
                   "British National Grid (EPSG:27700); the map is drawn in longitude and "
                   "latitude (WGS84). Coordinates are converted without the OSTN15 grid, "
                   "which is about 2 m out: far finer than a hotspot. police.uk moves each "
                   "crime to the nearest of a fixed set of points (\"On or near ...\").")


def show_ranking(report, selection: dict) -> None:
    """The ranked hotspots beside the map: what they hold, the table (a row opens its
    profile) and the downloads."""
    hotspots = report.hotspots
    total = len(report.incidents)
    covered = hotspots.attrs.get("covered_share") or 0
    if hotspots.empty:
        st.info("No hotspots for this selection.")
        return
    inside = int(hotspots["count"].sum())
    st.markdown(f"**{len(hotspots)} hotspots** hold **{inside:,}** of the **{total:,}** "
                f"incidents ({inside / max(total, 1):.0%}) on {covered:.1%} of the land. "
                "Click one on the map, or a row, for its profile.")
    table = ranking_table(report)
    chosen = st.dataframe(
        table, hide_index=True, width="stretch", key="hotspot_table", height=360,
        on_select="rerun", selection_mode="single-row",
        # widths that fit the column beside the map at 1366 px: no sideways scrolling
        column_config={
            "Rank": st.column_config.NumberColumn(width=48),
            "Busiest street (on or near)": st.column_config.TextColumn(width=190),
            "Ward": st.column_config.TextColumn(width=160),
            "Incidents": st.column_config.NumberColumn(width=72, format="%d")})
    rows = chosen.selection.rows if chosen else []
    if rows and rows != st.session_state.get("hotspot_rows"):
        st.session_state["profile_rank"] = int(table.iloc[rows[0]]["Rank"])
        st.rerun()
    st.session_state["hotspot_rows"] = rows
    stem = (f"hotspots_{report.area.name}_{report.month_from}_{report.month_to}_"
            f"{report.method}").lower()
    withheld = state.withheld_text(selection["area"], report.month_from, report.month_to,
                                      selection["crime_types"], where="from this file")
    geojson, csv = state.hotspot_files(
        selection["area"], report.month_from, report.month_to, selection["crime_types"],
        report.method, selection["coverage"], selection["params"], state.data_version(),
        selection["frontage_m"], withheld)
    first, second = st.columns(2)
    first.download_button("Download (GeoJSON)", geojson, file_name=f"{stem}.geojson",
                          mime="application/geo+json", use_container_width=True,
                          on_click="ignore")
    second.download_button("Download (CSV)", csv, file_name=f"{stem}.csv", mime="text/csv",
                           use_container_width=True, on_click="ignore")


def show_profile(report, rank: int) -> None:
    """The clicked hotspot's profile: context, trend, counts, repeat locations, adopt."""
    profile = hotspot_profile(report, rank)
    head, back = st.columns([3, 2], vertical_alignment="center")
    head.subheader(f"Hotspot {rank}")
    if back.button("Back to the list", key="profile_back", use_container_width=True):
        st.session_state.pop("profile_rank", None)
        st.session_state["hotspot_rows"] = []
        st.rerun()
    context = profile.context
    water = context["water_distance_m"]
    where = [f"**{profile.count:,} incidents**", f"ward {context['ward'] or '–'}",
             f"town centre: {context['town_centre'] or 'none'}",
             "river: –" if water is None else f"{water:,.0f} m from the river",
             f"PSPO: {context['pspo'] or 'none'}"]
    st.markdown(" · ".join(md(part) if not part.startswith("**") else part
                           for part in where))
    st.markdown(md(f"Trend: {profile.trend}"))
    for note in profile.notes:
        st.caption(md(note))
    profile_tables(profile)
    if state.may(MANAGE_PROBLEMS):
        adopt_form(report, profile)


st.title("Hotspot map")
version, months, area_list = state.data_or_stop()
selection = selection_row(months, area_list, version)
area, month_from, month_to = selection["area"], selection["month_from"], selection["month_to"]
crime_types, method = selection["crime_types"], selection["method"]
try:
    report = state.hotspot_report(area, month_from, month_to, crime_types, method,
                                     selection["coverage"], selection["params"], version,
                                     selection["frontage_m"])
except (HotspotInputError, UnknownAreaError) as exc:
    st.error(md(exc))
    st.stop()
types = ", ".join(crime_types) if crime_types else "all crime and ASB"
st.caption(md(f"{area}, {month_span(month_from, month_to)}, {types}: "
              f"{len(report.incidents):,} incidents. {report.ranking} ")
           + state.currency_text(area))
withheld = state.withheld_text(area, month_from, month_to, crime_types)
if withheld:
    st.caption(md(withheld))
left, right = st.columns([11, 9])
with left:
    if not assets_ready():
        st.error(f"The map's files are missing: {SETUP_HINT}.")
    else:
        fmap = state.hotspot_base_map(
            area, version, selection["frontage_m"], datetime.now().strftime("%Y-%m"),
            state.register_version(), state.problems_version())
        layers = state.hotspot_layers(
            area, month_from, month_to, crime_types, method, selection["coverage"],
            selection["params"], version, selection["frontage_m"])
        # only clicks come back: panning and zooming do not rerun the page; a new selection
        # sends only its own layers to the map already drawn
        clicked = state.show_shared_map(fmap, layers, height=520, use_container_width=True,
                                           returned_objects=["last_object_clicked"],
                                           key="hotspot_map")
        point = (clicked or {}).get("last_object_clicked")
        if point and point != st.session_state.get("hotspot_last_click"):
            st.session_state["hotspot_last_click"] = point
            rank = hotspot_at(report, point["lat"], point["lng"])
            if rank is not None:
                st.session_state["profile_rank"] = rank
with right:
    rank = st.session_state.get("profile_rank")
    if rank is not None and rank in set(report.hotspots["rank"]):
        show_profile(report, rank)
    else:
        show_ranking(report, selection)
how_worked_out(report)
context = state.map_layers(area, version, selection["frontage_m"])
notes = []
ward_note = context.wards["note"].dropna().unique()
if len(ward_note):
    notes.append(f"Wards: {md(ward_note[0])}")
centres = context.town_centres
approximate = centres[centres["approximate"]] if len(centres) else centres
if len(approximate):
    notes.append("Town centres drawn dashed are approximate (a circle around a high street "
                 "postcode, not the council's boundary): "
                 + ", ".join(approximate["name"].map(md)) + ".")
for note in notes:
    st.caption(note)
st.header("Repeat locations")
repeats = state.repeats(area, month_from, month_to, crime_types, method,
                           selection["coverage"], selection["params"], version,
                           selection["frontage_m"])
st.caption(md(f"The places with the most incidents ({area}, {month_span(month_from, month_to)}"
              f", {types}). police.uk puts each crime at the nearest of a fixed set of points "
              "(\"On or near …\"), so a problem place recurs under the same name."))
if repeats.empty:
    st.write("No place has two or more incidents in this selection.")
else:
    st.table(markdown_safe(repeat_table(repeats.head(10))), hide_index=True)
st.header("Which method works best here?")
focus = crime_types[0] if len(crime_types) == 1 else ALL_CRIME
st.caption(PLAIN_WORDS)
if not state.may(EVALUATE):
    st.caption("Measuring the methods' accuracy is for analysts.")
elif not st.session_state.get("accuracy_requested"):
    st.write(md(f"Test every method on {area}'s stored months for {focus} "
                "(takes a few seconds)."))
    st.button("Measure accuracy", key="measure_accuracy",
              on_click=lambda: st.session_state.update(accuracy_requested=True))
if state.may(EVALUATE) and st.session_state.get("accuracy_requested"):
    evaluated = (ALL_CRIME,) if focus == ALL_CRIME else (ALL_CRIME, focus)
    try:
        result = state.evaluation(area, evaluated, selection["coverage"], version)
    except HotspotInputError as exc:
        st.info(f"Accuracy cannot be measured yet: {md(exc)}")
    else:
        if len(crime_types) > 1:
            st.caption(f"Several crime types are chosen: the table is for {ALL_CRIME}.")
        st.caption(md(f"{area}; hotspots cover {selection['coverage']:.2%} of the land, as "
                      f"on the map; methods that work on cells were tested on "
                      f"{result.cell_size:g} m cells."))
        show_accuracy(result, focus, method, dict(selection["params"]),
                      report.parameters.get("cell_size_m"))
trends.where_heading(area, month_from, month_to, crime_types, selection["coverage"], months,
                     version)
