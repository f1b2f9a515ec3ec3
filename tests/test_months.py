"""core.months: the month arithmetic every layer shares."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from core.months import (
    month_of,
    month_range,
    months_apart,
    months_before,
    months_ending,
    shift_month,
)


@pytest.mark.parametrize(("month", "n", "expected"), [
    ("2024-01", 0, "2024-01"),
    ("2024-01", -1, "2023-12"),
    ("2023-12", 1, "2024-01"),
    ("2024-01", -12, "2023-01"),
    ("2024-03", -26, "2022-01"),
    ("2022-11", 14, "2024-01"),
])
def test_shift_month_crosses_year_boundaries(month, n, expected):
    assert shift_month(month, n) == expected


def test_month_range_is_inclusive_and_crosses_the_new_year():
    assert month_range("2023-11", "2024-02") == ["2023-11", "2023-12", "2024-01", "2024-02"]
    assert month_range("2024-05", "2024-05") == ["2024-05"]
    assert len(month_range("2022-01", "2024-01")) == 25


def test_month_range_is_empty_when_the_first_month_is_later():
    assert month_range("2024-02", "2024-01") == []


def test_months_before_are_oldest_first_and_exclude_the_month():
    assert months_before("2024-01", 3) == ["2023-10", "2023-11", "2023-12"]
    assert months_before("2024-03", 2) == ["2024-01", "2024-02"]
    assert months_before("2024-01", 12) == [f"2023-{m:02d}" for m in range(1, 13)]
    assert months_before("2024-01", 0) == []


def test_months_ending_include_the_month():
    assert months_ending("2024-02", 3) == ["2023-12", "2024-01", "2024-02"]
    assert months_ending("2024-02", 1) == ["2024-02"]
    assert months_ending("2024-02", 0) == []
    assert months_ending("2024-12", 12) == month_range("2024-01", "2024-12")


def test_months_apart_counts_whole_months_either_way():
    assert months_apart("2023-12", "2024-01") == 1
    assert months_apart("2024-01", "2024-01") == 0
    assert months_apart("2024-01", "2023-01") == -12
    assert months_apart("2022-02", "2024-01") == 23
    for first, second in [("2019-07", "2024-03"), ("2024-03", "2019-07")]:
        assert shift_month(first, months_apart(first, second)) == second


def test_month_of_a_day():
    assert month_of(date(2024, 1, 31)) == "2024-01"
    assert month_of(datetime(2023, 12, 31, 23, 59)) == "2023-12"
    assert month_of("2024-02-29") == "2024-02"


@pytest.mark.parametrize("bad", ["2024-13", "not a month", "24-1x"])
def test_text_that_is_no_month_is_refused(bad):
    with pytest.raises(ValueError):
        shift_month(bad, 1)
    with pytest.raises(ValueError):
        month_range(bad, "2024-01")
    with pytest.raises(ValueError):
        months_apart("2024-01", bad)
