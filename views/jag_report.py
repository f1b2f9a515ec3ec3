"""JAG report page: this period against the one before (rolling, or since the last JAG) with
RAG against targets, a summary by ward / town centre / river / PSPO / LSOA, and how concentrated
crime is; each downloadable as CSV and as a formatted spreadsheet for the board papers.

Every table goes through st.table with its text cells Markdown-escaped (st.table renders
Markdown), and every library call is cached on the data version, so the page is quick to
change in a meeting.
"""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler

from geo.areas import UnknownAreaError
from hotspots.result import HotspotInputError
from present import appstate
from present.appstate import markdown_safe, markdown_text
from present.export import safe_csv
from report.compare import RAG_RULE, Comparison, Target
from report.spreadsheet import RAG_FILLS, Sheet, workbook_bytes
from report.summary import Summary, total_label

NONE = "(none)"
BREAKDOWN: dict[str, str | None] = {"None (whole area)": None, "Ward": "ward",
                                    "Town centre": "town-centre"}
SUMMARY_BY = {"Ward": "ward", "Town centre": "town-centre", "River frontage": "river",
              "PSPO": "pspo", "LSOA": "lsoa"}
DIRECTIONS = ["reduce", "increase", "none"]
DEFAULT_TARGET = ("reduce", 5.0)
CELL_SIZE_M = 100.0
SOURCE = ("Crime and ASB: police.uk street-level data (Open Government Licence v3.0) and "
          "council logs, as stored in the CSP hotspot service")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
GINI_NOTE = (
    "Share in the busiest 1%, 5% and 10% of cells: the part of all incidents found in that "
    "small a part of the area's land ({cell:g} m squares). Gini: 0 = spread evenly over every "
    "cell, 1 = all in one cell. With fewer incidents than cells the ordinary Gini stays close "
    "to 1 even when every incident is in a different cell, so compare crime types with the "
    "generalised Gini (Bernasco & Steenbeek 2017): 0 = as evenly spread as that many "
    "incidents can be, 1 = all in one cell.")


def signed(value: float | None, pattern: str, suffix: str = "") -> str:
    """'+5.2%', '-3', '0'; 'NA' when missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "NA"
    return f"{value:+{pattern}}{suffix}" if value else f"{0:{pattern}}{suffix}"


def number(value: float | None, pattern: str, suffix: str = "") -> str:
    """A number as text; '–' when missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:{pattern}}{suffix}"


def rag_style(value: str) -> str:
    """Cell style for a RAG status: the spreadsheet's fills, bold."""
    fill = RAG_FILLS.get(value)
    return f"background-color: #{fill}; color: #000000; font-weight: bold" if fill else ""


def unit_label(by: str | None) -> str:
    return {"ward": "Ward", "town-centre": "Town centre"}.get(by or "", "Area")


def comparison_view(result: Comparison) -> Styler:
    """The comparison as the JAG reads it: % change signed, NA where there is none, RAG
    cells coloured."""
    table = result.table
    current = f"Current ({result.current[0]} to {result.current[1]})"
    previous = f"Previous ({result.previous[0]} to {result.previous[1]})"
    view = pd.DataFrame({
        unit_label(result.by): table["unit"],
        "Crime type": table["crime_type"],
        current: table["current"].astype(int),
        previous: table["previous"].astype(int),
        "Change": table["change"].map(lambda v: signed(v, ",.0f")),
        "Change %": table["change_pct"].map(lambda v: signed(v, ".1f", "%")),
        "Significant": table["significant"].map(lambda v: "Yes" if v else ""),
        "Target": table["target"],
        "RAG": table["rag"],
        "Note": table["note"],
    })
    if result.by is None:
        view = view.drop(columns=unit_label(None))
    if not table["note"].astype(str).str.strip().any():
        view = view.drop(columns="Note")
    return (markdown_safe(view).style.map(rag_style, subset=["RAG"])
            .format("{:,}", subset=[current, previous]))


def summary_view(result: Summary) -> pd.DataFrame:
    """Summary.overview() with readable numbers; per-resident rates only when the layer has
    populations."""
    rows = result.overview()
    view = pd.DataFrame({
        "Unit": rows["unit"],
        "Incidents": rows["incidents"].map(lambda v: f"{int(v):,}"),
        "Share of area": rows["share_of_area_pct"].map(lambda v: number(v, ".1f", "%")),
        "Land (km²)": rows["land_km2"].map(lambda v: number(v, ".2f")),
        "Per km²": rows["per_km2"].map(lambda v: number(v, ",.0f")),
    })
    if rows["population"].notna().any():
        view["Residents"] = rows["population"].map(lambda v: number(v, ",.0f"))
        view["Per 1,000 residents"] = rows["per_1000_residents"].map(
            lambda v: number(v, ".1f"))
    view["Top crime types"] = rows["top_types"]
    notes = rows["note"].fillna("").astype(str).str.strip()
    distinct = set(notes) - {""}
    if len(distinct) > 1 or (distinct and not distinct <= set(result.notes)):
        view["Note"] = notes  # one note shared by every row is shown under the table instead
    return markdown_safe(view)


def concentration_view(table: pd.DataFrame) -> pd.DataFrame:
    """Shares as %, Gini to 2 dp."""
    view = pd.DataFrame({
        "Crime type": table["crime_type"],
        "Incidents": table["incidents"].map(lambda v: f"{int(v):,}"),
        "Cells": table["cells"].map(lambda v: f"{int(v):,}"),
        "Top 1% of cells": table["top_1pct_share"].map(lambda v: number(v, ".1%")),
        "Top 5% of cells": table["top_5pct_share"].map(lambda v: number(v, ".1%")),
        "Top 10% of cells": table["top_10pct_share"].map(lambda v: number(v, ".1%")),
        "Gini": table["gini"].map(lambda v: number(v, ".2f")),
        "Generalised Gini": table["gini_generalised"].map(lambda v: number(v, ".2f")),
    })
    return markdown_safe(view)


def read_targets(edited: pd.DataFrame) -> tuple[appstate.TargetItems, list[str]]:
    """The editor's rows as (line, direction, percent) items, and messages for bad rows."""
    items, problems = [], []
    for row in edited.itertuples(index=False):
        direction = str(row.direction or "none")
        if direction == "none":
            continue
        if row.percent is None or pd.isna(row.percent):
            problems.append(f"{row.line}: give a percentage, or set the target to none")
            continue
        try:
            target = Target(direction, float(row.percent))
        except ValueError as exc:
            problems.append(f"{row.line}: {exc}")
            continue
        items.append((str(row.line), target.direction, float(target.percent)))
    return tuple(items), problems


def stem(*parts: str) -> str:
    """A file name stem from words: lower case, spaces as underscores."""
    return "_".join(p.strip().lower().replace(" ", "_").replace("/", "-") for p in parts if p)


st.title("JAG report")
version, months, area_list = appstate.data_or_stop()
crime_type_list = appstate.category_list(version)

with st.sidebar:
    st.header("Comparison")
    area = st.selectbox("Area", area_list, key="jag_area")
    to_month = st.selectbox("End month", months, index=len(months) - 1, key="jag_to")
    period = int(st.number_input(
        "Period (months)", min_value=1, max_value=60, value=12, step=1, key="jag_months",
        help="Rolling comparison: these months to the end month against the same number of "
             "months before. Not used when 'Since the last JAG' is set."))
    recent = [str(m) for m in pd.period_range(end=to_month, periods=12, freq="M")]
    since_pick = st.selectbox(
        "Since the last JAG (first month)", [NONE, *reversed(recent)], key="jag_since",
        help="Compare the months from this one to the end month with the same months a year "
             "earlier, instead of the rolling period.")
    since = None if since_pick == NONE else since_pick
    by = BREAKDOWN[st.selectbox("Breakdown", list(BREAKDOWN), key="jag_by")]
    crime_types = st.multiselect("Crime types (none = all)", crime_type_list, key="jag_types")

with st.expander("Targets (the RAG is measured against these)", expanded=False):
    st.caption("One target per crime type; 'none' leaves a line without a RAG. A target "
               "applies to every ward or town centre in a breakdown.")
    lines = [total_label(crime_types), *(crime_types or crime_type_list)]
    defaults = pd.DataFrame({"line": lines, "direction": DEFAULT_TARGET[0],
                             "percent": DEFAULT_TARGET[1]})
    edited = st.data_editor(
        defaults, hide_index=True, width="stretch", num_rows="fixed",
        key=f"jag_targets_{len(lines)}",
        column_config={
            "line": st.column_config.TextColumn("Crime type", disabled=True),
            "direction": st.column_config.SelectboxColumn("Target", options=DIRECTIONS,
                                                          required=True),
            "percent": st.column_config.NumberColumn("Percent", min_value=0, max_value=100,
                                                     step=0.5, format="%.1f"),
        })
    targets, problems = read_targets(edited)
    for problem in problems:
        st.error(markdown_text(problem))

comparison_box = st.container()
st.divider()
summary_box = st.container()
st.divider()
concentration_box = st.container()

with comparison_box:
    try:
        result = appstate.comparison(area, to_month, period, by, targets, since,
                                     tuple(crime_types), version)
    except (HotspotInputError, UnknownAreaError) as exc:
        st.error(markdown_text(exc))
        st.stop()
    st.subheader(markdown_text(result.title()))
    types = ", ".join(crime_types) if crime_types else "all crime and ASB"
    st.caption(markdown_text(f"Crime types: {types}."))
    for note in result.notes:
        if result.complete:
            st.caption(markdown_text(note))
        else:
            st.warning(markdown_text(note))
    st.table(comparison_view(result), hide_index=True)
    st.caption(markdown_text(RAG_RULE))
    comparison_downloads = st.container()

with summary_box:
    st.subheader("Summary")
    left, middle, right = st.columns([1, 2, 1])
    by_label = left.selectbox("Summary by", list(SUMMARY_BY), key="jag_summary_by")
    default_from = months[-12] if len(months) >= 12 else months[0]
    summary_from, summary_to = middle.select_slider(
        "Summary months (from, to)", options=months, value=(default_from, months[-1]),
        key="jag_summary_months")
    summary_by = SUMMARY_BY[by_label]
    frontage_m = 50.0
    if summary_by == "river":
        frontage_m = float(right.number_input("River frontage (m)", min_value=10, max_value=500,
                                              value=50, step=10, key="jag_frontage"))
    try:
        summary = appstate.summary(area, summary_by, summary_from, summary_to,
                                   tuple(crime_types), version, frontage_m)
    except (HotspotInputError, UnknownAreaError) as exc:
        st.error(markdown_text(exc))
        st.stop()
    total = int(summary.totals.iloc[0]) if len(summary.totals) else 0
    st.markdown(markdown_text(f"{area}, {summary_from} to {summary_to}, {types}: "
                              f"{total:,} incidents in all."))
    st.table(summary_view(summary), hide_index=True)
    for note in summary.notes:
        st.caption(markdown_text(note))
    summary_title = (f"{area}: summary by {by_label.lower()}, {summary_from} to {summary_to} "
                     f"({types})")
    summary_sheets = [Sheet(f"Summary by {by_label}"[:31], summary_title, summary.overview(),
                            summary.notes),
                      Sheet("By crime type", summary_title, summary.wide(), summary.notes)]
    summary_stem = stem("summary", area, by_label, summary_from, summary_to)
    first, second = st.columns(2)
    first.download_button("Download summary CSV", safe_csv(summary.overview()),
                          file_name=f"{summary_stem}.csv", mime="text/csv",
                          on_click="ignore", key="summary_csv")
    second.download_button("Download summary spreadsheet (.xlsx)",
                           workbook_bytes(summary_sheets, SOURCE),
                           file_name=f"{summary_stem}.xlsx", mime=XLSX, on_click="ignore",
                           key="summary_xlsx")

with concentration_box:
    st.subheader("Crime concentration")
    try:
        concentrated = appstate.concentration_table(area, summary_from, summary_to,
                                                    tuple(crime_types), version, CELL_SIZE_M)
    except HotspotInputError as exc:
        st.error(markdown_text(exc))
        concentrated = None
    if concentrated is not None:
        st.caption(markdown_text(f"{area}, {summary_from} to {summary_to} (the summary's "
                                 f"months), {CELL_SIZE_M:g} m cells on the area's land."))
        st.table(concentration_view(concentrated), hide_index=True)
        st.caption(GINI_NOTE.format(cell=CELL_SIZE_M))

with comparison_downloads:
    comparison_stem = stem("jag", area, result.current[0], result.current[1], by or "")
    sheets = [Sheet("Comparison", result.title(), result.table, [*result.notes, RAG_RULE]),
              summary_sheets[0]]
    if concentrated is not None:
        sheets.append(Sheet("Concentration",
                            f"{area}: crime concentration, {summary_from} to {summary_to}",
                            concentrated, [GINI_NOTE.format(cell=CELL_SIZE_M)]))
    first, second = st.columns(2)
    first.download_button("Download comparison CSV", safe_csv(result.table),
                          file_name=f"{comparison_stem}.csv", mime="text/csv",
                          on_click="ignore", key="comparison_csv")
    second.download_button("Download JAG spreadsheet (.xlsx)", workbook_bytes(sheets, SOURCE),
                           file_name=f"{comparison_stem}.xlsx", mime=XLSX, on_click="ignore",
                           key="comparison_xlsx", type="primary",
                           help="Comparison, summary and concentration sheets, with notes and "
                                "the RAG rule")
