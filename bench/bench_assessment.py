"""Benchmark issue 18: assessment and trend tools on a borough-year and a force-year.

    .venv/bin/python bench/bench_assessment.py [--repeats N] [--force-dir PATH]
                                               [--force-dir-2022 PATH]

1. Imports whole-force Surrey Police street files, 2022-01..2022-11 and 2023-01..2024-01
   (``../shared/data/police/surrey_2022-01_to_2022-11`` and ``../shared/data/police/surrey``;
   the bundled three-borough sample stands in when they are absent, and the output says so),
   the bundled layers, the Census 2021 residents of the sample's LSOAs and the EXAMPLE PSPO
   register, plus a "Surrey (force)" area made of the force's 11 districts when the national
   district file is at hand (as bench_context.py).
2. Times, as the median of N repeats, on Spelthorne (a borough) and on the whole force, over
   the year 2023-02..2024-01:
   - the WDD assessment of the EXAMPLE Staines PSPO outline (6 months against 6), with the
     rest of the borough, then the rest of the force, as control;
   - emerging hot spots (ArcGIS's patterns: space-time Gi*, Mann-Kendall), monthly, at the
     rule's cells and at finer cells;
   - rate hotspots: burglary per 1,000 residents (Spelthorne: the residents are loaded for the
     sample's boroughs only) and burglary over residential crime (both);
   - near repeat: police.uk data is refused (timed: the refusal), and the Knox test with 999
     shuffles on synthetic council logs of a borough's and a force's size (no council log
     with dates and exact locations is published; the sizes are stated);
   - stability of hotspots, 6 months against the 6 before, per crime type.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import shapely
from machine import (
    SHARED,
    bench_parser,
    force_area,
    force_bench,
    force_files,
    reset_peak_rss,
    timed,
    vm_hwm_mb,
)

from geo.areas import resolve_area
from geo.population import load_census_population
from hotspots.emerging import emerging_hotspots, pattern_counts
from hotspots.near_repeat import knox_test, near_repeat, risk_extent
from hotspots.rates import rate_hotspots
from hotspots.stability import stability
from ingest.run import ingest_paths
from registers.example import seed_example_registers
from registers.pspo import find_order_id, get_order
from report.assessment import assess_outline

YEAR = [f"2023-{m:02d}" for m in range(2, 13)] + ["2024-01"]
EARLIER = [f"2022-{m:02d}" for m in range(1, 12)] + ["2023-01"]
RESIDENTIAL = ["Burglary", "Criminal damage and arson", "Other theft"]


def synthetic_log(n: int, side_m: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n dated, exactly located reports over a square of `side_m` and a year, a tenth of them
    near repeats (within ~50 m and 0-2 days of another), as a council fly-tipping log."""
    rng = np.random.default_rng(seed)
    base = n - n // 10
    xy = rng.uniform(0, side_m, (base, 2))
    days = rng.integers(0, 365, base)
    pick = rng.choice(base, n - base, replace=False)
    xy = np.vstack([xy, xy[pick] + rng.normal(0, 50, (len(pick), 2))])
    return xy, np.concatenate([days, days[pick] + rng.integers(0, 3, len(pick))])


def main() -> None:
    parser = bench_parser(__doc__, force_dir=True)
    parser.add_argument("--force-dir-2022", type=Path,
                        default=SHARED / "police" / "surrey_2022-01_to_2022-11")
    args, engine = force_bench(__doc__, "bench_assessment_", ["2023-01", *YEAR], parser,
                               numpy=np.__version__, shapely=shapely.__version__)
    r = args.repeats
    files, what = force_files(args.force_dir_2022, EARLIER[:-1])
    report = ingest_paths(engine, files)
    print(f"Also: {what}, 2022-01..2022-11: {report.accepted:,} incidents")
    load_census_population(engine)
    seed_example_registers(engine)
    force = force_area(engine)
    order = get_order(engine, find_order_id(engine, "EXAMPLE-SBC-PSPO-1"))
    before, after = (YEAR[0], YEAR[5]), (YEAR[6], YEAR[-1])

    places = [("Spelthorne", "borough-year")]
    if force:
        places.append((force, "force-year"))
    else:
        print("(whole-force area not built: national district file not found)")
    for area, label in places:
        place = resolve_area(engine, area)
        print(f"\n{area} ({label}, {place.land_area_m2 / 1e6:,.0f} km² of land), "
              f"{YEAR[0]} to {YEAR[-1]}")

        reset_peak_rss()
        seconds, result = timed(lambda a=area: assess_outline(
            engine, a, order.area, "EXAMPLE Staines PSPO", before, after,
            crs="EPSG:4326"), r)
        c = result.counts
        print(f"  WDD assessment (control {result.control}): {seconds:.3f} s; target "
              f"{c['target_before']} -> {c['target_after']}, ring {c['ring_before']} -> "
              f"{c['ring_after']}, control {c['control_before']:,} -> {c['control_after']:,}; "
              f"WDD {result.combined.estimate:+.1f} (SE {result.combined.se:.1f}, z "
              f"{result.combined.z:+.2f})")

        for cell in (None, 100.0 if label == "borough-year" else 200.0):
            reset_peak_rss()
            seconds, found = timed(lambda a=area, s=cell: emerging_hotspots(
                engine, a, YEAR[0], YEAR[-1], cell_size=s), r)
            params = found.attrs["parameters"]
            counts = pattern_counts(found)
            shown = ", ".join(f"{n} {p}" for p, n in zip(counts["pattern"], counts["cells"],
                                                         strict=True) if p != "no pattern")
            print(f"  emerging hot spots, {params['cells']:,} cells of "
                  f"{params['cell_size_m']:g} m x 12 months: {seconds:.3f} s; peak RSS "
                  f"{vm_hwm_mb() or 0:.0f} MB; {shown}")

        if label == "borough-year":
            seconds, rated = timed(lambda a=area: rate_hotspots(
                engine, a, YEAR[0], YEAR[-1], ["Burglary"]), r)
            print(f"  rates, burglary per 1,000 residents: {seconds:.3f} s ({len(rated):,} "
                  f"cells, {rated.attrs['denominator_total']:,} residents; top "
                  f"{rated['score'].iloc[0]:.1f})")
        reset_peak_rss()
        seconds, rated = timed(lambda a=area: rate_hotspots(
            engine, a, YEAR[0], YEAR[-1], ["Burglary"], per=RESIDENTIAL), r)
        print(f"  rates, burglary over residential crime: {seconds:.3f} s ({len(rated):,} "
              f"cells of {rated.attrs['parameters']['cell_size_m']:g} m, "
              f"{rated.attrs['incidents']:,} burglaries over "
              f"{rated.attrs['denominator_total']:,}); peak RSS {vm_hwm_mb() or 0:.0f} MB")

        seconds, refused = timed(lambda a=area: near_repeat(engine, a, YEAR[0], YEAR[-1]), r)
        print(f"  near repeat on police.uk data: refused in {seconds:.3f} s "
              f"(applies={refused.applies})")
        size, side = (2_000, 7_000.0) if label == "borough-year" else (20_000, 40_000.0)
        xy, days = synthetic_log(size, side, 18)
        reset_peak_rss()
        seconds, knox = timed(lambda x=xy, d=days: knox_test(x, d, simulations=999), r)
        print(f"  Knox test, synthetic council log of {size:,} reports over "
              f"{side / 1000:g} km square and a year, 999 shuffles: {seconds:.3f} s; peak RSS "
              f"{vm_hwm_mb() or 0:.0f} MB; extent {risk_extent(knox.table)}")

        seconds, table = timed(lambda a=area: stability(engine, a, YEAR[-1], 6), r)
        top = table.iloc[0]
        print(f"  stability, 6 months against 6, {len(table)} crime types: {seconds:.3f} s; "
              f"all crime {top['again']} of {top['hotspots_before']} again "
              f"({top['share']:.0%}), Spearman {top['spearman']:.2f}, RBO {top['rbo']:.2f}")
    print(f"\nPeak RSS of the process: {vm_hwm_mb() or 0:.0f} MB; repeats: {r} (median shown)")


if __name__ == "__main__":
    main()
