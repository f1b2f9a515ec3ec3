"""Hotspot map page: pick area, months, crime types and method; see the map and the ranking,
which method predicts best here (measured on this area's own data) and the repeat locations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
import streamlit as st

from access.roles import EVALUATE, MANAGE_PROBLEMS
from geo.areas import UnknownAreaError
from hotspots import METHOD_NAMES, METHODS, method_options
from hotspots.analysis import DEFAULT_METHOD, Evaluation
from hotspots.evaluate import ALL_CRIME, Candidate, default_candidates
from hotspots.profile import HotspotProfile, adoption_origin, hotspot_at, hotspot_profile
from hotspots.result import HotspotInputError
from present import appstate
from present.assets import SETUP_HINT, assets_ready
from present.export import hotspots_csv, hotspots_geojson, hotspots_table
from registers.common import RegisterError
from registers.problems import adopt_problem
from report.themes import THEMES


@dataclass(frozen=True)
class Param:
    """One method parameter as the sidebar asks for it: a number (0 = the method's rule) or a
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
    "Each method was fitted on the months before a test month and its hotspots compared with "
    "where that month's incidents happened. **PAI**: how many times more incidents the "
    "hotspots catch than their share of the area. **PEI\\***: share of the best possible "
    "catch for that area, 1.0 = perfect. **Hit rate**: share of the month's incidents inside "
    "the hotspots.")


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
    span = pd.period_range(months[0], months[-1], freq="M")
    if len(span) == len(months):
        return f"{months[0]} to {months[-1]} ({len(months)} months)"
    return ", ".join(months)


def accuracy_table(rows: pd.DataFrame) -> pd.DataFrame:
    """The evaluation summary as text, formatted as `hotspots evaluate` prints it."""
    def fmt(value: float, pattern: str) -> str:
        return "–" if pd.isna(value) else format(value, pattern)
    return pd.DataFrame({
        "Method": rows["method"],
        "PEI*": rows["pei_star"].map(lambda v: fmt(v, ".3f")),
        "PAI": rows["pai"].map(lambda v: fmt(v, ".1f")),
        "Hit rate": rows["hit_rate"].map(lambda v: fmt(v, ".1%")),
        "Incidents": rows["incidents"].map(lambda v: f"{int(v):,}"),
    })


def show_accuracy(result: Evaluation, focus: str, method: str, params: dict,
                  map_cell_size: float | None) -> None:
    """The summary table for one crime type and the method it recommends."""
    summary = result.summary
    best = result.best(focus)
    if best is None and focus != ALL_CRIME:
        st.info(f"Too few {appstate.markdown_text(focus)} incidents in the test month(s) to "
                "compare the methods; "
                f"showing {ALL_CRIME} instead.")
        focus, best = ALL_CRIME, result.best(ALL_CRIME)
    if best is None:
        st.info("No method could be measured: the test month(s) hold no incidents here.")
        return
    rows = summary[summary["crime_type"] == focus]
    st.table(appstate.markdown_safe(accuracy_table(rows)), hide_index=True)
    top = rows[rows["method"] == best].iloc[0]
    st.markdown(f"Recommended for {appstate.markdown_text(focus)}: "
                f"**{appstate.markdown_text(best)}** (PEI\\* {top['pei_star']:.2f}, tested on "
                f"{describe_months(result.test_months)}, fitted on the {result.train_months} "
                "months before)")
    candidate = CANDIDATES.get(best)
    if candidate is None:
        return
    if not is_selected(candidate, method, params):
        st.warning(f"The map is drawn with {describe(method, params)}, which did less well "
                   f"here: choose {describe(candidate.method, candidate.params, result.cell_size)}"
                   f" under Method to use {best}.")
    else:
        st.success("The map already uses the recommended method.")
        if ("cell_size" in method_options(method) and map_cell_size
                and float(map_cell_size) != result.cell_size):
            st.caption(f"It was tested on {result.cell_size:g} m cells; the map uses "
                       f"{float(map_cell_size):g} m cells (set Cell size to "
                       f"{result.cell_size:g} under Method parameters to match).")
    for note in result.notes:
        st.caption(f"Note: {appstate.markdown_text(note)}")


def profile_tables(profile: HotspotProfile) -> None:
    """The profile's counts by month and type and its repeat locations."""
    left, right = st.columns(2)
    with left:
        st.markdown("**By month**")
        st.bar_chart(profile.by_month.set_index("month")["count"], height=220,
                     x_label="Month", y_label="Incidents")
    with right:
        st.markdown("**By type**")
        st.dataframe(profile.by_type.rename(columns={"crime_type": "Crime type",
                                                     "count": "Incidents", "share": "Share"}),
                     hide_index=True, width="stretch", key="profile_types",
                     column_config={"Share": st.column_config.NumberColumn(format="percent")})
    st.markdown("**Repeat locations in this hotspot**")
    if profile.repeats.empty:
        st.write("No place in it has two or more incidents.")
    else:
        st.table(appstate.markdown_safe(pd.DataFrame(
            profile.repeats[["rank", "location", "count", "top_types", "first_month",
                             "last_month"]])), hide_index=True)


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
            adopt_problem(appstate.engine(), area=report.area.code, name=name,
                          geometry=profile.outline_wgs84, objective=objective,
                          origin=adoption_origin(report, profile.rank), adopted_on=adopted_on,
                          theme=theme, scanning=scanning, recorded_by=appstate.current_user())
        except RegisterError as exc:
            st.error(appstate.markdown_text(exc))
        else:
            st.success(appstate.markdown_text(f"Adopted '{name.strip()}' as a problem "
                                              "location."))
            st.page_link("views/problems.py", label="Open Problem locations")


def show_profile(report, rank: int) -> None:
    """The clicked hotspot's profile: context, trend, counts, repeat locations, adopt."""
    profile = hotspot_profile(report, rank)
    st.divider()
    st.subheader(f"Hotspot {rank} profile")
    context = profile.context
    cols = st.columns(5)
    cols[0].metric("Incidents", f"{profile.count:,}")
    cols[1].metric("Ward", appstate.markdown_text(context["ward"] or "–"))
    cols[2].metric("Town centre", appstate.markdown_text(context["town_centre"] or "none"))
    water = context["water_distance_m"]
    cols[3].metric("Metres to river", "–" if water is None else f"{water:,.0f}")
    cols[4].metric("PSPO", appstate.markdown_text(context["pspo"] or "none"))
    st.write(appstate.markdown_text(f"Trend: {profile.trend}"))
    for note in profile.notes:
        st.caption(appstate.markdown_text(note))
    profile_tables(profile)
    if appstate.may(MANAGE_PROBLEMS):
        adopt_form(report, profile)


st.title("Hotspot map")
version, months, area_list = appstate.data_or_stop()

with st.sidebar:
    st.header("Selection")
    # a link can open the map on an area: /hotspot_map?area=Spelthorne
    linked = st.query_params.get("area")
    if "area" not in st.session_state and linked in area_list:
        st.session_state["area"] = linked
    area = st.selectbox("Area", area_list, key="area")
    default_from = months[-12] if len(months) >= 12 else months[0]
    month_from, month_to = st.select_slider("Months", options=months,
                                            value=(default_from, months[-1]), key="months")
    by_month = st.toggle("Month by month", key="by_month",
                         help="Step through the months one at a time with the slider below")
    if by_month and month_from != month_to:
        span = months[months.index(month_from):months.index(month_to) + 1]
        month_from = month_to = st.select_slider("Month shown", options=span,
                                                 value=span[-1], key="month_shown")
    crime_types = st.multiselect("Crime types (none = all)", appstate.category_list(version),
                                 key="crime_types")
    method_keys = list(METHODS)
    method = st.selectbox("Method", method_keys, index=method_keys.index(DEFAULT_METHOD),
                          format_func=lambda m: METHOD_NAMES.get(m, m), key="method")
    coverage_pct = st.slider("Hotspots cover at most this % of the land", 0.25, 10.0, 1.0, 0.25,
                             key="coverage")
    with st.expander("Method parameters (0 = chosen by rule)"):
        params = parameter_inputs(method)
    frontage_m = float(st.number_input(
        "River frontage (m)", min_value=10, max_value=500, value=50, step=10, key="frontage",
        help="Land within this distance of the water counts as river frontage (shown as a "
             "light-blue band on the map)"))

try:
    report = appstate.hotspot_report(area, month_from, month_to, tuple(crime_types), method,
                                     coverage_pct / 100, params, version, frontage_m)
except (HotspotInputError, UnknownAreaError) as exc:
    st.error(appstate.markdown_text(exc))
    st.stop()

for note in report.notes:
    st.info(appstate.markdown_text(note))

context = appstate.context_layers(area, version, frontage_m)
left, right = st.columns([3, 2])
with left:
    if not assets_ready():
        st.error(f"The map's files are missing: {SETUP_HINT}.")
    else:
        fmap = appstate.hotspot_map(
            area, month_from, month_to, tuple(crime_types), method, coverage_pct / 100,
            params, version, frontage_m, datetime.now().strftime("%Y-%m"),
            appstate.register_version(), appstate.problems_version())
        # only clicks come back: panning and zooming do not rerun the page
        clicked = appstate.show_shared_map(fmap, height=620, use_container_width=True,
                                           returned_objects=["last_object_clicked"],
                                           key="hotspot_map")
        point = (clicked or {}).get("last_object_clicked")
        if point and point != st.session_state.get("hotspot_last_click"):
            st.session_state["hotspot_last_click"] = point
            rank = hotspot_at(report, point["lat"], point["lng"])
            if rank is not None:
                st.session_state["profile_rank"] = rank
    st.caption(appstate.markdown_text(report.caption()))
    note = context.wards["note"].dropna().unique()
    if len(note):
        st.caption(f"Wards: {appstate.markdown_text(note[0])}")
    centres = context.town_centres
    approximate = centres[centres["approximate"]] if len(centres) else centres
    if len(approximate):
        st.caption("Town centres drawn dashed are approximate (a circle around a high street "
                   "postcode, not the council's boundary): "
                   + ", ".join(approximate["name"].map(appstate.markdown_text))
                   + ". Load the real outlines on the Data page.")
    st.caption(f"River frontage: land within {frontage_m:g} m of the water layer (light-blue "
               "band). Metres to river are measured from each hotspot's outline.")
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
        st.caption("Click a hotspot on the map, or a row here, for its profile.")
        chosen = st.dataframe(
            table[["rank", "ward", "town_centre", "water_distance_m", "pspo", "count",
                   "top_types", "top_location"]],
            hide_index=True, width="stretch", key="hotspot_table",
            on_select="rerun", selection_mode="single-row",
            column_config={
                "town_centre": st.column_config.TextColumn("town_centre"),
                "water_distance_m": st.column_config.NumberColumn(
                    "Metres to river", format="%.0f",
                    help="Distance from the hotspot's outline to the water (0 = touches it)"),
                "pspo": st.column_config.TextColumn("pspo"),
            })
        rows = chosen.selection.rows if chosen else []
        if rows and rows != st.session_state.get("hotspot_rows"):
            st.session_state["profile_rank"] = int(table.iloc[rows[0]]["rank"])
        st.session_state["hotspot_rows"] = rows
        stem = f"hotspots_{report.area.name}_{month_from}_{month_to}_{method}".lower()
        # made when clicked, not on every run
        st.download_button("Download GeoJSON", lambda: hotspots_geojson(report.hotspots),
                           file_name=f"{stem}.geojson", mime="application/geo+json")
        st.download_button("Download CSV", lambda: hotspots_csv(report.hotspots),
                           file_name=f"{stem}.csv", mime="text/csv")

rank = st.session_state.get("profile_rank")
if rank is not None and rank in set(report.hotspots["rank"]):
    show_profile(report, rank)

st.divider()
st.subheader("Which method works best here?")
focus = crime_types[0] if len(crime_types) == 1 else ALL_CRIME
st.caption(PLAIN_WORDS)
if not appstate.may(EVALUATE):
    st.caption("Measuring the methods' accuracy is for analysts.")
elif not st.session_state.get("accuracy_requested"):
    st.write(appstate.markdown_text(f"Test every method on {area}'s stored months for {focus} "
                                    "(takes a few seconds)."))
    st.button("Measure accuracy", key="measure_accuracy",
              on_click=lambda: st.session_state.update(accuracy_requested=True))
if appstate.may(EVALUATE) and st.session_state.get("accuracy_requested"):
    evaluated = (ALL_CRIME,) if focus == ALL_CRIME else (ALL_CRIME, focus)
    try:
        result = appstate.evaluation(area, evaluated, coverage_pct / 100, version)
    except HotspotInputError as exc:
        st.info(f"Accuracy cannot be measured yet: {appstate.markdown_text(exc)}")
    else:
        if len(crime_types) > 1:
            st.caption(f"Several crime types are chosen: the table is for {ALL_CRIME}.")
        st.caption(f"{appstate.markdown_text(area)}; hotspots cover {coverage_pct / 100:.2%} "
                   "of the land, as on the "
                   f"map; methods that work on cells were tested on {result.cell_size:g} m "
                   "cells.")
        show_accuracy(result, focus, method, dict(params),
                      report.parameters.get("cell_size_m"))

st.subheader("Repeat locations")
repeats = appstate.repeats(area, month_from, month_to, tuple(crime_types), method,
                           coverage_pct / 100, params, version, frontage_m)
types = ", ".join(crime_types) if crime_types else "all crime and ASB"
st.caption(f"The places with the most incidents in the selection "
           f"({appstate.markdown_text(area)}, {month_from} to {month_to}, "
           f"{appstate.markdown_text(types)}). police.uk puts each crime at the nearest of a "
           "fixed set of points (\"On or near …\"), so a problem place recurs under the same name.")
if repeats.empty:
    st.write("No place has two or more incidents in this selection.")
else:
    st.table(appstate.markdown_safe(
        repeats[["rank", "location", "count", "top_types", "first_month", "last_month"]]),
        hide_index=True)
