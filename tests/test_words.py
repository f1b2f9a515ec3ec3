"""Plain words for the pages (core/words.py): the sample's months as people say them, a real
hotspot map's settings as sentences, p-values read out, table cells without 'None' or 'nan',
dates the UK way, and real police.uk locations as street names."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest

from core.words import (
    PARAMETER_WORDS,
    blank,
    cell_text,
    chance_words,
    day_in_words,
    month_name,
    month_span,
    months_in_words,
    readable,
    setting_value,
    settings_table,
    street_name,
)
from hotspots.analysis import find_hotspots
from tests.sample_data import SAMPLE_POLICE, police_dicts


def test_every_sample_month_is_named_as_people_say_it():
    months = sorted(p.name for p in SAMPLE_POLICE.iterdir() if p.is_dir())
    assert months[0] == "2022-01" and len(months) > 20
    for month in months:
        year, number = month.split("-")
        assert month_name(month) == f"{date(int(year), int(number), 1):%b} {year}"
    assert month_name("2024-13") == "2024-13" and month_name(None) == "None"  # left as given


def test_month_spans_and_months_inside_sentences():
    assert month_span("2023-02", "2024-01") == "Feb 2023 to Jan 2024 (12 months)"
    assert month_span("2024-01", "2024-01") == "Jan 2024"
    assert month_span("2023-12", "2024-01") == "Dec 2023 to Jan 2024 (2 months)"
    assert months_in_words("compared 2023-12 with 2024-01; on 2024-01-15 it rose") == \
        "compared Dec 2023 with Jan 2024; on 2024-01-15 it rose"  # a date stays a date
    assert months_in_words("2024-13 and 12024-01") == "2024-13 and 12024-01"
    assert day_in_words(date(2026, 6, 1)) == "1 June 2026"


def test_a_real_maps_settings_read_as_sentences(sample_db):
    report = find_hotspots(sample_db.engine, "spelthorne", "2023-02", "2024-01", ["Burglary"])
    table = settings_table(report.parameters)
    assert list(table.columns) == ["Setting", "Value"]
    shown = dict(zip(table["Setting"], table["Value"], strict=True))
    assert shown[PARAMETER_WORDS["cell_size_m"]] == "50"
    assert shown[PARAMETER_WORDS["coverage"]] == "1.00%"
    nested = [k for k, v in report.parameters.items() if isinstance(v, dict | list)]
    assert len(table) == len(report.parameters) - len(nested)
    # no library name left where there are words for it
    assert not set(table["Setting"]) & set(PARAMETER_WORDS)


@pytest.mark.parametrize(("name", "value", "text"), [
    ("coverage", 0.01, "1.00%"),
    ("coverage", 1, "100.00%"),
    ("bandwidth_m", 312.46, "312"),
    ("bandwidth_m", 12345.6, "12,346"),
    ("alpha", 0.05, "0.05"),
    ("kernel", "quartic", "quartic"),
    ("min_samples", 25, "25"),
    ("fdr", None, "–"),
    ("smooth", float("nan"), "–"),
])
def test_setting_values(name, value, text):
    assert setting_value(name, value) == text


def test_unknown_settings_get_a_readable_name():
    table = settings_table({"new_thing_m": 5.0, "surface": {"a": 1}})
    assert table.values.tolist() == [["New thing m", "5"]]


@pytest.mark.parametrize(("p", "words"), [
    (0.001, "more than chance would explain"), (0.0499, "more than chance would explain"),
    (0.05, "within what chance would give"), (0.8, "within what chance would give"),
    (None, "not tested"), (float("nan"), "not tested"),
])
def test_p_values_read_out(p, words):
    assert chance_words(p) == words


@pytest.mark.parametrize(("value", "text"), [
    (True, "yes"), (False, "no"),
    (None, ""), (pd.NA, ""), (pd.NaT, ""), (float("nan"), ""), (np.nan, ""),
    (1234.0, "1,234"), (1234.5, "1,234.50"), (np.float64(0.25), "0.25"),
    (1234567, "1,234,567"), (np.int64(9000), "9,000"),
    (pd.Timestamp("2024-01-31"), "31/01/2024"), (pd.Timestamp("2024-01-31 09:05"),
                                                  "31/01/2024 09:05"),
    (date(2024, 3, 4), "04/03/2024"), (datetime(2024, 3, 4, 17, 30), "04/03/2024 17:30"),
    ("None", ""), ("nan", ""), ("Staines", "Staines"),
])
def test_cell_text(value, text):
    assert cell_text(value) == text


def test_blank_keeps_real_text_and_empties_missing_values():
    assert [blank(v) for v in (None, pd.NA, float("nan"), "NaT", "", 0, "0")] == \
        ["", "", "", "", "", "0", "0"]


def test_a_real_table_made_readable():
    rows = police_dicts("2024-01")[:30]
    frame = pd.DataFrame({"location": [r["Location"] for r in rows],
                          "crime_id": [r["Crime ID"] or None for r in rows],
                          "count": np.arange(30, dtype=np.int64) * 1000,
                          "located": [bool(r["Longitude"]) for r in rows]})
    shown = readable(frame, {"count": "Incidents", "location": "Where", "crime_id": "Crime ID",
                             "located": "On the map", "missing": "Not there"})
    assert list(shown.columns) == ["Incidents", "Where", "Crime ID", "On the map"]
    assert shown["On the map"].tolist() == ["yes" if r["Longitude"] else "no" for r in rows]
    assert shown["Incidents"].iloc[2] == "2,000"
    assert shown["Where"].tolist() == [r["Location"] for r in rows]
    assert "None" not in shown["Crime ID"].tolist()
    assert shown["Crime ID"].tolist() == [r["Crime ID"] for r in rows]


def test_real_locations_become_street_names():
    locations = {r["Location"] for r in police_dicts("2024-01")}
    near = [loc for loc in locations if loc.startswith("On or near ")]
    assert len(near) > 100
    for location in near:
        assert street_name(location) == location[len("On or near "):][:40].strip() or \
            street_name(location) == ""
    assert street_name("On or near High Street (12)") == "High Street"
    assert street_name("  on or near   Church  Road (1,204)") == "Church Road"
    assert street_name("On or near (no description)") == ""
    assert street_name("(no description)") == "" and street_name("") == ""
    assert street_name("Staines Bridge") == "Staines Bridge"
    assert len(street_name("On or near " + "A" * 60)) == 40
