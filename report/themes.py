"""Priority themes: the CSP plan's priorities counted from police.uk crime types and council
log categories through an editable mapping, for the Overview page and `hotspots overview`.

The themes are Spelthorne's 2024/26 plan priorities (Counter Terrorism, its ninth, has no
incident data and is left out). The default mapping is a starting point, to be edited by the
partnership; what it can and cannot do with police.uk data:

- police.uk publishes 14 broad crime types and does not separate domestic abuse, violence
  against women and girls (VAWG) or hate crime. "Violence and sexual offences" (which holds
  common assault, harassment, stalking, domestic and sexual offences as well as serious
  violence) counts towards Serious violence as the nearest proxy, with Robbery and Possession
  of weapons. Domestic abuse, VAWG and Hate crime count council-logged categories only
  ("Domestic abuse", "Sexual offences", "Stalking and harassment", "Hate crime", ...) unless
  the partnership edits the mapping; with police.uk data alone they show nothing, and say so.
- Robbery is violent and acquisitive: it counts towards Serious violence and Town centre and
  acquisitive crime (the Home Office's serious acquisitive crime includes robbery).
- Bicycle theft, Burglary, Other theft, Shoplifting, Theft from the person and Vehicle crime
  count towards Town centre and acquisitive crime; ASB, Criminal damage and arson and Public
  order towards Anti-social behaviour; Drugs towards Exploitation and vulnerability.
- "Other crime" (fraud, forgery, perjury, ...) fits no theme and counts towards none; the
  table says how many incidents fall in no theme.
- Water safety has no police.uk type: it counts council-logged water incidents and missing or
  damaged rescue equipment reports.

A category may count towards several themes, so an incident may count in several themes (once
in each) and the themes need not add up to the total. Categories are matched exactly as they
are stored; a category typed in another case or spacing is saved with the spelling found in
the data (or in the default mapping).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Engine, delete, select

from access.audit import record
from access.restricted import visibility
from access.roles import EDIT_THEMES, VIEW
from access.scope import require
from geo.areas import Area, resolve_area
from geo.population import area_population
from hotspots.analysis import months_between
from hotspots.change import change_test
from hotspots.result import HotspotInputError
from report.compare import Target
from report.periods import MonthPairs, months_text, pair_months, shift
from report.reading import change_reading
from store.db import write_transaction
from store.models import Incident, ThemeMapping

SERIOUS_VIOLENCE = "Serious violence"
VAWG = "Violence against women and girls"
DOMESTIC_ABUSE = "Domestic abuse"
HATE_CRIME = "Hate crime"
ACQUISITIVE = "Town centre and acquisitive crime"
ASB = "Anti-social behaviour"
EXPLOITATION = "Exploitation and vulnerability"
WATER_SAFETY = "Water safety"
THEMES = (SERIOUS_VIOLENCE, VAWG, DOMESTIC_ABUSE, HATE_CRIME, ACQUISITIVE, ASB, EXPLOITATION,
          WATER_SAFETY)
THEME_ALIASES = {"vawg": VAWG, "asb": ASB, "da": DOMESTIC_ABUSE, "sv": SERIOUS_VIOLENCE,
                 "town centre crime": ACQUISITIVE, "acquisitive crime": ACQUISITIVE,
                 "exploitation": EXPLOITATION, "vulnerability": EXPLOITATION}

POLICE_UK_TYPES = ("Anti-social behaviour", "Bicycle theft", "Burglary",
                   "Criminal damage and arson", "Drugs", "Other crime", "Other theft",
                   "Possession of weapons", "Public order", "Robbery", "Shoplifting",
                   "Theft from the person", "Vehicle crime", "Violence and sexual offences")
# category -> the themes it counts towards (police.uk's 14 types first, then council logs)
DEFAULT_MAPPING: dict[str, tuple[str, ...]] = {
    "Anti-social behaviour": (ASB,),
    "Bicycle theft": (ACQUISITIVE,),
    "Burglary": (ACQUISITIVE,),
    "Criminal damage and arson": (ASB,),
    "Drugs": (EXPLOITATION,),
    "Other crime": (),
    "Other theft": (ACQUISITIVE,),
    "Possession of weapons": (SERIOUS_VIOLENCE,),
    "Public order": (ASB,),
    "Robbery": (SERIOUS_VIOLENCE, ACQUISITIVE),
    "Shoplifting": (ACQUISITIVE,),
    "Theft from the person": (ACQUISITIVE,),
    "Vehicle crime": (ACQUISITIVE,),
    "Violence and sexual offences": (SERIOUS_VIOLENCE,),
    # council logs (ASB, CCTV, community safety and water-safety logs)
    "Knife crime": (SERIOUS_VIOLENCE,),
    "Weapon sighting": (SERIOUS_VIOLENCE,),
    "Serious assault": (SERIOUS_VIOLENCE,),
    "Sexual offences": (VAWG,),
    "Sexual assault": (VAWG,),
    "Stalking and harassment": (VAWG,),
    "Spiking": (VAWG,),
    "Indecent exposure": (VAWG,),
    "Street harassment": (VAWG,),
    "Domestic abuse": (DOMESTIC_ABUSE,),
    "Domestic incident": (DOMESTIC_ABUSE,),
    "Hate crime": (HATE_CRIME,),
    "Hate incident": (HATE_CRIME,),
    "Shop theft": (ACQUISITIVE,),
    "Retail crime": (ACQUISITIVE,),
    "Theft": (ACQUISITIVE,),
    "Noise": (ASB,),
    "Youth nuisance": (ASB,),
    "Rowdy or inconsiderate behaviour": (ASB,),
    "Neighbour nuisance": (ASB,),
    "Nuisance vehicles": (ASB,),
    "Street drinking": (ASB,),
    "Begging": (ASB,),
    "Vandalism": (ASB,),
    "Graffiti": (ASB,),
    "Fly-tipping": (ASB,),
    "Abandoned vehicle": (ASB,),
    "Drug litter": (ASB, EXPLOITATION),
    "Drug dealing": (EXPLOITATION,),
    "County lines": (EXPLOITATION,),
    "Cuckooing": (EXPLOITATION,),
    "Modern slavery": (EXPLOITATION,),
    "Rough sleeping": (EXPLOITATION,),
    "Water safety incident": (WATER_SAFETY,),
    "Person in water": (WATER_SAFETY,),
    "Near miss at water": (WATER_SAFETY,),
    "Wild swimming": (WATER_SAFETY,),
    "Throwline missing": (WATER_SAFETY,),
    "Throw-ring missing": (WATER_SAFETY,),
    "Water safety equipment damaged": (WATER_SAFETY,),
}
CATEGORY_LIMIT = 200  # the columns' lengths (store.models.ThemeMapping)
THEME_LIMIT = 100
USER_LIMIT = 200

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
SEVERITIES = ("high", "medium", "low")
ALERT_COLUMNS = ["kind", "severity", "message", "subject", "example"]


class ThemeError(ValueError):
    """A theme or mapping the product cannot use; the message says what to do."""


def _key(text: str) -> str:
    return re.sub(r"\s+", " ", str(text).replace("&", " and ")).strip().casefold()


_THEME_KEYS = {_key(t): t for t in THEMES} | THEME_ALIASES


def theme_named(name: str) -> str:
    """The theme a name means (any case, '&' for 'and', VAWG, ASB); ThemeError otherwise."""
    found = _THEME_KEYS.get(_key(name))
    if found is None:
        raise ThemeError(f"'{name}' is not a priority theme; choose one of: "
                         f"{'; '.join(THEMES)}")
    return found


def default_mapping() -> pd.DataFrame:
    """DEFAULT_MAPPING as rows of (category, theme), in theme order."""
    rows = [{"category": c, "theme": t} for c, themes in DEFAULT_MAPPING.items() for t in themes]
    return _ordered(pd.DataFrame(rows, columns=["category", "theme"]))


def _ordered(frame: pd.DataFrame) -> pd.DataFrame:
    rank = frame["theme"].map({t: i for i, t in enumerate(THEMES)}).fillna(len(THEMES))
    return (frame.assign(_rank=rank).sort_values(["_rank"], kind="stable")
            .drop(columns="_rank").reset_index(drop=True))


def theme_mapping(engine: Engine) -> pd.DataFrame:
    """The stored mapping (category, theme), or the default one when none is stored;
    attrs['default'] says which, attrs['updated_at'/'updated_by'] when it was last saved."""
    table = ThemeMapping.__table__
    with engine.connect() as conn:
        rows = conn.execute(select(table.c.category, table.c.theme, table.c.updated_at,
                                   table.c.updated_by).order_by(table.c.id)).fetchall()
    if not rows:
        frame = default_mapping()
        frame.attrs.update(default=True, updated_at=None, updated_by=None)
        return frame
    frame = _ordered(pd.DataFrame([(r.category, r.theme) for r in rows],
                                  columns=["category", "theme"]))
    latest = max(rows, key=lambda r: r.updated_at)
    frame.attrs.update(default=False, updated_at=latest.updated_at,
                       updated_by=latest.updated_by)
    return frame


def categories_for(engine: Engine, theme: str) -> list[str]:
    """The categories counting towards a theme (stored mapping, else the default)."""
    wanted = theme_named(theme)
    mapping = theme_mapping(engine)
    return mapping.loc[mapping["theme"] == wanted, "category"].tolist()


@dataclass
class MappingSave:
    """What saving a mapping did: rows kept, rows set aside with reasons, duplicates dropped,
    and whether the stored mapping was written (unchanged: it already held the same rows)."""

    accepted: pd.DataFrame  # row, category, theme
    rejected: pd.DataFrame  # row, column, reason, category, theme (as given)
    duplicates: int = 0
    saved: bool = False
    unchanged: bool = False

    def summary(self) -> str:
        """One line: how many rows kept, set aside and dropped as duplicates, and the outcome."""
        outcome = ("the stored mapping already held exactly these rows: nothing changed"
                   if self.unchanged else "the stored mapping was replaced" if self.saved
                   else "nothing saved (no row could be used): the mapping in use is unchanged")
        return (f"{len(self.accepted)} row(s) kept, {len(self.rejected)} set aside, "
                f"{self.duplicates} duplicate(s) dropped; {outcome}")


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    return str(value).strip()


def _problem(category: str, theme: str) -> tuple[str, str] | None:
    """The first thing wrong with a row, as (column, reason), or None."""
    for column, value, limit in (("category", category, CATEGORY_LIMIT),
                                 ("theme", theme, THEME_LIMIT)):
        if not value:
            hint = f"; choose one of: {'; '.join(THEMES)}" if column == "theme" else ""
            return column, f"{column} is blank{hint}"
        if "\x00" in value:
            return column, f"{column} contains a NUL character"
        if len(value) > limit:
            return column, f"{column} is {len(value):,} characters long; at most {limit:,}"
    try:
        theme_named(theme)
    except ThemeError as exc:
        return "theme", str(exc)
    return None


def _known_spellings(engine: Engine) -> dict[str, str]:
    """Category spellings in the data, then in the default mapping, by their key."""
    with engine.connect() as conn:
        stored = conn.execute(select(Incident.category).distinct()).scalars().all()
    spellings = {_key(c): c for c in DEFAULT_MAPPING}
    spellings.update({_key(c): c for c in stored})
    return spellings


def _rows(rows: pd.DataFrame | list[dict]) -> pd.DataFrame:
    frame = rows.copy() if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = {"category", "theme"} - set(frame.columns)
    if missing and len(frame.columns):
        raise ThemeError(f"the mapping needs columns category and theme; missing "
                         f"{', '.join(sorted(missing))}")
    if missing:  # no rows at all
        return pd.DataFrame(columns=["category", "theme"])
    return frame


def save_theme_mapping(engine: Engine, rows: pd.DataFrame | list[dict], recorded_by: str,
                       first_row: int = 1) -> MappingSave:
    """Check every row and, if any can be used, replace the stored mapping with the good ones
    in one transaction; bad rows come back with row number (`first_row` for the first: 2 for
    a CSV file with a header line), column and reason; repeated pairs are dropped, counted."""
    require(EDIT_THEMES)
    who = _text(recorded_by)
    if not who or len(who) > USER_LIMIT:
        raise ThemeError(f"who is saving the mapping is required (at most {USER_LIMIT} "
                         "characters)")
    frame = _rows(rows)
    spellings = _known_spellings(engine)
    accepted, rejected, seen, duplicates = [], [], set(), 0
    for position, (raw_category, raw_theme) in enumerate(
            zip(frame["category"], frame["theme"], strict=True)):
        row = first_row + position
        category, theme = _text(raw_category), _text(raw_theme)
        problem = _problem(category, theme)
        if problem:
            rejected.append({"row": row, "column": problem[0], "reason": problem[1],
                             "category": category, "theme": theme})
            continue
        category = spellings.get(_key(category), re.sub(r"\s+", " ", category))
        pair = (category, theme_named(theme))
        if pair in seen:
            duplicates += 1
            continue
        seen.add(pair)
        accepted.append({"row": row, "category": pair[0], "theme": pair[1]})
    result = MappingSave(pd.DataFrame(accepted, columns=["row", "category", "theme"]),
                         pd.DataFrame(rejected, columns=["row", "column", "reason", "category",
                                                         "theme"]), duplicates)
    if accepted:
        result.saved, result.unchanged = _replace(engine, seen, who)
    return result


def _replace(engine: Engine, pairs: set[tuple[str, str]], who: str) -> tuple[bool, bool]:
    """Replace the stored mapping by `pairs` unless it holds exactly them: (saved, unchanged)."""
    table = ThemeMapping.__table__
    with write_transaction(engine) as conn:
        if conn.dialect.name == "postgresql":  # two saves at once: one waits for the other
            conn.exec_driver_sql("LOCK TABLE theme_mappings IN EXCLUSIVE MODE")
        stored = {(c, t) for c, t in conn.execute(select(table.c.category, table.c.theme))}
        if stored == pairs:
            return False, True
        now = datetime.now().replace(microsecond=0)
        conn.execute(delete(table))
        ordered = _ordered(pd.DataFrame(sorted(pairs), columns=["category", "theme"]))
        conn.execute(table.insert(), [{"category": c, "theme": t, "updated_at": now,
                                       "updated_by": who}
                                      for c, t in ordered.itertuples(index=False)])
        removed, added = sorted(stored - pairs), sorted(pairs - stored)
        record(conn, "saved", "theme mapping", None,
               before={"pairs": [list(p) for p in removed]},
               after={"pairs": [list(p) for p in added]},
               summary=f"theme mapping saved: {len(added)} pairs added, {len(removed)} removed")
    return True, False


def reset_theme_mapping(engine: Engine) -> int:
    """Go back to the default mapping (the stored one is removed); returns rows removed."""
    require(EDIT_THEMES)
    table = ThemeMapping.__table__
    with write_transaction(engine) as conn:
        stored = sorted(conn.execute(select(table.c.category, table.c.theme)).all())
        removed = conn.execute(delete(table)).rowcount or 0
        if removed:
            record(conn, "reset", "theme mapping", None,
                   before={"pairs": [list(p) for p in stored]}, after=None,
                   summary=f"theme mapping reset to the default ({removed} pairs removed)")
        return removed


def read_mapping_csv(path) -> pd.DataFrame:
    """A mapping CSV (category, theme) as text; a leading apostrophe that guarded a formula
    in an export is taken off again."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    for column in frame.columns:
        frame[column] = frame[column].map(
            lambda v: v[1:] if isinstance(v, str) and v[:1] == "'" and v[1:2] in "=+-@"
            and len(v) > 1 else v)
    return frame


# ---------------------------------------------------------------- the theme table


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
    frame = _rows(mapping)[["category", "theme"]].astype(str)
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
               "previous month": (shift(month, -1), shift(month, -1)),
               "same month last year": (shift(month, -12), shift(month, -12)),
               "rolling": (shift(month, 1 - months), month),
               "rolling previous": (shift(month, 1 - 2 * months), shift(month, -months))}
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


# ---------------------------------------------------------------- alerts


def _day(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def overview_alerts(engine: Engine, area_code: str | None, today: date | None = None
                    ) -> pd.DataFrame:
    """What needs doing in a borough (all boroughs if None) on a day: PSPOs expiring within 90
    days, overdue for review or expired in the last 90 days; equipment needing attention, not
    yet checked this month or missed last month. Columns: kind, severity (high, medium, low),
    message, subject, example; most severe first."""
    today = today or date.today()
    alerts = _pspo_alerts(engine, area_code, today) + _equipment_alerts(engine, area_code, today)
    frame = pd.DataFrame(alerts, columns=ALERT_COLUMNS)
    rank = frame["severity"].map({s: i for i, s in enumerate(SEVERITIES)})
    return (frame.assign(_rank=rank).sort_values("_rank", kind="stable")
            .drop(columns="_rank").reset_index(drop=True))


def _pspo_alerts(engine: Engine, area_code: str | None, today: date) -> list[dict]:
    from registers.pspo import EXPIRY_WARNING_DAYS, list_orders

    alerts = []
    for order in list_orders(engine, area_code, today).itertuples():
        name = f"{order.name} ({order.reference})"
        base = {"subject": order.reference, "example": bool(order.example)}
        days = int(order.days_to_expiry)
        if order.status == "in force" and days <= EXPIRY_WARNING_DAYS:
            alerts.append(base | {
                "kind": "PSPO expiring", "severity": "high" if days <= 30 else "medium",
                "message": f"PSPO {name} expires in {_plural(days, 'day')}, on "
                           f"{_day(order.expires_on)}: consult on extending it now, or let it "
                           "lapse."})
        if order.status == "in force" and order.next_review and today > order.next_review:
            late = (today - order.next_review).days
            alerts.append(base | {
                "kind": "PSPO review overdue", "severity": "medium",
                "message": f"PSPO {name} is overdue for review by {_plural(late, 'day')} (it "
                           f"was due on {_day(order.next_review)}): put it on the next JAG "
                           "agenda."})
        if order.status == "expired" and -days <= EXPIRY_WARNING_DAYS:
            alerts.append(base | {
                "kind": "PSPO expired", "severity": "high",
                "message": f"PSPO {name} expired on {_day(order.expires_on)}, "
                           f"{_plural(-days, 'day')} ago: it can no longer be enforced. Make a "
                           "new order if it is still needed, or take its signs down."})
    return alerts


def _equipment_alerts(engine: Engine, area_code: str | None, today: date) -> list[dict]:
    from registers.checks import due_report

    now = datetime.combine(today, time(23, 59, 59))
    this_month = today.strftime("%Y-%m")
    report = due_report(engine, this_month, area_code, now)
    alerts = []
    for item in report[report["state"] == "attention"].itertuples():
        checked = pd.Timestamp(item.last_checked_at)
        action = {"reported": ", reported for repair"}.get(item.last_action, "")
        alerts.append({
            "kind": "Equipment needs attention", "severity": "high",
            "subject": item.asset_id, "example": bool(item.example),
            "message": f"{item.asset_id} ({item.kind_label}, {item.site}): "
                       f"{str(item.last_outcome_label).lower()} at its last check on "
                       f"{_day(checked.date())} by {item.last_checked_by}{action}; it needs "
                       "attention."})
    last_month = shift(this_month, -1)
    earlier = due_report(engine, last_month, area_code, now)
    for state, frame, month, severity in (
            ("due", report, this_month, "low"), ("missed", earlier, last_month, "medium")):
        items = frame[frame["needs_check"]]  # needing attention or not, each is due a check
        if items.empty:
            continue
        due = int((~pd.to_datetime(frame["retired_on"]).lt(
            pd.Timestamp(shift(month, 1) + "-01"))).sum())
        label = date.fromisoformat(month + "-01").strftime("%B %Y")
        ids = items["asset_id"].tolist()
        listed = ", ".join(ids[:10]) + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")
        what = (f"not yet checked this month ({label})" if state == "due"
                else f"not checked last month ({label})")
        alerts.append({
            "kind": "Equipment not yet checked" if state == "due"
            else "Equipment missed last month", "severity": severity,
            "subject": "; ".join(ids), "example": bool(items["example"].all()),
            "message": f"{len(ids)} of {due} items {what}: {listed}."})
    return alerts
