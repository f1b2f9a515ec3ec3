"""Benchmark and figures for issue 16, "Numbers a JAG can trust", on the bundled sample.

    .venv/bin/python bench/bench_trust.py [--repeats 5] [--no-evaluate]

1. Sets up a fresh SQLite file as `hotspots setup` does: the bundled layers, every bundled
   police.uk month (2022-01..2022-11 and 2023-01..2024-01) and the Census 2021 populations laid
   onto the 2011 LSOAs; prints the matching (by code, by best fit, not matched).
2. KDE's automatic bandwidth for a borough-year (2023-02..2024-01) of burglary and of all crime,
   by sfhotspot's bandwidth.nrd rule (before) and the street-scale nearest-neighbour rule (now).
3. Times `density_surface` (the one surface the KDE hotspots and the heat layer share) for each
   borough-year of all crime and of burglary, median of N (target < 50 ms), and the other new
   paths: the default hotspots of one type, the like-for-like comparison, the theme table, the
   currency sentence and the population matching.
4. The 12-month comparison to 2024-01 for each borough: how many lines have a change and a RAG.
5. `hotspots evaluate` (PEI* out of sample, 12 training months, test month 2024-01, 1% of the
   land on 50 m cells) per borough x crime type for the default (weighted counts), the pooled
   forecast, 12-month grid counts and KDE before (bandwidth.nrd, 50 m cells) and now; says
   where the default is behind grid counts (it should be nowhere).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from machine import bench_parser, machine_line, sample_database, timed

from geo.areas import resolve_area
from geo.population import load_census_population
from hotspots import METHODS
from hotspots.analysis import area_incidents, find_hotspots, testable_months
from hotspots.bandwidth import bandwidth_nrd_rule, nearest_neighbour_bandwidth
from hotspots.evaluate import Candidate, accuracy_summary, rolling_origin
from hotspots.kde import density_surface, hotspot_kde
from report.compare import jag_comparison, parse_targets
from report.currency import data_currency
from report.themes import theme_table

BOROUGHS = ["Spelthorne", "Runnymede", "Woking"]
YEAR = ("2023-02", "2024-01")
LABELS = {"weighted counts": "default", "pooled forecast": "forecast",
          "grid counts": "grid", "KDE before": "KDE before", "KDE quartic": "KDE now"}


def kde_before(incidents, area, cell_size=None):
    """KDE with the bandwidth.nrd rule it used before issue 16 (for the evaluation only)."""
    xy = incidents[["easting", "northing"]].to_numpy(float)
    width = max(bandwidth_nrd_rule(xy), cell_size or 50.0)
    return hotspot_kde(incidents, area, bandwidth=width, cell_size=cell_size)


def bandwidths(engine) -> None:
    print(f"\nKDE bandwidth for a borough-year ({YEAR[0]} to {YEAR[1]}): before "
          "(bandwidth.nrd over the borough) -> now (mean distance to the 3rd-nearest distinct "
          "location)")
    for name in BOROUGHS:
        place = resolve_area(engine, name)
        points = area_incidents(engine, place, *YEAR)
        for label, chosen in (("all crime", points),
                              ("burglary", points[points["category"] == "Burglary"])):
            xy = chosen[["easting", "northing"]].to_numpy(float)
            now, _ = nearest_neighbour_bandwidth(xy)
            surface = density_surface(chosen, place.boundary)
            print(f"  {name:<11}{label:<10}{len(chosen):>7,} incidents: "
                  f"{bandwidth_nrd_rule(xy):>6,.0f} m -> {now:>4,.0f} m "
                  f"({surface.cell_size:g} m cells, {surface.nrows}x{surface.ncols})")


def speed(engine, repeats: int) -> None:
    print(f"\nTimes (median of {repeats})")
    for name in BOROUGHS:
        place = resolve_area(engine, name)
        points = area_incidents(engine, place, *YEAR)
        burglary = points[points["category"] == "Burglary"]
        for label, chosen in (("all crime", points), ("burglary", burglary)):
            seconds, surface = timed(lambda c=chosen, p=place: density_surface(c, p.boundary),
                                     repeats)
            print(f"  density_surface, {name} {label} ({len(chosen):,} incidents, "
                  f"{surface.nrows * surface.ncols:,} cells): {seconds * 1000:.1f} ms "
                  "(target < 50 ms)")
    steps = [
        ("find_hotspots default, Runnymede burglary year",
         lambda: find_hotspots(engine, "Runnymede", *YEAR, ["Burglary"])),
        ("compare rolling 12 months to 2024-01, Spelthorne",
         lambda: jag_comparison(engine, "Spelthorne", "2024-01")),
        ("compare by ward, Spelthorne", lambda: jag_comparison(engine, "Spelthorne", "2024-01",
                                                               by="ward")),
        ("theme_table 2024-01, Spelthorne", lambda: theme_table(engine, "Spelthorne",
                                                                "2024-01")),
        ("data_currency, Spelthorne", lambda: data_currency(engine, "Spelthorne")),
        ("load_census_population (175 LSOAs, best fit, wards)",
         lambda: load_census_population(engine)),
    ]
    for label, step in steps:
        seconds, _ = timed(step, repeats)
        print(f"  {label}: {seconds * 1000:.0f} ms")


def comparisons(engine) -> None:
    print("\nRolling 12 months to 2024-01 against the 12 before (target *=reduce:5)")
    for name in BOROUGHS:
        result = jag_comparison(engine, name, "2024-01", targets=parse_targets(["*=reduce:5"]))
        table = result.table
        changed = int(table["change"].notna().sum())
        rag = int((table["rag"] != "").sum())
        print(f"  {name}: {result.pairs.summary()}; {changed} of {len(table)} lines with a "
              f"change, {rag} with a RAG "
              f"({', '.join(f'{k} {v}' for k, v in table['rag'].value_counts().items())})")
    print(f"  {data_currency(engine).sentence()}.")


def evaluation(engine) -> None:
    METHODS["kde_before"] = kde_before
    candidates = [Candidate("weighted counts", "weighted"),
                  Candidate("pooled forecast", "forecast"), Candidate("grid counts", "grid"),
                  Candidate("KDE before", "kde_before"), Candidate("KDE quartic", "kde")]
    frames = []
    start = time.perf_counter()
    for name in BOROUGHS:
        place = resolve_area(engine, name)
        points = area_incidents(engine, place, None, None, None)
        months = testable_months(sorted(points["month"].unique()), 12)
        results = rolling_origin(points, place.land, months, 12, 0.01, 50.0, None, candidates)
        frames.append(accuracy_summary(results).assign(borough=name))
    del METHODS["kde_before"]
    summary = pd.concat(frames)
    summary["method"] = summary["method"].map(LABELS)
    table = summary.pivot_table(index=["crime_type", "borough"], columns="method",
                                values="pei_star").reindex(columns=list(LABELS.values()))
    counts = summary.groupby(["crime_type", "borough"])["incidents"].first()
    print(f"\nPEI* out of sample (test month {', '.join(months)}, 12 training months, 1% of "
          f"the land, 50 m cells; {time.perf_counter() - start:.0f} s)")
    print(f"  {'crime type':<30}{'borough':<12}{'n':>4}" + "".join(f"{c:>11}" for c in
                                                                   table.columns))
    behind = []
    for (crime, borough), row in table.iterrows():
        n = int(counts[(crime, borough)])
        print(f"  {crime[:29]:<30}{borough:<12}{n:>4}" + "".join(
            f"{v:>11.3f}" if v == v else f"{'':>11}" for v in row))
        if row["default"] < row["grid"] - 1e-9:
            behind.append(f"{crime} in {borough} ({row['default']:.3f} < {row['grid']:.3f})")
    means = table.mean()
    print(f"  {'mean of the rows':<46}" + "".join(f"{v:>11.3f}" for v in means))
    print("  default behind grid counts: " + ("; ".join(behind) if behind else "nowhere"))
    gain = table["forecast"] - table["default"]
    print(f"  pooled forecast minus default: mean {gain.mean():+.3f}, ahead on "
          f"{int((gain > 1e-9).sum())}, behind on {int((gain < -1e-9).sum())} of {len(gain)}")
    kde = table["KDE now"] - table["KDE before"]
    print(f"  KDE now minus before: mean {kde.mean():+.3f}, ahead on {int((kde > 1e-9).sum())},"
          f" behind on {int((kde < -1e-9).sum())} of {len(kde)}")


def main() -> None:
    parser = bench_parser(__doc__, repeats=5)
    parser.add_argument("--no-evaluate", action="store_true",
                        help="Skip the evaluation table (about a minute).")
    args = parser.parse_args()
    print(machine_line(numpy=np.__version__, pandas=pd.__version__))
    engine = sample_database("bench_trust_")
    start = time.perf_counter()
    match = load_census_population(engine)
    print(f"Populations loaded in {time.perf_counter() - start:.2f} s: {match.summary()}")
    bandwidths(engine)
    speed(engine, args.repeats)
    comparisons(engine)
    if not args.no_evaluate:
        evaluation(engine)


if __name__ == "__main__":
    main()
