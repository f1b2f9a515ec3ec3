"""Benchmark the Overview: incidents by priority theme, the rolling comparison and alerts.

    .venv/bin/python bench/bench_themes.py [--repeats 3] [--force-dir PATH]

1. Imports 13 months (2023-01..2024-01) of whole-force Surrey Police street files into a fresh
   SQLite file (looked for at ``--force-dir`` or ``../shared/data/police/surrey``; when absent
   the bundled three-borough sample stands in and the output says so), the bundled layers and
   the EXAMPLE registers; a "Surrey (force)" area of the 11 districts when the national
   district file is at hand.
2. Times, as the median of N repeats: `theme_table` for Spelthorne and Runnymede for 2024-01
   with a rolling 12 months (a 24-month window: the 13 loaded months and 11 empty ones) and 6
   months (complete, with RAG); the same for the whole force; `overview_alerts`; saving the
   default mapping (a write, then an unchanged save) and `categories_for`.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from machine import force_area, force_bench, reset_peak_rss, timed, vm_hwm_mb

from registers.alerts import overview_alerts
from registers.example import seed_example_registers
from report.theme_mapping import (
    categories_for,
    default_mapping,
    reset_theme_mapping,
    save_theme_mapping,
)
from report.themes import theme_table

MONTHS = [f"2023-{m:02d}" for m in range(1, 13)] + ["2024-01"]


def main() -> None:
    args, engine = force_bench(__doc__, "bench_themes_", MONTHS, numpy=np.__version__,
                               pandas=pd.__version__)
    r = args.repeats
    seed_example_registers(engine)
    whole = force_area(engine)

    print("\ntheme_table for 2024-01 (8 themes, default mapping)")
    areas = ["Spelthorne", "Runnymede"] + ([whole] if whole else [])
    for area in areas:
        for months in (12, 6):
            reset_peak_rss()
            seconds, result = timed(lambda a=area, m=months: theme_table(
                engine, a, "2024-01", months=m), r)
            window = result.periods["rolling previous"][0]
            rolling = int(result.table["rolling"].fillna(0).max())
            print(f"  {area:<16} rolling {months:>2} months (window {window} to 2024-01): "
                  f"{seconds:.3f} s; complete={result.complete}; largest theme "
                  f"{rolling:,} incidents; peak RSS {vm_hwm_mb() or 0:.0f} MB")
    if not whole:
        print("  (whole-force area not built: national district file not found)")

    print("\nAlerts and the mapping")
    seconds, alerts = timed(lambda: overview_alerts(engine, "E07000213", date(2026, 11, 28)), r)
    print(f"  overview_alerts, Spelthorne, 2026-11-28: {seconds:.3f} s ({len(alerts)} alerts)")
    rows = default_mapping()

    def write() -> object:
        reset_theme_mapping(engine)
        return save_theme_mapping(engine, rows, "bench")
    seconds, _ = timed(write, r)
    print(f"  reset + save the default mapping ({len(rows)} rows): {seconds:.3f} s")
    seconds, saved = timed(lambda: save_theme_mapping(engine, rows, "bench"), r)
    print(f"  save the same mapping again (unchanged={saved.unchanged}): {seconds:.3f} s")
    seconds, _ = timed(lambda: categories_for(engine, "Anti-social behaviour"), r)
    print(f"  categories_for: {seconds * 1000:.1f} ms")
    print(f"\nPeak RSS of the process: {vm_hwm_mb() or 0:.0f} MB; repeats: {r} (median shown)")


if __name__ == "__main__":
    main()
