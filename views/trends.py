"""The assessment and trend tools on the pages (issue 18): "Did it work?" (the weighted
displacement difference, report.assessment) on the Problem location and PSPO pages, and
"Where is it heading?" beside the Hotspot map's evaluation: emerging hot spots
(hotspots.emerging), rates per resident (hotspots.rates), whether last period's hotspots are
hotspots again (hotspots.stability) and near repeats (hotspots.near_repeat, council logs only).

A thin layer: each computation is a library call cached with st.cache_data, keyed by the data
version (which includes what the signed-in role may see); these functions only choose periods,
call and say the result in plain words.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import TypeVar

import folium
import geopandas as gpd
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from core.months import months_apart, shift_month
from core.themes import ALL_CRIME
from core.words import month_name, month_span
from geo.areas import resolve_area
from geo.crs import WGS84
from hotspots.emerging import emerging_hotspots, pattern_counts
from hotspots.near_repeat import NearRepeat, near_repeat
from hotspots.rates import rate_hotspots
from hotspots.result import HotspotInputError, select_coverage
from hotspots.stability import stability
from present.assets import SETUP_HINT, assets_ready
from present.map import CREDIT_BOUNDARIES, CREDIT_POLICE, finish_map, geojson_text, new_map
from present.markdown import markdown_safe, markdown_text
from present.tables import before_after_table
from registers.place_incidents import PlaceIncidents
from report.assessment import DEFAULT_RING_M, Assessment, assess_order, assess_problem
from views import state

md = markdown_text
T = TypeVar("T")
MAX_PERIOD = 12
# Emerging hot spot patterns as the map and the table show them: colour and what it means.
PATTERN_COLOURS = {"intensifying": "#67000d", "persistent": "#a50f15", "new": "#e31a1c",
                   "consecutive": "#fb6a4a", "sporadic": "#fc9272", "oscillating": "#fcbba1",
                   "diminishing": "#b15928", "historical": "#8c6d31"}
COLD_COLOUR = "#2166ac"
PATTERN_WORDS = {
    "intensifying": "a hot spot in nearly every period, and getting hotter",
    "persistent": "a hot spot in nearly every period, with no clear trend",
    "new": "a hot spot in the latest period for the first time",
    "consecutive": "a hot spot in an unbroken run of the latest periods",
    "sporadic": "a hot spot now, on and off before",
    "oscillating": "a hot spot now, a cold spot at some time before",
    "diminishing": "a hot spot in nearly every period, but cooling",
    "historical": "a hot spot in most periods, but not the latest",
}


# ---------------------------------------------------------------- did it work?


@st.cache_data(show_spinner="Comparing with the borough's trend…", max_entries=32)
def problem_assessment(problem_id: int, before: tuple[str, str], after: tuple[str, str],
                       ring_m: float, version: state.Version) -> Assessment:
    """report.assessment.assess_problem, cached."""
    return assess_problem(state.engine(), problem_id, before, after, ring_m)


@st.cache_data(show_spinner="Comparing with the borough's trend…", max_entries=32)
def order_assessment(reference: str, area: str, before: tuple[str, str],
                     after: tuple[str, str], ring_m: float,
                     version: state.Version) -> Assessment:
    """report.assessment.assess_order, cached."""
    return assess_order(state.engine(), reference, before, after, ring_m, area=area)


def default_periods(months: list[str], began: str, length: int = 6
                    ) -> tuple[str, int, str]:
    """Where the after period starts, how long each period is, and why: the month the
    response began when data is loaded on both sides of it; else the latest `length`
    months against the `length` before (the response is too recent, or too old)."""
    first, last = months[0], months[-1]
    if first < began <= last:
        room = min(months_apart(began, last) + 1, months_apart(first, began))
        return began, max(1, min(length, room)), ""
    span = months_apart(first, last) + 1
    n = max(1, min(length, span // 2))
    why = (f"it began in {month_name(began)}, after the latest month loaded "
           f"({month_name(last)})" if began > last else
           f"it began in {month_name(began)}, before the first month loaded "
           f"({month_name(first)})")
    return shift_month(last, 1 - n), n, why


def show_place_incidents(result: PlaceIncidents, after: str, where: str, began: str) -> None:
    """Incidents inside a problem location or a PSPO's area: the notes, the before and
    `after` table by crime type, and all crime per month inside `where`, `began` saying when
    the response started."""
    for note in result.notes:
        st.caption(md(note))
    st.table(markdown_safe(before_after_table(result.by_type, "Before", after)),
             hide_index=True)
    monthly = result.by_month.set_index("month")
    if len(monthly):
        st.bar_chart(monthly[[ALL_CRIME]], height=200)
        st.caption(f"{ALL_CRIME} per month inside {where}; {began}.")


def worked_out(compute: Callable[[], T], cannot: str) -> T | None:
    """What `compute` returns; or, when the library refuses the selection, None after saying
    so ("`cannot`: the reason")."""
    try:
        return compute()
    except HotspotInputError as exc:
        st.info(md(f"{cannot}: {exc}"))
        return None


def did_it_work(kind: str, began: str, key: str, assess) -> None:
    """The "Did it work?" section: the period choices (an after period starting when the
    response began, a before period of the same length just before it, the ring's width),
    the sentence, and the counts with what the borough's trend would predict. `assess` is
    called with (before, after, ring_m) and returns an Assessment."""
    version = state.data_version()
    months = state.months_available(version)
    with st.expander("Did it work? Compared with the borough's trend", expanded=True):
        if len(months) < 2:
            st.write("Two months of incidents are needed to compare a before and an after.")
            return
        start, length, why = default_periods(months, began, 6)
        if start not in months[1:]:  # a month with no data loaded: the nearest one loaded
            start = next((m for m in months[1:] if m >= start), months[-1])
        if why:
            st.caption(md(f"This {kind}: {why}; the periods shown are the latest months "
                          "loaded against the months before them. Choose others below."))
        cols = st.columns(3)
        after_start = cols[0].selectbox("After period starts", months[1:],
                                        index=months[1:].index(start), format_func=month_name,
                                        key=f"{key}_after")
        room = min(len(months[months.index(after_start):]), months.index(after_start))
        length = cols[1].number_input("Months in each period", 1, min(room, MAX_PERIOD),
                                      min(length, room, MAX_PERIOD),
                                      key=f"{key}_months_{after_start}")
        ring = cols[2].number_input("Ring around it (metres)", 50, 2000,
                                    int(DEFAULT_RING_M), step=50, key=f"{key}_ring",
                                    help="Where crime might move to: the band this wide "
                                         "around the outline.")
        after = (after_start, shift_month(after_start, int(length) - 1))
        before = (shift_month(after_start, -int(length)), shift_month(after_start, -1))
        result = worked_out(lambda: assess(before, after, float(ring)),
                            "Cannot compare these periods")
        if result is None:
            return
        st.markdown(f"**{md(result.sentence())}**")
        st.table(markdown_safe(assessment_table(result)), hide_index=True)
        st.caption(md(assessment_caption(result)))
        for note in result.notes:
            st.caption(md(f"Note: {note}."))
        withheld = state.withheld_text(result.area, before[0], after[1])
        if withheld:
            st.caption(md(withheld))


def assessment_table(result: Assessment) -> pd.DataFrame:
    """Before, after and what the control's trend would predict, in words."""
    c = result.counts
    trend = "the borough's trend" if result.control.startswith("the rest of") else \
        "the trend"
    rows = [(f"Inside {result.target}", f"{c['target_before']:,}", f"{c['target_after']:,}",
             f"{result.expected_target:,.0f}"),
            (f"Within {result.ring_m:g} m around it", f"{c['ring_before']:,}",
             f"{c['ring_after']:,}", f"{result.expected_ring:,.0f}"),
            (f"Everywhere else in {result.area}", f"{c['control_before']:,}",
             f"{c['control_after']:,}", "–")]
    if not c["control_before"]:
        rows = [(*row[:3], "–") for row in rows]
    return pd.DataFrame(rows, columns=["Where", f"Before ({month_span(*result.before)})",
                                       f"After ({month_span(*result.after)})",
                                       f"Expected after, on {trend}"])


def assessment_caption(result: Assessment) -> str:
    """How it was worked out, with the figures an analyst asks for."""
    from report.assessment import wdq_reading

    combined, local = result.combined, result.local
    z = f"{local.z:+.2f}" if local.z == local.z and abs(local.z) != float("inf") else "–"
    both = (f"{combined.z:+.2f}" if combined.z == combined.z
            and abs(combined.z) != float("inf") else "–")
    return (f"Weighted displacement difference (Wheeler & Ratcliffe 2018): the count after "
            f"against the count before scaled by the change in the rest of {result.area}. "
            f"Here: {local.estimate:+.1f} ± {local.se:.1f} (z {z}, p {local.p:.3f}); with "
            f"the ring: {combined.estimate:+.1f} ± {combined.se:.1f} (z {both}, "
            f"p {combined.p:.3f})."
            + ("" if result.wdq is None else f" Displacement quotient {result.wdq:+.2f}: "
               f"{wdq_reading(result.wdq)}."))


# ---------------------------------------------------------------- where is it heading?


@st.cache_data(show_spinner="Finding emerging hot spots…", max_entries=16)
def emerging(area: str, month_from: str, month_to: str, crime_types: tuple[str, ...],
             version: state.Version) -> gpd.GeoDataFrame:
    """hotspots.emerging.emerging_hotspots with monthly periods, cached."""
    return emerging_hotspots(state.engine(), area, month_from, month_to,
                             list(crime_types) or None)


@st.cache_data(show_spinner="Working out rates per resident…", max_entries=16)
def resident_rates(area: str, month_from: str, month_to: str, crime_types: tuple[str, ...],
                   version: state.Version) -> gpd.GeoDataFrame:
    """hotspots.rates.rate_hotspots per resident (Census 2021), cached."""
    return rate_hotspots(state.engine(), area, month_from, month_to,
                         list(crime_types) or None)


@st.cache_data(show_spinner="Comparing the two periods' hotspots…", max_entries=16)
def stability_of(area: str, to_month: str, months: int,
                 version: state.Version) -> pd.DataFrame:
    """hotspots.stability.stability, cached."""
    return stability(state.engine(), area, to_month, months)


@st.cache_data(show_spinner="Testing for near repeats…", max_entries=16)
def near_repeats(area: str, month_from: str, month_to: str, crime_types: tuple[str, ...],
                 version: state.Version) -> NearRepeat:
    """hotspots.near_repeat.near_repeat with rcrimeanalysis's defaults, cached."""
    return near_repeat(state.engine(), area, month_from, month_to,
                       list(crime_types) or None)


def pattern_colour(pattern: str) -> str:
    """The map colour of an emerging hot spot pattern."""
    if pattern.endswith("cold spot"):
        return COLD_COLOUR
    return PATTERN_COLOURS.get(pattern.removesuffix(" hot spot"), "#999999")


def cells_map(boundary: gpd.GeoSeries, cells: gpd.GeoDataFrame, name: str,
              key: list[dict], tooltip: dict[str, str], label: str,
              wards: gpd.GeoDataFrame | None = None) -> folium.Map:
    """A small map of coloured cells (`colour` column) over the borough boundary and its
    wards."""
    boundary = boundary.to_crs(WGS84)
    minx, miny, maxx, maxy = boundary.total_bounds
    m = new_map(boundary)
    if wards is not None and len(wards):
        folium.GeoJson(
            geojson_text(gpd.GeoDataFrame({"name": wards["name"].astype(str).map(html.escape)},
                                          geometry=wards.to_crs(WGS84).geometry, crs=WGS84)),
            name="Wards", style_function=lambda _: {"color": "#555555", "weight": 1,
                                                     "fill": False},
            tooltip=folium.GeoJsonTooltip(fields=["name"], aliases=["Ward"])).add_to(m)
        key = [*key, {"symbol": "thinline", "colour": "#555555", "label": "Ward boundary"}]
    folium.GeoJson(geojson_text(boundary), name="Area boundary",
                   style_function=lambda _: {"color": "#222222", "weight": 2, "fill": False}
                   ).add_to(m)
    shown = gpd.GeoDataFrame(
        {**{c: cells[c].astype(str).map(html.escape) for c in tooltip},
         "colour": cells["colour"]}, geometry=cells.to_crs(WGS84).geometry, crs=WGS84)
    folium.GeoJson(geojson_text(shown), name=html.escape(name),
                   style_function=lambda f: {"color": f["properties"]["colour"], "weight": 1,
                                             "fillColor": f["properties"]["colour"],
                                             "fillOpacity": 0.6},
                   tooltip=folium.GeoJsonTooltip(fields=list(tooltip),
                                                 aliases=list(tooltip.values()))).add_to(m)
    key = [*key, {"symbol": "line", "colour": "#222222", "label": "Borough boundary"}]
    return finish_map(m, key, credits=[CREDIT_POLICE, CREDIT_BOUNDARIES], label=label,
                      tiles=None, bounds=[[miny, minx], [maxy, maxx]])


def show_cells_map(area: str, version: state.Version, cells: gpd.GeoDataFrame, name: str,
                   key: list[dict], tooltip: dict[str, str], label: str, *, height: int,
                   widget_key: str) -> bool:
    """A trend tool's map of coloured cells (cells_map over the area's boundary and wards),
    shown with st_folium; when the map's files are missing, says so instead and returns
    False."""
    if not assets_ready():
        st.error(f"The map's files are missing: {SETUP_HINT}.")
        return False
    context = state.map_layers(area, version)
    fmap = cells_map(context.boundary, cells, name, key, tooltip, label, context.wards)
    st_folium(fmap, height=height, use_container_width=True, returned_objects=[],
              key=widget_key)
    return True


def show_emerging(area: str, month_from: str, month_to: str,
                  crime_types: tuple[str, ...], version: state.Version) -> None:
    """Emerging hot spots: a map of the cells with a pattern and a table of the patterns."""
    frame = worked_out(lambda: emerging(area, month_from, month_to, crime_types, version),
                       "Emerging hot spots cannot be found for this selection")
    if frame is None:
        return
    params = frame.attrs["parameters"]
    st.caption(md(
        f"Each {params['cell_size_m']:g} m square, month by month "
        f"({month_span(month_from, month_to)}): is it a hot spot (Getis-Ord Gi*, 90% "
        "confidence after allowing for testing many squares), and is it getting hotter or "
        "cooler (Mann-Kendall trend)? The patterns are ArcGIS Pro's Emerging Hot Spot "
        "Analysis."))
    counts = pattern_counts(frame)
    counts = counts[counts["pattern"] != "no pattern"]
    if counts.empty:
        st.write("No square shows a pattern: nowhere is a hot or cold spot often enough.")
        return
    table = pd.DataFrame({
        "Pattern": counts["pattern"].str.capitalize(),
        "What it means": counts["pattern"].map(
            lambda p: PATTERN_WORDS.get(p.removesuffix(" hot spot"), "")
            if p.endswith("hot spot") else "the same, for places with fewer incidents than "
            "the borough's average"),
        "Squares": counts["cells"].map(lambda n: f"{int(n):,}"),
        "Incidents": counts["incidents"].map(lambda n: f"{int(n):,}")})
    left, right = st.columns([11, 9])
    with right:
        st.table(markdown_safe(table), hide_index=True)
    with left:
        cells = frame[frame["pattern"] != "no pattern"].copy()
        cells["colour"] = cells["pattern"].map(pattern_colour)
        cells["pattern_text"] = cells["pattern"].str.capitalize()
        key = [{"symbol": "fill", "colour": pattern_colour(p), "fill": pattern_colour(p),
                "label": p.capitalize()} for p in counts["pattern"]]
        show_cells_map(area, version, cells, "Emerging hot spots", key,
                       {"pattern_text": "Pattern", "count": "Incidents"},
                       "Map of emerging hot spots", height=380, widget_key="emerging_map")


def show_rates(area: str, month_from: str, month_to: str, crime_types: tuple[str, ...],
               coverage: float, version: state.Version) -> None:
    """Where incidents are high for the number of people living there: the squares with the
    highest rates covering the same share of the land as the map's hotspots."""
    frame = worked_out(lambda: resident_rates(area, month_from, month_to, crime_types, version),
                       "Rates cannot be worked out for this selection")
    if frame is None:
        return
    params = frame.attrs["parameters"]
    st.caption(md(
        f"Incidents for the number of residents (Census 2021) around each "
        f"{params['cell_size_m']:g} m square, both smoothed over {params['bandwidth_m']:,.0f} m "
        f"(sfhotspot's dual kernel density). Places with fewer than {params['floor']:g} "
        "residents nearby are left out, so empty fields and car parks do not light up."))
    top = frame.head(10)
    if top.empty:
        st.write("No square has enough residents nearby to give a rate.")
        return
    cells = select_coverage(frame, resolve_area(state.engine(), area).land_area_m2,
                            coverage).copy()
    cells["colour"] = "#c0392b"
    cells["rank_text"] = cells["rank"].astype(int)
    if not show_cells_map(area, version, cells, "Highest rates per resident",
                          [{"symbol": "fill", "colour": "#c0392b", "fill": "#c0392b",
                            "label": f"Highest rates per resident: {len(cells):,} squares, "
                                     f"{coverage:.2%} of the land, as the hotspots"}],
                          {"rank_text": "Rank", "count": "Incidents in the square"},
                          "Map of the highest rates per resident", height=360,
                          widget_key="rates_map"):
        return
    st.caption(md(frame.attrs.get("message", "")))


def show_stability(area: str, to_month: str, months: list[str],
                   version: state.Version) -> None:
    """Are the last period's hotspots hotspots again, per crime type?"""
    loaded = months[: months.index(to_month) + 1] if to_month in months else months
    length = max(1, min(6, len(loaded) // 2))
    table = worked_out(lambda: stability_of(area, to_month, length, version),
                       "Stability cannot be measured for this selection")
    if table is None:
        return
    first = table.iloc[0]
    before, after = first["before"].split(" to "), first["after"].split(" to ")
    st.caption(md(
        f"The hotspots of {month_span(after[0], after[-1])} against those of "
        f"{month_span(before[0], before[-1])}: the busiest "
        f"{table.attrs['parameters']['cell_size_m']:g} m squares covering "
        f"{table.attrs['parameters']['coverage']:.0%} of the land. A place that stays a "
        "hotspot is worth a lasting response; one that comes and goes, a short one."))
    shown = table[(table["hotspots_before"] > 0) | (table["hotspots_after"] > 0)].head(12)
    words = pd.DataFrame({
        "Crime type": shown["crime_type"],
        "Hotspots before": shown["hotspots_before"].astype(int),
        "Hotspots again": shown["again"].astype(int),
        "Share again": shown["share"].map(lambda v: "–" if v != v else f"{v:.0%}"),
        "Reading": shown["reading"].str.replace(r"^\d+ of \d+ hotspots again \(\d+%\); ", "",
                                                regex=True).map(lambda t: t[:1].upper() + t[1:])})
    st.table(markdown_safe(words), hide_index=True)
    st.caption("Reading: whether last period's hotspots keep their order of busyness "
               "(Spearman's rank correlation: 1 the same order, 0 no link).")
    for note in table.attrs["notes"]:
        st.caption(md(f"Note: {note}."))


def show_near_repeats(area: str, month_from: str, month_to: str,
                      crime_types: tuple[str, ...], version: state.Version) -> None:
    """Near repeats (the Knox test) for council logs with dates and exact locations; says
    plainly that police.uk data cannot be tested."""
    st.caption("Does one incident make another nearby, in the days after, more likely? "
               "This needs the day and the exact place of each incident, as a council log "
               "with dates and grid references or coordinates has. police.uk data has "
               "neither (a month, and the nearest of a fixed set of points), so it cannot be "
               "tested.")
    result = worked_out(lambda: near_repeats(area, month_from, month_to, crime_types, version),
                        "Near repeats cannot be tested for this selection")
    if result is None:
        return
    if not result.applies:
        st.info(md(result.sentence()))
        return
    st.markdown(f"**{md(result.sentence())}**")
    table = result.table
    observed = table.pivot(index="distance_band", columns="days_band", values="knox_ratio")
    observed = observed.loc[table["distance_band"].unique(), table["days_band"].unique()]
    flags = table.pivot(index="distance_band", columns="days_band",
                        values="significant").loc[observed.index, observed.columns]
    words = observed.copy().astype(object)
    for band in observed.index:
        for col in observed.columns:
            v = observed.loc[band, col]
            words.loc[band, col] = ("–" if v != v else f"{v:.1f}×"
                                    + (" *" if flags.loc[band, col] else ""))
    words = words.reset_index().rename(columns={"distance_band": "How far apart"})
    st.table(markdown_safe(words), hide_index=True)
    st.caption(md(f"Pairs of incidents this close in space and time, as a multiple of what "
                  f"chance gives (* beyond chance, p < 0.05, over "
                  f"{result.table.attrs.get('parameters', {}).get('simulations', 999)} "
                  "shuffles of the dates)."))
    zones = result.zones
    if zones is not None and len(zones):
        def day(value: str) -> str:
            return pd.Timestamp(value).strftime("%-d %b %Y")
        st.caption(f"Risk zones: within {zones['radius_m'].iloc[0]:,.0f} m of each of the "
                   f"{len(zones)} latest incident(s), from {day(zones['date'].min())} until "
                   f"{day(zones['at_risk_until'].max())}.")
    for note in result.notes:
        st.caption(md(f"Note: {note}."))


def where_heading(area: str, month_from: str, month_to: str, crime_types: tuple[str, ...],
                  coverage: float, months: list[str], version: state.Version) -> None:
    """The "Where is it heading?" section of the Hotspot map page: one tool at a time."""
    st.header("Where is it heading?")
    tools = {"Emerging hot spots": "emerging", "Rates per resident": "rates",
             "Hotspots again?": "stability", "Near repeats": "near"}
    chosen = st.radio("Look at", list(tools), horizontal=True, key="trend_tool",
                      index=None)
    if chosen is None:
        st.caption("Choose one: emerging hot spots month by month; where incidents are high "
                   "for the number of residents; whether the last period's hotspots are "
                   "hotspots again; whether one incident brings more nearby (council logs).")
        return
    tool = tools[chosen]
    if tool == "emerging":
        show_emerging(area, month_from, month_to, crime_types, version)
    elif tool == "rates":
        show_rates(area, month_from, month_to, crime_types, coverage, version)
    elif tool == "stability":
        show_stability(area, month_to, months, version)
    else:
        show_near_repeats(area, month_from, month_to, crime_types, version)
