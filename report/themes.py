"""Priority themes: the CSP plan's priorities counted from police.uk crime types and council
log categories, for the Overview page and `hotspots overview`: a borough's incidents per theme
in a month, the month before and a year before, and over a rolling period against the one
before it, with change, exact test, RAG against the partnership's targets and a plain-English
reading.

What counts towards each theme is the editable mapping (report.theme_mapping, which says what
the default can and cannot do with police.uk data). A category may count towards several
themes, so an incident may count in several themes (once in each) and the themes need not add
up to the total. The register alerts shown beside the table on the Overview are
registers.alerts.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Engine, select

from access.restricted import visibility
from access.roles import VIEW
from access.scope import require
from core.months import shift_month
from core.themes import THEMES
from geo.areas import Area, resolve_area
from geo.population import area_population
from hotspots.analysis import months_between
from hotspots.change import change_test
from hotspots.result import HotspotInputError
from report.compare import Target
from report.periods import MonthPairs, months_text, pair_months
from report.reading import change_reading
from report.theme_mapping import mapping_rows, theme_mapping, theme_named
from store.models import Incident

DEFAULT_TARGET = Target("reduce", 0)
COLUMNS = ["theme", "incidents", "previous_month", "change_previous_month",
           "same_month_last_year", "change_last_year", "rolling", "rolling_previous", "change",
           "change_pct", "p_value", "significant", "target", "rag", "categories", "note",
           "reading", "months_compared", "months_dropped", "per_1000_residents"]
COUNT_COLUMNS = ["incidents", "previous_month", "change_previous_month",
                 "same_month_last_year", "change_last_year", "rolling", "rolling_previous",
                 "change"]
RAG_RULE = ("RAG is on the rolling period (by default the last 12 months to the month) against "
            "the same length of time before it, with the JAG report's rule: a reduce-by-X% "
            "target is Green at a fall of X% or more, Amber for a smaller fall or no change, "
            "Red for a rise; an increase-by-X% target the other way round. A theme with no "
            "target set gets 'reduce by 0%': Green when it fell or held level, Red when it "
            "rose (set a target above 0% to see Amber; for Domestic abuse and Hate crime, "
            "where the plan encourages reporting, a partnership may prefer an increase "
            "target). The rolling counts are of the months with data in both periods, each "
            "against the same month of the earlier period (the months dropped are named). No "
            "RAG for a theme with no category mapped to it, with nothing in the earlier "
            "period, or when fewer than three quarters of the months can be compared. "
            "'Significant' = the change is beyond chance at 95% (exact Poisson test).")
MULTI_THEME_NOTE = ("A category can count towards several themes ({}), so an incident can "
                    "count in more than one theme (once in each): the themes do not add up to "
                    "the borough's total.")


@dataclass
class ThemeTable:
    """A borough's incidents by priority theme for one month, with the rolling comparison."""

    area: Area
    month: str
    months: int
    periods: dict[str, tuple[str, str]]
    table: pd.DataFrame  # one row per theme (COLUMNS)
    breakdown: pd.DataFrame  # theme, category, incidents, rolling, rolling_previous
    unmapped: pd.DataFrame  # category, incidents, rolling: counted in no theme
    coverage: dict[str, list[str]]  # months with no data, per period
    default_mapping: bool
    notes: list[str] = field(default_factory=list)
    rag_rule: str = RAG_RULE
    pairs: MonthPairs | None = None  # the rolling months paired with the earlier ones
    population: int | None = None  # the borough's residents, for rates per 1,000

    @property
    def complete(self) -> bool:
        """Whether the rolling period and the one before have data for every month."""
        return not (self.coverage["rolling"] or self.coverage["rolling previous"])

    @property
    def comparable(self) -> bool:
        """Whether enough months (three quarters) can be compared for change and RAG."""
        return self.pairs is None or self.pairs.enough

    def title(self) -> str:
        """A heading: borough, month and the rolling periods compared."""
        now, before = self.periods["rolling"], self.periods["rolling previous"]
        return (f"{self.area.name}: priority themes, {self.month}; rolling {self.months} "
                f"months {now[0]} to {now[1]} against {before[0]} to {before[1]}")

    def to_dict(self) -> dict:
        """Everything, for `--json`."""
        def records(frame: pd.DataFrame) -> list[dict]:
            return json.loads(frame.to_json(orient="records", double_precision=4))
        return {"area": self.area.name, "area_code": self.area.code, "month": self.month,
                "months": self.months, "periods": {k: list(v) for k, v in self.periods.items()},
                "complete": self.complete, "missing_months": self.coverage,
                "comparable": self.comparable,
                "rolling_months": self.pairs.to_dict() if self.pairs else None,
                "population": self.population,
                "default_mapping": self.default_mapping, "rows": records(self.table),
                "breakdown": records(self.breakdown), "unmapped": records(self.unmapped),
                "notes": self.notes, "rag_rule": self.rag_rule}


def _targets(targets: dict[str, Target] | None) -> dict[str, Target]:
    out = {}
    for name, target in (targets or {}).items():
        if not isinstance(target, Target):
            target = Target.parse(str(target))
        if name.strip() == "*":
            out.update({t: target for t in THEMES if t not in out})
        else:
            out[theme_named(name)] = target
    return out


def _mapping_frame(mapping: pd.DataFrame | None, engine: Engine) -> tuple[pd.DataFrame, bool]:
    if mapping is None:
        frame = theme_mapping(engine)
        return frame, bool(frame.attrs.get("default"))
    frame = mapping_rows(mapping)[["category", "theme"]].astype(str)
    return frame.drop_duplicates().reset_index(drop=True), False


def theme_table(engine: Engine, area: str, month: str, mapping: pd.DataFrame | None = None,
                targets: dict[str, Target] | None = None, months: int = 12) -> ThemeTable:
    """Incidents per theme in the month, the month before and a year before, and over the
    rolling `months` to the month against the `months` before, month by month like for like
    (report.periods), with change, exact test, RAG (RAG_RULE), a plain-English reading and
    the rolling count per 1,000 residents of the borough; `mapping` (category, theme)
    defaults to the stored or default one."""
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", str(month)):
        raise HotspotInputError(f"'{month}' is not a month in YYYY-MM form (e.g. 2024-01)")
    if not 1 <= months <= 60:
        raise HotspotInputError(f"a rolling period is 1 to 60 months, not {months}")
    goals = _targets(targets)
    frame, is_default = _mapping_frame(mapping, engine)
    place = resolve_area(engine, area)
    periods = {"month": (month, month),
               "previous month": (shift_month(month, -1), shift_month(month, -1)),
               "same month last year": (shift_month(month, -12), shift_month(month, -12)),
               "rolling": (shift_month(month, 1 - months), month),
               "rolling previous": (shift_month(month, 1 - 2 * months),
                                    shift_month(month, -months))}
    first = min(span[0] for span in periods.values())
    points = _area_months(engine, place, first, month)
    span = months_between(first, month)
    grid = pd.crosstab(points["category"], points["month"]).reindex(columns=span, fill_value=0)
    have = set(points["month"])
    coverage = {name: [m for m in months_between(*p) if m not in have]
                for name, p in periods.items()}
    pairs = pair_months(periods["rolling"], months, have)
    counted = {name: months_between(*p) for name, p in periods.items()}
    if pairs.enough:  # like for like: only the months with data in both periods
        counted["rolling"], counted["rolling previous"] = (pairs.current_months,
                                                           pairs.previous_months)

    # incidents per category in each period, summed once
    totals = {name: dict(zip(grid.index, grid[counted[name]].to_numpy().sum(axis=1),
                             strict=True)) for name in periods}

    def count(categories: list[str], name: str) -> int:
        return int(sum(totals[name].get(c, 0) for c in categories))

    population = area_population(engine, place.code)
    themed = frame[frame["theme"].isin(THEMES)]
    rows = [_theme_row(theme, themed.loc[themed["theme"] == theme, "category"].tolist(), count,
                       periods, coverage, goals, pairs, population) for theme in THEMES]
    table = pd.DataFrame(rows, columns=COLUMNS)
    table[COUNT_COLUMNS] = table[COUNT_COLUMNS].astype("Int64")
    parts = _breakdown(themed, count, periods, coverage)
    loose = [c for c in grid.index if c not in set(themed["category"])]
    unmapped = pd.DataFrame([{"category": c, "incidents": count([c], "month"),
                              "rolling": count([c], "rolling")} for c in loose],
                            columns=["category", "incidents", "rolling"])
    unmapped = unmapped[(unmapped["incidents"] > 0) | (unmapped["rolling"] > 0)]
    present = themed[themed["category"].isin(grid.index[grid.sum(axis=1) > 0])]
    notes = _notes(month, periods, coverage, present, unmapped, frame, is_default, pairs,
                   population)
    return ThemeTable(place, month, months, periods, table, parts,
                      unmapped.reset_index(drop=True), coverage, is_default, notes,
                      pairs=pairs, population=population)


def _breakdown(themed: pd.DataFrame, count, periods: dict[str, tuple[str, str]],
               coverage: dict[str, list[str]]) -> pd.DataFrame:
    """Each theme's categories with their counts (NA for a period with no data at all)."""
    names = {"incidents": "month", "rolling": "rolling", "rolling_previous": "rolling previous"}
    rows = [{"theme": theme, "category": c} | {column: count([c], name)
                                                for column, name in names.items()}
            for theme in THEMES for c in themed.loc[themed["theme"] == theme, "category"]]
    parts = pd.DataFrame(rows, columns=["theme", "category", *names])
    for column, name in names.items():
        empty = len(coverage[name]) == len(months_between(*periods[name]))
        parts[column] = pd.array([pd.NA] * len(parts) if empty else parts[column],
                                 dtype="Int64")
    return parts


def _area_months(engine: Engine, place: Area, month_from: str, month_to: str) -> pd.DataFrame:
    """Month and category of the stored incidents inside the area (the rule of
    hotspots.analysis.area_incidents: inside the boundary), reading only those columns. Only
    counts for the whole borough come of it, so the categories shown to viewers only at ward
    level are counted; hidden ones are not (access.restricted)."""
    require(VIEW)
    t = Incident.__table__
    minx, miny, maxx, maxy = place.bounds
    query = (select(t.c.month, t.c.category, t.c.easting, t.c.northing)
             .where(t.c.month >= month_from, t.c.month <= month_to,
                    t.c.easting.between(minx, maxx), t.c.northing.between(miny, maxy)))
    allowed = visibility(engine).count_filter(t.c.category)
    if allowed is not None:
        query = query.where(allowed)
    with engine.connect() as conn:
        rows = conn.execute(query).fetchall()
    month, category, x, y = (list(c) for c in zip(*rows, strict=True)) if rows else \
        ([], [], [], [])
    inside = shapely.contains_xy(place.boundary, np.asarray(x, dtype=float),
                                 np.asarray(y, dtype=float))
    return pd.DataFrame({"month": np.asarray(month, dtype=object)[inside],
                         "category": np.asarray(category, dtype=object)[inside]})


def _theme_row(theme: str, categories: list[str], count, periods: dict[str, tuple[str, str]],
               coverage: dict[str, list[str]], goals: dict[str, Target], pairs: MonthPairs,
               population: int | None = None) -> dict:
    """One theme's counts, changes, test, RAG, reading and rate."""
    month_missing = bool(coverage["month"])
    incidents = None if month_missing else count(categories, "month")
    earlier = {name: None if coverage[name] else count(categories, name)
               for name in ("previous month", "same month last year")}
    changes = {name: None if incidents is None or value is None else incidents - value
               for name, value in earlier.items()}
    current, previous = count(categories, "rolling"), count(categories, "rolling previous")
    incomplete = not pairs.enough
    shown = {name: None if len(coverage[name]) == len(months_between(*periods[name])) else n
             for name, n in (("rolling", current), ("rolling previous", previous))}
    change = None if incomplete else current - previous
    pct = round(100 * change / previous, 1) if previous and change is not None else None
    p = None if incomplete else float(change_test(np.array([previous]),
                                                  np.array([current]))[0])
    target = goals.get(theme)
    label = str(target) if target else f"{DEFAULT_TARGET} (default)"
    target = target or DEFAULT_TARGET
    notes, rag = [], ""
    reason = (f"only {pairs.months_compared} of {pairs.months} months can be compared"
              if incomplete else "")
    if not categories:
        notes.append("no category counts towards this theme: edit the mapping")
        reason = reason or "no category counts towards this theme"
    elif incomplete:
        notes.append(f"{reason}: not like for like")
    elif pct is None:
        notes.append("nothing in the earlier period")
    else:
        rag = target.rag(pct)
    if categories and current == 0 and previous == 0 and (incidents or 0) == 0:
        notes.append("none of its categories appear in the data for these months: if they are "
                     "council-logged categories, import the council's log; or edit the mapping")
    rate = round(1000 * current / population, 2) if population and shown["rolling"] is not \
        None else None
    return {"theme": theme, "incidents": incidents,
            "previous_month": earlier["previous month"],
            "change_previous_month": changes["previous month"],
            "same_month_last_year": earlier["same month last year"],
            "change_last_year": changes["same month last year"],
            "rolling": shown["rolling"], "rolling_previous": shown["rolling previous"],
            "change": change,
            "change_pct": pct, "p_value": None if p is None else round(p, 4),
            "significant": bool(p is not None and p < 0.05), "target": label, "rag": rag,
            "categories": "; ".join(categories), "note": "; ".join(notes),
            "reading": change_reading(current, previous, p, reason),
            "months_compared": pairs.months_compared, "months_dropped": pairs.dropped_text(),
            "per_1000_residents": rate}


def _notes(month: str, periods: dict, coverage: dict, present: pd.DataFrame,
           unmapped: pd.DataFrame, frame: pd.DataFrame, is_default: bool, pairs: MonthPairs,
           population: int | None = None) -> list[str]:
    notes = []
    if coverage["month"]:
        notes.append(f"No data loaded for {month}: import that month.")
    for name in ("previous month", "same month last year"):
        if coverage[name]:
            notes.append(f"No data loaded for {periods[name][0]} ({name}): that comparison "
                         "is not shown.")
    if pairs.dropped and pairs.enough:
        notes.append(f"Like for like: {pairs.months_compared} of {pairs.months} months of the "
                     "rolling period compared, each with the same month of the earlier period;"
                     f" dropped {pairs.dropped_text()}. The rolling counts are of the months "
                     "compared.")
    elif pairs.dropped:
        missing = sorted(set(coverage["rolling"]) | set(coverage["rolling previous"]))
        notes.append(f"Only {pairs.months_compared} of {pairs.months} months of the rolling "
                     f"period have data in both periods (at least {pairs.needed}, three "
                     "quarters, are needed): counts are of every month loaded, and no change, "
                     f"significance or RAG is given. No data for {months_text(missing)}: "
                     "import those months.")
    if population:
        notes.append(f"Per 1,000 residents: the rolling count per 1,000 of the borough's "
                     f"{population:,} residents (Census 2021).")
    several = present.groupby("category")["theme"].nunique()
    several = several[several > 1]
    if len(several):
        notes.append(MULTI_THEME_NOTE.format(", ".join(several.index)))
    if len(unmapped):
        parts = ", ".join(f"{r.category} ({r.incidents})" for r in unmapped.itertuples())
        notes.append(f"{int(unmapped['incidents'].sum())} incidents in {month} are in categories "
                     f"that count towards no theme: {parts}.")
    stray = sorted(set(frame["theme"]) - set(THEMES))
    if stray:
        notes.append(f"Mapping rows for unknown themes were ignored: {', '.join(stray)}.")
    if is_default:
        notes.append("Default mapping: police.uk does not separate domestic abuse, VAWG or hate "
                     "crime; 'Violence and sexual offences' counts towards Serious violence as "
                     "the nearest proxy, and those three themes count council-logged "
                     "categories only until the partnership edits the mapping.")
    return notes
