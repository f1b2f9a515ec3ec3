"""Benchmark what access control costs: signing in, each page run's session check, the
restricted-category filter where incidents are read, and the audit entry every change writes.

    .venv/bin/python bench/bench_access.py [--repeats 5] [--force-dir PATH]

1. A fresh SQLite database with the bundled layers and 13 months of whole-force Surrey Police
   street files (looked for at ``--force-dir`` or ``../shared/data/police/surrey``; else the
   bundled three-borough sample stands in and the output says so).
2. Times (median of N): an argon2id hash (adding a user or a password) and a sign-in
   (authenticate: one verify); a page run's session check (resume_session); reading a
   year of the whole database's incidents as an analyst (no filter) and as a viewer (the
   restricted categories filtered out in SQL); find_hotspots for Spelthorne as both; logging
   one check (with its audit entry) and reading 500 audit entries.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from machine import bench_parser, force_bench, timed

from access.accounts import authenticate, create_user
from access.audit import read_audit
from access.incidents import load_incidents
from access.roles import Principal
from access.scope import acting_as
from access.sessions import resume_session, start_session
from hotspots.analysis import find_hotspots
from registers.checks import log_check
from registers.equipment import add_item

MONTHS = [f"2023-{m:02d}" for m in range(1, 13)] + ["2024-01"]
PASSWORD = "a long benchmark passphrase"
VIEWER = Principal("bench.viewer", "viewer")
ANALYST = Principal("bench.analyst", "analyst")


def main() -> None:
    args, engine = force_bench(__doc__, "bench-access-", MONTHS,
                               bench_parser(__doc__, repeats=5, force_dir=True))
    n = args.repeats
    names = iter(range(10_000))
    hashed, _ = timed(lambda: create_user(engine, f"user{next(names)}", "viewer",
                                          password=PASSWORD), n)
    create_user(engine, "bench.viewer", "viewer", password=PASSWORD)
    signed, who = timed(lambda: authenticate(engine, "bench.viewer", PASSWORD), n)
    token = start_session(engine, who)
    resumed, _ = timed(lambda: resume_session(engine, token), n)
    print(f"Add a user (argon2id hash + audit entry): {hashed * 1000:.0f} ms")
    print(f"Sign in (argon2id verify + session bookkeeping): {signed * 1000:.0f} ms")
    print(f"Session check per page run (resume_session): {resumed * 1000:.1f} ms")

    for principal in (ANALYST, VIEWER):
        with acting_as(principal):
            read, rows = timed(lambda: load_incidents(engine, MONTHS[0], MONTHS[-1]), n)
            found, report = timed(lambda: find_hotspots(engine, "Spelthorne", MONTHS[1],
                                                         MONTHS[-1], method="kde"), n)
        print(f"As {principal.role}: {len(rows):,} incidents read in {read * 1000:.0f} ms; "
              f"Spelthorne KDE hotspots ({len(report.incidents):,} incidents) "
              f"in {found * 1000:.0f} ms")

    now = datetime.now().replace(microsecond=0)
    add_item(engine, {"asset_id": "BENCH-1", "kind": "throwline", "site": "Staines Bridge",
                      "latitude": "51.4339", "longitude": "-0.5158",
                      "installed_on": "2020-01-01"}, "bench", now=now)
    minutes = iter(range(1, 100_000))
    logged, _ = timed(lambda: log_check(
        engine, asset_id="BENCH-1", checked_at=now - timedelta(minutes=next(minutes)),
        checked_by="bench", outcome="serviceable", recorded_by="bench", now=now), n)
    audit, frame = timed(lambda: read_audit(engine, limit=500), n)
    print(f"Log a check (with its audit entry): {logged * 1000:.1f} ms")
    print(f"Read {len(frame)} audit entries (the reading itself recorded): "
          f"{audit * 1000:.1f} ms")


if __name__ == "__main__":
    main()
