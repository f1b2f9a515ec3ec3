"""Benchmark the import and hotspot-detection paths on real police.uk data.

Run from anywhere (the package is installed in editable mode):

    .venv/bin/python bench/bench_import_detect.py [--repeats N] [--force-month PATH]
        [--database-url URL] [--json PATH | --no-json]

It prints the machine, then three groups of figures, each the median of N repeats (default 3):

1. One whole-force police.uk month (Surrey): parse only, then parse and store into a fresh
   database. The file is looked for at ``--force-month`` or
   ``../shared/data/police/surrey/2024-01-surrey-street.csv`` (from the project root); when
   neither exists the 13 bundled sample months are concatenated into one file as a stand-in,
   and the output says so.
2. A year of one borough: the 12 bundled months 2023-02..2024-01 into a fresh database with
   ``ingest_paths``, then the same year again (every row a duplicate).
3. Detection for that borough-year (Spelthorne, bundled layers seeded): ``find_hotspots`` with
   grid and DBSCAN at 1% coverage, for all crime and ASB and for Shoplifting only, and the
   GeoJSON export of the all-crime grid result.

"rows/s" counts rows read from the files (accepted + rejected + duplicates) per second.
"peak RSS" is the resident-memory high-water mark of this whole process during the step (the
Linux VmHWM counter, reset before each repeat; where that is unavailable, the process's peak
so far from ``resource.getrusage``), so it includes the ~hundreds of MB of loaded libraries.

Without ``--database-url`` every import repeat gets a fresh SQLite file in a temporary folder.
With it, every repeat drops all tables of that database (alembic_version included) and
recreates the schema with ``store.db.migrate``: point it only at a throwaway database.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import psutil
import sqlalchemy
from machine import machine_info, reset_peak_rss, vm_hwm_mb
from sqlalchemy import Engine, MetaData

from geo.bundled import seed_bundled_layers
from geo.layers import load_layer
from hotspots.analysis import HotspotReport, find_hotspots
from ingest.run import IngestReport, ingest_paths, parse_file
from present.export import hotspots_geojson
from store.db import get_engine, migrate

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_POLICE = PROJECT_ROOT / "data" / "sample" / "police"
DEFAULT_FORCE_MONTH = (PROJECT_ROOT.parent / "shared" / "data" / "police" / "surrey"
                       / "2024-01-surrey-street.csv")
DEFAULT_JSON = PROJECT_ROOT / "bench" / "results" / "latest.json"
YEAR_MONTHS = ["2023-02", "2023-03", "2023-04", "2023-05", "2023-06", "2023-07", "2023-08",
               "2023-09", "2023-10", "2023-11", "2023-12", "2024-01"]
AREA = "Spelthorne"
COVERAGE = 0.01
METHODS = ("grid", "dbscan")
SELECTIONS: dict[str, list[str] | None] = {"all": None, "Shoplifting": ["Shoplifting"]}

T = TypeVar("T")


# --- machine ---------------------------------------------------------------------------------

def measured_on(database: str) -> dict[str, Any]:
    """What the figures were measured on: machine.machine_info, with memory, SQLite and the
    database."""
    return machine_info(cores_physical=psutil.cpu_count(logical=False),
                        ram_gb=round(psutil.virtual_memory().total / 2**30, 1),
                        sqlite=sqlite3.sqlite_version, sqlalchemy=sqlalchemy.__version__,
                        platform=platform.platform(), database=database)


# --- memory and timing -----------------------------------------------------------------------

def peak_rss_mb() -> float:
    """This process's resident-memory high-water mark in MB (VmHWM, else getrusage)."""
    peak = vm_hwm_mb()
    if peak is not None:
        return peak
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


@dataclass
class Measurement:
    """Repeated timings of one step, with rows handled and peak memory."""

    name: str
    seconds: list[float] = field(default_factory=list)
    rows: int | None = None
    peak_mb: float = 0.0
    note: str = ""

    @property
    def median(self) -> float:
        """Median wall-clock seconds over the repeats."""
        return statistics.median(self.seconds)

    @property
    def rows_per_s(self) -> float | None:
        """Rows handled per second at the median time."""
        if self.rows is None or not self.seconds or self.median <= 0:
            return None
        return self.rows / self.median

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of one figure."""
        rate = self.rows_per_s
        return {"name": self.name, "median_s": round(self.median, 4),
                "min_s": round(min(self.seconds), 4), "max_s": round(max(self.seconds), 4),
                "seconds": [round(s, 4) for s in self.seconds], "rows": self.rows,
                "rows_per_s": round(rate) if rate else None,
                "peak_rss_mb": round(self.peak_mb, 1), "note": self.note}


def timed(measurement: Measurement, step: Callable[[], T]) -> T:
    """Run `step` once, adding its wall time and peak RSS to `measurement`; return its result."""
    gc.collect()
    reset_peak_rss()
    start = time.perf_counter()
    result = step()
    measurement.seconds.append(time.perf_counter() - start)
    measurement.peak_mb = max(measurement.peak_mb, peak_rss_mb())
    return result


def report_line(m: Measurement) -> str:
    """One printed line for a finished figure."""
    rate = f", {m.rows_per_s:,.0f} rows/s" if m.rows_per_s else ""
    rows = f"{m.rows:,} rows, " if m.rows is not None else ""
    note = f" [{m.note}]" if m.note else ""
    return (f"  {m.name}: {rows}median {m.median:.3f} s over {len(m.seconds)}{rate}, "
            f"peak RSS {m.peak_mb:,.0f} MB{note}")


def rows_read(report: IngestReport) -> int:
    """Rows read from the files of one ingest, whatever became of them."""
    return report.accepted + report.rejected + report.duplicates


# --- databases -------------------------------------------------------------------------------

class Databases:
    """Hands out an empty, migrated database per repeat: fresh SQLite files or a reset URL."""

    def __init__(self, url: str | None, folder: Path) -> None:
        self.url = url
        self.folder = folder
        self.count = 0
        self.engines: list[Engine] = []

    def fresh(self) -> Engine:
        """An empty database at the latest schema (not timed by callers)."""
        self.count += 1
        load_layer.cache_clear()  # keyed by engine: a reset URL must not see old layers
        if self.url:
            engine = get_engine(self.url)
            tables = MetaData()
            tables.reflect(bind=engine)
            tables.drop_all(bind=engine)
            migrate(self.url)
        else:
            url = f"sqlite:///{self.folder / f'bench-{self.count}.sqlite'}"
            migrate(url)
            engine = get_engine(url)
        self.engines.append(engine)
        return engine

    def close(self) -> None:
        """Close every pooled connection."""
        for engine in self.engines:
            engine.dispose()


# --- inputs ----------------------------------------------------------------------------------

def concatenate_months(months: list[Path], target: Path) -> Path:
    """One police.uk CSV holding every month's rows under a single header."""
    with target.open("wb") as out:
        for i, path in enumerate(months):
            data = path.read_bytes()
            if i:
                data = data.split(b"\n", 1)[1] if b"\n" in data else b""
            if data and not data.endswith(b"\n"):
                data += b"\n"
            out.write(data)
    return target


def choose_force_month(given: str | None, folder: Path) -> tuple[Path, str]:
    """The whole-force month to use and a sentence saying which file it is."""
    candidates = ([Path(given)] if given else []) + [DEFAULT_FORCE_MONTH]
    for path in candidates:
        if path.is_file():
            return path, f"whole-force file {path.resolve()}"
        print(f"  whole-force month not found: {path}")
    months = sorted(SAMPLE_POLICE.glob("*/*-street.csv"))
    stand_in = concatenate_months(months, folder / "stand-in-surrey-street.csv")
    return stand_in, (f"STAND-IN: the {len(months)} bundled sample months concatenated "
                      "(filtered to 3 boroughs, not a whole-force month)")


# --- the figures -----------------------------------------------------------------------------

def bench_force_month(path: Path, databases: Databases, repeats: int) -> list[Measurement]:
    """Figure 1: one whole-force month, parse only and parse + store into a fresh database."""
    parse = Measurement("force month: parse only")
    store = Measurement("force month: parse + store")
    for _ in range(repeats):
        result = timed(parse, lambda: parse_file(str(path), path.read_bytes()))
        parse.rows = len(result.accepted) + len(result.rejected)
        parse.note = f"{len(result.accepted):,} accepted, {len(result.rejected):,} rejected"
        engine = databases.fresh()
        report = timed(store, lambda engine=engine: ingest_paths(engine, [path]))
        store.rows = rows_read(report)
        store.note = f"{report.accepted:,} stored, {report.duplicates:,} duplicates"
    return [parse, store]


def bench_year(databases: Databases, repeats: int) -> tuple[list[Measurement], Engine]:
    """Figure 2: the bundled year into a fresh database, then again (all duplicates)."""
    paths = [SAMPLE_POLICE / month for month in YEAR_MONTHS]
    first = Measurement("year: import 12 months")
    again = Measurement("year: re-import (duplicates)")
    engine: Engine | None = None
    for _ in range(repeats):
        engine = databases.fresh()
        report = timed(first, lambda engine=engine: ingest_paths(engine, paths))
        first.rows = rows_read(report)
        first.note = f"{report.accepted:,} accepted, {report.rejected:,} rejected"
        report = timed(again, lambda engine=engine: ingest_paths(engine, paths))
        again.rows = rows_read(report)
        again.note = f"{report.accepted:,} accepted, {report.duplicates:,} duplicates"
    assert engine is not None
    return [first, again], engine


def bench_detection(engine: Engine, repeats: int) -> list[Measurement]:
    """Figure 3: seed layers once, then hotspot runs and the GeoJSON export, each N times."""
    seed = Measurement("seed bundled layers (once)")
    features = timed(seed, lambda: seed_bundled_layers(engine))
    seed.note = f"{features} features"
    print(report_line(seed), flush=True)
    figures = [seed]
    grid_all: HotspotReport | None = None
    for label, categories in SELECTIONS.items():
        for method in METHODS:
            m = Measurement(f"detect {method}, {label}")
            for _ in range(repeats):
                found = timed(m, lambda c=categories, meth=method: find_hotspots(
                    engine, AREA, YEAR_MONTHS[0], YEAR_MONTHS[-1], c, meth, coverage=COVERAGE))
            m.note = f"{len(found.incidents):,} incidents, {len(found.hotspots)} hotspots"
            if (label, method) == ("all", "grid"):
                grid_all = found
            print(report_line(m), flush=True)
            figures.append(m)
    assert grid_all is not None
    export = Measurement("export GeoJSON (grid, all)")
    for _ in range(repeats):
        text = timed(export, lambda: hotspots_geojson(grid_all.hotspots))
    export.note = f"{len(grid_all.hotspots)} features, {len(text):,} bytes"
    print(report_line(export), flush=True)
    figures.append(export)
    return figures


# --- output ----------------------------------------------------------------------------------

def print_table(figures: list[Measurement]) -> None:
    """The compact summary table."""
    header = (f"{'figure':<32} {'rows':>8} {'median s':>9} {'min s':>8} {'max s':>8} "
              f"{'rows/s':>9} {'peak MB':>8}  note")
    print(header)
    print("-" * len(header))
    for m in figures:
        rate = f"{m.rows_per_s:,.0f}" if m.rows_per_s else "-"
        rows = f"{m.rows:,}" if m.rows is not None else "-"
        print(f"{m.name:<32} {rows:>8} {m.median:>9.3f} {min(m.seconds):>8.3f} "
              f"{max(m.seconds):>8.3f} {rate:>9} {m.peak_mb:>8,.0f}  {m.note}")


@contextmanager
def workspace() -> Iterator[Path]:
    """A temporary folder for SQLite files and the stand-in month."""
    with tempfile.TemporaryDirectory(prefix="bench-import-detect-") as folder:
        yield Path(folder)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--repeats", type=int, default=3, help="repeats per figure (median)")
    parser.add_argument("--force-month", metavar="PATH",
                        help=f"a whole-force police.uk month (default {DEFAULT_FORCE_MONTH})")
    parser.add_argument("--database-url", metavar="URL",
                        help="SQLAlchemy URL of a THROWAWAY database, reset for every repeat "
                             "(default: fresh SQLite files in a temporary folder)")
    parser.add_argument("--json", metavar="PATH", default=str(DEFAULT_JSON),
                        help="where to write the figures as JSON (default %(default)s)")
    parser.add_argument("--no-json", action="store_true", help="do not write JSON")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if args.database_url:
        try:
            get_engine(args.database_url)
        except (ImportError, sqlalchemy.exc.ArgumentError) as exc:
            parser.error(f"--database-url cannot be used: {exc} (is its driver installed?)")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run every figure, print them and the summary table, and write the JSON."""
    args = parse_args(argv)
    database = args.database_url or "fresh SQLite file per repeat"
    if args.database_url:
        database = sqlalchemy.engine.make_url(args.database_url).render_as_string(
            hide_password=True)
    machine = measured_on(database)
    print("Machine")
    for key, value in machine.items():
        print(f"  {key:<15} {value}")
    print(f"  {'repeats':<15} {args.repeats}")
    print(flush=True)

    with workspace() as folder:
        databases = Databases(args.database_url, folder)
        try:
            print("1. One whole-force police.uk month")
            path, source = choose_force_month(args.force_month, folder)
            print(f"  using {source}", flush=True)
            figures = bench_force_month(path, databases, args.repeats)
            for m in figures:
                print(report_line(m), flush=True)

            print(f"\n2. A year of one borough: bundled months {YEAR_MONTHS[0]}..{YEAR_MONTHS[-1]}")
            year, engine = bench_year(databases, args.repeats)
            for m in year:
                print(report_line(m), flush=True)
            figures += year

            print(f"\n3. Detection for {AREA}, {YEAR_MONTHS[0]}..{YEAR_MONTHS[-1]}, "
                  f"coverage {COVERAGE:.0%}")
            figures += bench_detection(engine, args.repeats)
        finally:
            databases.close()

    print(f"\nSummary (median of {args.repeats}; force month = {source})")
    print_table(figures)
    print(f"highest peak RSS of any step: {max(m.peak_mb for m in figures):,.0f} MB")

    if not args.no_json:
        out = Path(args.json)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({
            "generated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": machine,
            "repeats": args.repeats, "force_month": source,
            "figures": [m.to_dict() for m in figures]}, indent=2) + "\n")
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
