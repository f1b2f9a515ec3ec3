"""What both registers share: their error, checked text and dates, and who is acting.

Every entry point (form, CLI, CSV import) goes through these checks, so a value refused in one
is refused in all with the same words. Text is stored as given (only trimmed); it is escaped
where it is shown, never altered where it is kept.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pandas as pd
from sqlalchemy import ColumnElement, Engine, Table, select

from access.scope import operator
from core.errors import UserError
from core.months import shift_month
from geo.areas import resolve_area

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
UK_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
# A check typed on a phone whose clock runs a little fast is not "in the future".
CLOCK_SLACK = timedelta(minutes=5)


class RegisterError(UserError, ValueError):
    """A register action refused, with the reason in words and the field that is wrong."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def command_line_user() -> str:
    """Who runs a CLI command, for `recorded_by` (the app records the signed-in user)."""
    return operator().label


def one_id(engine: Engine, table: Table, matches: ColumnElement[bool], area: str | None,
           missing: str, several: str, field: str) -> int:
    """The id of the one row of a register `matches` picks (in `area`'s borough when given):
    `missing` or `several` (with --area advice) is the refusal otherwise."""
    with engine.connect() as conn:
        rows = conn.execute(select(table.c.id, table.c.area_code).where(matches)).fetchall()
    if area:
        code = resolve_area(engine, area).code
        rows = [r for r in rows if r[1] == code]
    if not rows:
        raise RegisterError(missing, field)
    if len(rows) > 1:
        raise RegisterError(f"{several}: say which with --area", field)
    return int(rows[0][0])


def text(value: object, field: str, *, required: bool = False, limit: int = 2000,
         label: str | None = None) -> str | None:
    """A text field as given (trimmed); None when empty and not required. Refuses text longer
    than `limit` and NUL characters (no database keeps them)."""
    label = label or field.replace("_", " ")
    if value is None or (isinstance(value, float) and pd.isna(value)):
        value = ""
    out = str(value).strip()
    if not out:
        if required:
            raise RegisterError(f"{label} is required", field)
        return None
    if "\x00" in out:
        raise RegisterError(f"{label} contains a NUL character", field)
    if len(out) > limit:
        raise RegisterError(f"{label} is {len(out):,} characters long; at most {limit:,}", field)
    return out


def parse_date(value: object, field: str, *, required: bool = True,
               label: str | None = None) -> date | None:
    """A date from a date object, ISO text (2024-03-01) or UK day-first text (01/03/2024)."""
    label = label or field.replace("_", " ")
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raw = "" if value is None or (isinstance(value, float) and pd.isna(value)) else \
        str(value).strip()
    if not raw:
        if required:
            raise RegisterError(f"{label} is required (YYYY-MM-DD or DD/MM/YYYY)", field)
        return None
    try:
        if ISO_DATE.match(raw):
            return date.fromisoformat(raw)
        uk = UK_DATE.match(raw)
        if uk:
            day, month, year = (int(g) for g in uk.groups())
            return date(year, month, day)
    except ValueError:
        pass
    raise RegisterError(f"{label} '{raw}' is not a date (YYYY-MM-DD or DD/MM/YYYY, day first)",
                        field)


def parse_datetime(value: object, field: str, label: str | None = None) -> datetime:
    """A date and time from a datetime or text ('2024-03-01 14:30', '01/03/2024 14:30', or a
    date alone, taken as midday so it sorts inside its day); local time, minute precision."""
    label = label or field.replace("_", " ")
    if isinstance(value, datetime):
        return value.replace(second=0, microsecond=0, tzinfo=None)
    raw = "" if value is None else str(value).strip().replace("T", " ")
    if not raw:
        raise RegisterError(f"{label} is required", field)
    day_text, _, time_text = raw.partition(" ")
    day = parse_date(day_text, field, label=label)
    if not time_text.strip():
        return datetime.combine(day, datetime.min.time()).replace(hour=12)
    match = re.match(r"^(\d{1,2}):(\d{2})(?::\d{2}(?:\.\d+)?)?$", time_text.strip())
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise RegisterError(f"{label} '{raw}': the time '{time_text.strip()}' is not HH:MM",
                            field)
    return datetime(day.year, day.month, day.day, int(match.group(1)), int(match.group(2)))


def not_in_future(when: date | datetime, field: str, now: datetime | None = None,
                  label: str | None = None) -> None:
    """Refuse a date or time later than now (a typing error: checks and orders are recorded
    after they happen)."""
    label = label or field.replace("_", " ")
    now = now or datetime.now()
    if isinstance(when, datetime):
        if when > now + CLOCK_SLACK:
            raise RegisterError(f"{label} {when:%Y-%m-%d %H:%M} is in the future (now "
                                f"{now:%Y-%m-%d %H:%M})", field)
    elif when > now.date():
        raise RegisterError(f"{label} {when.isoformat()} is in the future (today is "
                            f"{now.date().isoformat()})", field)


def add_years(day: date, years: int) -> date:
    """The same day `years` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """First instant of a YYYY-MM month and of the month after it."""
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month or ""):
        raise RegisterError(f"'{month}' is not a month in YYYY-MM form", "month")
    start = datetime(int(month[:4]), int(month[5:]), 1)
    return start, datetime.strptime(shift_month(month, 1), "%Y-%m")
