"""What every command shares: the database from the environment, month options, the incident
selection, crime-type names, safe printing of user text and the output shapes (JSON or lines
of a table, GeoJSON or CSV files)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import click

from core.errors import UserError

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def database():
    """The configured database (HOTSPOTS_DATABASE_URL), migrated. The URL is passed explicitly:
    `get_engine()` without one is cached under no key and would keep the first URL of the
    process (the tests run many databases in one)."""
    from store.db import database_url, get_engine, migrate

    url = database_url()
    migrate(url)
    return get_engine(url)


class OutputError(UserError):
    """A file named on the command line that cannot be written (no such folder, no
    permission)."""


def write_output(path: str | Path, data: str | bytes) -> None:
    """Write a command's output file (text as UTF-8); OutputError when it cannot be."""
    path = Path(path)
    try:
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8")
    except OSError as exc:
        raise OutputError(str(exc)) from None


def cli_user() -> str:
    """Who runs the command, for `recorded_by` (the app records the signed-in user)."""
    from registers.common import command_line_user

    return command_line_user()


def check_month(_ctx, param, value: str | None) -> str | None:
    """Click callback: a YYYY-MM month, or a usage error."""
    if value is not None and not MONTH.match(value):
        raise click.BadParameter(f"'{value}' is not a month in YYYY-MM form (e.g. 2024-01)",
                                 param=param)
    return value


def check_months(ctx, param, values: tuple[str, ...]) -> tuple[str, ...]:
    """Click callback: several YYYY-MM months."""
    return tuple(check_month(ctx, param, v) for v in values)


def selection_options(command):
    """--area, --from, --to and --crime-type: how every analysis command selects incidents."""
    for option in reversed([
        click.option("--area", required=True, help="Borough name (any case) or ONS code."),
        click.option("--from", "month_from", required=True, callback=check_month,
                     help="YYYY-MM"),
        click.option("--to", "month_to", required=True, callback=check_month, help="YYYY-MM"),
        click.option("--crime-type", "crime_types", multiple=True,
                     help="Repeat for several."),
    ]):
        command = option(command)
    return command


def crime_type_lines(crime_types: tuple[str, ...]) -> list[str] | None:
    """Crime types for a per-type table: 'all' (any case) is the all-crime line
    (core.themes.ALL_CRIME); None when none were given (all crime, then each type)."""
    from core.themes import ALL_CRIME

    if not crime_types:
        return None
    return [ALL_CRIME if t.lower() in ("all", ALL_CRIME.lower()) else t for t in crime_types]


def printable(value: object) -> str:
    """User text as it is safe to print: control characters (terminal escapes) made visible."""
    text = "" if value is None or (isinstance(value, float) and value != value) else str(value)
    return CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def echo_json(value) -> None:
    """Print one JSON document (dates and other values as text)."""
    click.echo(json.dumps(value, default=str))


def records(frame) -> list[dict]:
    """A table as JSON-ready records (dates ISO)."""
    return json.loads(frame.to_json(orient="records", date_format="iso", default_handler=str))


def progress_bar():
    """A progress callback (fraction, message) drawing a bar on stderr."""
    from tqdm import tqdm

    bar = tqdm(total=1000, file=sys.stderr, bar_format="{l_bar}{bar}| {desc}", leave=True)

    def update(fraction: float, message: str) -> None:
        bar.n = int(fraction * 1000)
        bar.set_description_str(message, refresh=True)
        if fraction >= 1:
            bar.close()

    return update


def write_frame(frame, out: str) -> None:
    """A per-cell or per-place result to GeoJSON (WGS84) or CSV (formulas guarded)."""
    from core.safe_text import safe_csv
    from geo.crs import WGS84

    path = Path(out)
    if path.suffix.lower() == ".csv":
        centres = frame.geometry.centroid.to_crs(WGS84)
        table = frame.drop(columns="geometry").assign(
            centroid_lat=centres.y.round(6), centroid_lon=centres.x.round(6))
        write_output(path, safe_csv(table))
    else:
        write_output(path, frame.to_crs(WGS84).to_json(drop_id=True))
    click.echo(f"Wrote {len(frame)} rows to {path}")


def echo_set_aside(rejected) -> None:
    """Print rows or features set aside, one line each, to stderr."""
    for _, r in rejected.iterrows():
        where = f"feature {r['feature']}" if "feature" in r else f"row {r['row']}"
        column = r.get("field", r.get("column", "")) or "-"
        click.echo(f"  set aside: {r['file']} {where} [{column}]: {r['reason']}", err=True)
