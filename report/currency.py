"""How old is this? The latest police.uk month loaded and how many whole months before today
(or before an action day) it is, in one sentence every page, the briefing pack and the CLI
share: "Latest police.uk month loaded: January 2024, 34 months before today".

police.uk publishes a month about two months after it ends, so data two or three months old is
as current as it gets; past three months it is stale and the reader is told so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Engine, select

from core.months import month_of, months_apart
from geo.areas import Area, resolve_area
from ingest.police import KIND as POLICE_KIND
from store.models import Incident

STALE_AFTER = 3  # months: police.uk's own lag is about two
POLICE_SOURCE = POLICE_KIND
MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


@dataclass(frozen=True)
class Currency:
    """The latest month loaded, the day it is measured from, and how far apart they are."""

    latest: str | None  # YYYY-MM, None when nothing is loaded
    day: date
    months: int | None  # whole months from the end of the latest month to the day
    relative_to: str = "today"  # or e.g. "the action day (Friday 4 December 2026)"

    @property
    def stale(self) -> bool:
        """More than three whole months old (or nothing loaded at all)."""
        return self.months is None or self.months > STALE_AFTER

    @property
    def latest_label(self) -> str:
        """The latest month as 'January 2024'."""
        return full_month_name(self.latest) if self.latest else "none"

    def sentence(self) -> str:
        """'Latest police.uk month loaded: January 2024, 34 months before today'."""
        if self.latest is None:
            return "No police.uk month is loaded yet: import police.uk data"
        if self.months == 0:
            gap = f"less than a month before {self.relative_to}"
        else:
            gap = f"{self.months} month{'s' if self.months != 1 else ''} before {self.relative_to}"
        return f"Latest police.uk month loaded: {self.latest_label}, {gap}"

    def warning(self) -> str:
        """What a reader must be told when the data is stale ('' when it is not)."""
        if self.latest is None:
            return self.sentence() + "."
        if not self.stale:
            return ""
        age = "old" if self.relative_to == "today" else f"older than {self.relative_to}"
        return (f"The data is {self.months} months {age}: the latest police.uk month loaded "
                f"is {self.latest_label}. Import the latest police.uk months for a current "
                "picture.")

    def to_dict(self) -> dict:
        """For JSON exports."""
        return {"latest_month": self.latest, "day": self.day.isoformat(),
                "months_before": self.months, "stale": self.stale,
                "sentence": self.sentence()}


def full_month_name(month: str) -> str:
    """'2024-01' as 'January 2024'."""
    return datetime.strptime(month, "%Y-%m").strftime("%B %Y")


def whole_months_between(month: str, day: date) -> int:
    """Whole months from the end of `month` (the first day of the next) to `day`; 0 when the
    day falls in or before the month after it."""
    return max(0, months_apart(month, month_of(day)) - 1)


def currency(latest: str | None, day: date | datetime | None = None,
             relative_to: str = "today") -> Currency:
    """How old the latest month is on `day` (default today)."""
    if latest is not None and not (isinstance(latest, str) and MONTH.fullmatch(latest)):
        raise ValueError(f"'{latest}' is not a month in YYYY-MM form (e.g. 2024-01)")
    if isinstance(day, datetime):
        day = day.date()
    if day is not None and not isinstance(day, date):
        raise ValueError(f"the day must be a date, not {day!r}")
    day = day or date.today()
    months = None if latest is None else whole_months_between(latest, day)
    return Currency(latest, day, months, relative_to)


def latest_month(engine: Engine, area: Area | None = None, up_to: str | None = None,
                 source: str = POLICE_SOURCE) -> str | None:
    """The latest month of `source` incidents stored (inside the area's bounding box; no
    later than `up_to`), or None."""
    table = Incident.__table__
    # newest first along the (month, category) index, stopping at the first match: a few
    # rows read rather than every incident
    query = select(table.c.month).where(table.c.source == source).order_by(
        table.c.month.desc()).limit(1)
    if area is not None:
        minx, miny, maxx, maxy = area.bounds
        query = query.where(table.c.easting.between(minx, maxx),
                            table.c.northing.between(miny, maxy))
    if up_to is not None:
        query = query.where(table.c.month <= up_to)
    with engine.connect() as conn:
        found = conn.execute(query).scalar()
    return str(found) if found else None


def data_currency(engine: Engine, area: str | Area | None = None,
                  day: date | datetime | None = None, relative_to: str = "today",
                  up_to: str | None = None) -> Currency:
    """How old the police.uk data loaded for the area (every area when None) is on `day`."""
    place = resolve_area(engine, area) if isinstance(area, str) else area
    return currency(latest_month(engine, place, up_to), day, relative_to)
