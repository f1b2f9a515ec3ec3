"""Plain words for the pages: months as people say them, method settings as sentences, and
column names for tables. The library keeps its precise names; this is how they are read in a
meeting."""

from __future__ import annotations

import math
import numbers
import re
from datetime import date

import pandas as pd

from core.months import months_apart

MONTH_FORMAT = "%b %Y"

# How each of a method's settings reads, by the library's parameter name.
PARAMETER_WORDS = {
    "cell_size_m": "Size of the squares (m)",
    "cell_size_rule": "How the square size was chosen",
    "shape": "Shape of the cells",
    "bandwidth_m": "Smoothing distance (m)",
    "bandwidth_rule": "How the smoothing distance was chosen",
    "kernel": "Smoothing shape",
    "eps_m": "Distance that links incidents into a cluster (m)",
    "eps_rule": "How that distance was chosen",
    "min_samples": "Incidents needed to start a cluster",
    "min_samples_rule": "How that number was chosen",
    "min_cluster_size": "Smallest cluster kept",
    "min_cluster_size_rule": "How that size was chosen",
    "distance_m": "Neighbours within (m)",
    "distance_rule": "How the neighbours were chosen",
    "k": "Nearest cells compared",
    "fdr": "False discovery rate",
    "alpha": "Significance level",
    "pool": "Weight given to all crime nearby",
    "pool_rule": "How all crime is used",
    "smooth": "Weight given to the neighbouring squares",
    "ranking": "What the ranking rests on",
    "ranking_rule": "What the ranking rests on",
    "coverage": "Hotspots cover at most this share of the land",
    "incidents": "Incidents smoothed",
}


def month_name(month: str) -> str:
    """'2024-01' -> 'Jan 2024'."""
    try:
        return pd.Period(month, freq="M").strftime(MONTH_FORMAT)
    except (ValueError, TypeError):
        return str(month)


def day_in_words(day: date) -> str:
    """date(2026, 6, 1) -> '1 June 2026': a day in a sentence, as the alerts and the briefing
    write it (tables show dd/mm/yyyy)."""
    return f"{day.day} {day:%B %Y}"


ISO_MONTH = re.compile(r"\b(\d{4})-(0[1-9]|1[0-2])\b(?!-)")


def months_in_words(text: str) -> str:
    """Every '2023-12' in a sentence the library wrote, as 'Dec 2023' (dates are left alone)."""
    return ISO_MONTH.sub(lambda m: month_name(m.group(0)), text)


def month_span(month_from: str, month_to: str) -> str:
    """'Feb 2023 to Jan 2024 (12 months)', or 'Jan 2024' for one month."""
    if month_from == month_to:
        return month_name(month_from)
    months = months_apart(month_from, month_to) + 1
    return f"{month_name(month_from)} to {month_name(month_to)} ({months} months)"


def setting_value(name: str, value: object) -> str:
    """A setting's value as text: shares as %, metres rounded, words as they are."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if name == "coverage" and isinstance(value, int | float):
        return f"{value:.2%}"
    if isinstance(value, float):
        return f"{value:,.0f}" if value >= 10 else f"{value:g}"
    return str(value)


def settings_table(parameters: dict) -> pd.DataFrame:
    """A method's settings as a two-column table ('Setting', 'Value') in plain words."""
    rows = [(PARAMETER_WORDS.get(name, name.replace("_", " ").capitalize()),
             setting_value(name, value)) for name, value in parameters.items()
            if not isinstance(value, dict | list)]
    return pd.DataFrame(rows, columns=["Setting", "Value"])


def chance_words(p_value: float | None, change: float | None = None) -> str:
    """An exact test's p-value read out: 'more than chance would explain' below 0.05."""
    if p_value is None or (isinstance(p_value, float) and math.isnan(p_value)):
        return "not tested"
    if p_value < 0.05:
        return "more than chance would explain"
    return "within what chance would give"


def blank(value: object) -> str:
    """A table cell with nothing in it reads as empty, never 'None' or 'nan'."""
    if value is None or value is pd.NA:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    text = str(value)
    return "" if text in ("None", "nan", "NaT") else text


def cell_text(value: object) -> str:
    """One cell as people read it: dates as dd/mm/yyyy (with the time when it has one),
    True/False as yes/no, whole numbers with thousands separators, nothing for missing."""
    if pd.api.types.is_bool(value):  # numpy's booleans too
        return "yes" if value else "no"
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}"
    if isinstance(value, numbers.Integral):  # numpy's integers too (counts from pandas)
        return f"{int(value):,}"
    if isinstance(value, numbers.Real):  # numpy floats
        return cell_text(float(value))
    if isinstance(value, pd.Timestamp):
        has_time = (value.hour, value.minute) != (0, 0)
        return value.strftime("%d/%m/%Y %H:%M" if has_time else "%d/%m/%Y")
    if hasattr(value, "strftime"):  # datetime.date / datetime.datetime
        return cell_text(pd.Timestamp(value))
    return blank(value)


def readable(frame: pd.DataFrame, labels: dict[str, str]) -> pd.DataFrame:
    """The columns of `labels` (in that order), renamed for people and written as text:
    no 'None', no 'nan', dates in the UK way."""
    return pd.DataFrame({label: [cell_text(v) for v in frame[column]]
                         for column, label in labels.items() if column in frame.columns})


def street_name(location: str) -> str:
    """'On or near High Street (12)' -> 'High Street' (the count at the busiest point is not
    part of the name); other texts as they are (trimmed)."""
    text = re.sub(r" \(\d[\d,]*\)$", "", " ".join(location.split()))
    for prefix in ("On or near ", "on or near "):
        if text.startswith(prefix):
            text = text[len(prefix):]
    return "" if text in ("", "(no description)") else text[:40]
