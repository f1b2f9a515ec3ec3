"""How old the data is (report.currency): whole months worked by hand, the three-month line,
bad inputs, the latest month of the real sample, a database with nothing loaded, and the CLI
saying it."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest

from report.currency import currency, data_currency, latest_month, whole_months_between
from tests.sample_data import run_cli


@pytest.mark.parametrize(("month", "day", "months"), [
    ("2024-01", date(2026, 12, 5), 34),  # 1 Feb 2024 + 34 months = 1 Dec 2026
    ("2024-01", date(2026, 11, 28), 33),
    ("2024-01", date(2024, 2, 29), 0),
    ("2024-01", date(2024, 3, 1), 1),
    ("2024-01", date(2024, 5, 31), 3),
    ("2024-01", date(2024, 6, 1), 4),
    ("2024-01", date(2023, 6, 1), 0),  # a day before the month: not negative
])
def test_whole_months_from_the_end_of_the_month(month, day, months):
    assert whole_months_between(month, day) == months


def test_sentences_and_the_three_month_line():
    old = currency("2024-01", date(2026, 12, 5))
    assert old.sentence() == "Latest police.uk month loaded: January 2024, 34 months before today"
    assert old.stale and old.warning().startswith("The data is 34 months old")
    assert currency("2024-01", date(2024, 5, 31)).stale is False  # 3 months: as current as it gets
    assert currency("2024-01", date(2024, 6, 1)).stale is True
    one = currency("2024-01", date(2024, 3, 10))
    assert one.sentence().endswith("1 month before today") and one.warning() == ""
    recent = currency("2024-01", datetime(2024, 2, 3, 9, 30))
    assert recent.day == date(2024, 2, 3)
    assert recent.sentence().endswith("less than a month before today")
    action = currency("2024-01", date(2026, 11, 28), "the action day")
    assert action.warning().startswith("The data is 33 months older than the action day")
    assert action.to_dict() == {"latest_month": "2024-01", "day": "2026-11-28",
                                "months_before": 33, "stale": True,
                                "sentence": action.sentence()}


def test_nothing_loaded():
    none = currency(None, date(2026, 12, 5))
    assert none.stale and none.months is None
    assert none.sentence() == "No police.uk month is loaded yet: import police.uk data"


@pytest.mark.parametrize(("month", "day", "message"), [
    ("2024-13", None, "not a month in YYYY-MM form"),
    ("January 2024", None, "not a month in YYYY-MM form"),
    (202401, None, "not a month in YYYY-MM form"),
    ("2024-01", "tomorrow", "the day must be a date"),
])
def test_bad_inputs_are_refused(month, day, message):
    with pytest.raises(ValueError, match=message):
        currency(month, day)


def test_the_latest_month_of_the_sample(sample_db):
    engine = sample_db.engine
    assert latest_month(engine) == "2024-01"
    assert latest_month(engine, up_to="2023-06") == "2023-06"
    assert latest_month(engine, up_to="2022-12") == "2022-11"  # 2022-12 is not loaded
    fresh = data_currency(engine, "Runnymede", date(2026, 12, 5))
    assert fresh.sentence() == ("Latest police.uk month loaded: January 2024, 34 months before "
                                "today")
    assert latest_month(engine, source="council log") is None


def test_an_empty_database_says_nothing_is_loaded(fresh_db):
    assert data_currency(fresh_db.engine).latest is None


def test_the_cli_says_how_current_the_data_is(sample_db):
    sentence = "Latest police.uk month loaded: January 2024, "
    for args in (["compare", "--area", "spelthorne", "--to", "2024-01"],
                 ["summary", "--area", "spelthorne", "--by", "ward", "--from", "2024-01",
                  "--to", "2024-01"],
                 ["overview", "--area", "spelthorne", "--month", "2024-01", "--no-alerts"]):
        done = run_cli(args, sample_db.url)
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines()[1].startswith(sentence), args
    done = run_cli(["overview", "--area", "spelthorne", "--month", "2024-01", "--no-alerts",
                    "--on", "2024-03-20", "--json"], sample_db.url)
    assert json.loads(done.stdout)["currency"]["months_before"] == 1
