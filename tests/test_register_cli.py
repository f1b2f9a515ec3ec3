"""`hotspots pspo|equipment|checks` on SQLite and on PostgreSQL: the installed command, run as a
user would, writes what the library reads back; bad input fails with one line and no
traceback; user text cannot drive the terminal."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta

import geopandas as gpd
import pytest

from registers.checks import check_history
from registers.pspo import find_order_id, get_order
from tests.sample_data import BOUNDARIES, run_cli


@pytest.fixture(scope="module")
def staines_file(tmp_path_factory):
    """The Staines ward (a real ONS outline) as an order's map, in British National Grid."""
    wards = gpd.read_file(BOUNDARIES / "wards_2013_E07000213.geojson")
    path = tmp_path_factory.mktemp("maps") / "staines_pspo.geojson"
    wards[wards["WD13NM"] == "Staines"].to_crs(27700).to_file(path, driver="GeoJSON")
    return path


def ok(args: list[str], db) -> str:
    done = run_cli(args, db.url)
    assert done.returncode == 0, done.stderr
    return done.stdout


def refused(args: list[str], db) -> str:
    done = run_cli(args, db.url)
    assert done.returncode == 1, done.stdout
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("Error: ") and done.stderr.count("\n") == 1, done.stderr
    return done.stderr


def test_pspo_add_list_show_export(register_db, staines_file, tmp_path) -> None:
    made = date.today() - timedelta(days=400)
    out = ok(["pspo", "add", "--area", "spelthorne", "--reference", "CLI-1", "--name",
              "Staines town centre", "--file", str(staines_file), "--made", made.isoformat(),
              "--expires", (made + timedelta(days=3 * 365)).isoformat(),
              "--prohibits", "Drinking alcohol when asked to stop | times: at all times",
              "--requires", "Dogs on leads | exempt: assistance dogs"], register_db)
    assert "Added CLI-1 (Staines town centre) for Spelthorne: in force" in out
    order = get_order(register_db.engine, find_order_id(register_db.engine, "CLI-1"))
    assert order.conditions[["kind", "wording", "times", "exemptions"]].values.tolist() == [
        ["prohibition", "Drinking alcohol when asked to stop", "at all times", None],
        ["requirement", "Dogs on leads", None, "assistance dogs"]]
    assert order.order["area_source"] == "staines_pspo.geojson"
    listed = json.loads(ok(["pspo", "list", "--json"], register_db))
    assert "CLI-1" in [o["reference"] for o in listed]
    shown = json.loads(ok(["pspo", "show", "CLI-1", "--json"], register_db))
    assert shown["status"] == "in force"
    assert shown["incidents"]["by_type"][0]["crime_type"] == "All crime and ASB"
    export = tmp_path / "orders.geojson"
    ok(["pspo", "export", "--out", str(export)], register_db)
    features = json.loads(export.read_text())["features"]
    cli_1 = next(f for f in features if f["properties"]["reference"] == "CLI-1")
    assert cli_1["geometry"]["type"] == "MultiPolygon"
    assert "Prohibits: Drinking alcohol" in cli_1["properties"]["conditions"]
    ok(["pspo", "review", "CLI-1", "--on", date.today().isoformat(), "--notes", "JAG"],
       register_db)
    message = refused(["pspo", "extend", "CLI-1", "--on", date.today().isoformat(), "--to",
                       (date.today() + timedelta(days=3 * 366)).isoformat()], register_db)
    assert "at most 3 years" in message


def test_pspo_add_refusals_are_one_line(register_db, staines_file) -> None:
    message = refused(["pspo", "add", "--area", "spelthorne", "--reference", "CLI-LONG",
                       "--name", "Too long", "--file", str(staines_file), "--made",
                       "2024-01-01", "--expires", "2027-06-01", "--prohibits", "x"],
                      register_db)
    assert "must expire by 2027-01-01, not 2027-06-01" in message
    message = refused(["pspo", "add", "--area", "spelthorne", "--reference", "CLI-COND",
                       "--name", "No conditions", "--file", str(staines_file), "--made",
                       "2024-01-01", "--expires", "2026-06-01", "--prohibits",
                       "x | hours: all"], register_db)
    assert "'hours: all' is neither 'times: …' nor 'exempt: …'" in message
    assert "no order with reference 'NOPE'" in refused(["pspo", "show", "NOPE"], register_db)


def test_equipment_and_checks_from_the_command_line(register_db, tmp_path) -> None:
    out = ok(["equipment", "add", "--asset-id", "CLI-TL-1", "--type", "throwline", "--site",
              "Staines Bridge steps", "--grid-ref", "TQ 036 715", "--river", "River Thames"],
             register_db)
    assert "(E 503650, N 171550)" in out
    this_month = date.today().strftime("%Y-%m")
    due = json.loads(ok(["checks", "due", "--month", this_month, "--json"], register_db))
    assert "CLI-TL-1" in [d["asset_id"] for d in due["due"]]
    logged = json.loads(ok(["checks", "log", "CLI-TL-1", "--outcome", "damaged", "--by",
                            "J. Smith", "--action", "reported", "--notes", "rope frayed",
                            "--json"], register_db))
    fixed = ok(["checks", "log", "CLI-TL-1", "--outcome", "serviceable", "--by", "J. Smith",
                "--corrects", str(logged["id"])], register_db)
    assert f"Logged correction of check {logged['id']}" in fixed
    due = json.loads(ok(["checks", "due", "--month", this_month, "--json"], register_db))
    assert "CLI-TL-1" not in [d["asset_id"] for d in due["due"]]
    history = tmp_path / "history.csv"
    ok(["checks", "export", "--asset", "CLI-TL-1", "--out", str(history)], register_db)
    rows = list(csv.DictReader(io.StringIO(history.read_text())))
    assert [r["outcome"] for r in rows] == ["damaged", "serviceable"]
    assert [r["counts"] for r in rows] == ["False", "True"]
    assert len(check_history(register_db.engine, "CLI-TL-1")) == 2
    assert "no item 'CLI-NOPE'" in refused(["checks", "log", "CLI-NOPE", "--outcome",
                                             "missing", "--by", "me"], register_db)
    assert "not one of" in refused(["checks", "log", "CLI-TL-1", "--outcome", "grand", "--by",
                                    "me"], register_db)
    assert "in the future" in refused(["checks", "log", "CLI-TL-1", "--outcome", "missing",
                                       "--by", "me", "--at", "2099-01-01 10:00"], register_db)
    assert "not a month" in refused(["checks", "due", "--month", "2026-13"], register_db)


def test_imports_report_rows_set_aside(register_db, tmp_path) -> None:
    sheet = tmp_path / "equipment.csv"
    sheet.write_text("Asset ID,Type,Site,Latitude,Longitude\n"
                     "CLI-TR-1,lifebuoy,Lammas Park,51.4290,-0.5160\n"
                     "CLI-TR-2,paddle,Lammas Park,51.4291,-0.5161\n", encoding="utf-8")
    out = ok(["equipment", "import", str(sheet)], register_db)
    assert "equipment.csv: 1 added, 0 already in the register, 1 set aside" in out
    assert "row 3, column Type: 'paddle' is not a kind of equipment" in out
    summary = json.loads(ok(["equipment", "import", str(sheet), "--json"], register_db))
    assert (summary["accepted"], summary["duplicates"], summary["rejected"]) == (0, 1, 1)
    bad = tmp_path / "checks.csv"
    bad.write_bytes(b"%PDF-1.4 not a spreadsheet")
    done = run_cli(["checks", "import", str(bad)], register_db.url)
    assert done.returncode == 1 and "refused: this is not a CSV file" in done.stdout


def test_terminal_control_characters_in_user_text_are_shown_escaped(register_db) -> None:
    ok(["equipment", "add", "--asset-id", "CLI-ESC", "--type", "sign", "--site",
        "Bridge \x1b[2J\x1b[31mred", "--lat", "51.4318", "--lon", "-0.5131"], register_db)
    listed = ok(["equipment", "list"], register_db)
    line = next(x for x in listed.splitlines() if x.startswith("CLI-ESC"))
    assert "\x1b" not in line
    assert "Bridge \\x1b[2J\\x1b[31mred" in line
    stored = json.loads(ok(["equipment", "list", "--json"], register_db))
    assert next(i for i in stored if i["asset_id"] == "CLI-ESC")["site"] == \
        "Bridge \x1b[2J\x1b[31mred"  # stored as given
