"""Like for like when months are missing (report.periods) and the plain-English reading of a
change (report.reading): pairs worked by hand, the three-quarters rule at its edge, bad
inputs, every wording, and the comparison spreadsheet saying what was compared."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from core.months import shift_month
from report.compare import jag_comparison, parse_targets
from report.periods import months_text, pair_months
from report.reading import change_reading
from report.spreadsheet import Sheet, workbook_bytes

SAMPLE_MONTHS = {f"2022-{m:02d}" for m in range(1, 12)} | {
    f"2023-{m:02d}" for m in range(1, 13)} | {"2024-01"}


def test_twelve_months_pair_each_month_with_the_same_month_a_year_before():
    pairs = pair_months(("2023-02", "2024-01"), 12, SAMPLE_MONTHS)
    assert pairs.previous == ("2022-02", "2023-01") and pairs.months == 12
    assert pairs.pairs[0] == ("2023-02", "2022-02") and pairs.pairs[-1] == ("2024-01", "2023-01")
    assert pairs.dropped == (("2023-12", "2022-12", "no data for 2022-12"),)
    assert pairs.months_compared == 11 and pairs.needed == 9 and pairs.enough
    assert pairs.dropped_text() == "2023-12 (no data for 2022-12)"
    assert pairs.summary() == "11 of 12 months compared; dropped 2023-12 (no data for 2022-12)"
    assert "2023-12" not in pairs.current_months and "2022-12" not in pairs.previous_months
    assert pairs.to_dict()["dropped"] == [{"current": "2023-12", "previous": "2022-12",
                                           "reason": "no data for 2022-12"}]


def test_shorter_periods_pair_by_position():
    pairs = pair_months(("2023-08", "2024-01"), 6, SAMPLE_MONTHS)
    assert [p for _, p in pairs.pairs] == ["2023-02", "2023-03", "2023-04", "2023-05",
                                           "2023-06", "2023-07"]
    assert pairs.months_compared == 6 and not pairs.dropped


def test_three_quarters_is_the_edge():
    have = {f"2021-{m:02d}" for m in range(1, 13)} | {f"2022-{m:02d}" for m in range(1, 13)}
    nine = pair_months(("2022-01", "2022-12"), 12, have - {"2021-01", "2021-02", "2021-03"})
    assert nine.months_compared == 9 and nine.enough
    eight = pair_months(("2022-01", "2022-12"), 12, have - {"2021-01", "2021-02", "2022-05",
                                                            "2022-06"})
    assert eight.months_compared == 8 and not eight.enough
    assert eight.dropped_text() == ("2022-01 (no data for 2021-01); 2022-02 (no data for "
                                    "2021-02); 2022-05 (no data for 2022-05); 2022-06 (no "
                                    "data for 2022-06)")
    both = pair_months(("2022-01", "2022-01"), 12, set())
    assert both.dropped_text() == "2022-01 (no data for 2022-01 or 2021-01)"
    assert both.needed == 1 and not both.enough  # nothing compared is never enough


def test_bad_periods_are_refused():
    with pytest.raises(ValueError, match="at least one month earlier"):
        pair_months(("2023-01", "2023-12"), 0, SAMPLE_MONTHS)
    with pytest.raises(ValueError, match="starts .* after it ends"):
        pair_months(("2023-12", "2023-01"), 12, SAMPLE_MONTHS)


def test_months_text_and_shift():
    assert months_text([]) == "none"
    assert months_text(["2022-12"]) == "2022-12"
    assert months_text(["2022-02", "2022-03", "2022-04"]) == "2022-02 to 2022-04"
    assert months_text(["2022-02", "2022-04"]) == "2022-02, 2022-04"
    assert shift_month("2024-01", -12) == "2023-01" and shift_month("2023-12", 1) == "2024-01"


@pytest.mark.parametrize(("current", "previous", "p", "reason", "expected"), [
    (88, 100, 0.01, "", "fell by 12% (more than chance would explain)"),
    (103, 100, 0.8, "", "rose by 3% (within normal variation)"),
    (1003, 1000, 0.95, "", "rose by less than 1% (within normal variation)"),
    (50, 50, 1.0, "", "no change"),
    (0, 0, 1.0, "", "no change (none in either period)"),
    (7, 0, 0.02, "", "up from none to 7 (more than chance would explain)"),
    (12, 10, None, "", "rose by 20%"),
    (12, 10, None, "only 6 of 12 months can be compared",
     "not compared: only 6 of 12 months can be compared"),
    (None, 10, None, "", "not compared: no counts"),
    (float("nan"), 10, None, "", "not compared: no counts"),
])
def test_change_readings(current, previous, p, reason, expected):
    assert change_reading(current, previous, p, reason) == expected


def test_comparison_spreadsheet_says_how_many_months_were_compared(sample_db):
    result = jag_comparison(sample_db.engine, "Spelthorne", "2024-01",
                            targets=parse_targets(["*=reduce:5"]))
    data = workbook_bytes([Sheet("Comparison", result.title(), result.table, result.notes)],
                          "Source: data.police.uk")
    sheet = load_workbook(io.BytesIO(data))["Comparison"]
    header = [c.value for c in sheet[4]]
    compared = sheet.cell(row=5, column=header.index("Months compared") + 1)
    dropped = sheet.cell(row=5, column=header.index("Months dropped") + 1)
    reading = sheet.cell(row=5, column=header.index("Reading") + 1)
    assert compared.value == 11 and dropped.value == "2023-12 (no data for 2022-12)"
    assert reading.value == result.table.iloc[0]["reading"]
    notes = [sheet.cell(row=r, column=1).value for r in range(5 + len(result.table),
                                                               sheet.max_row + 1)]
    assert any(n and "11 of 12 months compared" in n for n in notes)
