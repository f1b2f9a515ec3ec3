"""The action-day briefing pack as text: its tables, its first lines (header facts and key
figures) and the credits, for the HTML (report.briefing_html) and the PDF
(report.briefing_pdf) alike. The Briefing itself is gathered by report.briefing.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np
import pandas as pd

from core.words import month_name
from report.assessment import counts_table
from report.briefing import Briefing, day_text

ATTRIBUTION = [
    "Crime and ASB: data.police.uk, contains public sector information licensed under the Open "
    "Government Licence v3.0.",
    "Boundaries: ONS, contains OS data © Crown copyright and database right; postcodes: OS "
    "Code-Point Open, Royal Mail data © Royal Mail copyright and database right.",
    "River Thames: © OpenStreetMap contributors, licensed under the Open Database Licence "
    "(ODbL).",
]


def categories_text(briefing: Briefing) -> str:
    """The crime types counted, for the header: all, or the selected ones (saying how many of
    a theme's categories have no data loaded)."""
    if briefing.categories is None:
        return "all crime and ASB"
    shown = [t for t in briefing.by_type["crime_type"].iloc[:-1]]
    others = len([c for c in briefing.categories if c not in shown])
    if not shown:
        return f"{', '.join(briefing.categories)} (none with data loaded)"
    text = ", ".join(shown)
    if others:
        text += (f" (and {others} more categor{'y' if others == 1 else 'ies'} of the theme "
                 "with no data loaded)")
    return text


def cell(value: object) -> str:
    """A value as table text: '' for missing, dates ISO, whole numbers with commas."""
    if value is None or value is pd.NaT:
        return ""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}"
    if isinstance(value, numbers.Real) and math.isnan(float(value)):
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


@dataclass
class Table:
    """One table of the pack as text, for the HTML and the PDF alike."""

    key: str
    title: str
    headers: list[str]
    rows: list[list[str]]
    numeric: list[bool]  # right-aligned columns
    widths: list[float]  # relative column widths (the PDF's)
    total_rows: int = 0  # the last rows are totals
    more: int = 0  # rows left out ("and N more")
    empty: str = "None."
    colours: list[str | None] = field(default_factory=list)  # a swatch per row
    swatch_column: int | None = None


def pack_tables(briefing: Briefing, limits: dict[str, int] | None = None) -> list[Table]:
    """The pack's tables in order; `limits` caps rows per table key (the rest is counted in
    `more`): incidents, repeats, pspos, equipment, actions."""
    limits = limits or {}
    tables = [incidents_table(briefing),
              *([assessment_table(briefing)] if briefing.assessment is not None else []),
              repeats_table(briefing), pspo_table(briefing), equipment_table(briefing),
              actions_table(briefing)]
    for table in tables:
        cap = limits.get(table.key)
        body = len(table.rows) - table.total_rows
        if cap is not None and body > cap:
            keep = table.rows[:cap] + table.rows[body:]
            table.more = body - cap
            table.colours = table.colours[:cap] + table.colours[body:] if table.colours \
                else []
            table.rows = keep
    return tables


def incidents_table(briefing: Briefing) -> Table:
    """Crime types by month, with the total and share of each type; the total line last."""
    by_month = briefing.by_month.set_index("month")
    types = [t for t in briefing.by_type["crime_type"].iloc[:-1]]
    shares = dict(zip(briefing.by_type["crime_type"], briefing.by_type["share_pct"],
                      strict=True))
    rows = []
    for kind in types:
        counts = [cell(int(by_month.loc[m, kind])) for m in briefing.months]
        rows.append([kind, *counts, cell(int(by_month.loc["Total", kind])),
                     f"{shares[kind]:.1f}%"])
    total = [cell(int(by_month.loc[m, "total"])) for m in briefing.months]
    rows.append([briefing.total_label, *total, cell(int(by_month.loc["Total", "total"])),
                 "100%" if briefing.total else "–"])
    months = [month_name(m) for m in briefing.months]
    title = f"Incidents by type and month, {briefing.month_span}"
    return Table("incidents", title, ["Crime type", *months, "Total", "Share"], rows,
                 [False, *[True] * (len(months) + 2)],
                 [3.2, *[0.9] * len(months), 0.9, 0.9], total_rows=1,
                 empty="No incidents of these types were recorded in the place.")


def assessment_table(briefing: Briefing) -> Table:
    """The place, a ring around it and the rest of the borough: incidents before, after, and
    the after count the borough's trend would predict (report.assessment)."""
    a = briefing.assessment
    rows = [[cell(r["area"]), cell(int(r["before"])), cell(int(r["after"])),
             "–" if r["expected_after"] is None or r["expected_after"] != r["expected_after"]
             else f"{r['expected_after']:,.0f}"]
            for _, r in counts_table(a).iterrows()]
    title = (f"Change against the borough's trend: {a.before[0]} to {a.before[1]} against "
             f"{a.after[0]} to {a.after[1]}")
    return Table("assessment", title, ["Where", "Before", "After",
                                       "Expected after, on the borough's trend"], rows,
                 [False, True, True, True], [4.0, 1.0, 1.0, 2.4])


def repeats_table(briefing: Briefing) -> Table:
    """The busiest police.uk map points in the place."""
    rows = [[cell(r["rank"]), cell(r["location"]), cell(int(r["count"])), cell(r["top_types"]),
             f"{r['first_month']} to {r['last_month']}" if r["first_month"] != r["last_month"]
             else cell(r["first_month"])]
            for _, r in briefing.repeats.iterrows()]
    return Table("repeats", "Repeat locations (map points with 2 or more incidents)",
                 ["#", "Location", "Incidents", "Top crime types", "Months"], rows,
                 [True, False, True, False, False], [0.4, 2.6, 1.0, 4.2, 1.8],
                 empty="No map point in the place had more than one incident.")


def pspo_table(briefing: Briefing) -> Table:
    """PSPOs in force on the day whose area meets the place."""
    rows = []
    for _, r in briefing.pspos.iterrows():
        name = cell(r["name"])
        if r["example"] and "EXAMPLE" not in name:
            name = f"[EXAMPLE] {name}"
        rows.append([cell(r["reference"]), name, cell(r["expires_on"]) or "unknown",
                     cell(r["conditions"]), cell(r["alerts"]), cell(r["published_url"])])
    title = f"PSPOs in force on {briefing.on.isoformat()}"
    return Table("pspos", title, ["Reference", "Order", "Expires", "Conditions", "Alerts",
                                  "Published order"], rows, [False] * 6,
                 [1.6, 2.0, 1.0, 3.6, 1.6, 1.6],
                 empty="No PSPO in force on the day covers any of the place.")


def equipment_table(briefing: Briefing) -> Table:
    """Water-safety items near the place with their check state for the month."""
    rows, colours = [], []
    for _, r in briefing.equipment.iterrows():
        asset = cell(r["asset_id"]) + (" [EXAMPLE]" if r["example"] else "")
        where = "inside" if int(r["distance_m"]) == 0 else f"{int(r['distance_m']):,} m"
        last = cell(r["last_checked_at"])
        outcome = cell(r["last_outcome_label"])
        rows.append([asset, cell(r["kind_label"]), cell(r["site"]), cell(r["borough"]),
                     cell(r["state_label"]), f"{last}: {outcome}" if last else "never checked",
                     where])
        colours.append(str(r["colour"]) if r["colour"] else None)
    month = briefing.on.strftime("%Y-%m")
    title = (f"Water-safety equipment within {briefing.equipment_margin_m:,.0f} m, check "
             f"state for {month}")
    return Table("equipment", title, ["Asset", "Type", "Site", "Borough", "State",
                                      "Last check", "From place"], rows, [False] * 6 + [True],
                 [1.3, 1.7, 2.2, 1.1, 1.7, 2.3, 0.9], colours=colours, swatch_column=4,
                 empty="No water-safety equipment in service near the place.")


def actions_table(briefing: Briefing) -> Table:
    """Open partner actions at problem locations meeting the place."""
    rows = []
    for _, r in briefing.actions.iterrows():
        due = cell(r["due_on"]) + (" (overdue)" if bool(r["overdue"]) else "")
        rows.append([cell(r["problem"]), cell(r["action"]), cell(r["lead"]),
                     cell(r["measure"]), due])
    empty = "No open partner action at a problem location here." if \
        briefing.actions_available else "The problem-location register is not available."
    return Table("actions", "Open partner actions at problem locations here",
                 ["Problem location", "Action", "Lead", "Measure", "Due"], rows,
                 [False] * 5, [2.0, 3.4, 1.4, 2.2, 1.4], empty=empty)


def header_facts(briefing: Briefing) -> list[tuple[str, str]]:
    """The pack's first lines, as (label, value): place, outline note, borough, action day,
    how current the data is, theme, crime types, months covered, when it was made."""
    place = briefing.place
    facts = [("Place", f"{place.name} ({place.kind})")]
    if place.note:
        facts.append(("About the outline", place.note))
    facts += [
        ("Borough", f"{briefing.area_name} ({place.area_code})"),
        ("Action day", day_text(briefing.on)),
    ]
    if briefing.currency is not None:
        facts.append(("Data", briefing.currency.sentence() + "."))
    facts += [
        ("Theme", briefing.theme or "none (all crime and ASB)"),
        ("Crime types", categories_text(briefing)),
        ("Months covered", f"{briefing.month_span} (the latest months loaded)"),
        *([("Not in this pack", briefing.withheld)] if briefing.withheld else []),
        ("Generated at", briefing.generated_at.strftime("%Y-%m-%d %H:%M")),
    ]
    return facts


def key_figures(briefing: Briefing) -> list[str]:
    """The few lines that open the pack: a plain warning when the data is more than three
    months older than the action day, incidents, top types, busiest point, orders, equipment
    needing a visit, open actions."""
    what = "of the selected types" if briefing.categories else "(all crime and ASB)"
    stale = briefing.currency.warning() if briefing.currency is not None else ""
    lines = [stale] if stale else []
    lines += [f"{briefing.total:,} incident{'s' if briefing.total != 1 else ''} {what} in "
             f"{briefing.place.name}, "
             f"{briefing.month_span} ({len(briefing.months)} month"
             f"{'s' if len(briefing.months) != 1 else ''})."]
    top = briefing.by_type.iloc[:-1]
    top = top[top["incidents"] > 0].head(3)
    if len(top):
        lines.append("Most common: " + "; ".join(
            f"{t} {n:,} ({p:.0f}%)" for t, n, p in
            zip(top["crime_type"], top["incidents"], top["share_pct"], strict=True)) + ".")
    if len(briefing.repeats):
        first = briefing.repeats.iloc[0]
        lines.append(f"Busiest map point: {first['location']} ({int(first['count']):,} "
                     "incidents).")
    if briefing.assessment is not None:
        lines.append(briefing.assessment.sentence())
    lines.append(f"PSPOs in force on the day: {len(briefing.pspos)}.")
    equipment = briefing.equipment
    if len(equipment):
        states = equipment["state_label"].value_counts()
        lines.append(f"Water-safety equipment nearby: {len(equipment)} item"
                     f"{'s' if len(equipment) != 1 else ''} ("
                     + ", ".join(f"{n} {label.lower()}" for label, n in states.items()) + ").")
    else:
        lines.append("Water-safety equipment nearby: none.")
    if briefing.actions_available:
        overdue = int(briefing.actions["overdue"].astype(bool).sum()) if len(
            briefing.actions) else 0
        lines.append(f"Open partner actions: {len(briefing.actions)}"
                     + (f", {overdue} overdue" if overdue else "") + ".")
    return lines
