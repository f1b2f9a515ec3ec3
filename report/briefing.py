"""The action-day briefing pack: one place, one date, one priority theme, and what partners
need to know there: recent incidents by type and month, repeat locations, PSPOs in force on the
day, water-safety equipment and its check state, and partner actions still open.

Everything is in British National Grid metres (EPSG:27700). police.uk publishes a month about
two months after it ends, so "recent" is the latest months loaded for the borough, not the
months just before the action day; the pack's first lines say which month is the latest loaded
and how many months before the action day it is (report.currency), and its summary says
plainly when that is more than three months.

This module gathers the Briefing (and checks what it is given); report.briefing_text turns it
into the pack's tables and lines, for report.briefing_html and report.briefing_pdf.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import geopandas as gpd
import pandas as pd
import shapely
import shapely.validation
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Engine, select

from access.incidents import categories as stored_categories
from access.restricted import withheld
from core.errors import UserError
from core.months import months_apart, months_before
from geo.areas import Area, UnknownAreaError, area_names_by_code, resolve_area
from geo.crs import BNG, WGS84, reproject
from geo.layers import load_layer
from hotspots.analysis import area_incidents
from hotspots.repeat import repeat_locations
from registers.checks import due_report
from registers.pspo import conditions_text, list_orders
from report.assessment import Assessment, assess_outline
from report.currency import Currency, data_currency
from report.summary import total_label
from report.theme_mapping import ThemeError, categories_for, theme_named
from store.models import Incident

PLACE_KINDS = ("hotspot", "problem location", "town centre", "ward", "drawn area")
EQUIPMENT_MARGIN_M = 250.0
MAX_MONTHS = 36
REPEAT_TOP = 10
# A place must lie at least this much inside its borough: less means the wrong borough.
MIN_INSIDE_SHARE = 0.5
INCIDENT_COLUMNS = ["month", "category", "location", "lat", "lon", "easting", "northing"]
EQUIPMENT_COLUMNS = ["asset_id", "kind_label", "site", "borough", "state", "state_label",
                     "last_checked_at", "last_outcome_label", "colour", "distance_m",
                     "example", "easting", "northing"]
PSPO_COLUMNS = ["reference", "name", "borough", "made_on", "expires_on", "conditions",
                "alerts", "published_url", "example", "in_register"]
ACTION_COLUMNS = ["problem", "action", "lead", "measure", "due_on", "status", "overdue"]


class BriefingError(UserError, ValueError):
    """A briefing cannot be made from what was given; the message says what is wrong."""


@dataclass
class Place:
    """Where the action day happens: a named outline in BNG metres within one borough.
    `note` says anything the reader must know about the outline (e.g. an approximation)."""

    name: str
    kind: str
    area_code: str
    geometry: BaseGeometry
    note: str | None = None


@dataclass
class Briefing:
    """Everything the briefing pack shows, assembled once for the HTML and the PDF."""

    place: Place
    area_name: str
    on: date
    theme: str | None
    categories: list[str] | None
    months: list[str]
    incidents: pd.DataFrame
    by_type: pd.DataFrame  # crime_type, incidents, share_pct; the total line last
    by_month: pd.DataFrame  # month, one column per crime type, total; a Total row last
    repeats: gpd.GeoDataFrame
    pspos: gpd.GeoDataFrame  # PSPO_COLUMNS + geometry (BNG)
    equipment: pd.DataFrame  # EQUIPMENT_COLUMNS
    actions: pd.DataFrame  # ACTION_COLUMNS
    notes: list[str]
    water: gpd.GeoDataFrame  # BNG, clipped to the map's extent
    wards: gpd.GeoDataFrame  # BNG: code, name, geometry of wards meeting the map's extent
    borough: BaseGeometry  # BNG
    extent: tuple[float, float, float, float]  # BNG bounds the map shows
    equipment_margin_m: float = EQUIPMENT_MARGIN_M
    actions_available: bool = True
    currency: Currency | None = None  # the latest police.uk month and its age on the day
    withheld: str = ""  # what the reader's role does not see ('' when it sees everything)
    # the months covered against as many months before, with the borough's trend (WDD)
    assessment: Assessment | None = None
    generated_at: datetime = field(default_factory=lambda: datetime.now().replace(
        microsecond=0))

    @property
    def total(self) -> int:
        """Incidents inside the place in the months covered (of the selected types)."""
        return len(self.incidents)

    @property
    def total_label(self) -> str:
        """The name of the total line: all crime and ASB, or the selected types."""
        return total_label(self.categories)

    @property
    def month_span(self) -> str:
        """The months covered, as '2023-11 to 2024-01' (or the one month)."""
        if not self.months:
            return "none"
        return self.months[0] if len(self.months) == 1 else \
            f"{self.months[0]} to {self.months[-1]}"


def build_briefing(engine: Engine, place: Place, on: date, theme: str | None = None,
                   categories: list[str] | None = None, months: int = 3,
                   equipment_margin_m: float = EQUIPMENT_MARGIN_M) -> Briefing:
    """Assemble the briefing for `place` on the action day `on`: the latest `months` months
    loaded for the borough up to the month of `on`, the theme's crime types (all when none),
    PSPOs in force on the day, equipment within `equipment_margin_m` and open actions."""
    on = checked_day(on)
    borough = checked_borough(engine, place)
    shape = checked_place(place, borough)
    months = checked_months(months)
    if not (isinstance(equipment_margin_m, int | float) and 0 <= equipment_margin_m <= 5000):
        raise BriefingError(f"the equipment margin must be 0 to 5,000 m, not "
                            f"{equipment_margin_m!r}")
    theme, categories, notes = resolve_theme(engine, theme, categories)
    inside = shape.intersection(borough.boundary).area / shape.area
    if inside < 0.99:
        notes.append(f"{1 - inside:.0%} of {place.name} lies outside {borough.name}: only "
                     f"{borough.name}'s incidents are counted (PSPOs and equipment of any "
                     "borough are shown)")
    covered, month_notes = recent_months(engine, borough, on, months)
    notes.extend(month_notes)
    fresh = data_currency(engine, borough, on, f"the action day ({day_text(on)})",
                          up_to=on.strftime("%Y-%m"))
    incidents = place_incidents(engine, borough, shape, covered, categories)
    shown = [c for c in categories if c in known_categories(engine)] if categories else None
    by_type, by_month = type_and_month_tables(incidents, covered, shown,
                                              total_label(categories))
    repeats = repeat_locations(incidents, top=REPEAT_TOP)
    assessment, assessment_note = place_assessment(engine, borough, place.name, shape, covered,
                                                   categories)
    if assessment_note:
        notes.append(assessment_note)
    pspos = pspos_in_force(engine, shape, on)
    equipment = equipment_near(engine, shape, on, equipment_margin_m)
    actions, actions_available = open_actions(engine, shape, on)
    notes.extend(_register_notes(pspos, equipment, actions_available, equipment_margin_m, on))
    extent = map_extent(shape, equipment, equipment_margin_m)
    return Briefing(
        place=place, area_name=borough.name, on=on, theme=theme, categories=categories,
        months=covered, incidents=incidents, by_type=by_type, by_month=by_month,
        repeats=repeats, pspos=pspos, equipment=equipment, actions=actions, notes=notes,
        water=water_near(engine, extent), wards=wards_near(engine, extent),
        borough=borough.boundary, extent=extent, equipment_margin_m=float(equipment_margin_m),
        actions_available=actions_available, currency=fresh,
        withheld=withheld(engine).sentence("from this pack"), assessment=assessment)


def place_assessment(engine: Engine, borough: Area, name: str, shape: BaseGeometry,
                     covered: list[str], categories: list[str] | None
                     ) -> tuple[Assessment | None, str | None]:
    """The months covered against as many months just before them, inside the place and in a
    250 m ring around it, with the rest of the borough's trend (report.assessment: the
    weighted displacement difference); or None and a note saying why not."""
    from hotspots.result import HotspotInputError

    span = months_apart(covered[0], covered[-1]) + 1
    if span != len(covered):
        return None, ("Change against the borough's trend: not worked out, since the months "
                      "covered have a gap.")
    earlier = months_before(covered[0], span)
    before = (earlier[0], earlier[-1])
    have = set(loaded_months(engine, borough, covered[-1]))
    if not any(m in have for m in earlier):
        return None, (f"Change against the borough's trend: not worked out, since no "
                      f"incidents are loaded for {before[0]} to {before[1]} to compare with.")
    try:
        result = assess_outline(engine, borough.code, shape, name, before,
                                (covered[0], covered[-1]), categories=categories, crs=BNG)
    except HotspotInputError as exc:
        return None, f"Change against the borough's trend: not worked out ({exc})."
    return result, None


def place_from_layer(engine: Engine, layer_kind: str, name_or_code: str,
                     area: str) -> Place:
    """A Place from a stored ward or town centre of a borough, found by name (any case) or
    code; an approximate town centre carries its approximation note."""
    kinds = {"ward": "ward", "town-centre": "town centre"}
    if layer_kind not in kinds:
        raise BriefingError(f"a place can be taken from a {' or '.join(kinds)} layer, not "
                            f"'{layer_kind}'")
    try:
        borough = resolve_area(engine, area)
    except UnknownAreaError as exc:
        raise BriefingError(str(exc)) from None
    layer = load_layer(engine, layer_kind, borough.code)
    wanted = str(name_or_code).strip().lower()
    match = layer[(layer["name"].str.lower() == wanted) | (layer["code"].str.lower() == wanted)]
    if match.empty:
        raise BriefingError(f"{borough.name} has no {kinds[layer_kind]} called "
                            f"'{name_or_code}'; it has {', '.join(layer['name']) or 'none'}")
    row = match.iloc[0]
    note = str(row["note"]) if bool(row["approximate"]) and row["note"] else None
    shape = reproject(row.geometry, WGS84, BNG)
    return Place(name=str(row["name"]), kind=kinds[layer_kind], area_code=borough.code,
                 geometry=shape, note=note)


def checked_day(on: object) -> date:
    """The action day as a date (a datetime's date; ISO text is accepted)."""
    if isinstance(on, datetime):
        return on.date()
    if isinstance(on, date):
        return on
    if isinstance(on, str):
        try:
            return date.fromisoformat(on.strip())
        except ValueError:
            pass
    raise BriefingError(f"the action day must be a date (YYYY-MM-DD), not {on!r}")


def checked_borough(engine: Engine, place: Place) -> Area:
    """The place's borough, refusing a place that is not a Place or names no loaded area."""
    if not isinstance(place, Place):
        raise BriefingError(f"the place must be a Place (name, kind, area code, outline), not "
                            f"{type(place).__name__}")
    if not str(place.name or "").strip():
        raise BriefingError("the place needs a name (it heads the briefing)")
    if place.kind not in PLACE_KINDS:
        raise BriefingError(f"place '{place.name}': kind '{place.kind}' is not one of "
                            f"{', '.join(PLACE_KINDS)}")
    try:
        return resolve_area(engine, str(place.area_code or ""))
    except UnknownAreaError as exc:
        raise BriefingError(f"place '{place.name}': {exc}") from None


def checked_place(place: Place, borough: Area) -> BaseGeometry:
    """The place's outline, refusing no outline, points or lines, crossing edges, degrees
    instead of metres, and a place wholly or mostly outside its borough."""
    shape = place.geometry
    where = f"place '{place.name}'"
    if shape is None or not isinstance(shape, BaseGeometry) or shape.is_empty:
        raise BriefingError(f"{where} has no outline (empty geometry): draw it or pick a "
                            "hotspot, problem location or town centre")
    if shape.geom_type not in ("Polygon", "MultiPolygon"):
        raise BriefingError(f"{where} is a {shape.geom_type}: a place must be an outline "
                            "(polygon)")
    if not shape.is_valid:
        reason = shapely.validation.explain_validity(shape)
        raise BriefingError(f"{where} is not a valid outline ({reason}): redraw it so its "
                            "edges do not cross")
    minx, miny, maxx, maxy = shape.bounds
    if max(abs(minx), abs(maxx)) <= 180 and max(abs(miny), abs(maxy)) <= 90:
        raise BriefingError(f"{where} looks like longitude/latitude degrees "
                            f"({minx:.4f}, {miny:.4f}); give the outline in British National "
                            "Grid metres (EPSG:27700)")
    if shape.area < 1.0:
        raise BriefingError(f"{where} encloses no area")
    inside = shape.intersection(borough.boundary).area / shape.area
    if inside < 0.001:
        raise BriefingError(f"{where} lies wholly outside {borough.name} "
                            f"({borough.code}): pick the borough it is in")
    if inside < MIN_INSIDE_SHARE:
        raise BriefingError(f"{where}: only {inside:.0%} of it lies inside {borough.name} "
                            f"({borough.code}): pick the borough most of it is in")
    return shape


def checked_months(months: object) -> int:
    """How many months to cover: a whole number from 1 to 36."""
    if isinstance(months, bool) or not isinstance(months, int) or \
            not 1 <= months <= MAX_MONTHS:
        raise BriefingError(f"the number of months must be a whole number from 1 to "
                            f"{MAX_MONTHS}, not {months!r}")
    return months


def known_categories(engine: Engine) -> list[str]:
    """Every crime type or council category among the stored incidents that the acting
    principal may see."""
    return [str(c) for c in stored_categories(engine) if c]


def resolve_theme(engine: Engine, theme: str | None, categories: list[str] | None
                  ) -> tuple[str | None, list[str] | None, list[str]]:
    """The theme's name (as the theme list spells it), the crime types to count and notes.
    Types given in `categories` must be stored ones; without them the theme mapping gives the
    theme's types (police.uk's and council logs'); with neither, all crime and ASB (None)."""
    notes: list[str] = []
    if theme is not None and str(theme).strip():
        try:
            theme = theme_named(str(theme))
        except ThemeError as exc:
            raise BriefingError(f"unknown theme: {exc}") from None
    else:
        theme = None
    known = known_categories(engine)
    if categories is None and theme is not None:
        mapped = categories_for(engine, theme)
        if not mapped:
            raise BriefingError(f"theme '{theme}' has no crime type or category in the theme "
                                "mapping: add some on the Overview page, or choose the types")
        stored = [c for c in mapped if c in known]
        if not stored:
            notes.append(f"Theme '{theme}' counts {', '.join(mapped)}; none of these is in the "
                         "loaded data (police.uk does not separate them: they come from "
                         "council logs), so no incident is counted.")
        return theme, list(mapped), notes
    if categories is None:
        return theme, None, notes
    if isinstance(categories, str):
        categories = [categories]
    chosen = list(dict.fromkeys(str(c).strip() for c in categories if str(c).strip()))
    if not chosen:
        raise BriefingError("no crime type chosen: choose at least one, or none at all for "
                            "all crime and ASB")
    unknown = [c for c in chosen if c not in known]
    if unknown:
        raise BriefingError(f"unknown crime type{'s' if len(unknown) > 1 else ''} "
                            f"{', '.join(repr(c) for c in unknown)}; the stored ones are "
                            f"{', '.join(known) or 'none (import incidents first)'}")
    return theme, chosen, notes


def loaded_months(engine: Engine, borough: Area, up_to: str) -> list[str]:
    """Months with incidents stored inside the borough's bounding box, up to `up_to`."""
    table = Incident.__table__
    minx, miny, maxx, maxy = borough.bounds
    query = (select(table.c.month).distinct()
             .where(table.c.month <= up_to, table.c.easting.between(minx, maxx),
                    table.c.northing.between(miny, maxy)))
    with engine.connect() as conn:
        return sorted(str(m) for m in conn.execute(query).scalars())


def recent_months(engine: Engine, borough: Area, on: date,
                  months: int) -> tuple[list[str], list[str]]:
    """The latest `months` months loaded for the borough up to the month of `on`, and notes
    on them and on any gap (how old they are is the pack's currency line)."""
    month_on = on.strftime("%Y-%m")
    have = loaded_months(engine, borough, month_on)
    if not have:
        raise BriefingError(f"no incidents are loaded for {borough.name} up to {month_on}: "
                            "import police.uk months first")
    covered = have[-months:]
    latest = covered[-1]
    notes = [f"Recent incidents: the latest {len(covered)} month"
             f"{'s' if len(covered) > 1 else ''} loaded for {borough.name}, "
             f"{covered[0] if len(covered) == 1 else covered[0] + ' to ' + latest}. "
             "police.uk publishes each month about two months after it ends."]
    if len(covered) < months:
        notes.append(f"Only {len(covered)} month{'s' if len(covered) != 1 else ''} of "
                     f"incidents {'is' if len(covered) == 1 else 'are'} loaded for "
                     f"{borough.name} up to {month_on} ({months} asked for).")
    span = months_apart(covered[0], latest) + 1
    if span > len(covered):
        notes.append(f"{span - len(covered)} month(s) between {covered[0]} and {latest} have "
                     "no incidents loaded and are left out (not counted as zero).")
    return covered, notes


def place_incidents(engine: Engine, borough: Area, shape: BaseGeometry, months: list[str],
                    categories: list[str] | None) -> pd.DataFrame:
    """The borough's incidents of the months and types that lie inside the place."""
    points = area_incidents(engine, borough, months[0], months[-1], categories)
    points = points[points["month"].isin(months)]
    shapely.prepare(shape)
    inside = shapely.contains_xy(shape, points["easting"].to_numpy(float),
                                 points["northing"].to_numpy(float))
    frame = pd.DataFrame(points.loc[inside, INCIDENT_COLUMNS]).reset_index(drop=True)
    return frame.sort_values(["month", "category"], kind="stable").reset_index(drop=True)


def type_and_month_tables(incidents: pd.DataFrame, months: list[str],
                          categories: list[str] | None, label: str
                          ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Counts by crime type (with share and a total line named `label`) and by month and type
    (with a total column and a Total row); each of `categories` shows, with 0 if none."""
    counts = incidents["category"].value_counts()
    if categories:
        counts = counts.reindex(sorted(set(categories) | set(counts.index)), fill_value=0)
    types = sorted(counts.index, key=lambda t: (-int(counts[t]), t))
    total = int(counts.sum())
    rows = [(t, int(counts[t]), round(int(counts[t]) / total * 100, 1) if total else 0.0)
            for t in types]
    rows.append((label, total, 100.0 if total else 0.0))
    by_type = pd.DataFrame(rows, columns=["crime_type", "incidents", "share_pct"])
    grid = pd.crosstab(incidents["month"], incidents["category"]) if len(incidents) else \
        pd.DataFrame(index=pd.Index([], name="month"))
    grid = grid.reindex(index=months, columns=types, fill_value=0).astype(int)
    grid["total"] = grid.sum(axis=1)
    grid.loc["Total"] = grid.sum(axis=0)
    by_month = grid.rename_axis("month").rename_axis(None, axis=1).reset_index()
    return by_type, by_month


def pspos_in_force(engine: Engine, shape: BaseGeometry, on: date) -> gpd.GeoDataFrame:
    """PSPO register orders in force on `on` whose area overlaps the place (any borough), with
    their active conditions, plus PSPO outlines loaded as layer files (not in the register)."""
    orders = list_orders(engine, today=on)
    orders = orders[(orders["status"] == "in force") & (orders["made_on"] <= on)]
    orders = orders.to_crs(BNG)
    orders = orders[_overlaps(orders, shape)]
    wording = conditions_text(engine, [int(i) for i in orders["id"]]) if len(orders) else {}
    rows = pd.DataFrame({
        "reference": orders["reference"].astype(str), "name": orders["name"].astype(str),
        "borough": orders["area"].astype(str), "made_on": orders["made_on"],
        "expires_on": orders["expires_on"],
        "conditions": [wording.get(int(i), "") for i in orders["id"]],
        "alerts": orders["alerts"].astype(str),
        "published_url": orders["published_url"].where(orders["published_url"].notna(), None),
        "example": orders["example"].astype(bool), "in_register": True})
    frame = gpd.GeoDataFrame(rows, geometry=orders.geometry.to_numpy(), crs=BNG)
    layer = load_layer(engine, "pspo")
    if len(layer):
        layer = layer.to_crs(BNG)
        layer = layer[_overlaps(layer, shape)]
        names = area_names_by_code(engine)
        outlines = gpd.GeoDataFrame({
            "reference": layer["code"].astype(str), "name": layer["name"].astype(str),
            "borough": layer["parent_code"].map(names).fillna(""), "made_on": None,
            "expires_on": None,
            "conditions": "Not in the PSPO register (outline loaded as a layer file): check "
                          "its dates and conditions on the published order",
            "alerts": "", "published_url": None, "example": False, "in_register": False},
            geometry=layer.geometry.to_numpy(), crs=BNG)
        if len(outlines):
            frame = gpd.GeoDataFrame(pd.concat([frame, outlines], ignore_index=True),
                                     geometry="geometry", crs=BNG)
    return frame.reset_index(drop=True)


def _overlaps(frame: gpd.GeoDataFrame, shape: BaseGeometry) -> pd.Series:
    """Outlines sharing some ground with the shape (touching along an edge is not enough)."""
    return frame.intersects(shape) & ~frame.touches(shape)


def equipment_near(engine: Engine, shape: BaseGeometry, on: date,
                   margin_m: float = EQUIPMENT_MARGIN_M) -> pd.DataFrame:
    """Water-safety items in service on `on` (any borough) within `margin_m` of the place,
    with their check state for the month of `on` (as the register's due report gives it)."""
    report = due_report(engine, on.strftime("%Y-%m"))
    if report.empty:
        return pd.DataFrame(columns=EQUIPMENT_COLUMNS)
    zone = shape.buffer(margin_m) if margin_m else shape
    shapely.prepare(zone)
    near = shapely.contains_xy(zone, report["easting"].to_numpy(float),
                               report["northing"].to_numpy(float))
    day = pd.Timestamp(on)
    installed = pd.to_datetime(report["installed_on"])
    retired = pd.to_datetime(report["retired_on"])
    in_service = (installed.isna() | (installed <= day)) & (retired.isna() | (retired > day))
    items = report[near & in_service.to_numpy()].copy()
    items["borough"] = items["area_code"].map(area_names_by_code(engine)).fillna("")
    points = shapely.points(items["easting"].to_numpy(float), items["northing"].to_numpy(float))
    items["distance_m"] = [round(float(d)) for d in shapely.distance(shape, points)]
    items["last_outcome_label"] = items["last_outcome_label"].where(
        items["last_outcome_label"].notna(), None)
    items["last_checked_at"] = items["last_checked_at"].astype(object).where(
        items["last_checked_at"].notna(), None)
    return items[EQUIPMENT_COLUMNS].reset_index(drop=True)


def open_actions(engine: Engine, shape: BaseGeometry, on: date) -> tuple[pd.DataFrame, bool]:
    """Open partner actions of problem locations whose outline meets the place (overdue as of
    `on`), and whether the problem-location register is available at all."""
    try:
        from registers.problems import open_actions_within
    except ImportError as exc:
        if getattr(exc, "name", None) not in ("registers.problems",):
            raise
        return pd.DataFrame(columns=ACTION_COLUMNS), False
    shape_wgs84 = reproject(shape, BNG, WGS84)
    actions = open_actions_within(engine, shape_wgs84, on)
    missing = [c for c in ACTION_COLUMNS if c not in actions.columns]
    if missing:
        raise RuntimeError(f"open_actions_within gave no {', '.join(missing)} column")
    return actions.reset_index(drop=True), True


def map_extent(shape: BaseGeometry, equipment: pd.DataFrame,
               margin_m: float) -> tuple[float, float, float, float]:
    """What the map shows: the place, the equipment zone around it and a little more."""
    minx, miny, maxx, maxy = shape.buffer(max(margin_m, 50.0)).bounds
    if len(equipment):
        minx = min(minx, float(equipment["easting"].min()))
        maxx = max(maxx, float(equipment["easting"].max()))
        miny = min(miny, float(equipment["northing"].min()))
        maxy = max(maxy, float(equipment["northing"].max()))
    pad = 0.05 * max(maxx - minx, maxy - miny)
    return (minx - pad, miny - pad, maxx + pad, maxy + pad)


def water_near(engine: Engine, extent: tuple[float, float, float, float]) -> gpd.GeoDataFrame:
    """The water layer (BNG) clipped to the map's extent, grown by half its size."""
    water = load_layer(engine, "water")
    if water.empty:
        return gpd.GeoDataFrame({"name": []}, geometry=[], crs=BNG)
    water = water.to_crs(BNG)
    box = _grown(extent, 0.5)
    clipped = shapely.clip_by_rect(water.geometry.to_numpy(), *box)
    frame = gpd.GeoDataFrame({"name": water["name"].to_numpy()}, geometry=clipped, crs=BNG)
    return frame[~frame.geometry.is_empty].reset_index(drop=True)


def wards_near(engine: Engine, extent: tuple[float, float, float, float]) -> gpd.GeoDataFrame:
    """Ward outlines (BNG; code, name) meeting the map's extent, grown by half its size."""
    wards = load_layer(engine, "ward")
    if wards.empty:
        return gpd.GeoDataFrame({"code": [], "name": []}, geometry=[], crs=BNG)
    wards = wards.to_crs(BNG)
    box = shapely.box(*_grown(extent, 0.5))
    return wards[wards.intersects(box)][["code", "name", "geometry"]].reset_index(drop=True)


def _grown(extent: tuple[float, float, float, float],
           share: float) -> tuple[float, float, float, float]:
    minx, miny, maxx, maxy = extent
    grow = share * max(maxx - minx, maxy - miny)
    return (minx - grow, miny - grow, maxx + grow, maxy + grow)


def _register_notes(pspos: gpd.GeoDataFrame, equipment: pd.DataFrame, actions_available: bool,
                    margin_m: float, on: date) -> list[str]:
    notes = ["Locations are anonymised by police.uk: each incident is placed at an 'On or near' "
             "map point, not where it happened, so a point near the edge may stand for "
             "incidents just outside the place, and the other way round."]
    notes.append(f"PSPOs: orders in force on {on.isoformat()} whose area meets the place. "
                 f"Water-safety equipment: items in service within {margin_m:,.0f} m of the "
                 f"place, with their check state for {on.strftime('%Y-%m')}.")
    if (len(pspos) and pspos["example"].any()) or (len(equipment) and
                                                   equipment["example"].any()):
        notes.append("EXAMPLE: rows marked EXAMPLE come from the bundled example registers "
                     "(stand-in orders and equipment), not from the council's records.")
    if not actions_available:
        notes.append("Partner actions: the problem-location register is not available in "
                     "this installation, so no actions are listed.")
    return notes


def day_text(day: date) -> str:
    """A date as people write it on a briefing: 'Friday 5 December 2026'."""
    return f"{day:%A} {day.day} {day:%B %Y}"
