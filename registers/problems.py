"""The JAG's register of problem locations, worked with OSARA (Objective, Scanning, Analysis,
Response, Assessment), and the partner actions at each, as in the CSP plans' "key points for
delivery" tables: what, lead agency, measure, due date, status Open/Closed.

A location is adopted with its outline (usually a hotspot's), which is kept as adopted, so the
incidents there can be counted before and since adoption. Nothing is deleted: locations and
actions are closed (and may be reopened), and every change writes an append-only event holding
each field's value before and after.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import geopandas as gpd
import pandas as pd
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, Engine, func, select

from access.audit import record
from access.roles import MANAGE_PROBLEMS
from access.scope import require
from core.themes import THEMES
from geo.areas import area_names_by_code, resolve_area
from geo.crs import BNG, WGS84
from hotspots.analysis import HotspotReport
from hotspots.profile import HotspotProfile, adoption_origin, hotspot_profile
from registers.common import RegisterError, not_in_future, one_id, parse_date, text
from registers.outlines import checked_outline
from registers.place_incidents import PlaceIncidents, place_incidents
from store.db import write_transaction
from store.models import ProblemAction, ProblemEvent, ProblemLocation

STATUSES = ("Open", "Closed")
OSARA = {"objective": "Objective", "scanning": "Scanning", "analysis": "Analysis",
         "response": "Response", "assessment": "Assessment"}
EVENT_KINDS = ("adopted", "OSARA updated", "action added", "action updated", "closed",
               "reopened")
TEXT_LIMIT = 20000


@dataclass
class ProblemRecord:
    """One problem location with its partner actions and its history."""

    problem: dict
    area: BaseGeometry  # WGS84, as adopted
    area_name: str
    actions: pd.DataFrame
    events: pd.DataFrame


def _theme(value: object) -> str | None:
    """A priority theme (core.themes), or None."""
    theme = text(value, "theme", limit=100)
    if theme is not None and theme not in THEMES:
        raise RegisterError(f"'{theme}' is not a priority theme; use one of "
                            f"{', '.join(THEMES)}", "theme")
    return theme


def _event(conn: Connection, problem_id: int, kind: str, changes: dict | None,
           recorded_by: str, now: datetime, action_id: int | None = None) -> None:
    conn.execute(ProblemEvent.__table__.insert(), {
        "problem_id": problem_id, "action_id": action_id, "kind": kind,
        "changes": _jsonable(changes), "recorded_at": now, "recorded_by": recorded_by})
    pairs = changes or {}
    name = conn.execute(select(ProblemLocation.__table__.c.name).where(
        ProblemLocation.__table__.c.id == problem_id)).scalar()
    record(conn, kind, "problem location", problem_id,
           before={field: pair[0] for field, pair in pairs.items()},
           after={field: pair[1] for field, pair in pairs.items()},
           summary=f"problem location {problem_id} '{name}': {kind}"
                   + (f" (action {action_id})" if action_id else ""))


def _jsonable(changes: dict | None) -> dict | None:
    """Before/after values as JSON can hold them (dates as ISO text)."""
    if changes is None:
        return None
    def plain(value: object) -> object:
        return value.isoformat() if isinstance(value, date) else value
    return {field: {"before": plain(pair[0]), "after": plain(pair[1])}
            for field, pair in changes.items()}


def _recorder(recorded_by: str) -> str:
    return text(recorded_by, "recorded_by", required=True, limit=200)


def adopt_problem(engine: Engine, *, area: str, name: str, geometry: BaseGeometry | dict | None,
                  objective: str, origin: str, adopted_on: date | str | None = None,
                  theme: str | None = None, scanning: str | None = None,
                  analysis: str | None = None, recorded_by: str, example: bool = False,
                  now: datetime | None = None) -> int:
    """Adopt a problem location (its outline, WGS84, kept as adopted) and return its id.
    Refuses a name already used in the borough, no objective, an adoption date in the future
    and a bad outline (not a polygon, self-crossing, outside the borough)."""
    require(MANAGE_PROBLEMS)
    now = now or datetime.now()
    borough = resolve_area(engine, area)
    name = text(name, "name", required=True, limit=300, label="the location's name")
    adopted = parse_date(adopted_on or now.date(), "adopted_on", label="the date adopted")
    not_in_future(adopted, "adopted_on", now, label="the date adopted")
    shape = checked_outline(borough, geometry, "the location's outline", what="a problem location",
                         owner="a partnership's problem location")
    row = {
        "area_code": borough.code, "name": name, "area": shape,
        "origin": text(origin, "origin", required=True, limit=1000),
        "theme": _theme(theme), "adopted_on": adopted,
        "objective": text(objective, "objective", required=True, limit=TEXT_LIMIT,
                          label="the objective (what the partnership wants to achieve)"),
        "scanning": text(scanning, "scanning", limit=TEXT_LIMIT),
        "analysis": text(analysis, "analysis", limit=TEXT_LIMIT),
        "response": None, "assessment": None, "status": "Open", "closed_on": None,
        "example": bool(example), "created_at": now, "created_by": _recorder(recorded_by),
    }
    table = ProblemLocation.__table__
    with write_transaction(engine) as conn:
        taken = conn.execute(select(table.c.adopted_on).where(
            table.c.area_code == borough.code, func.lower(table.c.name) == name.lower())).first()
        if taken:
            raise RegisterError(f"{borough.name} already has a problem location called "
                                f"'{name}' (adopted {taken[0].isoformat()}); give this one "
                                "another name or work the existing one", "name")
        problem_id = conn.execute(table.insert().returning(table.c.id), row).scalar_one()
        _event(conn, problem_id, "adopted",
               {k: (None, row[k]) for k in ("name", "origin", "theme", "adopted_on",
                                            "objective", "scanning", "analysis")},
               row["created_by"], now)
    return int(problem_id)


def adopt_hotspot(engine: Engine, report: HotspotReport, rank: int, *, name: str,
                  objective: str, adopted_on: date | str | None = None,
                  theme: str | None = None, scanning: str | None = None, recorded_by: str,
                  profile: HotspotProfile | None = None) -> int:
    """Adopt hotspot `rank` of a report as a problem location of the report's borough: its
    outline, with how it was found as the origin (the map's Adopt button and `hotspots
    problems adopt --hotspot` both). `profile`: the hotspot's profile where it is at hand.
    RegisterError when the report has no hotspot of that rank."""
    if profile is None or profile.rank != rank:
        try:
            profile = hotspot_profile(report, rank)
        except ValueError as exc:
            raise RegisterError(str(exc), "hotspot") from None
    return adopt_problem(engine, area=report.area.code, name=name,
                         geometry=profile.outline_wgs84, objective=objective,
                         origin=adoption_origin(report, rank), adopted_on=adopted_on,
                         theme=theme, scanning=scanning, recorded_by=recorded_by)


def _locked(conn: Connection, table, row_id: int, what: str) -> dict:
    row = conn.execute(select(table).where(table.c.id == row_id).with_for_update()
                       ).mappings().first()
    if row is None:
        raise RegisterError(f"no {what} with id {row_id}", "id")
    return dict(row)


def update_osara(engine: Engine, problem_id: int, changes: dict, *, recorded_by: str,
                 theme: str | None = None, now: datetime | None = None) -> dict:
    """Change OSARA texts (and the theme when given); returns {field: (before, after)} of what
    changed, recorded as one event; nothing changed writes nothing."""
    require(MANAGE_PROBLEMS)
    now = now or datetime.now()
    unknown = set(changes) - set(OSARA)
    if unknown:
        raise RegisterError(f"only the OSARA fields ({', '.join(OSARA)}) can be edited here, "
                            f"not {', '.join(sorted(unknown))}", sorted(unknown)[0])
    wanted = {field: text(value, field, required=field == "objective", limit=TEXT_LIMIT,
                          label=OSARA[field])
              for field, value in changes.items()}
    if theme is not None:
        wanted["theme"] = _theme(theme)
    who = _recorder(recorded_by)
    table = ProblemLocation.__table__
    with write_transaction(engine) as conn:
        current = _locked(conn, table, problem_id, "problem location")
        changed = {k: (current[k], v) for k, v in wanted.items() if current[k] != v}
        if changed:
            conn.execute(table.update().where(table.c.id == problem_id),
                         {k: v for k, (_, v) in changed.items()})
            _event(conn, problem_id, "OSARA updated", changed, who, now)
    return changed


def add_action(engine: Engine, problem_id: int, *, action: str, lead: str,
               due_on: date | str, measure: str | None = None, recorded_by: str,
               now: datetime | None = None) -> int:
    """Add a partner action (Open) to an open problem location; return its id. Refuses a
    blank action or lead, and a due date before the location was adopted."""
    require(MANAGE_PROBLEMS)
    now = now or datetime.now()
    row = {
        "problem_id": problem_id,
        "action": text(action, "action", required=True, limit=TEXT_LIMIT,
                       label="the action"),
        "lead": text(lead, "lead", required=True, limit=200, label="the lead agency"),
        "measure": text(measure, "measure", limit=TEXT_LIMIT),
        "due_on": parse_date(due_on, "due_on", label="the due date"),
        "status": "Open", "closed_on": None, "update_note": None, "created_at": now,
        "created_by": _recorder(recorded_by),
    }
    table = ProblemAction.__table__
    with write_transaction(engine) as conn:
        problem = _locked(conn, ProblemLocation.__table__, problem_id, "problem location")
        if problem["status"] != "Open":
            raise RegisterError(f"'{problem['name']}' was closed on "
                                f"{problem['closed_on'].isoformat()}: reopen it before adding "
                                "actions", "problem")
        if row["due_on"] < problem["adopted_on"]:
            raise RegisterError(f"the due date {row['due_on'].isoformat()} is before the "
                                f"location was adopted ({problem['adopted_on'].isoformat()})",
                                "due_on")
        action_id = conn.execute(table.insert().returning(table.c.id), row).scalar_one()
        _event(conn, problem_id, "action added",
               {k: (None, row[k]) for k in ("action", "lead", "measure", "due_on", "status")},
               row["created_by"], now, action_id)
    return int(action_id)


def update_action(engine: Engine, action_id: int, *, recorded_by: str,
                  status: str | None = None, due_on: date | str | None = None,
                  note: str | None = None, on: date | str | None = None,
                  now: datetime | None = None) -> dict:
    """Close or reopen an action, move its due date or add a progress note; returns what
    changed ({field: (before, after)}), recorded as one event. Closing sets the date closed
    (`on`, today by default, not in the future)."""
    require(MANAGE_PROBLEMS)
    now = now or datetime.now()
    who = _recorder(recorded_by)
    wanted: dict = {}
    if status is not None:
        status = str(status).strip().capitalize()
        if status not in STATUSES:
            raise RegisterError(f"an action's status is Open or Closed, not '{status}'",
                                "status")
        wanted["status"] = status
    if due_on is not None and str(due_on).strip():
        wanted["due_on"] = parse_date(due_on, "due_on", label="the due date")
    note = text(note, "note", limit=TEXT_LIMIT)
    if note is not None:
        wanted["update_note"] = note
    table = ProblemAction.__table__
    with write_transaction(engine) as conn:
        current = _locked(conn, table, action_id, "action")
        if wanted.get("status") == "Closed" and current["status"] != "Closed":
            closed = parse_date(on or now.date(), "on", label="the date closed")
            not_in_future(closed, "on", now, label="the date closed")
            adopted = conn.execute(select(ProblemLocation.__table__.c.adopted_on).where(
                ProblemLocation.__table__.c.id == current["problem_id"])).scalar_one()
            if closed < adopted:
                raise RegisterError(f"the date closed {closed.isoformat()} is before the "
                                    f"location was adopted ({adopted.isoformat()})", "on")
            wanted["closed_on"] = closed
        elif wanted.get("status") == "Open":
            wanted["closed_on"] = None
        changed = {k: (current[k], v) for k, v in wanted.items() if current[k] != v}
        if changed:
            conn.execute(table.update().where(table.c.id == action_id),
                         {k: v for k, (_, v) in changed.items()})
            _event(conn, current["problem_id"], "action updated", changed, who, now,
                   action_id)
    return changed


def close_problem(engine: Engine, problem_id: int, *, on: date | str, assessment: str,
                  recorded_by: str, now: datetime | None = None) -> None:
    """Close a problem location with its Assessment (what the response achieved). Refuses
    while partner actions are still open: close or carry them over first."""
    require(MANAGE_PROBLEMS)
    now = now or datetime.now()
    closed = parse_date(on, "on", label="the date closed")
    not_in_future(closed, "on", now, label="the date closed")
    assessment = text(assessment, "assessment", required=True, limit=TEXT_LIMIT,
                      label="the assessment (what the response achieved)")
    who = _recorder(recorded_by)
    table, actions = ProblemLocation.__table__, ProblemAction.__table__
    with write_transaction(engine) as conn:
        current = _locked(conn, table, problem_id, "problem location")
        if current["status"] == "Closed":
            raise RegisterError(f"'{current['name']}' is already closed (on "
                                f"{current['closed_on'].isoformat()})", "status")
        if closed < current["adopted_on"]:
            raise RegisterError(f"the date closed {closed.isoformat()} is before the location "
                                f"was adopted ({current['adopted_on'].isoformat()})", "on")
        still_open = conn.execute(select(func.count()).select_from(actions).where(
            actions.c.problem_id == problem_id, actions.c.status == "Open")).scalar_one()
        if still_open:
            raise RegisterError(f"'{current['name']}' has {still_open} open action"
                                f"{'s' if still_open > 1 else ''}: close them first", "status")
        changed = {"status": (current["status"], "Closed"),
                   "closed_on": (current["closed_on"], closed),
                   "assessment": (current["assessment"], assessment)}
        conn.execute(table.update().where(table.c.id == problem_id),
                     {k: v for k, (_, v) in changed.items()})
        _event(conn, problem_id, "closed", changed, who, now)


def reopen_problem(engine: Engine, problem_id: int, *, reason: str, recorded_by: str,
                   now: datetime | None = None) -> None:
    """Reopen a closed location (the problem came back); the reason is kept in its history."""
    require(MANAGE_PROBLEMS)
    now = now or datetime.now()
    reason = text(reason, "reason", required=True, limit=TEXT_LIMIT, label="the reason")
    who = _recorder(recorded_by)
    table = ProblemLocation.__table__
    with write_transaction(engine) as conn:
        current = _locked(conn, table, problem_id, "problem location")
        if current["status"] == "Open":
            raise RegisterError(f"'{current['name']}' is open already", "status")
        changed = {"status": ("Closed", "Open"), "closed_on": (current["closed_on"], None),
                   "reason": (None, reason)}
        conn.execute(table.update().where(table.c.id == problem_id),
                     {"status": "Open", "closed_on": None})
        _event(conn, problem_id, "reopened", changed, who, now)


def problem_actions(engine: Engine, problem_id: int | None = None,
                    today: date | None = None) -> pd.DataFrame:
    """Actions (of one location, or all) with `overdue` (open and past due on `today`)."""
    today = today or date.today()
    actions, problems = ProblemAction.__table__, ProblemLocation.__table__
    query = (select(actions.c.id.label("action_id"), actions.c.problem_id,
                    problems.c.name.label("problem"), problems.c.area_code,
                    problems.c.status.label("problem_status"), actions.c.action,
                    actions.c.lead, actions.c.measure, actions.c.due_on, actions.c.status,
                    actions.c.closed_on, actions.c.update_note, actions.c.created_by)
             .join(problems, problems.c.id == actions.c.problem_id)
             .order_by(actions.c.status.desc(), actions.c.due_on, actions.c.id))
    if problem_id is not None:
        query = query.where(actions.c.problem_id == problem_id)
    with engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(query).mappings().all(),
                             columns=[c.name for c in query.selected_columns])
    frame["overdue"] = [(s == "Open" and d < today) for s, d in
                        zip(frame["status"], frame["due_on"], strict=True)]
    return frame


def _problems_frame(engine: Engine, area_code: str | None = None) -> gpd.GeoDataFrame:
    table = ProblemLocation.__table__
    query = select(table).order_by(table.c.status.desc(), table.c.adopted_on.desc(),
                                   table.c.name)
    if area_code:
        query = query.where(table.c.area_code == area_code)
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(query).mappings()]
    columns = [c.name for c in table.columns if c.name != "area"]
    frame = pd.DataFrame([{k: r[k] for k in columns} for r in rows], columns=columns)
    return gpd.GeoDataFrame(frame, geometry=[r["area"] for r in rows], crs=WGS84)


def list_problems(engine: Engine, area: str | None = None, today: date | None = None,
                  include_closed: bool = True) -> gpd.GeoDataFrame:
    """Problem locations (of one borough, or all) with their open and overdue actions and the
    next due date; WGS84 outlines."""
    code = resolve_area(engine, area).code if area else None
    frame = _problems_frame(engine, code)
    if not include_closed:
        frame = frame[frame["status"] == "Open"]
    frame.insert(1, "area", frame["area_code"].map(area_names_by_code(engine))
                 .fillna(frame["area_code"]))
    actions = problem_actions(engine, today=today)
    open_ = actions[actions["status"] == "Open"].groupby("problem_id")
    frame["open_actions"] = frame["id"].map(open_.size()).fillna(0).astype(int)
    frame["overdue_actions"] = frame["id"].map(open_["overdue"].sum()).fillna(0).astype(int)
    frame["next_due"] = frame["id"].map(open_["due_on"].min())
    frame["next_due"] = frame["next_due"].astype(object).where(frame["next_due"].notna(), None)
    frame["area_ha"] = (frame.to_crs(BNG).area / 10_000).round(2) if len(frame) else []
    return frame


def find_problem_id(engine: Engine, name: str, area: str | None = None) -> int:
    """A location's id from its name (case-insensitive; the borough when two share it)."""
    table = ProblemLocation.__table__
    return one_id(engine, table, func.lower(table.c.name) == str(name).strip().lower(), area,
                  f"no problem location called '{name}'; `hotspots problems list` shows them",
                  f"several boroughs have a problem location '{name}'", "name")


def get_problem(engine: Engine, problem_id: int, today: date | None = None) -> ProblemRecord:
    """One problem location with its actions and its history of events (oldest first)."""
    frame = list_problems(engine, today=today)
    match = frame[frame["id"] == problem_id]
    if match.empty:
        raise RegisterError(f"no problem location with id {problem_id}", "id")
    row = match.iloc[0]
    events = ProblemEvent.__table__
    with engine.connect() as conn:
        history = pd.DataFrame(conn.execute(
            select(events.c.id, events.c.kind, events.c.action_id, events.c.changes,
                   events.c.recorded_at, events.c.recorded_by)
            .where(events.c.problem_id == problem_id).order_by(events.c.id)).mappings().all(),
            columns=["id", "kind", "action_id", "changes", "recorded_at", "recorded_by"])
    history["summary"] = history["changes"].map(change_summary)
    problem = {k: row[k] for k in row.index if k != "geometry"}
    return ProblemRecord(problem, row.geometry, row["area"],
                         problem_actions(engine, problem_id, today), history)


def change_summary(changes: dict | None) -> str:
    """An event's changes in one line: 'status: Open → Closed; due_on: … → …'."""
    if not changes:
        return ""
    def shown(value: object) -> str:
        value = "" if value is None else str(value)
        return value if len(value) <= 60 else value[:57] + "…"
    return "; ".join(f"{field}: {shown(pair.get('before')) or '–'} → "
                     f"{shown(pair.get('after')) or '–'}" for field, pair in changes.items())


def open_actions_within(engine: Engine, shape: BaseGeometry,
                        today: date | None = None) -> pd.DataFrame:
    """Open actions of open problem locations whose outline meets `shape` (WGS84): what the
    partners still have to do in a place (the action-day briefing lists them)."""
    problems = list_problems(engine, today=today, include_closed=False)
    touching = problems[problems.intersects(shape)] if len(problems) else problems
    actions = problem_actions(engine, today=today)
    actions = actions[actions["problem_id"].isin(touching["id"]) & (actions["status"] == "Open")]
    return actions[["problem", "action", "lead", "measure", "due_on", "status", "overdue"]
                   ].reset_index(drop=True)


def problem_incidents(engine: Engine, problem_id: int,
                      categories: list[str] | None = None) -> PlaceIncidents:
    """Incidents inside the location's outline over every month loaded for its borough, before
    and since the month it was adopted."""
    record = get_problem(engine, problem_id)
    return place_incidents(engine, record.problem["area_code"], record.area,
                           record.problem["adopted_on"], categories,
                           started="the location was adopted", start_period="month adopted")
