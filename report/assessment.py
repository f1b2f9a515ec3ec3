"""Did it work, and did it move next door? The weighted displacement difference (WDD; Wheeler &
Ratcliffe 2018, after Ratcliffe's and Bowers & Johnson's displacement measures) for a problem
location, a PSPO or any outline: the target, a ring around it (250 m by default) and a control
area (the rest of the borough, or one named), over before and after periods of equal length.

The statistic (`wdd`): with T, D, C the counts in the target, the displacement ring and the
control, 0 before and 1 after, and weights w,
    WDD = w_T (T1 - T0) + w_D (D1 - D0) - w_CT (CT1 - CT0) - w_CD (CD1 - CD0)
    Var = w_T² (T0 + T1) + w_D² (D0 + D1) + w_CT² (CT0 + CT1) + w_CD² (CD0 + CD1)
(Poisson counts: each count's variance is itself); z = WDD / sqrt(Var), two-sided p from the
normal. With every weight 1 and a matched control for the target (CT) and for the ring (CD)
this is Wheeler & Ratcliffe's WDD; with 1/area weights it is Wheeler's per-area version.
Negative means fewer incidents than the controls' trend predicts: a reduction.

Here one control serves both, and it is far bigger than the target (a borough), so its change
is taken at each area's own size: w_CT = T0 / C0 and w_CD = D0 / C0 (and the shared control's
variance is (w_CT + w_CD)² (C0 + C1)). Then w_CT (C1 - C0) = T0 (C1/C0 - 1): the target's
expected after count is T0 x C1 / C0, "what the borough's trend would predict", and
    WDD = (T1 - T0 x C1/C0) + (D1 - D0 x C1/C0),
which is minus Bowers & Johnson's total net effect. The weights are taken as fixed, as
Wheeler & Ratcliffe take theirs.

The weighted displacement quotient (Bowers & Johnson 2003):
    WDQ = (D1/C1 - D0/C0) / (T1/C1 - T0/C0),
read only when the target fell against the control (the denominator is negative): above 1,
the benefit spread next door more than the target gained; 0 to 1, some spread; about 0, no
displacement; -1 to 0, some displacement, less than the gain; below -1, more moved than was
gained.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import stats
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Engine

from core.months import shift_month
from geo.areas import Area, UnknownAreaError, resolve_area
from geo.crs import BNG, WGS84, reproject
from hotspots.result import HotspotInputError

DEFAULT_RING_M = 250.0
SIGNIFICANCE = 0.05
EDGE_M = 0.01  # points on an outline's edge count as inside (police.uk snap points)


@dataclass(frozen=True)
class WDD:
    """A weighted displacement difference, its standard error, z and two-sided p."""

    estimate: float
    se: float
    z: float
    p: float

    def to_dict(self) -> dict:
        """The four figures, rounded for reading."""
        return {"estimate": round(self.estimate, 3), "se": round(self.se, 3),
                "z": round(self.z, 3) if math.isfinite(self.z) else None,
                "p": round(self.p, 4) if math.isfinite(self.p) else None}


def wdd(t0: float, t1: float, c0: float, c1: float, d0: float = 0, d1: float = 0,
        dc0: float = 0, dc1: float = 0, *, w_t: float = 1.0, w_c: float = 1.0,
        w_d: float = 1.0, w_dc: float = 1.0, shared_control: bool = False) -> WDD:
    """The WDD of counts before (0) and after (1) in the target (t), its control (c), the
    displacement area (d) and the displacement area's control (dc), with weights (module
    docstring). With `shared_control`, c is the control of both (weight w_c + w_dc; dc is
    not used). No displacement area: leave d and dc at 0, as Wheeler's calculator does.

    Worked by hand (Wheeler's published calculator example): target 100 -> 80, control
    100 -> 90, no displacement area: WDD = -20 - (-10) = -10; Var = 100 + 80 + 100 + 90 = 370,
    SE = 19.24, z = -0.52, p = 0.60: ten fewer, well within chance.
    """
    counts = [t0, t1, c0, c1, d0, d1, dc0, dc1]
    if any(c is None or not math.isfinite(c) or c < 0 for c in counts):
        raise HotspotInputError("counts must be numbers of incidents, 0 or more")
    if shared_control:
        estimate = w_t * (t1 - t0) + w_d * (d1 - d0) - (w_c + w_dc) * (c1 - c0)
        variance = (w_t ** 2 * (t0 + t1) + w_d ** 2 * (d0 + d1)
                    + (w_c + w_dc) ** 2 * (c0 + c1))
    else:
        estimate = (w_t * (t1 - t0) + w_d * (d1 - d0) - w_c * (c1 - c0)
                    - w_dc * (dc1 - dc0))
        variance = (w_t ** 2 * (t0 + t1) + w_d ** 2 * (d0 + d1) + w_c ** 2 * (c0 + c1)
                    + w_dc ** 2 * (dc0 + dc1))
    se = math.sqrt(variance)
    if se > 0:
        z = estimate / se
    else:
        z = 0.0 if estimate == 0 else math.copysign(math.inf, estimate)
    return WDD(float(estimate), se, float(z), float(2 * stats.norm.sf(abs(z))))


def wdq(t0: float, t1: float, c0: float, c1: float, d0: float, d1: float) -> float | None:
    """Bowers & Johnson's weighted displacement quotient, or None when it cannot be read (the
    target did not fall against the control, or the control is empty)."""
    if c0 <= 0 or c1 <= 0:
        return None
    success = t1 / c1 - t0 / c0
    if success >= 0:
        return None
    return (d1 / c1 - d0 / c0) / success


def wdq_reading(value: float | None) -> str:
    """The WDQ in words (Bowers & Johnson's bands)."""
    if value is None:
        return "not read: the target did not fall against the control"
    if value > 1:
        return "the benefit spread next door, more than the target itself gained"
    if value > 0.05:
        return "some of the benefit spread next door"
    if value >= -0.05:
        return "no displacement and no spread of benefit"
    if value >= -1:
        return "some displacement next door, less than the target gained"
    return "more moved next door than the target gained"


@dataclass
class Assessment:
    """The WDD assessment of one outline: counts, the expected counts from the control's trend,
    the local, ring and combined WDD with SE, z and p, the WDQ and a sentence for the JAG."""

    target: str
    area: str
    control: str
    before: tuple[str, str]
    after: tuple[str, str]
    months: int
    ring_m: float
    categories: list[str]
    counts: dict  # target/ring/control x before/after
    local: WDD
    ring: WDD
    combined: WDD
    wdq: float | None
    outlines: gpd.GeoDataFrame = field(repr=False)  # part, geometry (WGS84)
    notes: list[str] = field(default_factory=list)

    @property
    def trend(self) -> float:
        """The control's after / before ratio (1.1 = up 10%)."""
        c0, c1 = self.counts["control_before"], self.counts["control_after"]
        return c1 / c0 if c0 else math.nan

    @property
    def expected_target(self) -> float:
        """The target's after count had it followed the control's trend."""
        return self.counts["target_before"] * self.trend

    @property
    def expected_ring(self) -> float:
        """The ring's after count had it followed the control's trend."""
        return self.counts["ring_before"] * self.trend

    def sentence(self) -> str:
        """What happened, in words a JAG member can read."""
        c = self.counts
        t0, t1 = c["target_before"], c["target_after"]
        if not c["control_before"]:
            return (f"{self.target}: {t0} before and {t1} after; {self.control} had no "
                    "incidents before, so there is no trend to compare with.")
        trend = "the borough's trend" if self.control.startswith("the rest of") else \
            f"the trend in {self.control}"
        gap = t1 - self.expected_target
        moved = ("fell" if t1 < t0 else "rose" if t1 > t0 else "stayed")
        change = (f"{moved} from {t0} to {t1}" if t1 != t0 else f"stayed at {t0}")
        size = abs(round(gap))
        if size == 0:
            first = f"{self.target} {change}, as {trend} would predict"
        elif gap < 0:
            first = (f"{self.target} {change}, {size} fewer than {trend} would predict "
                     f"({self.expected_target:.0f})")
        else:
            first = (f"{self.target} {change}, {size} more than {trend} would predict "
                     f"({self.expected_target:.0f})")
        first += f", {_chance(self.local.p)}"
        d1, ring_gap = c["ring_after"], c["ring_after"] - self.expected_ring
        within = f"within {self.ring_m:g} m"
        if self.ring.p < SIGNIFICANCE and ring_gap > 0 and gap >= 0:
            # the place did not fall: nothing was displaced, the area around it rose too
            second = (f"{within} around it, {abs(round(ring_gap))} more than the trend would "
                      "predict as well")
        elif self.ring.p < SIGNIFICANCE and ring_gap > 0:
            second = (f"{within} around it, {abs(round(ring_gap))} more than the trend would "
                      "predict: it may have moved next door")
        elif self.ring.p < SIGNIFICANCE and ring_gap < 0:
            second = (f"{within} around it, {abs(round(ring_gap))} fewer than the trend "
                      "would predict: the benefit spread next door")
        else:
            second = (f"no sign it moved next door ({within}: {d1} after, "
                      f"{self.expected_ring:.0f} expected)")
        both = self.combined.estimate
        third = ""
        if abs(round(both)) and (self.combined.p < SIGNIFICANCE) != (self.local.p < SIGNIFICANCE):
            third = (f" Counting the ring too: {abs(round(both))} "
                     f"{'fewer' if both < 0 else 'more'} than the trend would predict, "
                     f"{_chance(self.combined.p)}.")
        return f"{first}; {second}.{third}"

    def to_dict(self) -> dict:
        """Everything but the outlines, for `--json` and the app."""
        return {"target": self.target, "area": self.area, "control": self.control,
                "before": list(self.before), "after": list(self.after),
                "months": self.months, "ring_m": self.ring_m, "categories": self.categories,
                "counts": dict(self.counts), "control_trend": _round(self.trend, 4),
                "expected_target_after": _round(self.expected_target, 2),
                "expected_ring_after": _round(self.expected_ring, 2),
                "wdd": self.combined.to_dict(), "local": self.local.to_dict(),
                "ring": self.ring.to_dict(),
                "wdq": None if self.wdq is None else round(self.wdq, 4),
                "wdq_reading": wdq_reading(self.wdq), "sentence": self.sentence(),
                "notes": self.notes}


def _round(value: float, digits: int) -> float | None:
    return round(value, digits) if math.isfinite(value) else None


def _chance(p: float) -> str:
    return "more than chance would explain" if p < SIGNIFICANCE else "within normal variation"


def assessment_figures(counts: dict) -> tuple[WDD, WDD, WDD, float | None]:
    """The target's, the ring's and the combined WDD against one control taken at each
    area's size (module docstring), and the WDQ, from the six counts.

    Worked by hand: target 60 -> 31, ring 40 -> 44, rest of the borough 1000 -> 900, so the
    trend is 0.9 and the target was expected at 54. Target: w = 60/1000 = 0.06; WDD = -29 -
    0.06 x (-100) = -23; Var = 91 + 0.06² x 1900 = 97.84; SE 9.891; z -2.325; p 0.0201.
    Ring: w = 0.04; WDD = 4 + 4 = +8 (36 expected); Var = 84 + 0.04² x 1900 = 87.04; SE 9.330;
    z 0.857. Both: -15; Var = 91 + 84 + 0.1² x 1900 = 194; SE 13.928; z -1.077. WDQ =
    (44/900 - 40/1000) / (31/900 - 60/1000) = 0.008889 / -0.025556 = -0.348: some
    displacement, less than the target gained.
    """
    t0, t1 = counts["target_before"], counts["target_after"]
    d0, d1 = counts["ring_before"], counts["ring_after"]
    c0, c1 = counts["control_before"], counts["control_after"]
    w_t = t0 / c0 if c0 else 0.0
    w_d = d0 / c0 if c0 else 0.0
    local = wdd(t0, t1, c0, c1, w_c=w_t)
    ring = wdd(d0, d1, c0, c1, w_c=w_d)
    combined = wdd(t0, t1, c0, c1, d0, d1, w_c=w_t, w_dc=w_d, shared_control=True)
    return local, ring, combined, wdq(t0, t1, c0, c1, d0, d1)


def period_months(before: tuple[str, str], after: tuple[str, str]) -> tuple[list[str],
                                                                             list[str]]:
    """The months of each period; refuses unequal lengths and overlapping periods."""
    from hotspots.analysis import months_between

    first, second = months_between(*before), months_between(*after)
    if len(first) != len(second):
        raise HotspotInputError(
            f"the before and after periods must be the same length: {len(first)} and "
            f"{len(second)} months; e.g. --before {shift_month(after[0], -len(second))} "
            f"{shift_month(after[0], -1)} --after {after[0]} {after[1]}")
    if set(first) & set(second) or first[-1] > second[0]:
        raise HotspotInputError(f"the before period ({before[0]} to {before[1]}) must end "
                                f"before the after period starts ({after[0]})")
    return first, second


def _to_bng(outline: BaseGeometry, crs: str) -> BaseGeometry:
    shape = reproject(outline, crs, BNG)
    if shape.is_empty or shape.area <= 0:
        raise HotspotInputError("the target outline encloses no area")
    return shapely.make_valid(shape)


def resolve_control(engine: Engine, borough: Area, control: str | None
                    ) -> tuple[BaseGeometry, str]:
    """The control area in BNG and its name: the rest of the borough (None), a map file, a
    borough, or a ward or town centre of the borough, by name."""
    from geo.layers import load_layer

    if not control:
        return borough.boundary, f"the rest of {borough.name}"
    if Path(control).is_file():
        from registers.outlines import read_area_file

        shape, source = read_area_file(control)
        return _to_bng(shape, WGS84), source
    try:
        other = resolve_area(engine, control)
        return other.boundary, other.name
    except UnknownAreaError:
        pass
    wanted = control.strip().lower()
    for kind in ("ward", "town-centre"):
        layer = load_layer(engine, kind, borough.code)
        match = layer[layer["name"].str.lower() == wanted]
        if len(match):
            return _to_bng(match.geometry.iloc[0], WGS84), f"{match['name'].iloc[0]} ({kind})"
    raise HotspotInputError(f"no control area called '{control}': give a map file, a borough, "
                            f"or a ward or town centre of {borough.name}")


def assess_outline(engine: Engine, area: str, outline: BaseGeometry, name: str,
                   before: tuple[str, str], after: tuple[str, str],
                   ring_m: float = DEFAULT_RING_M, control: str | None = None,
                   categories: list[str] | None = None, crs: str = BNG) -> Assessment:
    """The WDD assessment of any outline (in `crs`, EPSG:27700 by default) in the borough
    `area`: counts in the target, the ring of `ring_m` metres around it and the control (the
    rest of the borough unless named), before and after."""
    if not (isinstance(ring_m, int | float) and math.isfinite(ring_m) and 0 < ring_m <= 5000):
        raise HotspotInputError(f"the ring must be between 0 and 5,000 metres, not {ring_m}")
    first, second = period_months(before, after)
    borough = resolve_area(engine, area)
    target = _to_bng(outline, crs)
    ring = target.buffer(ring_m).difference(target)
    control_shape, control_name = resolve_control(engine, borough, control)
    notes = []
    taken = control_shape.intersection(target.buffer(ring_m))
    if not taken.is_empty and taken.area > 1 and control:
        notes.append(f"{control_name} overlaps the target or its ring: that part is left out "
                     "of the control")
    control_shape = control_shape.difference(target.buffer(ring_m))
    if control_shape.is_empty or control_shape.area < 1:
        raise HotspotInputError("nothing is left of the control area once the target and its "
                                "ring are taken out: name a bigger or another control")
    region = shapely.union_all([borough.boundary, control_shape, target.buffer(ring_m)])
    from hotspots.analysis import area_incidents

    points = area_incidents(engine, Area("", "", region, region), first[0], second[-1],
                            categories)
    x, y = points["easting"].to_numpy(), points["northing"].to_numpy()
    in_target = shapely.intersects_xy(target.buffer(EDGE_M), x, y)
    in_ring = shapely.intersects_xy(ring, x, y) & ~in_target
    in_control = shapely.intersects_xy(control_shape, x, y) & ~in_target & ~in_ring
    before_mask = points["month"].isin(first).to_numpy()
    after_mask = points["month"].isin(second).to_numpy()
    counts = {f"{part}_{when}": int((mask & period).sum())
              for part, mask in (("target", in_target), ("ring", in_ring),
                                 ("control", in_control))
              for when, period in (("before", before_mask), ("after", after_mask))}
    have = set(points["month"])
    gaps = [m for m in first + second if m not in have]
    if gaps:
        notes.append(f"no incidents are loaded for {', '.join(gaps)}: those months count as "
                     "empty in every area alike (the control's trend absorbs it, the raw "
                     "counts do not)")
    t0, t1 = counts["target_before"], counts["target_after"]
    if counts["control_before"] == 0:
        notes.append(f"{control_name} had no incidents before: no trend to compare with")
    local, ring_test, combined, quotient = assessment_figures(counts)
    if t0 + t1 < 10:
        notes.append(f"only {t0 + t1} incidents in the target in both periods: too few for "
                     "the test to find much")
    outlines = gpd.GeoDataFrame({"part": ["target", "ring", "control"]},
                                geometry=[target, ring, control_shape], crs=BNG).to_crs(WGS84)
    return Assessment(name, borough.name, control_name, tuple(before), tuple(after),
                      len(first), float(ring_m), list(categories or []), counts, local,
                      ring_test, combined, quotient, outlines, notes)


def assess_problem(engine: Engine, problem_id: int, before: tuple[str, str],
                   after: tuple[str, str], ring_m: float = DEFAULT_RING_M,
                   control: str | None = None,
                   categories: list[str] | None = None) -> Assessment:
    """The WDD assessment of a problem location's outline (registers.problems.get_problem)."""
    from registers.problems import get_problem

    record = get_problem(engine, problem_id)
    return assess_outline(engine, record.problem["area_code"], record.area,
                          str(record.problem["name"]), before, after, ring_m, control,
                          categories, crs=WGS84)


def assess_order(engine: Engine, reference: str, before: tuple[str, str],
                 after: tuple[str, str], ring_m: float = DEFAULT_RING_M,
                 control: str | None = None, categories: list[str] | None = None,
                 area: str | None = None) -> Assessment:
    """The WDD assessment of a PSPO's (current) area, found by its reference
    (registers.pspo.find_order_id and get_order)."""
    from registers.pspo import find_order_id, get_order

    record = get_order(engine, find_order_id(engine, reference, area))
    order = record.order
    return assess_outline(engine, order["area_code"], record.area,
                          f"{order['reference']} ({order['name']})", before, after, ring_m,
                          control, categories, crs=WGS84)


def assess_file(engine: Engine, area: str, path: str, before: tuple[str, str],
                after: tuple[str, str], ring_m: float = DEFAULT_RING_M,
                control: str | None = None, categories: list[str] | None = None,
                feature: str | None = None) -> Assessment:
    """The WDD assessment of an outline in a map file (GeoJSON, KML, GeoPackage, zipped
    Shapefile; registers.outlines.read_area_file)."""
    from registers.outlines import read_area_file

    shape, source = read_area_file(path, feature)
    return assess_outline(engine, area, shape, source, before, after, ring_m, control,
                          categories, crs=WGS84)


def counts_table(assessment: Assessment) -> pd.DataFrame:
    """Before, after and expected after for the target, ring and control (for the CLI and
    the app)."""
    c = assessment.counts
    rows = []
    for part, label, expected in (
            ("target", assessment.target, assessment.expected_target),
            ("ring", f"ring of {assessment.ring_m:g} m", assessment.expected_ring),
            ("control", assessment.control, np.nan)):
        rows.append({"area": label, "before": c[f"{part}_before"], "after": c[f"{part}_after"],
                     "expected_after": round(expected, 1) if math.isfinite(expected) else None})
    return pd.DataFrame(rows)
