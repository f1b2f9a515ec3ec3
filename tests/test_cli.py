"""The command line as a whole: one root group (cli.main) holding every command group, the
library's refusals (core.errors.UserError) printed once as "Error: ..." with exit 1, the shared
helpers, and a few end-to-end runs of the installed `hotspots` script and `python -m cli`
(every other CLI test runs the commands in-process with click's CliRunner)."""

from __future__ import annotations

import json
import sys

import pytest
from click.testing import CliRunner

from cli.common import crime_type_lines, printable
from cli.main import UserErrorGroup, main
from core.errors import UserError
from core.themes import ALL_CRIME
from tests.sample_data import run_cli, run_installed

GROUPS = ["setup", "ingest", "rejects", "areas", "layers", "detect", "evaluate", "repeats",
          "change", "classify", "rates", "near-repeat", "stability", "summary", "compare",
          "concentration", "incidents", "assess", "themes", "overview", "pspo", "equipment",
          "checks", "problems", "users", "restricted", "audit"]


def listed_commands(help_text: str) -> set[str]:
    lines = help_text.split("Commands:", 1)[1].splitlines()
    return {line.split()[0] for line in lines if line.strip()}


def test_every_command_group_is_under_one_root() -> None:
    assert set(main.commands) == set(GROUPS)
    done = CliRunner().invoke(main, ["--help"])
    assert done.exit_code == 0 and listed_commands(done.output) == set(GROUPS)


def test_every_user_error_is_one_line_and_exit_1() -> None:
    """The root catches UserError (and only it): every library refusal is a UserError, and
    anything else is a bug that keeps its traceback."""
    from access.accounts import AccountError, SignInFailed
    from access.roles import AccessDenied
    from core.import_result import FileImportError
    from core.uploads import UploadRefused
    from geo.areas import UnknownAreaError
    from geo.gridref import GridReferenceError
    from geo.layer_files import LayerError
    from geo.points import LocationError
    from geo.postcodes import PostcodesMissing
    from hotspots.result import HotspotInputError
    from registers.common import RegisterError
    from report.briefing import BriefingError
    from report.compare import TargetError
    from report.theme_mapping import ThemeError

    others = {AccountError: ValueError, AccessDenied: PermissionError,
              UnknownAreaError: LookupError, GridReferenceError: ValueError,
              LayerError: ValueError, LocationError: ValueError, UploadRefused: ValueError,
              HotspotInputError: ValueError, RegisterError: ValueError,
              BriefingError: ValueError, TargetError: ValueError, ThemeError: ValueError,
              PostcodesMissing: FileNotFoundError, SignInFailed: Exception,
              FileImportError: Exception}
    for error, other in others.items():
        assert issubclass(error, UserError) and issubclass(error, other), error

    root = UserErrorGroup("hotspots", commands={})

    @root.command()
    def refuse() -> None:
        raise UnknownAreaError("no area called Nowhere")

    @root.command()
    def crash() -> None:
        raise RuntimeError("a bug")

    done = CliRunner().invoke(root, ["refuse"])
    assert done.exit_code == 1 and done.stderr == "Error: no area called Nowhere\n"
    done = CliRunner().invoke(root, ["crash"])
    assert done.exit_code == 1 and isinstance(done.exception, RuntimeError)


def test_crime_type_lines_and_printable() -> None:
    assert crime_type_lines(()) is None
    assert crime_type_lines(("all", "ALL CRIME AND ASB", "Burglary")) == [
        ALL_CRIME, ALL_CRIME, "Burglary"]
    assert printable("a\x1b[31mb") == "a\\x1b[31mb" and printable(None) == ""


def test_refusals_in_process(sample_db) -> None:
    done = run_cli(["summary", "--area", "Nowhere", "--by", "ward", "--from", "2023-01",
                    "--to", "2023-12"], sample_db.url)
    assert done.returncode == 1 and done.stderr.startswith("Error: ")
    assert "Nowhere" in done.stderr and "Traceback" not in done.stderr
    done = run_cli(["overview", "--area", "Spelthorne", "--month", "2023-12", "--target",
                    "ASB=halve"], sample_db.url)
    assert done.returncode == 1 and "is not a target" in done.stderr
    done = run_cli(["detect", "--area", "Spelthorne", "--from", "2023-13", "--to", "2023-12",
                    "--out", "x.geojson"], sample_db.url)
    assert done.returncode == 2 and "is not a month in YYYY-MM form" in done.stderr
    done = run_cli(["themes", "export", "--out", "/no/such/folder/mapping.csv"], sample_db.url)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith("Error: [Errno 2] No such file or directory")
    assert "Traceback" not in done.stderr


def test_the_installed_script_end_to_end(fresh_db) -> None:
    """The real `hotspots` script: help lists every group; setup makes a database the other
    commands read; a refusal is one line with exit 1."""
    done = run_installed(["--help"], fresh_db.url)
    assert done.returncode == 0 and listed_commands(done.stdout) == set(GROUPS)
    done = run_installed(["setup", "--no-sample"], fresh_db.url,
                         env={"HOTSPOTS_ADMIN_PASSWORD": "a long enough password 1"})
    assert done.returncode == 0, done.stderr
    assert "Boundary and river features loaded" in done.stdout
    done = run_installed(["areas"], fresh_db.url)
    assert done.returncode == 0 and "E07000213\tSpelthorne" in done.stdout
    done = run_installed(["users", "list", "--json"], fresh_db.url)
    assert [u["role"] for u in json.loads(done.stdout)] == ["admin"]
    done = run_installed(["concentration", "--area", "Atlantis", "--from", "2023-01",
                          "--to", "2023-02"], fresh_db.url)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith("Error: ") and done.stderr.count("\n") == 1, done.stderr


@pytest.mark.parametrize("args", [["--help"], ["layers", "--help"]])
def test_python_dash_m_cli(fresh_db, args) -> None:
    done = run_installed(args, fresh_db.url, command=[sys.executable, "-m", "cli"])
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Usage: hotspots ")
    if args == ["--help"]:
        assert listed_commands(done.stdout) == set(GROUPS)


def test_the_commands_and_the_app_share_one_library_function(sample_db, tmp_path) -> None:
    """`concentration` and `incidents` print what report.concentration.area_concentration and
    report.incidents.incidents_in_context (the app's calls) return."""
    import csv

    from report.concentration import area_concentration
    from report.incidents import incidents_in_context

    selection = ["--area", "Runnymede", "--from", "2023-06", "--to", "2023-08"]
    done = run_cli(["concentration", *selection, "--crime-type", "Shoplifting", "--json"],
                   sample_db.url)
    assert done.returncode == 0, done.stderr
    table = area_concentration(sample_db.engine, "runnymede", "2023-06", "2023-08",
                               ["Shoplifting"])
    assert [(r["crime_type"], r["incidents"]) for r in json.loads(done.stdout)] == list(
        zip(table["crime_type"], table["incidents"], strict=True))
    out = tmp_path / "incidents.csv"
    done = run_cli(["incidents", *selection, "--out", str(out)], sample_db.url)
    assert done.returncode == 0, done.stderr
    frame = incidents_in_context(sample_db.engine, "Runnymede", "2023-06", "2023-08")
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(frame) > 100 and f"Wrote {len(frame)} incidents" in done.stdout
    assert {"ward", "lsoa"} <= set(rows[0])


def test_prepare_database_is_safe_to_repeat(tmp_path, monkeypatch) -> None:
    """What the app does when it starts and `hotspots setup` does first: schema, bundled
    layers, first admin, once."""
    from access.accounts import list_users
    from registers.setup import prepare_database

    monkeypatch.setenv("HOTSPOTS_ADMIN_PASSWORD", "a long enough password 1")
    url = f"sqlite:///{tmp_path}/prepared.sqlite"
    first = prepare_database(url)
    assert first.layers_added > 0 and first.first_admin is not None
    assert first.first_admin.password is None  # given, so not shown
    again = prepare_database(url)
    assert again.layers_added == 0 and again.first_admin is None
    assert list(list_users(again.engine)["role"]) == ["admin"]
    again.engine.dispose()
