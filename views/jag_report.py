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

from core.months import months_ending, shift_month
from core.safe_text import safe_csv
from core.themes import ALL_CRIME
from core.words import blank, month_name, month_span
from geo.areas import UnknownAreaError
from hotspots.result import HotspotInputError
from present.markdown import markdown_safe, markdown_text
from report.compare import RAG_RULE, Comparison, Target
from report.spreadsheet import RAG_FILLS, Sheet, workbook_bytes
from report.summary import Summary, total_label
from views import state

NONE = "(none)"
BREAKDOWN: dict[str, str | None] = {"The whole area": None, "Ward": "ward",
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
    "In the busiest 1%, 5% and 10% of the land: the share of all incidents found in that small "
    "a part of the area ({cell:g} m squares). How concentrated: 0 means the incidents are as "
    "evenly spread as that many incidents can be, 1 means all in one square; it is fair "
    "between crime types with few and many incidents (the generalised Gini of Bernasco and "
    "Steenbeek, 2017; the spreadsheet also has the ordinary Gini).")


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
    """The comparison as the JAG reads it on the projector: counts of the months compared,
    the change read out in words, the target and RAG (coloured and in words), and the rate per
    1,000 residents where the line has residents. No sideways scrolling at 1366 px."""
    table = result.table
    compared = result.months_compared
    span = (f"{month_name(result.current[0])} to {month_name(result.current[1])}")
    before = (f"{month_name(result.previous[0])} to {month_name(result.previous[1])}")
    of = f" ({compared} months compared)" if compared and not result.complete else ""
    view = pd.DataFrame({
        unit_label(result.by): table["unit"],
        "Crime type": table["crime_type"],
        f"{span}{of}": table["current"].map(lambda v: f"{int(v):,}"),
        before: table["previous"].map(lambda v: f"{int(v):,}"),
        "Change": table["reading"].map(lambda v: blank(v) or "–"),
        "Target": table["target"].map(blank),
        "RAG": table["rag"].map(lambda v: blank(v) or "–"),
    })
    if table["current_per_1000"].notna().any():
        view["Per 1,000 residents"] = [
            "–" if pd.isna(c) else f"{c:.1f} (was {p:.1f})"
            for c, p in zip(table["current_per_1000"], table["previous_per_1000"], strict=True)]
    if result.by is None:
        view = view.drop(columns=unit_label(None))
    notes = table["note"].map(blank)
    if notes.str.strip().any():
        view["Note"] = notes
    return markdown_safe(view).style.map(rag_style, subset=["RAG"])


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
    """Shares of incidents in the busiest parts of the land, and one concentration figure
    that is fair between small and large crime types (the rest is in the spreadsheet)."""
    view = pd.DataFrame({
        "Crime type": table["crime_type"],
        "Incidents": table["incidents"].map(lambda v: f"{int(v):,}"),
        "In the busiest 1% of the land": table["top_1pct_share"].map(
            lambda v: number(v, ".0%")),
        "In the busiest 5%": table["top_5pct_share"].map(lambda v: number(v, ".0%")),
        "In the busiest 10%": table["top_10pct_share"].map(lambda v: number(v, ".0%")),
        "How concentrated (0 to 1)": table["gini_generalised"].map(lambda v: number(v, ".2f")),
    })
    return markdown_safe(view)


def targets_from_editor(edited: pd.DataFrame) -> tuple[state.TargetItems, list[str]]:
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


def with_note(frame: pd.DataFrame, note: str) -> pd.DataFrame:
    """A table for download with what the reader's role does not see in a `note` column on
    every row (none when it sees everything)."""
    return frame.assign(note_for_this_role=note) if note else frame


def spreadsheet(sheets: list[Sheet], where) -> bytes | None:
    """The .xlsx of these sheets, or None with a plain message in `where` (the CSV beside it
    still works): a spreadsheet that cannot be made must not take the page down."""
    try:
        return workbook_bytes(sheets, SOURCE)
    except Exception as exc:  # noqa: BLE001 - whatever openpyxl refuses, say it plainly
        where.warning(markdown_text(f"The spreadsheet could not be made ({type(exc).__name__});"
                                    " the CSV download holds the same table."))
        return None


def stem(*parts: str) -> str:
    """A file name stem from words: lower case, spaces as underscores."""
    return "_".join(p.strip().lower().replace(" ", "_").replace("/", "-") for p in parts if p)


st.title("JAG report")
version, months, area_list = state.data_or_stop()
crime_type_list = state.category_list(version)

first, second, third, fourth, fifth = st.columns([1.1, 1, 1.6, 1.3, 2.2],
                                                 vertical_alignment="bottom")
area = first.selectbox("Area", area_list, key="jag_area")
to_month = second.selectbox("Up to", months, index=len(months) - 1, key="jag_to",
                            format_func=month_name)
recent = months_ending(to_month, 12)
since_pick = third.selectbox(
    "Compare", [NONE, *reversed(recent)], key="jag_since",
    format_func=lambda m: "The last 12 months (rolling)" if m == NONE else
    f"Since the last JAG: {month_name(m)} on", help=(
        "Rolling: the months up to the chosen month against the same number of months "
        "before. Since the last JAG: the months from the one chosen, against the same months "
        "a year earlier."))
since = None if since_pick == NONE else since_pick
by = BREAKDOWN[fourth.selectbox("Break down by", list(BREAKDOWN), key="jag_by")]
crime_types = fifth.multiselect("Crime types (none chosen = all)", crime_type_list,
                                key="jag_types", placeholder=ALL_CRIME)
period_column, targets_column = st.columns([1, 5])
with period_column.popover("Period length", use_container_width=True):
    period = int(st.number_input(
        "Rolling period (months)", min_value=1, max_value=60, value=12, step=1,
        key="jag_months", help="The months up to the chosen month, against the same number "
                               "of months before. Not used for 'since the last JAG'."))

with targets_column.expander("Targets (the RAG is measured against these)", expanded=False):
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
    targets, problems = targets_from_editor(edited)
    for problem in problems:
        st.error(markdown_text(problem))

comparison_box = st.container()
st.divider()
summary_box = st.container()
st.divider()
concentration_box = st.container()

current_from = since or shift_month(to_month, 1 - period)
withheld = state.withheld_text(area, current_from, to_month, tuple(crime_types),
                                  where="from the finer tables and the downloads")

with comparison_box:
    try:
        result = state.comparison(area, to_month, period, by, targets, since,
                                     tuple(crime_types), version)
    except (HotspotInputError, UnknownAreaError) as exc:
        st.error(markdown_text(exc))
        st.stop()
    kind = (f"the last {period} months" if result.kind == "rolling" else
            "since the last JAG")
    st.header(markdown_text(
        f"{result.area.name}, {kind}: {month_name(result.current[0])} to "
        f"{month_name(result.current[1])} against {month_name(result.previous[0])} to "
        f"{month_name(result.previous[1])}"))
    types = ", ".join(crime_types) if crime_types else "all crime and ASB"
    st.caption(markdown_text(f"Crime types: {types}. ") + state.currency_text(area))
    if withheld:
        st.caption(markdown_text(withheld))
    shown, behind = result.notes[:1], result.notes[1:]
    for note in shown:
        if result.comparable:
            st.caption(markdown_text(note))
        else:
            st.warning(markdown_text(note))
    st.table(comparison_view(result), hide_index=True)
    with st.expander("How the change, the rates and the RAG are worked out"):
        for note in [*behind, RAG_RULE]:
            st.caption(markdown_text(note))
    comparison_downloads = st.container()

with summary_box:
    st.header("Summary")
    left, middle, right = st.columns([1, 2, 1])
    by_label = left.selectbox("Summary by", list(SUMMARY_BY), key="jag_summary_by")
    default_from = months[-12] if len(months) >= 12 else months[0]
    summary_from, summary_to = middle.select_slider(
        "Summary months (from, to)", options=months, value=(default_from, months[-1]),
        key="jag_summary_months", format_func=month_name)
    summary_by = SUMMARY_BY[by_label]
    frontage_m = 50.0
    if summary_by == "river":
        frontage_m = float(right.number_input("River frontage (m)", min_value=10, max_value=500,
                                              value=50, step=10, key="jag_frontage"))
    try:
        summary = state.summary(area, summary_by, summary_from, summary_to,
                                   tuple(crime_types), version, frontage_m)
    except (HotspotInputError, UnknownAreaError) as exc:
        st.error(markdown_text(exc))
        st.stop()
    total = int(summary.totals.iloc[0]) if len(summary.totals) else 0
    st.markdown(markdown_text(f"{area}, {month_span(summary_from, summary_to)}, {types}: "
                              f"{total:,} incidents in all."))
    st.table(summary_view(summary), hide_index=True)
    for note in summary.notes:
        st.caption(markdown_text(note))
    summary_title = (f"{area}: summary by {by_label.lower()}, {summary_from} to {summary_to} "
                     f"({types})")
    told = [withheld] if withheld else []
    summary_sheets = [Sheet(f"Summary by {by_label}"[:31], summary_title, summary.overview(),
                            [*summary.notes, *told]),
                      Sheet("By crime type", summary_title, summary.wide(),
                            [*summary.notes, *told])]
    summary_stem = stem("summary", area, by_label, summary_from, summary_to)
    first, second = st.columns(2)
    first.download_button("Download summary CSV", safe_csv(with_note(summary.overview(),
                                                                     withheld)),
                          file_name=f"{summary_stem}.csv", mime="text/csv",
                          on_click="ignore", key="summary_csv")
    summary_book = spreadsheet(summary_sheets, second)
    if summary_book is not None:
        second.download_button("Download summary spreadsheet (.xlsx)", summary_book,
                               file_name=f"{summary_stem}.xlsx", mime=XLSX, on_click="ignore",
                               key="summary_xlsx")

with concentration_box:
    st.header("How concentrated crime is")
    try:
        concentrated = state.concentration_table(area, summary_from, summary_to,
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
    sheets = [Sheet("Comparison", result.title(), result.table,
                    [*result.notes, RAG_RULE, *told]),
              summary_sheets[0]]
    if concentrated is not None:
        sheets.append(Sheet("Concentration",
                            f"{area}: crime concentration, {summary_from} to {summary_to}",
                            concentrated, [GINI_NOTE.format(cell=CELL_SIZE_M)]))
    first, second = st.columns(2)
    first.download_button("Download comparison CSV",
                          safe_csv(with_note(result.table, withheld)),
                          file_name=f"{comparison_stem}.csv", mime="text/csv",
                          on_click="ignore", key="comparison_csv")
    jag_book = spreadsheet(sheets, second)
    if jag_book is not None:
        second.download_button("Download JAG spreadsheet (.xlsx)", jag_book,
                               file_name=f"{comparison_stem}.xlsx", mime=XLSX,
                               on_click="ignore", key="comparison_xlsx", type="primary",
                               help="Comparison, summary and concentration sheets, with notes "
                                    "and the RAG rule")
