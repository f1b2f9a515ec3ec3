"""The JAG's performance table: a period against the one before (rolling 12 months against
the previous 12, or "since the last JAG" against the same months a year earlier), with number
and % change, an exact test of whether the change is beyond chance, and a RAG status against
the target set for each line.

RAG rule (stated on every export): for a target to *reduce* by X%, Green when the change is a
fall of X% or more, Amber when it is smaller than that but not a rise, Red when crime rose. For
a target to *increase* by X% (reporting of hate crime, say), Green at a rise of X% or more,
Amber for a smaller rise or no change, Red for a fall. No RAG when there is no target, when
there was nothing in the earlier period (no % change), or when either period is missing months
of data (the comparison would not be like for like).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from geo.areas import Area, resolve_area
from geo.joins import ContextLayers, attribute_incidents, context_layers
from hotspots.analysis import area_incidents, months_between
from hotspots.change import change_test
from hotspots.evaluate import ALL_CRIME
from hotspots.result import HotspotInputError
from report.summary import total_label

BY = ("ward", "town-centre")
COLUMNS = ["unit", "crime_type", "current", "previous", "change", "change_pct", "p_value",
           "significant", "target", "rag", "note"]
RAG_RULE = ("RAG: reduce-by-X% targets are Green at a fall of X% or more, Amber for a smaller "
            "fall or no change, Red for a rise; increase-by-X% targets the other way round. "
            "No RAG without a target, without an earlier count, or when months of data are "
            "missing. 'Significant' = the change is beyond chance at 95% (exact Poisson test).")


@dataclass(frozen=True)
class Target:
    """A target for one line: reduce or increase by a percentage."""

    direction: str  # reduce | increase
    percent: float

    def __post_init__(self) -> None:
        if self.direction not in ("reduce", "increase"):
            raise ValueError(f"a target reduces or increases, not '{self.direction}'")
        if not (np.isfinite(self.percent) and 0 <= self.percent <= 100):
            raise ValueError(f"a target percentage runs from 0 to 100, not {self.percent}")

    def __str__(self) -> str:
        return f"{self.direction} by {self.percent:g}%"

    @classmethod
    def parse(cls, text: str) -> Target:
        """'reduce:10', 'reduce 10%', 'increase by 5' -> Target."""
        match = re.fullmatch(r"\s*(reduce|increase)\s*(?:by|:)?\s*(\d+(?:\.\d+)?)\s*%?\s*",
                             str(text), flags=re.I)
        if not match:
            raise ValueError(f"'{text}' is not a target; write e.g. 'reduce:10' or "
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
            raise ValueError(f"'{item}' is not LINE=TARGET, e.g. 'Burglary=reduce:10' or "
                             "'*=reduce:5'")
        targets[line.strip()] = Target.parse(target)
    return targets


def read_targets(path: str | Path) -> tuple[dict[str, Target], pd.DataFrame]:
    """Targets from a CSV with columns crime_type, direction, percent (and optionally unit);
    rows that cannot be used come back with file, row, column and reason."""
    path = Path(path)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    frame.columns = [c.strip().lower().replace(" ", "_") for c in frame.columns]
    missing = {"crime_type", "direction", "percent"} - set(frame.columns)
    if missing:
        raise ValueError(f"{path.name}: missing column(s) {', '.join(sorted(missing))}; "
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


def shift(month: str, months: int) -> str:
    """The month `months` later (negative: earlier)."""
    return str(pd.Period(month, freq="M") + months)


@dataclass
class Comparison:
    """A period against an earlier one, by crime type (and ward or town centre)."""

    area: Area
    kind: str  # rolling | since last JAG
    by: str | None
    current: tuple[str, str]
    previous: tuple[str, str]
    table: pd.DataFrame
    coverage: dict[str, list[str]]  # months with no data, per period
    notes: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Whether both periods have data for every month."""
        return not any(self.coverage.values())

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
                "rows": json.loads(self.table.to_json(orient="records", double_precision=4)),
                "notes": self.notes, "rag_rule": RAG_RULE}


def compare(engine: Engine, area: str, to_month: str, months: int = 12,
            by: str | None = None, targets: dict[str, Target] | None = None,
            since: str | None = None, categories: list[str] | None = None,
            layers: ContextLayers | None = None) -> Comparison:
    """Rolling `months` to `to_month` against the `months` before; or, with `since`, the
    months from `since` to `to_month` against the same months a year earlier."""
    if by not in (None, *BY):
        raise HotspotInputError(f"cannot compare by '{by}'; choose one of {', '.join(BY)}")
    if since:
        current = (since, to_month)
        span = months_between(*current)
        if len(span) > 12:
            raise HotspotInputError(f"'since' ({since}) is more than 12 months before {to_month}"
                                    "; use the rolling comparison instead")
        previous = (shift(since, -12), shift(to_month, -12))
        kind = "since last JAG"
    else:
        if not 1 <= months <= 60:
            raise HotspotInputError(f"a comparison period is 1 to 60 months, not {months}")
        current = (shift(to_month, 1 - months), to_month)
        previous = (shift(to_month, 1 - 2 * months), shift(to_month, -months))
        kind = "rolling"
    place = resolve_area(engine, area)
    periods = {"current": current, "previous": previous}
    # The borough's lines and its wards' are counts per ward or coarser: they may include the
    # categories shown to viewers only at that level (access.restricted).
    counts_only = by in (None, "ward")
    points = area_incidents(engine, place, previous[0], current[1], categories,
                            for_ward_counts=counts_only)
    in_period = {name: points["month"].between(*span).to_numpy() for name, span in
                 periods.items()}
    # A month with not one incident in the whole borough is a month with no data loaded.
    everything = area_incidents(engine, place, previous[0], current[1],
                                for_ward_counts=counts_only) if categories else points
    have = set(everything["month"])
    coverage = {name: [m for m in months_between(*span) if m not in have]
                for name, span in periods.items()}
    units = [(place.name, np.ones(len(points), dtype=bool))]
    notes = []
    if by:
        layers = layers or context_layers(engine, place)
        attributed = attribute_incidents(points, layers)
        column = "ward" if by == "ward" else "town_centre"
        source = layers.wards if by == "ward" else layers.town_centres
        names = list(source.frame["name"])
        units = [(n, (attributed[column] == n).to_numpy()) for n in names]
        rest = ~attributed[column].isin(names).to_numpy()
        label = "Not in any ward" if by == "ward" else f"Rest of {place.name}"
        if by == "town-centre" or rest.any():
            units.append((label, rest))
        if by == "town-centre" and source.frame["approximate"].any():
            notes.append("Approximate town centres (circles around a high street postcode, not "
                         "council boundaries): " + ", ".join(
                             source.frame.loc[source.frame["approximate"], "name"]))
    table = _table(points["category"], units, in_period, targets or {},
                   incomplete=any(coverage.values()), total=total_label(categories))
    for name, missing in coverage.items():
        if missing:
            notes.append(f"The {name} period ({periods[name][0]} to {periods[name][1]}) has no "
                         f"data for {len(missing)} of its {len(months_between(*periods[name]))}"
                         f" months ({_months_text(missing)}): counts are shown but the change "
                         "is not like for like and no RAG is given. Import those months.")
    return Comparison(place, kind, by, current, previous, table, coverage, notes)


def _months_text(months: list[str]) -> str:
    return months[0] if len(months) == 1 else f"{months[0]} to {months[-1]}" if \
        months_between(months[0], months[-1]) == months else ", ".join(months)


def _table(categories: pd.Series, units: list[tuple[str, np.ndarray]],
           in_period: dict[str, np.ndarray], targets: dict[str, Target],
           incomplete: bool, total: str = ALL_CRIME) -> pd.DataFrame:
    types = sorted(categories.unique())
    rows = []
    for unit, mask in units:
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
                rag, note = "", "months of data missing: not like for like"
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
                         "target": str(target) if target else "", "rag": rag, "note": note})
    return pd.DataFrame(rows, columns=COLUMNS)
