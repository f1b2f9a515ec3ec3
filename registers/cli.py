"""`hotspots pspo|equipment|checks|problems …`: the registers from the command line, a thin
layer over the same functions as the app. Text entered by users is printed with control characters
shown as escapes, so a note cannot drive the terminal."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import click

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(value: object) -> str:
    """User text as it is safe to print: control characters (terminal escapes) made visible."""
    text = "" if value is None or (isinstance(value, float) and value != value) else str(value)
    return CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _engine():
    from store.db import get_engine, migrate

    migrate()
    return get_engine()


def _user() -> str:
    from registers.common import command_line_user

    return command_line_user()


def _json(value) -> None:
    click.echo(json.dumps(value, default=str))


def _records(frame) -> list[dict]:
    return json.loads(frame.to_json(orient="records", date_format="iso", default_handler=str))


def _echo_import(result, as_json: bool) -> None:
    if as_json:
        summary = result.summary()
        summary["rejected_rows"] = [
            {k: r[k] for k in ("file", "row", "column", "reason")}
            for r in result.rejected.to_dict("records")]
        _json(summary)
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


# ---------------------------------------------------------------- PSPOs


@click.group()
def pspo() -> None:
    """The PSPO register: orders, their areas, conditions, expiry and reviews."""


def _conditions(prohibits: tuple[str, ...], requires: tuple[str, ...]):
    from registers.pspo import Condition

    return [Condition.parse("prohibition", p) for p in prohibits] + \
        [Condition.parse("requirement", r) for r in requires]


CONDITION_HELP = ("Repeat for several. 'WORDING | times: 20:00-06:00 | exempt: WHO' (times and "
                  "exemptions optional).")


@pspo.command("add")
@click.option("--area", required=True, help="Borough name or ONS code.")
@click.option("--reference", required=True, help="The council's reference for the order.")
@click.option("--name", required=True, help="The order's name, e.g. 'Addlestone Town Centre'.")
@click.option("--file", "area_file", required=True, type=click.Path(exists=True, dir_okay=False),
              help="The order's map: GeoJSON, KML, GeoPackage or zipped Shapefile.")
@click.option("--feature", help="The feature (by name) in a file holding several; default: all "
              "merged.")
@click.option("--made", required=True, help="Date made, YYYY-MM-DD or DD/MM/YYYY.")
@click.option("--expires", required=True, help="Expiry: at most 3 years after it was made.")
@click.option("--prohibits", multiple=True, help=CONDITION_HELP)
@click.option("--requires", multiple=True, help=CONDITION_HELP)
@click.option("--review-every", type=int, default=42, show_default=True,
              help="Review cadence in days (six-weekly JAG: 42).")
@click.option("--url", help="Link to the published order.")
@click.option("--consultation", help="Consultation notes.")
@click.option("--publication", help="Publication notes.")
def pspo_add(area, reference, name, area_file, feature, made, expires, prohibits, requires,
             review_every, url, consultation, publication) -> None:
    """Add an order to the register (refused if its expiry is more than 3 years away)."""
    from registers.pspo import add_order, get_order, read_area_file

    engine = _engine()
    geometry, source = read_area_file(area_file, feature)
    order_id = add_order(engine, area=area, reference=reference, name=name, geometry=geometry,
                         area_source=source, made_on=made, expires_on=expires,
                         conditions=_conditions(prohibits, requires),
                         review_every_days=review_every, published_url=url,
                         consultation_notes=consultation, publication_notes=publication,
                         recorded_by=_user())
    record = get_order(engine, order_id)
    click.echo(f"Added {printable(reference)} ({printable(name)}) for {record.area_name}: "
               f"{record.status} until {record.order['expires_on']}; next review due "
               f"{record.next_review}")
    for alert in record.alerts:
        click.echo(f"  ! {alert}")


@pspo.command("list")
@click.option("--area", help="Borough name or code (default: all).")
@click.option("--json", "as_json", is_flag=True)
def pspo_list(area, as_json) -> None:
    """Every order with its status, expiry, next review and alerts."""
    from registers.export import orders_table
    from registers.pspo import list_orders

    engine = _engine()
    orders = list_orders(engine, area)
    table = orders_table(engine, orders)
    if as_json:
        _json(_records(table))
        return
    if table.empty:
        click.echo("No orders in the register yet: `hotspots pspo add …`")
    for row in table.to_dict("records"):
        example = " [EXAMPLE]" if row["example"] else ""
        click.echo(f"{printable(row['reference'])}{example}  {printable(row['name'])} "
                   f"({row['area']}): {row['status']}, made {row['made_on']}, expires "
                   f"{row['expires_on']}" + (f", next review {row['next_review']}"
                                            if row["next_review"] else ""))
        for alert in filter(None, str(row["alerts"]).split("; ")):
            click.echo(f"    ! {alert}")


@pspo.command("show")
@click.argument("reference")
@click.option("--area", help="Borough, where two use the same reference.")
@click.option("--crime-type", "crime_types", multiple=True, help="Repeat for several.")
@click.option("--json", "as_json", is_flag=True)
def pspo_show(reference, area, crime_types, as_json) -> None:
    """One order: conditions, history, and incidents inside it before and after it was made."""
    from registers.pspo import find_order_id, get_order
    from registers.pspo_incidents import order_incidents

    engine = _engine()
    order_id = find_order_id(engine, reference, area)
    record = get_order(engine, order_id)
    incidents = order_incidents(engine, order_id, list(crime_types) or None)
    if as_json:
        order = {k: v for k, v in record.order.items()}
        _json({"order": order, "area_name": record.area_name, "status": record.status,
               "alerts": record.alerts, "conditions": _records(record.conditions),
               "events": _records(record.events), "area": record.area.__geo_interface__,
               "incidents": {"made_month": incidents.made_month,
                             "months_before": incidents.months_before,
                             "months_after": incidents.months_after,
                             "by_type": _records(incidents.by_type),
                             "by_month": _records(incidents.by_month),
                             "notes": incidents.notes}})
        return
    o = record.order
    click.echo(f"{printable(o['reference'])}: {printable(o['name'])} ({record.area_name})"
               + (" [EXAMPLE]" if o["example"] else ""))
    click.echo(f"  {record.status}; made {o['made_on']}, expires {o['expires_on']}"
               + (f", discharged {o['discharged_on']}" if o["discharged_on"] else "")
               + (f"; next review due {record.next_review}" if record.next_review else ""))
    for alert in record.alerts:
        click.echo(f"  ! {alert}")
    if o["published_url"]:
        click.echo(f"  Published: {printable(o['published_url'])}")
    click.echo("Conditions:")
    for c in record.conditions.to_dict("records"):
        state = "" if c["active"] else " (no longer in the order)"
        extra = "".join(f"; {label} {printable(c[k])}" for k, label in
                        (("times", "times:"), ("exemptions", "exempt:")) if c[k])
        click.echo(f"  {c['kind']}: {printable(c['wording'])}{extra}{state}")
    click.echo("History:")
    for e in record.events.to_dict("records"):
        expiry = f" (expires {e['expires_on']})" if e["expires_on"] else ""
        click.echo(f"  {e['happened_on']} {e['kind']}{expiry}: {printable(e['notes'])} "
                   f"[{printable(e['recorded_by'])}]")
    click.echo(f"Incidents inside the area (made {incidents.made_month}):")
    click.echo(f"  {'crime type':<30}{'before':>8}{'after':>8}{'/month before':>15}"
               f"{'/month after':>14}{'change':>9}")
    for r in incidents.by_type.to_dict("records"):
        change = "NA" if r["change_pct"] != r["change_pct"] else f"{r['change_pct']:+.0f}%"
        star = " *" if r["significant"] else ""
        click.echo(f"  {r['crime_type']:<30}{r['before']:>8}{r['after']:>8}"
                   f"{r['before_per_month']:>15}{r['after_per_month']:>14}{change:>9}{star}")
    for note in incidents.notes:
        click.echo(f"  {note}")


@pspo.command("export")
@click.option("--area", help="Borough name or code (default: all).")
@click.option("--out", required=True, type=click.Path(dir_okay=False),
              help=".geojson (areas and fields) or .csv (areas as WKT)")
def pspo_export(area, out) -> None:
    """The register's orders with their areas, for publication or a GIS."""
    from registers.export import orders_csv, orders_geojson
    from registers.pspo import list_orders

    engine = _engine()
    orders = list_orders(engine, area)
    path = Path(out)
    body = orders_csv(engine, orders) if path.suffix.lower() == ".csv" else \
        orders_geojson(engine, orders)
    path.write_text(body, encoding="utf-8")
    click.echo(f"Wrote {len(orders)} orders to {path}")


@pspo.command("extend")
@click.argument("reference")
@click.option("--area", help="Borough, where two use the same reference.")
@click.option("--on", "on_day", required=True, help="Date of the extension.")
@click.option("--to", "new_expiry", required=True, help="New expiry (at most 3 years later).")
@click.option("--notes")
def pspo_extend(reference, area, on_day, new_expiry, notes) -> None:
    """Record an extension (before the order expires; at most 3 years from the extension)."""
    from registers.pspo import extend_order, find_order_id

    engine = _engine()
    extend_order(engine, find_order_id(engine, reference, area), on=on_day,
                 expires_on=new_expiry, notes=notes, recorded_by=_user())
    click.echo(f"Extended {printable(reference)} to {new_expiry}")


@pspo.command("vary")
@click.argument("reference")
@click.option("--area", help="Borough, where two use the same reference.")
@click.option("--on", "on_day", required=True, help="Date of the variation.")
@click.option("--notes", required=True, help="What the variation changed.")
@click.option("--file", "area_file", type=click.Path(exists=True, dir_okay=False),
              help="The varied map, where the area changed.")
@click.option("--feature", help="The feature (by name) in a file holding several.")
@click.option("--prohibits", multiple=True, help="The new conditions (replace the old ones).")
@click.option("--requires", multiple=True, help="The new conditions (replace the old ones).")
def pspo_vary(reference, area, on_day, notes, area_file, feature, prohibits, requires) -> None:
    """Record a variation: notes, and a new area and/or new conditions where they changed."""
    from registers.pspo import find_order_id, read_area_file, vary_order

    engine = _engine()
    geometry, source = read_area_file(area_file, feature) if area_file else (None, None)
    conditions = _conditions(prohibits, requires) if (prohibits or requires) else None
    vary_order(engine, find_order_id(engine, reference, area), on=on_day, notes=notes,
               geometry=geometry, area_source=source, conditions=conditions,
               recorded_by=_user())
    click.echo(f"Recorded the variation of {printable(reference)} on {on_day}")


@pspo.command("review")
@click.argument("reference")
@click.option("--area", help="Borough, where two use the same reference.")
@click.option("--on", "on_day", required=True, help="Date of the review (e.g. the JAG).")
@click.option("--notes")
def pspo_review(reference, area, on_day, notes) -> None:
    """Record a review; the next falls due a cadence later."""
    from registers.pspo import find_order_id, get_order, review_order

    engine = _engine()
    order_id = find_order_id(engine, reference, area)
    review_order(engine, order_id, on=on_day, notes=notes, recorded_by=_user())
    click.echo(f"Recorded the review of {printable(reference)}; next due "
               f"{get_order(engine, order_id).next_review}")


@pspo.command("discharge")
@click.argument("reference")
@click.option("--area", help="Borough, where two use the same reference.")
@click.option("--on", "on_day", required=True, help="Date the council discharged it.")
@click.option("--notes")
def pspo_discharge(reference, area, on_day, notes) -> None:
    """Record that the order was discharged (it stays in the register)."""
    from registers.pspo import discharge_order, find_order_id

    engine = _engine()
    discharge_order(engine, find_order_id(engine, reference, area), on=on_day, notes=notes,
                    recorded_by=_user())
    click.echo(f"Recorded {printable(reference)} as discharged on {on_day}")


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

    engine = _engine()
    add_item(engine, values, _user())
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

    engine = _engine()
    code = resolve_area(engine, area).code if area else None
    items = list_items(engine, code, include_retired=not active_only)
    if as_json:
        _json(_records(items.drop(columns="geometry")))
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

    _echo_import(import_equipment(_engine(), file, _user()), as_json)


@equipment.command("export")
@click.option("--area", help="Borough name or code.")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help=".csv or .geojson")
def equipment_export(area, out) -> None:
    """The register (retired items too) as CSV or GeoJSON."""
    from geo.areas import resolve_area
    from registers.equipment import list_items
    from registers.export import equipment_csv, equipment_geojson

    engine = _engine()
    items = list_items(engine, resolve_area(engine, area).code if area else None)
    path = Path(out)
    path.write_text(equipment_csv(items) if path.suffix.lower() == ".csv" else
                    equipment_geojson(items), encoding="utf-8")
    click.echo(f"Wrote {len(items)} items to {path}")


@equipment.command("retire")
@click.argument("asset_id")
@click.option("--on", "on_day", required=True, help="Date retired.")
@click.option("--reason", required=True)
def equipment_retire(asset_id, on_day, reason) -> None:
    """Retire an item: kept in the register and its history, no longer due for checks."""
    from registers.equipment import retire_item

    retire_item(_engine(), asset_id, on_day, reason, _user())
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
    logged = log_check(_engine(), asset_id=asset_id,
                       checked_at=checked_at or datetime.now(), checked_by=checked_by,
                       outcome=outcome, action=action, notes=notes, photo=photo_bytes,
                       photo_name=Path(photo).name if photo else None, corrects=corrects,
                       source="command line", recorded_by=_user())
    if as_json:
        _json({"id": logged.id, "asset_id": logged.asset_id})
        return
    what = f"correction of check {corrects}" if corrects else "check"
    click.echo(f"Logged {what} {logged.id} for {printable(logged.asset_id)}")


@checks.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True)
def checks_import(file, as_json) -> None:
    """Import past checks (CSV); bad rows are set aside with row, column and reason."""
    from registers.imports import import_checks

    _echo_import(import_checks(_engine(), file, _user()), as_json)


@checks.command("due")
@click.option("--month", help="YYYY-MM (default: this month).")
@click.option("--area", help="Borough name or code.")
@click.option("--all", "show_all", is_flag=True, help="Every item, not just those to act on.")
@click.option("--json", "as_json", is_flag=True)
def checks_due(month, area, show_all, as_json) -> None:
    """Items not yet checked this month, and items whose last check found a problem."""
    from geo.areas import resolve_area
    from registers.checks import due_report

    engine = _engine()
    code = resolve_area(engine, area).code if area else None
    report = due_report(engine, month, code)
    shown = report if show_all else report[report["needs_check"] | report["attention"]]
    if as_json:
        columns = ["asset_id", "kind", "site", "river", "area_code", "lat", "lon", "state",
                   "state_label", "needs_check", "attention", "last_check_id",
                   "last_checked_at", "last_checked_by", "last_outcome", "last_action",
                   "example"]
        _json({"month": month or report.attrs.get("month"), "items": int(len(report)),
               "to_check": int(report["needs_check"].sum()),
               "needing_attention": int(report["attention"].sum()),
               "due": _records(shown[columns])})
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

    body, rows = history_csv(_engine(), asset_id, month_from, month_to)
    Path(out).write_text(body, encoding="utf-8")
    click.echo(f"Wrote {rows} checks to {out}")


@click.group()
def problems() -> None:
    """The JAG's problem locations (OSARA) and their partner actions."""


@problems.command("adopt")
@click.option("--area", required=True, help="Borough name or ONS code.")
@click.option("--name", required=True, help="A name the JAG will know it by.")
@click.option("--objective", required=True, help="What the partnership wants to achieve.")
@click.option("--hotspot", "rank", type=int, help="Adopt this hotspot's outline (its rank).")
@click.option("--from", "month_from", help="Hotspots: first month, YYYY-MM.")
@click.option("--to", "month_to", help="Hotspots: last month, YYYY-MM.")
@click.option("--method", default=None, help="Hotspots: the method (default: the app's).")
@click.option("--crime-type", "crime_types", multiple=True, help="Hotspots: repeat for several.")
@click.option("--file", "area_file", type=click.Path(exists=True, dir_okay=False),
              help="Or an outline file (GeoJSON, KML, GeoPackage, zipped Shapefile).")
@click.option("--feature", help="The feature (by name) in a file holding several.")
@click.option("--theme", help="The priority theme it serves.")
@click.option("--adopted", help="Date adopted (default: today).")
@click.option("--scanning", help="What the scanning found.")
def problems_adopt(area, name, objective, rank, month_from, month_to, method, crime_types,
                   area_file, feature, theme, adopted, scanning) -> None:
    """Adopt a hotspot (or an outline file) as a problem location."""
    from registers.problems import adopt_problem
    from registers.pspo import read_area_file

    engine = _engine()
    if (rank is None) == (area_file is None):
        raise click.UsageError("give either --hotspot RANK (with --from and --to) or --file")
    if rank is not None:
        from hotspots.analysis import DEFAULT_METHOD, find_hotspots
        from hotspots.profile import adoption_origin, hotspot_profile

        if not (month_from and month_to):
            raise click.UsageError("--hotspot needs --from and --to (the months it was found "
                                   "in)")
        report = find_hotspots(engine, area, month_from, month_to, list(crime_types) or None,
                               method or DEFAULT_METHOD)
        try:
            profile = hotspot_profile(report, rank)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        geometry, origin = profile.outline_wgs84, adoption_origin(report, rank)
    else:
        geometry, origin = read_area_file(area_file, feature)
    problem_id = adopt_problem(engine, area=area, name=name, geometry=geometry,
                               objective=objective, origin=origin, adopted_on=adopted,
                               theme=theme, scanning=scanning, recorded_by=_user())
    click.echo(f"Adopted {printable(name)} (id {problem_id}) from {printable(origin)}")


@problems.command("list")
@click.option("--area", help="Borough name or code (default: all).")
@click.option("--json", "as_json", is_flag=True)
def problems_list(area, as_json) -> None:
    """Every problem location with its open and overdue actions."""
    from registers.problems import list_problems

    table = list_problems(_engine(), area).drop(columns="geometry")
    if as_json:
        _json(_records(table))
        return
    if table.empty:
        click.echo("No problem locations yet: `hotspots problems adopt …`")
    for row in table.to_dict("records"):
        click.echo(f"{printable(row['name'])} ({row['area']}): {row['status']}, adopted "
                   f"{row['adopted_on']}; {row['open_actions']} open actions, "
                   f"{row['overdue_actions']} overdue")


@problems.command("show")
@click.argument("name")
@click.option("--area", help="Borough, where two use the same name.")
@click.option("--json", "as_json", is_flag=True)
def problems_show(name, area, as_json) -> None:
    """OSARA, actions, history and the incidents before and since adoption."""
    from registers.place_incidents import ALL
    from registers.problems import OSARA, find_problem_id, get_problem, problem_incidents

    engine = _engine()
    problem_id = find_problem_id(engine, name, area)
    record = get_problem(engine, problem_id)
    counted = problem_incidents(engine, problem_id)
    if as_json:
        _json({"problem": record.problem, "actions": _records(record.actions),
               "events": _records(record.events.drop(columns="changes")),
               "incidents": _records(counted.by_type)})
        return
    p = record.problem
    click.echo(f"{printable(p['name'])} ({record.area_name}): {p['status']}, adopted "
               f"{p['adopted_on']} from {printable(p['origin'])}")
    for field, label in OSARA.items():
        click.echo(f"  {label}: {printable(p[field]) or '-'}")
    for row in record.actions.to_dict("records"):
        late = " OVERDUE" if row["overdue"] else ""
        click.echo(f"  action {row['action_id']}: {printable(row['action'])} "
                   f"(lead {printable(row['lead'])}, due {row['due_on']}): "
                   f"{row['status']}{late}")
    total = counted.by_type.set_index("crime_type").loc[ALL]
    click.echo(f"  incidents: {total['before']} before ({len(counted.months_before)} months), "
               f"{total['after']} since ({len(counted.months_after)} months)")


@problems.command("action")
@click.argument("name")
@click.option("--area", help="Borough, where two use the same name.")
@click.option("--action", "what", required=True, help="What will be done.")
@click.option("--lead", required=True, help="The lead agency.")
@click.option("--due", required=True, help="Due date.")
@click.option("--measure", help="How progress is measured.")
def problems_action(name, area, what, lead, due, measure) -> None:
    """Add a partner action to a problem location."""
    from registers.problems import add_action, find_problem_id

    engine = _engine()
    action_id = add_action(engine, find_problem_id(engine, name, area), action=what,
                           lead=lead, due_on=due, measure=measure, recorded_by=_user())
    click.echo(f"Added action {action_id} for {printable(lead)}, due {due}")


@problems.command("update-action")
@click.argument("action_id", type=int)
@click.option("--status", type=click.Choice(["Open", "Closed"], case_sensitive=False))
@click.option("--due", help="A new due date.")
@click.option("--note", help="A progress note.")
@click.option("--on", "on_day", help="Date closed (default: today).")
def problems_update_action(action_id, status, due, note, on_day) -> None:
    """Close or reopen an action, move its due date or note progress."""
    from registers.problems import update_action

    changed = update_action(_engine(), action_id, status=status, due_on=due, note=note,
                            on=on_day, recorded_by=_user())
    click.echo(f"Action {action_id}: " + (", ".join(changed) + " updated" if changed
                                           else "nothing had changed"))


@problems.command("close")
@click.argument("name")
@click.option("--area", help="Borough, where two use the same name.")
@click.option("--on", "on_day", required=True, help="Date closed.")
@click.option("--assessment", required=True, help="What the response achieved.")
def problems_close(name, area, on_day, assessment) -> None:
    """Close a problem location (its actions must be closed first)."""
    from registers.problems import close_problem, find_problem_id

    engine = _engine()
    close_problem(engine, find_problem_id(engine, name, area), on=on_day,
                  assessment=assessment, recorded_by=_user())
    click.echo(f"Closed {printable(name)}")


@problems.command("export")
@click.option("--area", help="Borough name or code (default: all).")
@click.option("--out", required=True, type=click.Path(dir_okay=False),
              help="The register as .csv; the actions go beside it as *_actions.csv.")
def problems_export(area, out) -> None:
    """The register and its actions as CSV."""
    from registers.export import actions_csv, problems_csv
    from registers.problems import list_problems, problem_actions

    engine = _engine()
    register = list_problems(engine, area)
    actions = problem_actions(engine)
    actions = actions[actions["problem_id"].isin(register["id"])]
    path = Path(out)
    path.write_text(problems_csv(register), encoding="utf-8")
    path.with_name(f"{path.stem}_actions.csv").write_text(actions_csv(actions),
                                                          encoding="utf-8")
    click.echo(f"Wrote {len(register)} problem locations to {out} and {len(actions)} actions "
               f"to {path.with_name(f'{path.stem}_actions.csv')}")


COMMANDS = (pspo, equipment, checks, problems)
