"""Helpers that read the bundled real data with the plain csv module, independently of the
code under test, and write corrupted copies of it for the bad-input tests."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
SAMPLE_POLICE = SAMPLE / "police"
BOUNDARIES = SAMPLE / "boundaries"
CODEPOINT_TW = SAMPLE / "postcodes" / "codepoint_open" / "Data" / "CSV" / "tw.csv"
HOTSPOTS_CLI = Path(sys.executable).with_name("hotspots")
SPELTHORNE = "E07000213"


@dataclass
class Database:
    """A migrated test database: its URL (for the CLI) and engine (for the library)."""

    url: str
    engine: Engine
    report: Any = None
    backend: str = "sqlite"


def month_file(month: str) -> Path:
    """The bundled police.uk street file of one month."""
    return SAMPLE_POLICE / month / f"{month}-surrey-street.csv"


def read_police(month: str) -> tuple[list[str], list[list[str]]]:
    """Header and records of a bundled police.uk file, read with the csv module."""
    with month_file(month).open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        return header, [row for row in reader]


def police_dicts(month: str) -> list[dict[str, str]]:
    """Records of a bundled police.uk file as dicts keyed by column name."""
    header, rows = read_police(month)
    return [dict(zip(header, row, strict=True)) for row in rows]


def has_coordinates(row: dict[str, str]) -> bool:
    """True where a police.uk record has both a longitude and a latitude."""
    return bool(row["Longitude"].strip() and row["Latitude"].strip())


def csv_bytes(header: list[str], rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    """CSV text as police.uk writes it (CRLF line ends), encoded as asked."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def write_csv(path: Path, header: list[str], rows: list[list[str]],
              encoding: str = "utf-8") -> Path:
    """Write rows to `path` as CSV and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(csv_bytes(header, rows, encoding))
    return path


def codepoint_rows(prefix: str) -> list[dict[str, Any]]:
    """Code-Point Open records (no header) whose postcode starts with `prefix`."""
    found = []
    with CODEPOINT_TW.open(encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle):
            if row[0].startswith(prefix):
                found.append({"postcode": row[0], "quality": int(row[1]),
                              "easting": int(row[2]), "northing": int(row[3]),
                              "district": row[8]})
    return found


def run_cli(args: list[str], database_url: str, cwd: Path | None = None,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run a `hotspots` command in this process with click's CliRunner against the given
    database (`env` adds environment variables), answering as a finished process would:
    returncode, stdout and stderr (with the traceback of an unexpected exception, as Python
    prints it)."""
    import contextlib
    import traceback

    from click.testing import CliRunner

    from cli.main import main

    variables: dict[str, str | None] = {**(env or {}), "HOTSPOTS_DATABASE_URL": database_url,
                                        "HOTSPOTS_POSTCODES": None}
    with contextlib.chdir(cwd or ROOT):
        result = CliRunner().invoke(main, args, env=variables, prog_name="hotspots")
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(result.exception))
    return subprocess.CompletedProcess(["hotspots", *args], result.exit_code, result.stdout,
                                       stderr)


def run_installed(args: list[str], database_url: str, cwd: Path | None = None,
                  env: dict[str, str] | None = None,
                  command: list[str] | None = None) -> subprocess.CompletedProcess:
    """Run the installed `hotspots` script (or `command`, e.g. [python, "-m", "cli"]) in a
    process of its own against the given database: the end-to-end runs."""
    env = {**os.environ, **(env or {})}
    env["HOTSPOTS_DATABASE_URL"] = database_url
    env.pop("HOTSPOTS_POSTCODES", None)
    return subprocess.run([*(command or [str(HOTSPOTS_CLI)]), *args], capture_output=True,
                          text=True, env=env, cwd=cwd or ROOT, timeout=120)
