"""Benchmark issue 5: the water-safety register on SQLite and on PostgreSQL + PostGIS.

    .venv/bin/python bench/bench_registers.py [--checks 10000] [--items 1000] [--no-postgres]

For each database (a fresh SQLite file; a fresh database on the PostgreSQL server at
HOTSPOTS_TEST_POSTGRES_URL or 127.0.0.1:5432, skipped with a note if none answers):
1. imports an equipment list of N items (the bundled example's 58 bank positions, each
   repeated along the bank a few metres apart) from CSV;
2. logs M checks one at a time through `log_check`, each its own transaction, as the form
   and the CLI do (checks/s), then M more from 4 threads at once;
3. imports M past checks from one CSV;
4. asks `due` for this month over the N items (median of 5), and exports the history.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import tempfile
import threading
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from machine import machine_line, timed
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from geo.bundled import seed_bundled_layers
from registers.checks import OUTCOMES, due_report, log_check
from registers.example import EXAMPLES
from registers.export import history_csv
from registers.imports import import_checks, import_equipment
from store.db import forget_engines, get_engine, migrate

POSTGRES = os.environ.get("HOTSPOTS_TEST_POSTGRES_URL",
                          "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def equipment_csv(items: int) -> bytes:
    """N items at the example's bank positions, nudged a few metres apart."""
    with (EXAMPLES / "example_equipment.csv").open(encoding="utf-8", newline="") as handle:
        base = list(csv.DictReader(handle))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(base[0]))
    writer.writeheader()
    for i in range(items):
        row = dict(base[i % len(base)])
        row["Asset ID"] = f"BENCH-{i:05d}"
        row["Latitude"] = f"{float(row['Latitude']) + (i // len(base)) * 0.00003:.6f}"
        writer.writerow(row)
    return out.getvalue().encode()


def checks_csv(count: int, items: int, start: datetime) -> bytes:
    outcomes = list(OUTCOMES)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Asset ID", "Date", "Time", "Checked by", "Outcome", "Action", "Notes"])
    for i in range(count):
        when = start + timedelta(minutes=7 * i)
        writer.writerow([f"BENCH-{i % items:05d}", when.strftime("%d/%m/%Y"),
                         when.strftime("%H:%M"), f"Officer {i % 5}",
                         outcomes[(i // 40) % len(outcomes)] if i % 40 == 0 else
                         "serviceable",
                         "none", f"imported {i}"])
    return out.getvalue().encode()


def run(url: str, label: str, items: int, checks: int) -> dict:
    migrate(url)
    engine = get_engine(url)
    seed_bundled_layers(engine)
    figures = {}
    t = time.perf_counter()
    result = import_equipment(engine, "bench_equipment.csv", "bench", data=equipment_csv(items))
    figures["import items"] = (time.perf_counter() - t, f"{len(result.accepted):,} items")
    assert len(result.accepted) == items, result.rejected.head()

    now = datetime.now().replace(second=0, microsecond=0)
    first = now.replace(day=1)
    t = time.perf_counter()
    for i in range(checks):
        log_check(engine, asset_id=f"BENCH-{i % items:05d}",
                  checked_at=first + timedelta(seconds=i), checked_by="Bench officer",
                  outcome="serviceable" if i % 50 else "damaged", notes=f"check {i}",
                  recorded_by="bench", source="bench")
    elapsed = time.perf_counter() - t
    figures["log checks one by one"] = (elapsed, f"{checks / elapsed:,.0f} checks/s")

    def person(thread: int, per: int) -> None:
        for i in range(per):
            log_check(engine, asset_id=f"BENCH-{(thread * per + i) % items:05d}",
                      checked_at=first + timedelta(seconds=i, minutes=thread),
                      checked_by=f"Thread {thread}", outcome="serviceable",
                      recorded_by="bench", source="bench")

    threads = [threading.Thread(target=person, args=(n, checks // 4)) for n in range(4)]
    t = time.perf_counter()
    for worker in threads:
        worker.start()
    for worker in threads:
        worker.join()
    elapsed = time.perf_counter() - t
    figures["log checks, 4 threads at once"] = (elapsed, f"{checks / elapsed:,.0f} checks/s")

    t = time.perf_counter()
    imported = import_checks(engine, "bench_checks.csv", "bench",
                             data=checks_csv(checks, items, now - timedelta(days=120)))
    elapsed = time.perf_counter() - t
    figures["import checks from CSV"] = (elapsed, f"{len(imported.accepted):,} checks, "
                                                  f"{len(imported.accepted) / elapsed:,.0f}/s")
    seconds, due = timed(lambda: due_report(engine), 5)
    figures[f"due this month, {items:,} items"] = (
        seconds, f"{int(due['needs_check'].sum())} to check, "
                 f"{int(due['attention'].sum())} needing attention")
    t = time.perf_counter()
    _, rows = history_csv(engine)
    figures["export the whole history (CSV)"] = (time.perf_counter() - t, f"{rows:,} checks")
    engine.dispose()
    print(f"\n{label}")
    for name, (seconds, note) in figures.items():
        print(f"  {name:<34}{seconds:>9.3f} s   {note}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=10_000)
    parser.add_argument("--items", type=int, default=1_000)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    print(machine_line())
    print(f"{args.items:,} items; {args.checks:,} checks logged one by one, {args.checks:,} "
          f"from 4 threads, {args.checks:,} imported")
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{Path(tmp) / 'bench.sqlite'}", "SQLite (WAL, file)", args.items,
            args.checks)
    if args.no_postgres:
        return
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    name = f"hotspots_bench_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            version = conn.execute(text("SHOW server_version")).scalar_one()
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        print(f"\nPostgreSQL: skipped, no server at {POSTGRES} ({exc.__class__.__name__})")
        return
    try:
        url = make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
        run(url, f"PostgreSQL {version} + PostGIS (127.0.0.1)", args.items, args.checks)
    finally:
        forget_engines()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
