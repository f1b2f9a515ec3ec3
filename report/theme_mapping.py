"""The priority themes' mapping: which police.uk crime types and council log categories count
towards each of the CSP plan's priorities. The partnership edits it (on the Overview page or
with `hotspots themes import`); it is stored, audited, and the default below applies until
one is saved. The theme table that counts incidents through it is report.themes.

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

import re
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import Engine, delete, select

from access.audit import record
from access.roles import EDIT_THEMES
from access.scope import require
from core.errors import UserError
from core.themes import (
    ACQUISITIVE,
    ASB,
    DOMESTIC_ABUSE,
    EXPLOITATION,
    HATE_CRIME,
    SERIOUS_VIOLENCE,
    THEME_ALIASES,
    THEMES,
    VAWG,
    WATER_SAFETY,
)
from store.db import write_transaction
from store.models import Incident, ThemeMapping

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


class ThemeError(UserError, ValueError):
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


def mapping_rows(rows: pd.DataFrame | list[dict]) -> pd.DataFrame:
    """Rows given for a mapping as a frame with lower-case column names; ThemeError when the
    category or theme column is missing (an empty frame when there are no rows at all)."""
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
    frame = mapping_rows(rows)
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
    in an export is taken off again; ThemeError when the file is empty or not CSV text."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise ThemeError("the file is empty: expected columns category, theme") from None
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise ThemeError(f"the file is not a CSV of category,theme in UTF-8: {exc}") from None
    for column in frame.columns:
        frame[column] = frame[column].map(
            lambda v: v[1:] if isinstance(v, str) and v[:1] == "'" and v[1:2] in "=+-@"
            and len(v) > 1 else v)
    return frame
