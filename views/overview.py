"""Overview page: the borough at a glance for the chosen month, for the JAG on the projector:
incidents by the partnership plan's priority themes with the rolling 12-month comparison and
RAG, what needs doing (PSPO and water-safety alerts, overdue partner actions), and the editable
mapping from crime types and council categories to themes."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from access.roles import EDIT_THEMES
from core.themes import THEMES
from core.words import blank, month_name, months_in_words
from geo.areas import resolve_area
from hotspots.result import HotspotInputError
from present.markdown import markdown_safe, markdown_text
from registers.alerts import overview_alerts
from registers.problems import list_problems
from report.theme_mapping import reset_theme_mapping, save_theme_mapping, theme_mapping
from views import state

RAG_COLOURS = {"Green": "#b7e1a1", "Amber": "#ffd27f", "Red": "#f4a29a"}
SEVERITY = {"high": st.error, "medium": st.warning, "low": st.info}
md = markdown_text


def rag_style(frame: pd.DataFrame) -> pd.io.formats.style.Styler:
    """The theme table with its RAG cells coloured (the cell says the status in words too, for
    printing and for colour-blind readers)."""
    return frame.style.map(lambda v: f"background-color: {RAG_COLOURS[v]}; color: #000000; "
                           "font-weight: 600" if v in RAG_COLOURS else "", subset=["RAG"])


def theme_view(themed, month: str) -> pd.DataFrame:
    """The theme table as the JAG reads it on the projector: nine columns that fit 1366 px,
    the change read out in words, the RAG in words and colour."""
    table = themed.table
    compared = int(table["months_compared"].max()) if len(table) else 0
    months = compared if compared else 12
    rolling = "Last 12 months" if months == 12 else f"Last 12 months ({months} compared)"
    return pd.DataFrame({
        "Priority theme": table["theme"],
        month_name(month): table["incidents"].astype(int),
        "Month before": table["previous_month"].astype(int),
        "Same month last year": table["same_month_last_year"].astype(int),
        rolling: table["rolling"].map(lambda v: f"{int(v):,}"),
        "The same months a year before": table["rolling_previous"].map(lambda v: f"{int(v):,}"),
        "Change": table["reading"].map(blank),
        "RAG": table["rag"].map(lambda v: blank(v) or "–"),
        "Per 1,000 residents (12 months)": table["per_1000_residents"].map(
            lambda v: "–" if pd.isna(v) else f"{v:.1f}"),
    })


st.title("Overview")
version, months, area_list = state.data_or_stop()
engine = state.engine()
first, second = st.columns(2)
area = first.selectbox("Area", area_list, key="ov_area")
month = second.selectbox("Month", months[::-1], key="ov_month", format_func=month_name,
                         help="police.uk publishes each month about two months later")
area_code = resolve_area(engine, area).code
try:
    themed = state.themes(area, month, version, state.mapping_version())
except HotspotInputError as exc:
    st.error(md(exc))
    st.stop()
st.caption(state.currency_text(area))
withheld = state.withheld_text(area, month, month)
if withheld:
    st.caption(md(withheld.replace("shown to your role only as counts per ward, on the JAG "
                                   "report and the Overview", "counted here in its theme")))

table = themed.table
problems = list_problems(engine, area, include_closed=False)
alerts = overview_alerts(engine, area_code, date.today())
total = themed.breakdown.drop_duplicates("category")["incidents"].sum() + \
    themed.unmapped["incidents"].sum()
overdue = int(problems["overdue_actions"].sum()) if len(problems) else 0
st.markdown(f"**{int(total):,}** incidents in {month_name(month)} · **{len(problems)}** open "
            f"problem locations · **{overdue}** overdue partner actions · **{len(alerts)}** "
            "alerts (below)")

rolling, earlier = themed.periods["rolling"], themed.periods["rolling previous"]
st.header(md(f"{themed.area.name}: priority themes, {month_name(month)}"))
st.caption(md(f"Last {themed.months} months ({month_name(rolling[0])} to {month_name(rolling[1])}) "
              f"against the same months a year before ({month_name(earlier[0])} to "
              f"{month_name(earlier[1])})."))
st.table(rag_style(markdown_safe(theme_view(themed, month))), hide_index=True)
for note in themed.notes[:2]:
    st.caption(md(months_in_words(note)))
with st.expander("How the RAG and the changes are worked out"):
    st.caption(md(themed.rag_rule))
    for note in themed.notes[2:]:
        st.caption(md(months_in_words(note)))
chart = table.set_index("theme")[["rolling_previous", "rolling"]].rename(
    columns={"rolling_previous": "The same months a year before",
             "rolling": "Last 12 months"})
st.bar_chart(chart, stack=False, horizontal=True, height=320)

st.header("What needs doing")
if alerts.empty:
    st.success("No PSPO or water-safety alert for this borough.")
for alert in alerts.itertuples():
    SEVERITY.get(alert.severity, st.info)(md(f"{alert.kind}: {alert.message}"))
if len(problems):
    late = problems[problems["overdue_actions"] > 0]
    for row in late.itertuples():
        st.warning(md(f"Problem location {row.name}: {row.overdue_actions} partner action(s) "
                      "overdue"))
    st.page_link("views/problems.py", label="Open the problem locations")

with st.expander("Which crime types and categories count towards each theme"
                 + (" (edit)" if state.may(EDIT_THEMES) else "")):
    mapping = theme_mapping(engine)
    st.caption("One row per category and theme; a category may count towards several themes. "
               "Add council categories as they appear in your logs. "
               + ("This is the default mapping." if mapping.attrs.get("default") else
                  md(f"Saved {mapping.attrs.get('updated_at'):%d/%m/%Y %H:%M} by "
                     f"{mapping.attrs.get('updated_by')}.")))
    if not state.may(EDIT_THEMES):
        st.dataframe(mapping.rename(columns={"category": "Category", "theme": "Theme"}),
                     hide_index=True, width="stretch", key="ov_mapping_view")
    else:
        edited = st.data_editor(
            mapping, num_rows="dynamic", hide_index=True, width="stretch", key="ov_mapping",
            column_config={"category": st.column_config.TextColumn("Category", required=True),
                           "theme": st.column_config.SelectboxColumn("Theme", options=THEMES,
                                                                     required=True)})
        first, second = st.columns(2)
        if first.button("Save the mapping", type="primary", key="ov_save_mapping"):
            result = save_theme_mapping(engine, edited, state.current_user())
            (st.success if result.saved or result.unchanged else st.error)(md(result.summary()))
            if len(result.rejected):
                st.table(markdown_safe(result.rejected), hide_index=True)
        if second.button("Back to the default mapping", key="ov_reset_mapping"):
            reset_theme_mapping(engine)
            st.rerun()
    if len(themed.unmapped):
        st.caption("Categories counted in no theme this period: " + md(", ".join(
            themed.unmapped["category"].astype(str))))
