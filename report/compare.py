"""The JAG's performance table: a period against the one before (rolling 12 months against
the previous 12, or "since the last JAG" against the same months a year earlier), with number
and % change, an exact test of whether the change is beyond chance, a RAG status against the
target set for each line, a plain-English reading, and rates per 1,000 residents by ward.

Like for like (report.periods): each month of the current period is paired with its
counterpart (the same calendar month a year before for 12 months and since the last JAG; the
month as far back as the period is long otherwise); only pairs where both months have data are
counted, and the months dropped are named. Below three quarters of the months comparable no
change is given, and the note says why.

RAG rule (stated on every export): for a target to *reduce* by X%, Green when the change is a
fall of X% or more, Amber when it is smaller than that but not a rise, Red when crime rose. For
a target to *increase* by X% (reporting of hate crime, say), Green at a rise of X% or more,
Amber for a smaller rise or no change, Red for a fall. No RAG when there is no target, when
there was nothing in the earlier period (no % change), or when fewer than three quarters of the
months can be compared.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from core.errors import UserError
from core.months import shift_month
from core.themes import ALL_CRIME
from geo.areas import Area, resolve_area
from geo.joins import ContextLayers, attribute_incidents, context_layers
from geo.population import area_population, population_note
from hotspots.analysis import area_incidents, months_between
from hotspots.change import change_test
from hotspots.result import HotspotInputError
from report.periods import MonthPairs, months_text, pair_months
from report.reading import change_reading
from report.summary import total_label

BY = ("ward", "town-centre")
COLUMNS = ["unit", "crime_type", "current", "previous", "change", "change_pct", "p_value",
           "significant", "target", "rag", "note", "reading", "months_compared",
           "months_dropped", "population", "current_per_1000", "previous_per_1000"]
RAG_RULE = ("RAG: reduce-by-X% targets are Green at a fall of X% or more, Amber for a smaller "
            "fall or no change, Red for a rise; increase-by-X% targets the other way round. "
            "Counts are of the months with data in both periods (each month against the same "
            "month of the earlier period); no change or RAG when fewer than three quarters of "
            "the months can be compared, without a target, or without an earlier count. "
            "'Significant' = the change is beyond chance at 95% (exact Poisson test).")


class TargetError(UserError, ValueError):
    """A target (or targets file) that cannot be read, with how to write it."""


@dataclass(frozen=True)
class Target:
    """A target for one line: reduce or increase by a percentage."""

    direction: str  # reduce | increase
    percent: float

    def __post_init__(self) -> None:
        if self.direction not in ("reduce", "increase"):
            raise TargetError(f"a target reduces or increases, not '{self.direction}'")
        if not (np.isfinite(self.percent) and 0 <= self.percent <= 100):
            raise TargetError(f"a target percentage runs from 0 to 100, not {self.percent}")

    def __str__(self) -> str:
        return f"{self.direction} by {self.percent:g}%"

    @classmethod
    def parse(cls, text: str) -> Target:
        """'reduce:10', 'reduce 10%', 'increase by 5' -> Target."""
        match = re.fullmatch(r"\s*(reduce|increase)\s*(?:by|:)?\s*(\d+(?:\.\d+)?)\s*%?\s*",
                             str(text), flags=re.I)
        if not match:
            raise TargetError(f"'{text}' is not a target; write e.g. 'reduce:10' or "
                               "'increase:5' (percent)")
        return cls(match.group(1).lower(), float(match.group(2)))

    def rag(self, change_pct: float | None) -> str:
        """Green, Amber or Red for a % change."""
        if change_pct is None or not np.isfinite(change_pct):
            return ""
        if self.direction == "reduce":
            return "Green" if change_pct <= -self.percent else "Amber" if change_pct <= 0 \
                else "Red"
        return "Green" if change_pct >= self.percent else "Amber" if change_pct >= 0 else "Red"


def parse_targets(items: list[str] | tuple[str, ...]) -> dict[str, Target]:
    """'LINE=TARGET' items: LINE is a crime type, 'UNIT/crime type', or '*' for every line."""
    targets = {}
    for item in items:
        line, sep, target = str(item).rpartition("=")
        if not sep or not line.strip():
            raise TargetError(f"'{item}' is not LINE=TARGET, e.g. 'Burglary=reduce:10' or "
                               "'*=reduce:5'")
        targets[line.strip()] = Target.parse(target)
    return targets


def read_targets_csv(path: str | Path) -> tuple[dict[str, Target], pd.DataFrame]:
    """Targets from a CSV with columns crime_type, direction, percent (and optionally unit);
    rows that cannot be used come back with file, row, column and reason."""
    path = Path(path)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    frame.columns = [c.strip().lower().replace(" ", "_") for c in frame.columns]
    missing = {"crime_type", "direction", "percent"} - set(frame.columns)
    if missing:
        raise TargetError(f"{path.name}: missing column(s) {', '.join(sorted(missing))}; "
                           "expected crime_type, direction, percent (and optionally unit)")
    targets, rejected = {}, []
    for i, row in frame.iterrows():
        line = row["crime_type"].strip()
        if "unit" in frame.columns and row["unit"].strip():
            line = f"{row['unit'].strip()}/{line}"
        try:
            if not row["crime_type"].strip():
                raise ValueError("no crime type (use * for every line)")
            targets[line] = Target(row["direction"].strip().lower(),
                                   float(row["percent"].strip().rstrip("%")))
        except ValueError as exc:
            column = "crime_type" if "crime type" in str(exc) else (
                "direction" if "reduces" in str(exc) else "percent")
            rejected.append({"file": path.name, "row": int(i) + 2, "column": column,
                             "reason": str(exc).replace("could not convert string to float",
                                                        "not a number"),
                             "raw": row.to_dict()})
    return targets, pd.DataFrame(rejected, columns=["file", "row", "column", "reason", "raw"])


def target_for(targets: dict[str, Target], unit: str, crime_type: str) -> Target | None:
    """The most specific target: 'unit/type', then 'type', then 'unit/*', then '*'."""
    for key in (f"{unit}/{crime_type}", crime_type, f"{unit}/*", "*"):
        if key in targets:
            return targets[key]
    return None


@dataclass
class Comparison:
    """A period against an earlier one, by crime type (and ward or town centre), month by
    month like for like (`pairs`)."""

    area: Area
    kind: str  # rolling | since last JAG
    by: str | None
    current: tuple[str, str]
    previous: tuple[str, str]
    table: pd.DataFrame
    coverage: dict[str, list[str]]  # months with no data, per period
    notes: list[str] = field(default_factory=list)
    pairs: MonthPairs | None = None

    @property
    def complete(self) -> bool:
        """Whether both periods have data for every month."""
        return not any(self.coverage.values())

    @property
    def comparable(self) -> bool:
        """Whether enough months (three quarters) can be compared for change and RAG."""
        return self.pairs is None or self.pairs.enough

    @property
    def months_compared(self) -> int:
        """Months of the current period compared with their counterpart."""
        return self.pairs.months_compared if self.pairs else 0

    def title(self) -> str:
        """A heading for the table, as the board papers put it."""
        label = "Rolling" if self.kind == "rolling" else "Since the last JAG"
        return (f"{self.area.name}: {label} {self.current[0]} to {self.current[1]} against "
                f"{self.previous[0]} to {self.previous[1]}")

    def to_dict(self) -> dict:
        """Everything, for `--json`."""
        return {"area": self.area.name, "area_code": self.area.code, "kind": self.kind,
                "by": self.by, "current": list(self.current), "previous": list(self.previous),
                "complete": self.complete, "missing_months": self.coverage,
                "comparable": self.comparable,
                "months": self.pairs.to_dict() if self.pairs else None,
                "rows": json.loads(self.table.to_json(orient="records", double_precision=4)),
                "notes": self.notes, "rag_rule": RAG_RULE}


def jag_comparison(engine: Engine, area: str, to_month: str, months: int = 12,
                   by: str | None = None, targets: dict[str, Target] | None = None,
                   since: str | None = None, categories: list[str] | None = None,
                   layers: ContextLayers | None = None) -> Comparison:
    """Rolling `months` to `to_month` against the `months` before; or, with `since`, the
    months from `since` to `to_month` against the same months a year earlier. Each month is
    compared with its counterpart where both have data (report.periods)."""
    if by not in (None, *BY):
        raise HotspotInputError(f"cannot compare by '{by}'; choose one of {', '.join(BY)}")
    if since:
        current = (since, to_month)
        span = months_between(*current)
        if len(span) > 12:
            raise HotspotInputError(f"'since' ({since}) is more than 12 months before {to_month}"
                                    "; use the rolling comparison instead")
        lag, kind = 12, "since last JAG"
    else:
        if not 1 <= months <= 60:
            raise HotspotInputError(f"a comparison period is 1 to 60 months, not {months}")
        current = (shift_month(to_month, 1 - months), to_month)
        lag, kind = months, "rolling"
    previous = (shift_month(current[0], -lag), shift_month(current[1], -lag))
    place = resolve_area(engine, area)
    periods = {"current": current, "previous": previous}
    # The borough's lines and its wards' are counts per ward or coarser: they may include the
    # categories shown to viewers only at that level (access.restricted).
    counts_only = by in (None, "ward")
    first = min(previous[0], current[0])
    points = area_incidents(engine, place, first, current[1], categories,
                            for_ward_counts=counts_only)
    # A month with not one incident in the whole borough is a month with no data loaded.
    everything = area_incidents(engine, place, first, current[1],
                                for_ward_counts=counts_only) if categories else points
    have = set(everything["month"])
    coverage = {name: [m for m in months_between(*span) if m not in have]
                for name, span in periods.items()}
    pairs = pair_months(current, lag, have)
    counted = ({"current": pairs.current_months, "previous": pairs.previous_months}
               if pairs.enough else {n: months_between(*s) for n, s in periods.items()})
    in_period = {name: points["month"].isin(counted[name]).to_numpy() for name in periods}
    population = area_population(engine, place.code)
    units = [(place.name, np.ones(len(points), dtype=bool), population)]
    notes = []
    if by:
        layers = layers or context_layers(engine, place)
        attributed = attribute_incidents(points, layers)
        column = "ward" if by == "ward" else "town_centre"
        source = layers.wards if by == "ward" else layers.town_centres
        names = list(source.frame["name"])
        residents = [None if pd.isna(v) else int(v) for v in source.frame["population"]]
        units = [(n, (attributed[column] == n).to_numpy(), r)
                 for n, r in zip(names, residents, strict=True)]
        rest = ~attributed[column].isin(names).to_numpy()
        label = "Not in any ward" if by == "ward" else f"Rest of {place.name}"
        if by == "town-centre" or rest.any():
            units.append((label, rest, None))
        if by == "town-centre" and source.frame["approximate"].any():
            notes.append("Approximate town centres (circles around a high street postcode, not "
                         "council boundaries): " + ", ".join(
                             source.frame.loc[source.frame["approximate"], "name"]))
    table = _table(points["category"], units, in_period, targets or {}, pairs,
                   total=total_label(categories))
    notes.extend(_month_notes(pairs, periods, coverage))
    if table["population"].notna().any():
        notes.append("Rates per 1,000 residents are of the incidents counted (the months "
                     "compared). " + (population_note(engine, place.code) or ""))
    return Comparison(place, kind, by, current, previous, table, coverage, notes, pairs)


def _month_notes(pairs: MonthPairs, periods: dict[str, tuple[str, str]],
                 coverage: dict[str, list[str]]) -> list[str]:
    """What was compared, what was dropped and, when too little is left, why no change."""
    if not pairs.dropped:
        return []
    missing = sorted(set(coverage["current"]) | set(coverage["previous"]))
    if pairs.enough:
        return [f"Like for like: {pairs.months_compared} of {pairs.months} months compared, "
                f"each with the same month of the earlier period; dropped "
                f"{pairs.dropped_text()}. Current and previous count only the months "
                "compared."]
    return [f"Only {pairs.months_compared} of {pairs.months} months have data in both periods "
            f"(at least {pairs.needed}, three quarters, are needed): counts are of every "
            "month loaded, and no change, significance or RAG is given. No data for "
            f"{months_text(missing)}: import those months."]


def _table(categories: pd.Series, units: list[tuple[str, np.ndarray, int | None]],
           in_period: dict[str, np.ndarray], targets: dict[str, Target], pairs: MonthPairs,
           total: str = ALL_CRIME) -> pd.DataFrame:
    types = sorted(categories.unique())
    incomplete = not pairs.enough
    reason = (f"only {pairs.months_compared} of {pairs.months} months can be compared"
              if incomplete else "")
    rows = []
    for unit, mask, population in units:
        for crime_type in [total, *types]:
            of_type = mask if crime_type == total else mask & (categories == crime_type
                                                                    ).to_numpy()
            current = int((of_type & in_period["current"]).sum())
            previous = int((of_type & in_period["previous"]).sum())
            change = None if incomplete else current - previous
            pct = round(100 * change / previous, 1) if previous and change is not None \
                else None
            p = None if incomplete else float(
                change_test(np.array([previous]), np.array([current]))[0])
            target = target_for(targets, unit, crime_type)
            note = ""
            if incomplete:
                rag, note = "", f"{reason}: not like for like"
            elif target is None:
                rag = ""
            elif pct is None:
                rag, note = "", "nothing in the earlier period"
            else:
                rag = target.rag(pct)
            rows.append({"unit": unit, "crime_type": crime_type, "current": current,
                         "previous": previous, "change": change, "change_pct": pct,
                         "p_value": None if p is None else round(p, 4),
                         "significant": bool(p is not None and p < 0.05),
                         "target": str(target) if target else "", "rag": rag, "note": note,
                         "reading": change_reading(current, previous, p, reason),
                         "months_compared": pairs.months_compared,
                         "months_dropped": pairs.dropped_text(),
                         "population": population,
                         "current_per_1000": _rate(current, population),
                         "previous_per_1000": _rate(previous, population)})
    return pd.DataFrame(rows, columns=COLUMNS)


def _rate(count: int, population: int | None) -> float | None:
    """Incidents per 1,000 residents, to 2 decimals (None without a population)."""
    return round(1000 * count / population, 2) if population else None
