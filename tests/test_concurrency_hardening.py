"""Writers at the same moment, on SQLite and the real PostgreSQL server (issue 20, findings 5,
6 and 8), with threads started together at a barrier; the assertions are on outcomes and
counts: one of four case variants of an asset id lands; two imports of one file report
between them exactly what was stored; a form sent three times at once is saved once and the
other senders are told it was already saved; failed sign-ins and a long import never hold
SQLite's write lock long enough to make a check fail; a locked database gives the Water
safety page a retry message, not a traceback; an import killed part way is finished by
importing the file again."""

from __future__ import annotations

import csv
import io
import os
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from access.accounts import SignInFailed, authenticate
from access.scope import acting_as, operator
from ingest.run import ingest_bytes
from registers.checks import check_history, log_check
from registers.common import RegisterError
from registers.equipment import add_item, list_items
from registers.imports import import_checks, import_equipment
from store.db import forget_engines
from store.incidents import UNFINISHED
from store.models import EquipmentCheck, ImportRun, Incident
from tests.databases import BACKENDS, database
from tests.sample_data import HOTSPOTS_CLI, ROOT, SAMPLE, read_police

NOW = datetime(2026, 11, 28, 12, 0)
USER = "test officer"
STAINES = {"latitude": "51.4318", "longitude": "-0.5131"}
EXAMPLES = SAMPLE / "registers"


def at_once(works: list[Callable[[], object]]) -> list[object]:
    """Run each function in its own thread, all released together; each one's result or the
    exception it raised."""
    barrier = threading.Barrier(len(works))
    results: list[object] = [None] * len(works)

    def run(i: int, work: Callable[[], object]) -> None:
        with acting_as(operator()):
            barrier.wait()
            try:
                results[i] = work()
            except Exception as exc:  # noqa: BLE001 - the outcome under test
                results[i] = exc

    threads = [threading.Thread(target=run, args=(i, w)) for i, w in enumerate(works)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def thames_item(asset: str) -> dict:
    return {"asset_id": asset, "kind": "throwline", "site": "Staines riverside",
            "river": "River Thames", "installed_on": "2021-04-01", **STAINES}


def count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


# -- finding 5: case-variant asset ids --------------------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS)
def test_case_variants_of_an_asset_id_added_at_once_land_once(backend, tmp_path):
    with database(backend, tmp_path) as db:
        variants = ["TL-77", "tl-77", "Tl-77", "tL-77"]
        results = at_once([lambda a=a: add_item(db.engine, thames_item(a), USER, now=NOW)
                           for a in variants])
        landed = [r for r in results if isinstance(r, int)]
        refused = [r for r in results if isinstance(r, RegisterError)]
        assert (len(landed), len(refused)) == (1, 3), results
        assert all("already in the register" in str(r) or "just been added" in str(r)
                   for r in refused)
        assert [a.lower() for a in list_items(db.engine)["asset_id"]] == ["tl-77"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_two_imports_of_one_equipment_file_at_once_add_it_once(backend, tmp_path):
    data = (EXAMPLES / "example_equipment.csv").read_bytes()
    with database(backend, tmp_path) as db:
        from geo.bundled import seed_bundled_layers

        seed_bundled_layers(db.engine)
        first, second = at_once([
            lambda: import_equipment(db.engine, "equipment.csv", USER, data=data, now=NOW),
            lambda: import_equipment(db.engine, "equipment copy.csv", USER, data=data,
                                     now=NOW)])
        assert len(first.accepted) + len(second.accepted) == 58
        assert all(len(r.accepted) + r.duplicates == 58 and r.rejected.empty
                   for r in (first, second))
        assert len(list_items(db.engine)) == 58


# -- finding 8: counts from what was really inserted ------------------------------------------

def checks_csv(assets: list[str], rows: int) -> bytes:
    """Past checks of the example equipment, one every 7 minutes in 2026."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Asset ID", "Date", "Time", "Checked by", "Outcome", "Action", "Notes"])
    start = datetime(2026, 3, 1, 8, 0)
    for i in range(rows):
        when = start + timedelta(minutes=7 * i)
        writer.writerow([assets[i % len(assets)], when.strftime("%d/%m/%Y"),
                         when.strftime("%H:%M"), f"Officer {i % 5}", "serviceable", "none",
                         ""])
    return out.getvalue().encode()


@pytest.mark.parametrize("backend", BACKENDS)
def test_two_imports_of_one_checks_file_at_once_report_between_them_what_was_stored(
        backend, tmp_path):
    with database(backend, tmp_path) as db:
        from geo.bundled import seed_bundled_layers

        seed_bundled_layers(db.engine)
        import_equipment(db.engine, EXAMPLES / "example_equipment.csv", USER, now=NOW)
        data = checks_csv(list(list_items(db.engine)["asset_id"]), 3000)
        first, second = at_once([
            lambda: import_checks(db.engine, "checks.csv", USER, data=data, now=NOW),
            lambda: import_checks(db.engine, "checks (1).csv", USER, data=data, now=NOW)])
        assert len(first.accepted) + len(second.accepted) == 3000 == count(db.engine,
                                                                           EquipmentCheck)
        assert first.duplicates + len(first.accepted) == 3000
        assert second.duplicates + len(second.accepted) == 3000
        with db.engine.connect() as conn:
            recorded = sorted(conn.execute(select(ImportRun.accepted).where(
                ImportRun.kind == "equipment checks")).scalars())
        assert recorded == sorted([len(first.accepted), len(second.accepted)])


@pytest.mark.parametrize("backend", BACKENDS)
def test_two_imports_of_one_police_file_at_once_report_between_them_what_was_stored(
        backend, tmp_path):
    header, rows = read_police("2024-01")
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows[:600])
    data = buffer.getvalue().encode()
    with database(backend, tmp_path) as db:
        first, second = at_once([lambda: ingest_bytes(db.engine, "a-street.csv", data),
                                 lambda: ingest_bytes(db.engine, "b-street.csv", data)])
        stored = count(db.engine, Incident)
        assert first.accepted + second.accepted == stored
        assert first.accepted + first.duplicates + first.rejected == first.rows == 600
        assert second.accepted + second.duplicates == first.accepted + first.duplicates
        # every row stored once, its other copy told it was a duplicate
        assert stored == first.accepted + first.duplicates > 0
        assert first.duplicates + second.duplicates == stored


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_form_sent_three_times_at_once_is_saved_once_and_the_others_told_so(backend,
                                                                                tmp_path):
    with database(backend, tmp_path) as db:
        engine = db.engine
        add_item(engine, thames_item("RESENT-1"), USER, now=NOW)

        def send(**extra):
            return lambda: log_check(engine, asset_id="RESENT-1", checked_at="2026-11-20 09:00",
                                     checked_by="A. Officer", recorded_by=USER, now=NOW,
                                     source="app form", **extra)

        first = at_once([send(outcome="missing")] * 3)
        assert not [r for r in first if isinstance(r, Exception)], first
        assert sorted(r.duplicate for r in first) == [False, True, True]
        assert len({r.id for r in first}) == 1
        fixes = at_once([send(outcome="serviceable", corrects=first[0].id)] * 3)
        assert not [r for r in fixes if isinstance(r, Exception)], fixes
        assert sorted(r.duplicate for r in fixes) == [False, True, True]
        history = check_history(engine, "RESENT-1")
        assert len(history) == 2 and history["counts"].tolist() == [False, True]


# -- finding 6: SQLite writers are not blocked by sign-ins or long imports --------------------

@pytest.fixture
def short_busy_wait(monkeypatch):
    """SQLite engines made now give up on a held write lock after 250 ms (not 30 s): a write
    that had to wait for a password hash (~0.4 s) would fail."""
    monkeypatch.setenv("HOTSPOTS_SQLITE_BUSY_MS", "250")
    forget_engines()
    yield
    forget_engines()


def test_failed_sign_ins_never_make_a_check_wait_for_a_password_hash(short_busy_wait,
                                                                     tmp_path):
    with database("sqlite", tmp_path) as db:
        engine = db.engine
        add_item(engine, thames_item("SIGN-1"), USER, now=NOW)
        done = threading.Event()
        outcomes: dict[str, list] = {"sign_ins": [], "checks": [], "waits": []}

        def attacker():
            try:
                for i in range(8):  # unknown names: the dummy hash, as for a real user
                    try:
                        authenticate(engine, f"nobody{i}", "wrong password!!", now=NOW,
                                     source=f"198.51.100.{i}")
                    except SignInFailed as exc:
                        outcomes["sign_ins"].append(str(exc))
                    except OperationalError as exc:
                        outcomes["sign_ins"].append(str(exc.orig))
            finally:
                done.set()

        def officer():
            minute = 0
            while not done.is_set():
                minute += 1
                started = time.perf_counter()
                try:
                    log_check(engine, asset_id="SIGN-1", recorded_by=USER, now=NOW,
                              checked_at=NOW - timedelta(minutes=minute),
                              checked_by="A. Officer", outcome="serviceable")
                    outcomes["checks"].append("saved")
                except OperationalError as exc:
                    outcomes["checks"].append(str(exc.orig))
                outcomes["waits"].append(time.perf_counter() - started)
                done.wait(0.02)  # a person saves a check now and then, not in a tight loop

        at_once([attacker, officer])
        assert outcomes["sign_ins"] == ["wrong username or password"] * 8
        assert len(outcomes["checks"]) >= 8 and set(outcomes["checks"]) == {"saved"}
        assert len(check_history(engine, "SIGN-1")) == len(outcomes["checks"])
        # each save waited far less than one password hash (~0.4 s) even on a busy machine
        assert max(outcomes["waits"]) < 0.25, outcomes["waits"]


def big_police_file(copies: int = 1) -> tuple[bytes, int]:
    """Every bundled month in one police.uk file (tens of thousands of real rows, so many
    batches), `copies` times over; and how many distinct incidents it holds."""
    header, _ = read_police("2024-01")
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    rows = 0
    for path in sorted((SAMPLE / "police").glob("*/*.csv")):
        month = path.parent.name
        records = read_police(month)[1]
        rows += len(records)
        for _ in range(copies):
            writer.writerows(records)
    return out.getvalue().encode(), rows


def test_a_long_import_lets_checks_through_between_its_batches(tmp_path):
    data, _ = big_police_file()
    with database("sqlite", tmp_path) as db:
        engine = db.engine
        add_item(engine, thames_item("BATCH-1"), USER, now=NOW)
        done = threading.Event()
        seen: list[int] = []  # incidents stored by the import when each check landed

        def importer():
            report = ingest_bytes(engine, "all-months-street.csv", data)
            done.set()
            return report

        def officer():
            minute = 0
            while not done.is_set():
                minute += 1
                log_check(engine, asset_id="BATCH-1", recorded_by=USER, now=NOW,
                          checked_at=NOW - timedelta(minutes=minute), checked_by="A. Officer",
                          outcome="serviceable")
                with engine.connect() as conn:
                    seen.append(conn.execute(select(func.coalesce(func.max(
                        ImportRun.accepted), 0))).scalar_one())
                done.wait(0.02)

        report, _ = at_once([importer, officer])
        total = report.accepted
        assert total == count(engine, Incident) > 40_000
        between = [n for n in seen if 0 < n < total]
        assert len(between) >= 3, seen  # checks landed while the import was under way
        assert len(check_history(engine, "BATCH-1")) == len(seen)


def test_an_import_killed_part_way_is_said_unfinished_and_finished_by_importing_again(
        tmp_path):
    data, _ = big_police_file(copies=2)
    path = tmp_path / "two-copies-street.csv"
    path.write_bytes(data)
    with database("sqlite", tmp_path) as db:
        env = {**os.environ, "HOTSPOTS_DATABASE_URL": db.url}
        process = subprocess.Popen([str(HOTSPOTS_CLI), "ingest", "--json", str(path)],
                                   env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        stored = 0
        while process.poll() is None and stored == 0:
            with db.engine.connect() as conn:
                stored = conn.execute(select(func.coalesce(func.max(ImportRun.accepted), 0))
                                      ).scalar_one()
            time.sleep(0.01)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        with db.engine.connect() as conn:
            run = conn.execute(select(ImportRun.accepted, ImportRun.error)).one()
        assert run.error == UNFINISHED and 0 < run.accepted == count(db.engine, Incident)
        again = ingest_bytes(db.engine, "two-copies-street.csv", data)
        whole = ingest_bytes(db.engine, "two-copies-street (1).csv", data)
        assert again.files[0]["error"] is None
        assert again.accepted + again.duplicates + again.rejected == again.rows
        assert again.accepted + run.accepted == count(db.engine, Incident)
        assert (whole.accepted, whole.duplicates) == (0, again.accepted + again.duplicates)


def water_safety_page() -> None:
    """The Water safety page as app.py runs it for a signed-in officer."""
    import runpy

    from access.roles import Principal
    from access.scope import acting_as
    from views import state

    state.engine.clear()
    with acting_as(Principal("river.officer", "officer", "River Officer")):
        runpy.run_path("views/water_safety.py")


def test_the_water_safety_page_asks_to_try_again_while_the_database_is_locked(
        short_busy_wait, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from geo.bundled import seed_bundled_layers

    with database("sqlite", tmp_path) as db:
        seed_bundled_layers(db.engine)
        add_item(db.engine, thames_item("LOCK-1"), USER, now=NOW)
        monkeypatch.chdir(ROOT)
        monkeypatch.setenv("HOTSPOTS_DATABASE_URL", db.url)
        page = AppTest.from_function(water_safety_page, default_timeout=180)
        page.run()
        assert [e.message for e in page.exception] == []
        page.text_input(key="ws_checked_by").input("A. Officer")
        save = next(b for b in page.button if b.label == "Save check")
        holder = sqlite3.connect(db.url.removeprefix("sqlite:///"), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock: an import, say
        try:
            save.click().run()
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert [e.message for e in page.exception] == []
        assert [e.body for e in page.error if "database is busy" in e.body]
        assert page.text_input(key="ws_checked_by").value == "A. Officer"  # kept
        assert count(db.engine, EquipmentCheck) == 0
        next(b for b in page.button if b.label == "Save check").click().run()
        assert [s.body for s in page.success if "Saved check" in s.body]
        assert count(db.engine, EquipmentCheck) == 1
