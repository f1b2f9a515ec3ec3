"""`hotspots pspo …`: the PSPO register. Text entered by users is printed with control
characters shown as escapes, so a note cannot drive the terminal."""

from __future__ import annotations

from pathlib import Path

import click

from cli.common import cli_user, database, echo_json, printable, records, write_output


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
    from registers.outlines import read_area_file
    from registers.pspo import add_order, get_order

    engine = database()
    geometry, source = read_area_file(area_file, feature)
    order_id = add_order(engine, area=area, reference=reference, name=name, geometry=geometry,
                         area_source=source, made_on=made, expires_on=expires,
                         conditions=_conditions(prohibits, requires),
                         review_every_days=review_every, published_url=url,
                         consultation_notes=consultation, publication_notes=publication,
                         recorded_by=cli_user())
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

    engine = database()
    orders = list_orders(engine, area)
    table = orders_table(engine, orders)
    if as_json:
        echo_json(records(table))
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

    engine = database()
    order_id = find_order_id(engine, reference, area)
    record = get_order(engine, order_id)
    incidents = order_incidents(engine, order_id, list(crime_types) or None)
    if as_json:
        order = {k: v for k, v in record.order.items()}
        echo_json({"order": order, "area_name": record.area_name, "status": record.status,
               "alerts": record.alerts, "conditions": records(record.conditions),
               "events": records(record.events), "area": record.area.__geo_interface__,
               "incidents": {"made_month": incidents.made_month,
                             "months_before": incidents.months_before,
                             "months_after": incidents.months_after,
                             "by_type": records(incidents.by_type),
                             "by_month": records(incidents.by_month),
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

    engine = database()
    orders = list_orders(engine, area)
    path = Path(out)
    body = orders_csv(engine, orders) if path.suffix.lower() == ".csv" else \
        orders_geojson(engine, orders)
    write_output(path, body)
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

    engine = database()
    extend_order(engine, find_order_id(engine, reference, area), on=on_day,
                 expires_on=new_expiry, notes=notes, recorded_by=cli_user())
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
    from registers.outlines import read_area_file
    from registers.pspo import find_order_id, vary_order

    engine = database()
    geometry, source = read_area_file(area_file, feature) if area_file else (None, None)
    conditions = _conditions(prohibits, requires) if (prohibits or requires) else None
    vary_order(engine, find_order_id(engine, reference, area), on=on_day, notes=notes,
               geometry=geometry, area_source=source, conditions=conditions,
               recorded_by=cli_user())
    click.echo(f"Recorded the variation of {printable(reference)} on {on_day}")


@pspo.command("review")
@click.argument("reference")
@click.option("--area", help="Borough, where two use the same reference.")
@click.option("--on", "on_day", required=True, help="Date of the review (e.g. the JAG).")
@click.option("--notes")
def pspo_review(reference, area, on_day, notes) -> None:
    """Record a review; the next falls due a cadence later."""
    from registers.pspo import find_order_id, get_order, review_order

    engine = database()
    order_id = find_order_id(engine, reference, area)
    review_order(engine, order_id, on=on_day, notes=notes, recorded_by=cli_user())
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

    engine = database()
    discharge_order(engine, find_order_id(engine, reference, area), on=on_day, notes=notes,
                    recorded_by=cli_user())
    click.echo(f"Recorded {printable(reference)} as discharged on {on_day}")




COMMANDS = (pspo,)
