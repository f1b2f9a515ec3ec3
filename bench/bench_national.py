"""Benchmark importing a whole national police.uk month (all forces) against reading it.

    .venv/bin/python bench/bench_national.py [--source FOLDER_OR_ZIP] [--repeats N]
        [--postgres-url URL | --no-postgres]

The goal (issue 19, item 3): the national month imported within 3x of reading and
transforming it on the same machine, on SQLite and on PostgreSQL.

1. Baseline: every CSV of the month read with pandas and its longitude/latitude projected to
   British National Grid with pyproj (geo.crs.lonlat_to_bng): the least any import must do.
   Median of N repeats.
2. The import with `ingest_paths` (read, validate, dedup keys, store: the bulk path) into a
   fresh SQLite file, then the same source again (every row a duplicate, nothing added).
3. The same into a fresh PostgreSQL database on the server at --postgres-url (default
   HOTSPOTS_TEST_POSTGRES_URL or postgresql+psycopg://postgres@127.0.0.1:5432/postgres),
   created for the run and dropped afterwards; skipped, and said so, when unreachable.

Each import is checked: accepted + duplicates + rejected = rows read, per file and in total,
and the re-import adds nothing. "rows/s" counts rows read from the files; "peak RSS" is this
process's resident-memory high-water mark during the step (VmHWM, reset before the step), so
it includes the libraries loaded (~200 MB). The data is /work/shared/data/police/
national_2022-01 (PROVENANCE.md section 2: 41 files, 348,212 rows, 75 MB) unless --source.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import time
import uuid
from pathlib import Path

import pandas as pd
import psycopg
import sqlalchemy
from machine import ROOT, bench_parser, machine_line, reset_peak_rss, timed, vm_hwm_mb
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from geo.crs import lonlat_to_bng
from ingest.run import IngestReport, expand_paths, ingest_paths
from store.db import forget_engines, get_engine, migrate

DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "police" / "national_2022-01"
DEFAULT_POSTGRES = os.environ.get("HOTSPOTS_TEST_POSTGRES_URL",
                                  "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def read_and_transform(files: list[Path]) -> int:
    """The baseline: read each street CSV with pandas, project its points to BNG."""
    rows = 0
    for path in files:
        frame = pd.read_csv(path)
        located = frame.dropna(subset=["Longitude", "Latitude"])
        lonlat_to_bng(located["Longitude"].to_numpy(), located["Latitude"].to_numpy())
        rows += len(frame)
    return rows


def accounted(report: IngestReport) -> None:
    """Every row accounted for, file by file and in total, and no file refused."""
    for f in report.files:
        assert not f.get("error"), f
        assert f["accepted"] + f["duplicates"] + f["rejected"] == f["rows"], f
    assert report.accepted + report.duplicates + report.rejected == report.rows


def import_twice(label: str, url: str, source: Path, baseline: float) -> None:
    """Import the month into a fresh database, then again; print the figures."""
    migrate(url)
    engine = get_engine(url)
    reset_peak_rss()
    start = time.perf_counter()
    first = ingest_paths(engine, [source])
    seconds = time.perf_counter() - start
    peak = vm_hwm_mb()
    accounted(first)
    start = time.perf_counter()
    again = ingest_paths(engine, [source])
    again_s = time.perf_counter() - start
    accounted(again)
    assert again.accepted == 0 and again.rows == first.rows, again.to_dict()
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT count(*) FROM incidents")).scalar_one()
    assert stored == first.accepted, (stored, first.accepted)
    print(f"{label}: {len(first.files)} files, {first.rows:,} rows: {first.accepted:,} "
          f"accepted, {first.duplicates:,} duplicates, {first.rejected:,} set aside")
    print(f"  import      {seconds:7.2f} s  {first.rows / seconds:9,.0f} rows/s  "
          f"peak RSS {peak or 0:,.0f} MB  = {seconds / baseline:.2f}x the baseline")
    print(f"  re-import   {again_s:7.2f} s  {again.rows / again_s:9,.0f} rows/s  "
          f"{again.accepted} added, {again.duplicates:,} duplicates, "
          f"{again.rejected:,} set aside again")
    engine.dispose()


def postgres_server(url: str) -> str | None:
    """Why the server cannot be used, or None when it answers."""
    try:
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "no server to measure"
        return str(exc).splitlines()[0]


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE,
                        help="the month: a folder of street CSVs or a police.uk archive zip")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    if not args.source.exists():
        raise SystemExit(f"{args.source} not found: give --source (a national month's folder "
                         "or archive zip)")

    load = os.getloadavg()[0]
    print(machine_line(pandas=pd.__version__, SQLAlchemy=sqlalchemy.__version__,
                       SQLite=sqlite3.sqlite_version, psycopg=psycopg.__version__)
          + f"; load {load:.2f}")
    print(f"Data: {args.source}")
    if args.source.is_dir():
        files = [p for p in expand_paths([args.source]) if p.name.endswith("-street.csv")]
        reset_peak_rss()
        baseline, rows = timed(lambda: read_and_transform(files), args.repeats)
        print(f"Baseline (pandas read_csv + pyproj to BNG, median of {args.repeats}): "
              f"{baseline:.2f} s for {rows:,} rows ({rows / baseline:,.0f} rows/s), peak RSS "
              f"{vm_hwm_mb() or 0:,.0f} MB")
    else:
        with tempfile.TemporaryDirectory() as folder:
            import zipfile

            with zipfile.ZipFile(args.source) as archive:
                archive.extractall(folder)  # bench input only; imports read the zip itself
            files = sorted(Path(folder).rglob("*-street.csv"))
            baseline, rows = timed(lambda: read_and_transform(files), args.repeats)
        print(f"Baseline (unpacked; pandas read_csv + pyproj to BNG): {baseline:.2f} s for "
              f"{rows:,} rows")

    with tempfile.TemporaryDirectory(prefix="bench-national-") as folder:
        import_twice("SQLite", f"sqlite:///{folder}/national.sqlite", args.source, baseline)
    forget_engines()

    if args.no_postgres:
        return
    why = postgres_server(args.postgres_url)
    if why:
        print(f"PostgreSQL: skipped, no server at {args.postgres_url} ({why})")
        return
    admin = create_engine(args.postgres_url, isolation_level="AUTOCOMMIT")
    name = f"bench_national_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(args.postgres_url).set(database=name).render_as_string(
            hide_password=False)
        import_twice("PostgreSQL", url, args.source, baseline)
    finally:
        forget_engines()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
