"""`hotspots problems …`: the JAG's problem locations (OSARA) and their partner actions."""

from __future__ import annotations

from pathlib import Path

import click

from cli.common import cli_user, database, echo_json, printable, records, write_output


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
    from registers.outlines import read_area_file
    from registers.problems import adopt_hotspot, adopt_problem

    engine = database()
    if (rank is None) == (area_file is None):
        raise click.UsageError("give either --hotspot RANK (with --from and --to) or --file")
    if rank is not None:
        from hotspots.analysis import DEFAULT_METHOD, find_hotspots
        from hotspots.profile import adoption_origin

        if not (month_from and month_to):
            raise click.UsageError("--hotspot needs --from and --to (the months it was found "
                                   "in)")
        report = find_hotspots(engine, area, month_from, month_to, list(crime_types) or None,
                               method or DEFAULT_METHOD)
        problem_id = adopt_hotspot(engine, report, rank, name=name, objective=objective,
                                   adopted_on=adopted, theme=theme, scanning=scanning,
                                   recorded_by=cli_user())
        origin = adoption_origin(report, rank)
    else:
        geometry, origin = read_area_file(area_file, feature)
        problem_id = adopt_problem(engine, area=area, name=name, geometry=geometry,
                                   objective=objective, origin=origin, adopted_on=adopted,
                                   theme=theme, scanning=scanning, recorded_by=cli_user())
    click.echo(f"Adopted {printable(name)} (id {problem_id}) from {printable(origin)}")


@problems.command("list")
@click.option("--area", help="Borough name or code (default: all).")
@click.option("--json", "as_json", is_flag=True)
def problems_list(area, as_json) -> None:
    """Every problem location with its open and overdue actions."""
    from registers.problems import list_problems

    table = list_problems(database(), area).drop(columns="geometry")
    if as_json:
        echo_json(records(table))
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
    from core.themes import ALL_CRIME
    from registers.problems import OSARA, find_problem_id, get_problem, problem_incidents

    engine = database()
    problem_id = find_problem_id(engine, name, area)
    record = get_problem(engine, problem_id)
    counted = problem_incidents(engine, problem_id)
    if as_json:
        echo_json({"problem": record.problem, "actions": records(record.actions),
               "events": records(record.events.drop(columns="changes")),
               "incidents": records(counted.by_type)})
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
    total = counted.by_type.set_index("crime_type").loc[ALL_CRIME]
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

    engine = database()
    action_id = add_action(engine, find_problem_id(engine, name, area), action=what,
                           lead=lead, due_on=due, measure=measure, recorded_by=cli_user())
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

    changed = update_action(database(), action_id, status=status, due_on=due, note=note,
                            on=on_day, recorded_by=cli_user())
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

    engine = database()
    close_problem(engine, find_problem_id(engine, name, area), on=on_day,
                  assessment=assessment, recorded_by=cli_user())
    click.echo(f"Closed {printable(name)}")


@problems.command("export")
@click.option("--area", help="Borough name or code (default: all).")
@click.option("--out", required=True, type=click.Path(dir_okay=False),
              help="The register as .csv; the actions go beside it as *_actions.csv.")
def problems_export(area, out) -> None:
    """The register and its actions as CSV."""
    from registers.export import actions_csv, problems_csv
    from registers.problems import list_problems, problem_actions

    engine = database()
    register = list_problems(engine, area)
    actions = problem_actions(engine)
    actions = actions[actions["problem_id"].isin(register["id"])]
    path = Path(out)
    write_output(path, problems_csv(register))
    write_output(path.with_name(f"{path.stem}_actions.csv"), actions_csv(actions))
    click.echo(f"Wrote {len(register)} problem locations to {out} and {len(actions)} actions "
               f"to {path.with_name(f'{path.stem}_actions.csv')}")




COMMANDS = (problems,)
