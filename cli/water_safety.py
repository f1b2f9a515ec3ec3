"""`hotspots equipment|checks …`: the water-safety equipment register and its monthly
checks."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from cli.common import cli_user, database, echo_json, printable, records, write_output


def _echo_import(result, as_json: bool) -> None:
    if as_json:
        summary = result.summary()
        summary["rejected_rows"] = [
            {k: r[k] for k in ("file", "row", "column", "reason")}
            for r in result.rejected.to_dict("records")]
        echo_json(summary)
    elif result.error:
        click.echo(f"{printable(result.file)}: refused: {printable(result.error)}")
    else:
        click.echo(f"{printable(result.file)}: {len(result.accepted):,} added, "
                   f"{result.duplicates:,} already in the register, {len(result.rejected):,} "
                   "set aside")
        for row in result.rejected.to_dict("records"):
            click.echo(f"  row {row['row']}, column {printable(row['column']) or '-'}: "
                       f"{printable(row['reason'])}")
    if result.error:
        sys.exit(1)



# ---------------------------------------------------------------- equipment


@click.group()
def equipment() -> None:
    """The water-safety equipment register: throwlines, throw-rings, signage."""


@equipment.command("add")
@click.option("--asset-id", required=True)
@click.option("--type", "kind", required=True,
              help="throwline, throw-ring (lifebuoy), signage or other.")
@click.option("--site", required=True, help="Where it is, in words.")
@click.option("--lat", "latitude", help="Latitude (with --lon).")
@click.option("--lon", "longitude", help="Longitude (with --lat).")
@click.option("--easting", help="OS easting (with --northing).")
@click.option("--northing", help="OS northing (with --easting).")
@click.option("--grid-ref", "grid_reference", help="OS grid reference, e.g. 'TQ 036 715'.")
@click.option("--river")
@click.option("--installed", "installed_on", help="Date installed.")
@click.option("--owner")
@click.option("--notes")
def equipment_add(**values) -> None:
    """Add one item (placed by lat/lon, easting/northing or grid reference)."""
    from registers.equipment import add_item, list_items

    engine = database()
    add_item(engine, values, cli_user())
    item = list_items(engine).set_index("asset_id").loc[values["asset_id"].strip()]
    click.echo(f"Added {printable(values['asset_id'])} ({item['kind_label']}) at "
               f"{item['lat']:.6f}, {item['lon']:.6f} (E {item['easting']:.0f}, N "
               f"{item['northing']:.0f})")


@equipment.command("list")
@click.option("--area", help="Borough name or code.")
@click.option("--active-only", is_flag=True, help="Leave out retired items.")
@click.option("--json", "as_json", is_flag=True)
def equipment_list(area, active_only, as_json) -> None:
    """Every item, retired ones marked."""
    from geo.areas import resolve_area
    from registers.equipment import list_items

    engine = database()
    code = resolve_area(engine, area).code if area else None
    items = list_items(engine, code, include_retired=not active_only)
    if as_json:
        echo_json(records(items.drop(columns="geometry")))
        return
    for row in items.to_dict("records"):
        state = "" if row["active"] else f" (retired {row['retired_on']})"
        example = " [EXAMPLE]" if row["example"] else ""
        click.echo(f"{printable(row['asset_id'])}{example}  {row['kind_label']} at "
                   f"{printable(row['site'])}{state}")
    click.echo(f"{len(items)} items")


@equipment.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True)
def equipment_import(file, as_json) -> None:
    """Import an equipment list (CSV); bad rows are set aside with row, column and reason."""
    from registers.imports import import_equipment

    _echo_import(import_equipment(database(), file, cli_user()), as_json)


@equipment.command("export")
@click.option("--area", help="Borough name or code.")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help=".csv or .geojson")
def equipment_export(area, out) -> None:
    """The register (retired items too) as CSV or GeoJSON."""
    from geo.areas import resolve_area
    from registers.equipment import list_items
    from registers.export import equipment_csv, equipment_geojson

    engine = database()
    items = list_items(engine, resolve_area(engine, area).code if area else None)
    path = Path(out)
    write_output(path, equipment_csv(items) if path.suffix.lower() == ".csv" else
                 equipment_geojson(items))
    click.echo(f"Wrote {len(items)} items to {path}")


@equipment.command("retire")
@click.argument("asset_id")
@click.option("--on", "on_day", required=True, help="Date retired.")
@click.option("--reason", required=True)
def equipment_retire(asset_id, on_day, reason) -> None:
    """Retire an item: kept in the register and its history, no longer due for checks."""
    from registers.equipment import retire_item

    retire_item(database(), asset_id, on_day, reason, cli_user())
    click.echo(f"Retired {printable(asset_id)} from {on_day}")


# ---------------------------------------------------------------- checks


@click.group()
def checks() -> None:
    """Monthly checks of the water-safety equipment."""


@checks.command("log")
@click.argument("asset_id")
@click.option("--outcome", required=True, help="serviceable, damaged, missing, vandalised, "
              "lock-broken or signage-damaged.")
@click.option("--by", "checked_by", required=True, help="Who checked.")
@click.option("--at", "checked_at", help="When: 'YYYY-MM-DD HH:MM' (default: now).")
@click.option("--action", default="none", show_default=True, help="none, replaced, reported.")
@click.option("--notes")
@click.option("--photo", type=click.Path(exists=True, dir_okay=False), help="JPEG or PNG.")
@click.option("--corrects", type=int, help="The id of a check this one corrects.")
@click.option("--json", "as_json", is_flag=True)
def checks_log(asset_id, outcome, checked_by, checked_at, action, notes, photo, corrects,
               as_json) -> None:
    """Log one check (or a correction of an earlier one)."""
    from datetime import datetime

    from registers.checks import log_check

    photo_bytes = Path(photo).read_bytes() if photo else None
    logged = log_check(database(), asset_id=asset_id,
                       checked_at=checked_at or datetime.now(), checked_by=checked_by,
                       outcome=outcome, action=action, notes=notes, photo=photo_bytes,
                       photo_name=Path(photo).name if photo else None, corrects=corrects,
                       source="command line", recorded_by=cli_user())
    if as_json:
        echo_json({"id": logged.id, "asset_id": logged.asset_id})
        return
    what = f"correction of check {corrects}" if corrects else "check"
    click.echo(f"Logged {what} {logged.id} for {printable(logged.asset_id)}")


@checks.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True)
def checks_import(file, as_json) -> None:
    """Import past checks (CSV); bad rows are set aside with row, column and reason."""
    from registers.imports import import_checks

    _echo_import(import_checks(database(), file, cli_user()), as_json)


@checks.command("due")
@click.option("--month", help="YYYY-MM (default: this month).")
@click.option("--area", help="Borough name or code.")
@click.option("--all", "show_all", is_flag=True, help="Every item, not just those to act on.")
@click.option("--json", "as_json", is_flag=True)
def checks_due(month, area, show_all, as_json) -> None:
    """Items not yet checked this month, and items whose last check found a problem."""
    from geo.areas import resolve_area
    from registers.checks import due_report

    engine = database()
    code = resolve_area(engine, area).code if area else None
    report = due_report(engine, month, code)
    shown = report if show_all else report[report["needs_check"] | report["attention"]]
    if as_json:
        columns = ["asset_id", "kind", "site", "river", "area_code", "lat", "lon", "state",
                   "state_label", "needs_check", "attention", "last_check_id",
                   "last_checked_at", "last_checked_by", "last_outcome", "last_action",
                   "example"]
        echo_json({"month": month or report.attrs.get("month"), "items": int(len(report)),
               "to_check": int(report["needs_check"].sum()),
               "needing_attention": int(report["attention"].sum()),
               "due": records(shown[columns])})
        return
    click.echo(f"{len(report)} items in service: {int(report['needs_check'].sum())} not "
               f"checked this month, {int(report['attention'].sum())} needing attention")
    for row in shown.to_dict("records"):
        last = "never checked" if row["last_checked_at"] is None or \
            row["last_checked_at"] != row["last_checked_at"] else \
            f"last {row['last_checked_at']:%Y-%m-%d}: {row['last_outcome_label']}"
        click.echo(f"  {printable(row['asset_id']):<12} {row['state_label']:<28} "
                   f"{printable(row['site'])} ({last})")


@checks.command("export")
@click.option("--asset", "asset_id", help="One item's history only.")
@click.option("--from", "month_from", help="YYYY-MM")
@click.option("--to", "month_to", help="YYYY-MM")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help=".csv file")
def checks_export(asset_id, month_from, month_to, out) -> None:
    """The whole check history (corrected checks marked) as CSV, for audit and insurance."""
    from registers.export import history_csv

    body, rows = history_csv(database(), asset_id, month_from, month_to)
    write_output(out, body)
    click.echo(f"Wrote {rows} checks to {out}")




COMMANDS = (equipment, checks)
