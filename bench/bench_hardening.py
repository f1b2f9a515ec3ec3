"""Figures for issue 20: the seeded fuzz corpus (300 mutated police.uk files) imported on
SQLite and PostgreSQL, and how long a check save waits while failed sign-ins run.

    .venv/bin/python bench/bench_hardening.py [--postgres URL]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from machine import ROOT, machine_line

sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from access.accounts import SignInFailed, authenticate  # noqa: E402
from access.scope import acting_as, operator  # noqa: E402
from geo.bundled import seed_bundled_layers  # noqa: E402
from ingest.run import ingest_paths  # noqa: E402
from registers.checks import log_check  # noqa: E402
from registers.equipment import add_item  # noqa: E402
from store.db import forget_engines, get_engine, migrate  # noqa: E402
from tests.support.fuzz import write_corpus  # noqa: E402

NOW = datetime(2026, 11, 28, 12, 0)


def fuzz(url: str, paths: list[Path]) -> str:
    migrate(url)
    engine = get_engine(url)
    started = time.perf_counter()
    report = ingest_paths(engine, paths)
    took = time.perf_counter() - started
    refused = sum(1 for f in report.files if f["error"])
    return (f"{len(paths)} files ({refused} refused whole), {report.rows:,} rows read: "
            f"{report.accepted:,} stored, {report.duplicates:,} duplicates, "
            f"{report.rejected:,} set aside; {took:.1f} s")


def sign_in_against_checks(url: str) -> str:
    migrate(url)
    engine = get_engine(url)
    seed_bundled_layers(engine)
    add_item(engine, {"asset_id": "BENCH-1", "kind": "throwline", "site": "Staines",
                      "river": "River Thames", "latitude": "51.4318",
                      "longitude": "-0.5131"}, "bench", now=NOW)
    done = threading.Event()
    waits: list[float] = []

    def attacker() -> None:
        with acting_as(operator()):
            for i in range(20):
                try:
                    authenticate(engine, f"nobody{i}", "wrong password!!", source=f"192.0.2.{i}")
                except SignInFailed:
                    pass
        done.set()

    def officer() -> None:
        with acting_as(operator()):
            minute = 0
            while not done.is_set():
                minute += 1
                started = time.perf_counter()
                log_check(engine, asset_id="BENCH-1", recorded_by="bench", now=NOW,
                          checked_at=NOW - timedelta(minutes=minute), checked_by="A. Officer",
                          outcome="serviceable")
                waits.append(time.perf_counter() - started)
                done.wait(0.02)

    threads = [threading.Thread(target=attacker), threading.Thread(target=officer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    waits.sort()
    return (f"20 failed sign-ins against {len(waits)} check saves: save median "
            f"{waits[len(waits) // 2] * 1000:.0f} ms, max {waits[-1] * 1000:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    print(machine_line())
    with acting_as(operator()), tempfile.TemporaryDirectory() as tmp:
        paths = write_corpus(Path(tmp) / "fuzz")
        print("fuzz, SQLite:     ", fuzz(f"sqlite:///{tmp}/fuzz.sqlite", paths))
        admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        name = f"bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = make_url(args.postgres).set(database=name).render_as_string(
                hide_password=False)
            print("fuzz, PostgreSQL: ", fuzz(url, paths))
            forget_engines()
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        print("SQLite:", sign_in_against_checks(f"sqlite:///{tmp}/signin.sqlite"))


if __name__ == "__main__":
    main()
