"""The PSPO register: orders with their area, prohibitions and requirements, dates and history.

Rules from the Anti-social Behaviour, Crime and Policing Act 2014 (ss. 59-61), as the register
applies them:
- an order has effect for at most 3 years from when it is made, or from when it was last
  extended; `expires_on` is the first day it no longer has effect, so made 2023-07-03 means
  expires by 2026-07-03. A later expiry is refused.
- an extension is made before the order expires and runs at most 3 years from its own date;
  an order can be extended more than once. An expired or discharged order cannot be extended.
- the register warns 90 days before expiry (time to consult on an extension) and shows when a
  review is overdue: each order has a review cadence (default 42 days, Runnymede's six-weekly
  JAG review), counted from the last review or, before any, from the date it was made.

Every action is one transaction; history (made, extended, varied, reviewed, discharged) is
kept as append-only events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import geopandas as gpd
import pandas as pd
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, Engine, select

from access.audit import record
from access.roles import MANAGE_PSPOS
from access.scope import require
from core.words import day_in_words
from geo.areas import area_names_by_code, resolve_area
from geo.crs import WGS84
from geo.pspo_outlines import order_status
from registers.common import (
    RegisterError,
    add_years,
    not_in_future,
    one_id,
    parse_date,
    text,
)
from registers.outlines import checked_outline
from store.db import write_transaction
from store.models import PspoCondition, PspoEvent, PspoOrder

MAX_YEARS = 3
EXPIRY_WARNING_DAYS = 90
DEFAULT_REVIEW_DAYS = 42  # six-weekly, as Runnymede's JAG reviews its PSPOs
CONDITION_KINDS = ("prohibition", "requirement")
EVENT_KINDS = ("made", "extended", "varied", "reviewed", "discharged")
STATUSES = ("in force", "expired", "discharged")


@dataclass(frozen=True)
class Condition:
    """One prohibition or requirement: its wording, when it applies and who is exempt."""

    kind: str
    wording: str
    times: str | None = None
    exemptions: str | None = None

    @classmethod
    def parse(cls, kind: str, spec: str) -> Condition:
        """From 'WORDING | times: 20:00-06:00 | exempt: licensed premises' (times and
        exemptions optional), the CLI's form."""
        parts = [p.strip() for p in str(spec).split(" | ")]
        times = exemptions = None
        for part in parts[1:]:
            key, _, value = part.partition(":")
            key = key.strip().lower()
            if key in ("times", "time", "when"):
                times = value.strip()
            elif key in ("exempt", "exempts", "exemption", "exemptions"):
                exemptions = value.strip()
            else:
                raise RegisterError(f"in '{spec}', '{part}' is neither 'times: …' nor "
                                    "'exempt: …' (the parts that may follow the wording)",
                                    "conditions")
        return cls.checked(kind, parts[0], times, exemptions)

    @classmethod
    def checked(cls, kind: str, wording: object, times: object = None,
                exemptions: object = None) -> Condition:
        """A condition with every field checked."""
        kind = str(kind or "").strip().lower()
        if kind not in CONDITION_KINDS:
            raise RegisterError(f"a condition is a prohibition or a requirement, not '{kind}'",
                                "conditions")
        return cls(kind, text(wording, "conditions", required=True, limit=4000,
                              label=f"the {kind}'s wording"),
                   text(times, "conditions", limit=500, label="times"),
                   text(exemptions, "conditions", limit=2000, label="exemptions"))


@dataclass
class OrderRecord:
    """One order as the register shows it: its row, status, alerts, conditions and events."""

    order: dict
    area: BaseGeometry  # WGS84
    area_name: str
    status: str
    alerts: list[str]
    conditions: pd.DataFrame
    events: pd.DataFrame
    next_review: date | None = None
    extra: dict = field(default_factory=dict)


def latest_allowed_expiry(since: date) -> date:
    """The last expiry the Act allows for an order made or extended on `since`."""
    return add_years(since, MAX_YEARS)


def next_review_due(made_on: date, last_review: date | None, every_days: int) -> date:
    """When the next review falls due: the cadence after the last review, or after making."""
    return (last_review or made_on) + timedelta(days=int(every_days))


def order_alerts(status: str, expires_on: date, review_due: date, today: date) -> list[str]:
    """What the register warns about on a day: expiry within 90 days, an overdue review."""
    alerts = []
    if status != "in force":
        return alerts
    days = (expires_on - today).days
    if days <= EXPIRY_WARNING_DAYS:
        alerts.append(f"expires in {days} day{'s' if days != 1 else ''}, on "
                      f"{day_in_words(expires_on)}: consult on extending it now, or let it lapse")
    if today > review_due:
        late = (today - review_due).days
        alerts.append(f"review overdue by {late} day{'s' if late != 1 else ''} (was due "
                      f"{day_in_words(review_due)})")
    return alerts


def _check_expiry(since: date, expires_on: date, what: str) -> None:
    latest = latest_allowed_expiry(since)
    if expires_on > latest:
        raise RegisterError(
            f"an order has effect for at most {MAX_YEARS} years from when it is made or last "
            f"extended (Anti-social Behaviour, Crime and Policing Act 2014, s.60): {what} "
            f"{since.isoformat()}, so it must expire by {latest.isoformat()}, not "
            f"{expires_on.isoformat()}", "expires_on")
    if expires_on <= since:
        raise RegisterError(f"the expiry {expires_on.isoformat()} must come after the date "
                            f"{what} ({since.isoformat()})", "expires_on")


def _checked_url(value: object) -> str | None:
    url = text(value, "published_url", limit=2000, label="link to the published order")
    if url and not url.lower().startswith(("https://", "http://")):
        raise RegisterError(f"the link to the published order must start with https:// or "
                            f"http://, not '{url[:40]}'", "published_url")
    return url


def _checked_cadence(value: object) -> int:
    try:
        days = int(str(value).strip())
    except (TypeError, ValueError):
        raise RegisterError(f"the review cadence '{value}' is not a whole number of days",
                            "review_every_days") from None
    if not 1 <= days <= 366:
        raise RegisterError(f"the review cadence must be 1 to 366 days, not {days}",
                            "review_every_days")
    return days


def add_order(engine: Engine, *, area: str, reference: str, name: str,
              geometry: BaseGeometry | dict | None, made_on: date | str,
              expires_on: date | str, conditions: list[Condition],
              area_source: str = "drawn on the map",
              review_every_days: int = DEFAULT_REVIEW_DAYS, published_url: str | None = None,
              consultation_notes: str | None = None, publication_notes: str | None = None,
              recorded_by: str, example: bool = False, now: datetime | None = None) -> int:
    """Put a new order in the register (its 'made' event with it) in one transaction; return
    its id. Refuses a reference already used in the borough, a made date in the future, an
    expiry more than 3 years after making, an order with no conditions, and a bad area."""
    require(MANAGE_PSPOS)
    now = now or datetime.now()
    borough = resolve_area(engine, area)
    reference = text(reference, "reference", required=True, limit=100)
    name = text(name, "name", required=True, limit=300, label="the order's name")
    made = parse_date(made_on, "made_on", label="the date made")
    not_in_future(made, "made_on", now, label="the date made")
    expires = parse_date(expires_on, "expires_on", label="the expiry date")
    _check_expiry(made, expires, "made")
    if not conditions:
        raise RegisterError("an order must prohibit or require something: add at least one "
                            "prohibition or requirement", "conditions")
    shape = checked_outline(borough, geometry, "the order's area")
    row = {
        "area_code": borough.code, "reference": reference, "name": name, "area": shape,
        "area_source": text(area_source, "area_source", required=True, limit=500),
        "made_on": made, "expires_on": expires, "discharged_on": None,
        "review_every_days": _checked_cadence(review_every_days),
        "published_url": _checked_url(published_url),
        "consultation_notes": text(consultation_notes, "consultation_notes", limit=20000),
        "publication_notes": text(publication_notes, "publication_notes", limit=20000),
        "example": bool(example), "created_at": now,
        "created_by": text(recorded_by, "recorded_by", required=True, limit=200),
    }
    orders = PspoOrder.__table__
    with write_transaction(engine) as conn:
        taken = conn.execute(select(orders.c.made_on).where(
            orders.c.area_code == borough.code, orders.c.reference == reference)).first()
        if taken:
            raise RegisterError(f"{borough.name} already has an order with reference "
                                f"'{reference}' (made {taken[0].isoformat()}); extend, vary "
                                "or review that one instead", "reference")
        order_id = conn.execute(orders.insert().returning(orders.c.id), row).scalar_one()
        _write_conditions(conn, order_id, conditions)
        _write_event(conn, order_id, "made", made, row["created_by"], now, expires_on=expires,
                     area=shape, notes=row["consultation_notes"])
        record(conn, "made", "pspo", f"{borough.code}/{reference}",
               after={**row, "conditions": [c.wording for c in conditions]},
               summary=f"PSPO {reference} '{name}' made {made}, expires {expires}")
    return int(order_id)


def _write_conditions(conn: Connection, order_id: int, conditions: list[Condition]) -> None:
    table = PspoCondition.__table__
    conn.execute(table.insert(), [
        {"order_id": order_id, "position": i + 1, "kind": c.kind, "wording": c.wording,
         "times": c.times, "exemptions": c.exemptions, "active": True}
        for i, c in enumerate(conditions)])


def _write_event(conn: Connection, order_id: int, kind: str, on: date, recorded_by: str,
                 now: datetime, expires_on: date | None = None,
                 area: BaseGeometry | None = None, notes: str | None = None) -> None:
    conn.execute(PspoEvent.__table__.insert(), {
        "order_id": order_id, "kind": kind, "happened_on": on, "expires_on": expires_on,
        "area": area, "notes": notes, "recorded_at": now, "recorded_by": recorded_by})


def _audit(conn: Connection, order: dict, what: str, on: date, before: dict | None,
           after: dict | None) -> None:
    record(conn, what, "pspo", f"{order['area_code']}/{order['reference']}", before=before,
           after=after, summary=f"PSPO {order['reference']} '{order['name']}' {what} on {on}")


def find_order_id(engine: Engine, reference: str, area: str | None = None) -> int:
    """An order's id from its reference (and borough, where two boroughs use the same one)."""
    orders = PspoOrder.__table__
    return one_id(engine, orders, orders.c.reference == str(reference).strip(), area,
                  f"no order with reference '{reference}' in the register; `hotspots pspo "
                  "list` shows them", f"several boroughs have an order '{reference}'",
                  "reference")


def _locked_order(conn: Connection, order_id: int) -> dict:
    orders = PspoOrder.__table__
    row = conn.execute(select(orders).where(orders.c.id == order_id).with_for_update()
                       ).mappings().first()
    if row is None:
        raise RegisterError(f"no order with id {order_id}", "reference")
    return dict(row)


def _event_date(value: date | str, order: dict, now: datetime, what: str) -> date:
    on = parse_date(value, "on", label=f"the date {what}")
    not_in_future(on, "on", now, label=f"the date {what}")
    if on < order["made_on"]:
        raise RegisterError(f"the date {what} ({on.isoformat()}) is before the order was made "
                            f"({order['made_on'].isoformat()})", "on")
    if order["discharged_on"] is not None:
        raise RegisterError(f"order {order['reference']} was discharged on "
                            f"{order['discharged_on'].isoformat()}; it cannot be {what}", "on")
    return on


def extend_order(engine: Engine, order_id: int, *, on: date | str, expires_on: date | str,
                 recorded_by: str, notes: str | None = None,
                 now: datetime | None = None) -> None:
    """Record an extension made on `on`, to a new expiry at most 3 years after it. Refused
    once the order has expired (make a new order) or been discharged."""
    require(MANAGE_PSPOS)
    now = now or datetime.now()
    new_expiry = parse_date(expires_on, "expires_on", label="the new expiry date")
    with write_transaction(engine) as conn:
        order = _locked_order(conn, order_id)
        on_day = _event_date(on, order, now, "extended")
        if on_day >= order["expires_on"]:
            raise RegisterError(f"order {order['reference']} expired on "
                                f"{order['expires_on'].isoformat()}, before {on_day.isoformat()}"
                                ": an expired order cannot be extended; make a new one", "on")
        if new_expiry <= order["expires_on"]:
            raise RegisterError(f"the new expiry {new_expiry.isoformat()} must be later than "
                                f"the current one ({order['expires_on'].isoformat()})",
                                "expires_on")
        _check_expiry(on_day, new_expiry, "extended")
        conn.execute(PspoOrder.__table__.update().where(PspoOrder.id == order_id)
                     .values(expires_on=new_expiry))
        _write_event(conn, order_id, "extended", on_day,
                     text(recorded_by, "recorded_by", required=True, limit=200), now,
                     expires_on=new_expiry, notes=text(notes, "notes", limit=20000))
        _audit(conn, order, "extended", on_day, {"expires_on": order["expires_on"]},
               {"expires_on": new_expiry, "notes": notes})


def vary_order(engine: Engine, order_id: int, *, on: date | str, notes: str, recorded_by: str,
               geometry: BaseGeometry | dict | None = None, area_source: str | None = None,
               conditions: list[Condition] | None = None, now: datetime | None = None) -> None:
    """Record a variation: what changed (notes, required) and, where they changed, the new
    area and/or the new list of conditions (the old ones are kept, marked no longer active)."""
    require(MANAGE_PSPOS)
    now = now or datetime.now()
    notes = text(notes, "notes", required=True, limit=20000, label="what the variation changed")
    with write_transaction(engine) as conn:
        order = _locked_order(conn, order_id)
        on_day = _event_date(on, order, now, "varied")
        if on_day >= order["expires_on"]:
            raise RegisterError(f"order {order['reference']} had expired by "
                                f"{on_day.isoformat()}; an expired order cannot be varied", "on")
        shape = None
        before: dict = {}
        after: dict = {"notes": notes}
        if geometry is not None:
            borough = resolve_area(engine, order["area_code"])
            shape = checked_outline(borough, geometry, "the varied area")
            before["area"], after["area"] = order["area"], shape
            before["area_source"], after["area_source"] = order["area_source"], area_source
            conn.execute(PspoOrder.__table__.update().where(PspoOrder.id == order_id).values(
                area=shape, area_source=text(area_source or "drawn on the map", "area_source",
                                             limit=500)))
        if conditions is not None:
            if not conditions:
                raise RegisterError("a varied order must still prohibit or require something",
                                    "conditions")
            table = PspoCondition.__table__
            before["conditions"] = conn.execute(select(table.c.wording).where(
                table.c.order_id == order_id, table.c.active.is_(True))
                .order_by(table.c.position)).scalars().all()
            after["conditions"] = [c.wording for c in conditions]
            conn.execute(table.update().where(table.c.order_id == order_id).values(active=False))
            _write_conditions(conn, order_id, conditions)
        _write_event(conn, order_id, "varied", on_day,
                     text(recorded_by, "recorded_by", required=True, limit=200), now,
                     area=shape, notes=notes)
        _audit(conn, order, "varied", on_day, before, after)


def review_order(engine: Engine, order_id: int, *, on: date | str, recorded_by: str,
                 notes: str | None = None, now: datetime | None = None) -> None:
    """Record a review (at the JAG, say); the next one falls due a cadence later."""
    require(MANAGE_PSPOS)
    now = now or datetime.now()
    with write_transaction(engine) as conn:
        order = _locked_order(conn, order_id)
        on_day = _event_date(on, order, now, "reviewed")
        _write_event(conn, order_id, "reviewed", on_day,
                     text(recorded_by, "recorded_by", required=True, limit=200), now,
                     notes=text(notes, "notes", limit=20000))
        _audit(conn, order, "reviewed", on_day, None, {"notes": notes})


def discharge_order(engine: Engine, order_id: int, *, on: date | str, recorded_by: str,
                    notes: str | None = None, now: datetime | None = None) -> None:
    """Record that the council discharged the order on a date; it stays in the register."""
    require(MANAGE_PSPOS)
    now = now or datetime.now()
    with write_transaction(engine) as conn:
        order = _locked_order(conn, order_id)
        on_day = _event_date(on, order, now, "discharged")
        conn.execute(PspoOrder.__table__.update().where(PspoOrder.id == order_id)
                     .values(discharged_on=on_day))
        _write_event(conn, order_id, "discharged", on_day,
                     text(recorded_by, "recorded_by", required=True, limit=200), now,
                     notes=text(notes, "notes", limit=20000))
        _audit(conn, order, "discharged", on_day, {"discharged_on": None},
               {"discharged_on": on_day, "notes": notes})


def _orders_frame(engine: Engine, area_code: str | None = None) -> gpd.GeoDataFrame:
    orders = PspoOrder.__table__
    events = PspoEvent.__table__
    query = select(orders).order_by(orders.c.area_code, orders.c.made_on, orders.c.reference)
    if area_code:
        query = query.where(orders.c.area_code == area_code)
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(query).mappings()]
        reviews = dict(conn.execute(
            select(events.c.order_id, events.c.happened_on).where(events.c.kind == "reviewed")
            .order_by(events.c.happened_on)).fetchall())
    columns = [c.name for c in orders.columns if c.name != "area"]
    frame = pd.DataFrame([{k: r[k] for k in columns} for r in rows], columns=columns)
    frame["last_review"] = frame["id"].map(reviews)
    return gpd.GeoDataFrame(frame, geometry=[r["area"] for r in rows], crs=WGS84)


def list_orders(engine: Engine, area: str | None = None,
                today: date | None = None) -> gpd.GeoDataFrame:
    """Every order (of one borough, or all), with status, days to expiry, next review and
    alerts on `today`; WGS84 areas."""
    today = today or date.today()
    code = resolve_area(engine, area).code if area else None
    frame = _orders_frame(engine, code)
    names = area_names_by_code(engine)
    frame.insert(1, "area", frame["area_code"].map(names).fillna(frame["area_code"]))
    statuses, reviews, alerts = [], [], []
    for row in frame.itertuples():
        status = order_status(row.made_on, row.expires_on, row.discharged_on, today)
        last = row.last_review if isinstance(row.last_review, date) else None
        due = next_review_due(row.made_on, last, row.review_every_days)
        statuses.append(status)
        reviews.append(due if status == "in force" else None)
        alerts.append("; ".join(order_alerts(status, row.expires_on, due, today)))
    frame["status"] = statuses
    frame["days_to_expiry"] = [(e - today).days for e in frame["expires_on"]]
    frame["next_review"] = reviews
    frame["alerts"] = alerts
    return frame


def get_order(engine: Engine, order_id: int, today: date | None = None) -> OrderRecord:
    """One order with its conditions (active first) and its history of events."""
    today = today or date.today()
    frame = list_orders(engine, today=today)
    match = frame[frame["id"] == order_id]
    if match.empty:
        raise RegisterError(f"no order with id {order_id}", "reference")
    row = match.iloc[0]
    conditions_t, events_t = PspoCondition.__table__, PspoEvent.__table__
    with engine.connect() as conn:
        conditions = pd.read_sql(
            select(conditions_t.c.kind, conditions_t.c.wording, conditions_t.c.times,
                   conditions_t.c.exemptions, conditions_t.c.active, conditions_t.c.position)
            .where(conditions_t.c.order_id == order_id)
            .order_by(conditions_t.c.active.desc(), conditions_t.c.id), conn)
        events = pd.read_sql(
            select(events_t.c.kind, events_t.c.happened_on, events_t.c.expires_on,
                   events_t.c.notes, events_t.c.recorded_at, events_t.c.recorded_by)
            .where(events_t.c.order_id == order_id)
            .order_by(events_t.c.happened_on, events_t.c.id), conn)
    conditions = conditions.astype(object).where(conditions.notna(), None)
    conditions["active"] = conditions["active"].astype(bool)
    events = events.astype(object).where(events.notna(), None)
    order = {k: row[k] for k in row.index if k != "geometry"}
    return OrderRecord(order=order, area=row.geometry, area_name=row["area"],
                       status=row["status"],
                       alerts=[a for a in str(row["alerts"]).split("; ") if a],
                       conditions=conditions, events=events, next_review=row["next_review"])


def conditions_text(engine: Engine, order_ids: list[int]) -> dict[int, str]:
    """Each order's active conditions as one line ('Prohibits: …; Requires: …')."""
    table = PspoCondition.__table__
    with engine.connect() as conn:
        rows = conn.execute(select(table.c.order_id, table.c.kind, table.c.wording,
                                   table.c.times).where(table.c.order_id.in_(order_ids),
                                                        table.c.active)
                            .order_by(table.c.order_id, table.c.position)).fetchall()
    out: dict[int, list[str]] = {}
    for order_id, kind, wording, times in rows:
        verb = "Prohibits" if kind == "prohibition" else "Requires"
        out.setdefault(order_id, []).append(f"{verb}: {wording}" + (f" ({times})" if times
                                                                     else ""))
    return {k: "; ".join(v) for k, v in out.items()}
