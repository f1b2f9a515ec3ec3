"""Benchmark issue 4: context joins, summaries and the JAG comparison on a whole-force year.

    .venv/bin/python bench/bench_context.py [--repeats N] [--force-dir PATH]

1. Imports a year (2023-02..2024-01) of whole-force Surrey Police street files into a fresh
   SQLite file. They are looked for at ``--force-dir`` or ``../shared/data/police/surrey``;
   when absent, the bundled three-borough sample stands in and the output says so.
2. Loads the bundled layers (3 boroughs' wards and LSOAs, approximate town centres, the
   Thames) plus a PSPO layer made of Spelthorne's 13 ward outlines (no PSPO map is published
   as data; the outlines give the join realistic polygons), and a "Surrey (force)" area made of
   the force's 11 districts when the national district file is at hand.
3. Times, as the median of N repeats: loading and indexing the layers; attributing every
   incident of the year (ward, LSOA, town centre, distance to water, river frontage, PSPO);
   each join on its own; hotspots with their context for Spelthorne; summaries for Spelthorne
   by each unit; the concentration table; and the rolling comparison (6 and 12 months, whole
   borough and by ward) for Spelthorne and for the whole force.
"""

from __future__ import annotations

import numpy as np
import shapely
from machine import force_area, force_bench, reset_peak_rss, timed, vm_hwm_mb

from access.incidents import load_incidents
from core.themes import ALL_CRIME
from geo.areas import resolve_area
from geo.joins import attribute_incidents, context_layers, water_distance
from geo.layers import load_layer, store_layer
from hotspots.analysis import area_incidents, find_hotspots
from report.compare import jag_comparison, parse_targets
from report.concentration import concentration
from report.summary import incident_summary

YEAR = [f"2023-{m:02d}" for m in range(2, 13)] + ["2024-01"]


def main() -> None:
    args, engine = force_bench(__doc__, "bench_context_", YEAR, numpy=np.__version__,
                               shapely=shapely.__version__)
    r = args.repeats

    wards = load_layer(engine, "ward", "E07000213")[["name", "geometry"]]
    pspos = wards.assign(code=[f"bench-pspo-{i}" for i in range(len(wards))])
    store_layer(engine, "pspo", pspos, "bench: Spelthorne ward outlines as PSPOs",
                code_field="code", name_field="name", parent_code="E07000213")
    whole = force_area(engine)

    incidents = load_incidents(engine)
    print(f"\nJoins: all {len(incidents):,} incidents of the year against every layer")
    seconds, layers = timed(lambda: context_layers(engine, None), r)
    print(f"  load + index layers (wards {len(layers.wards)}, LSOAs {len(layers.lsoas)}, "
          f"town centres {len(layers.town_centres)}, PSPOs {len(layers.pspos)}, water "
          f"{len(layers.water)}): {seconds:.3f} s")
    reset_peak_rss()
    seconds, attributed = timed(lambda: attribute_incidents(incidents, layers), r)
    print(f"  attribute every incident (all joins): {seconds:.3f} s = "
          f"{len(incidents) / seconds:,.0f} incidents/s; peak RSS {vm_hwm_mb() or 0:.0f} MB")
    points = shapely.points(incidents["easting"].to_numpy(), incidents["northing"].to_numpy())
    for label, units in (("ward", layers.wards), ("LSOA", layers.lsoas),
                         ("town centre", layers.town_centres)):
        seconds, _ = timed(lambda u=units: u.first_containing(points), r)
        print(f"    {label:<12} point-in-polygon: {seconds:.3f} s")
    seconds, _ = timed(lambda: layers.pspos.all_containing(points), r)
    print(f"    {'PSPO':<12} all containing: {seconds:.3f} s")
    seconds, _ = timed(lambda: water_distance(points, layers), r)
    print(f"    {'water':<12} nearest distance: {seconds:.3f} s")
    print(f"  in a ward: {int((attributed['ward'] != '').sum()):,}; on the river frontage: "
          f"{int(attributed['river_frontage'].sum()):,}; in a town centre: "
          f"{int((attributed['town_centre'] != '').sum()):,}")

    print("\nSpelthorne, 2023-02 to 2024-01")
    seconds, found = timed(lambda: find_hotspots(engine, "Spelthorne", YEAR[0], YEAR[-1]), r)
    print(f"  hotspots (weighted) with context for hotspots and incidents: {seconds:.3f} s "
          f"({len(found.hotspots)} hotspots, {len(found.incidents):,} incidents)")
    for by in ("ward", "lsoa", "town-centre", "river", "pspo"):
        seconds, result = timed(lambda b=by: incident_summary(engine, "Spelthorne", b, YEAR[0],
                                                              YEAR[-1]), r)
        print(f"  summary by {by:<12}: {seconds:.3f} s ({len(result.overview())} rows)")
    place = resolve_area(engine, "Spelthorne")
    year = area_incidents(engine, place, YEAR[0], YEAR[-1])
    seconds, table = timed(lambda: concentration(year, place.land, 100), r)
    print(f"  concentration (100 m cells, {len(table)} crime types): {seconds:.3f} s")
    targets = parse_targets(["*=reduce:5"])
    for months, by in ((12, None), (6, None), (6, "ward"), (6, "town-centre")):
        seconds, result = timed(lambda m=months, b=by: jag_comparison(
            engine, "Spelthorne", "2024-01", m, b, targets), r)
        print(f"  compare {months:>2} months by {by or 'crime type':<12}: {seconds:.3f} s "
              f"({len(result.table)} lines, complete={result.complete})")

    if whole:
        force = resolve_area(engine, whole)
        print(f"\nWhole force ({whole}, {force.boundary.area / 1e6:,.0f} km²)")
        for months, by in ((12, None), (6, None), (6, "ward")):
            reset_peak_rss()
            seconds, result = timed(lambda m=months, b=by: jag_comparison(
                engine, whole, "2024-01", m, b, targets), r)
            current = int(result.table.iloc[0]["current"]) if by is None else int(
                result.table[result.table["crime_type"] == ALL_CRIME]["current"].sum())
            print(f"  compare {months:>2} months by {by or 'crime type':<12}: {seconds:.3f} s "
                  f"({current:,} incidents in the current period; peak RSS "
                  f"{vm_hwm_mb() or 0:.0f} MB)")
        seconds, result = timed(lambda: incident_summary(engine, whole, "river", YEAR[0],
                                                         YEAR[-1]), r)
        print(f"  summary by river, force year: {seconds:.3f} s "
              f"({int(result.totals.iloc[0]):,} incidents)")
    else:
        print("\n(whole-force area not built: national district file not found)")
    print(f"\nPeak RSS of the process: {vm_hwm_mb() or 0:.0f} MB; repeats: {r} (median shown)")


if __name__ == "__main__":
    main()
