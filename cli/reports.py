"""`hotspots summary|compare|concentration|incidents|assess|themes|overview`: the tables and
exports the partnership reports from, over the same functions as the app's pages."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from cli.common import (
    check_month,
    check_months,
    cli_user,
    database,
    echo_set_aside,
    printable,
    selection_options,
    write_output,
)


@click.command()
@click.option("--area", required=True, help="Borough name (any case) or ONS code.")
@click.option("--problem", help="A problem location's name.")
@click.option("--pspo", help="A PSPO's reference.")
@click.option("--file", "map_file", type=click.Path(exists=True, dir_okay=False),
              help="A map file with the outline (GeoJSON, KML, GeoPackage, zipped Shapefile).")
@click.option("--feature", help="--file: the feature to use when it holds several.")
@click.option("--before", nargs=2, required=True, callback=check_months, metavar="FROM TO",
              help="Before period, two YYYY-MM months.")
@click.option("--after", nargs=2, required=True, callback=check_months, metavar="FROM TO",
              help="After period, as long as the before period.")
@click.option("--ring", type=float, default=250.0, show_default=True,
              help="Displacement ring around the outline, metres.")
@click.option("--control", help="Control area: a borough, a ward or town centre of the "
              "borough, or a map file (default: the rest of the borough).")
@click.option("--crime-type", "crime_types", multiple=True, help="Repeat for several.")
@click.option("--json", "as_json", is_flag=True, help="Print the whole result as JSON.")
def assess(area: str, problem: str | None, pspo: str | None, map_file: str | None,
           feature: str | None, before: tuple[str, str], after: tuple[str, str], ring: float,
           control: str | None, crime_types: tuple[str, ...], as_json: bool) -> None:
    """Did it work, and did it move next door? The weighted displacement difference (WDD,
    Wheeler & Ratcliffe 2018) of a problem location, a PSPO or any outline."""
    from report.assessment import assess_file, assess_order, assess_problem, counts_table

    chosen = [name for name, value in (("--problem", problem), ("--pspo", pspo),
                                       ("--file", map_file)) if value]
    if len(chosen) != 1:
        raise click.UsageError("give one of --problem NAME, --pspo REF or --file MAP")
    engine = database()
    types = list(crime_types) or None
    if problem:
        from registers.problems import find_problem_id

        result = assess_problem(engine, find_problem_id(engine, problem, area), before, after,
                                ring, control, types)
    elif pspo:
        result = assess_order(engine, pspo, before, after, ring, control, types, area)
    else:
        result = assess_file(engine, area, map_file, before, after, ring, control, types,
                             feature)
    if as_json:
        click.echo(json.dumps(result.to_dict()))
        return
    click.echo(f"{result.target} ({result.area}), {', '.join(crime_types) or 'all crime and ASB'}"
               f": {before[0]} to {before[1]} against {after[0]} to {after[1]} "
               f"({result.months} months each); control: {result.control}.")
    click.echo(f"  {'area':<48}{'before':>8}{'after':>8}{'expected':>10}")
    for _, r in counts_table(result).iterrows():
        value = r["expected_after"]
        expected = "" if value is None or value != value else f"{value:.1f}"
        click.echo(f"  {str(r['area'])[:47]:<48}{r['before']:>8,}{r['after']:>8,}{expected:>10}")
    for label, figures in (("WDD (target and ring)", result.combined),
                           ("target alone", result.local), ("ring alone", result.ring)):
        click.echo(f"  {label:<22} {figures.estimate:+8.1f}  SE {figures.se:6.1f}  "
                   f"z {figures.z:+6.2f}  p {figures.p:.4f}")
    from report.assessment import wdq_reading

    wdq = "" if result.wdq is None else f" {result.wdq:+.2f}"
    click.echo(f"  WDQ{wdq}: {wdq_reading(result.wdq)}")
    click.echo(result.sentence())
    for note in result.notes:
        click.echo(f"Note: {note}")



def _targets(items: tuple[str, ...], path: str | None) -> dict:
    from report.compare import parse_targets, read_targets_csv

    targets = {}
    if path:
        targets, rejected = read_targets_csv(path)
        echo_set_aside(rejected)
    try:
        targets.update(parse_targets(items))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--target") from None
    return targets


def _write_report(frame, out: str, title: str, notes: list[str], name: str) -> None:
    """A report table to CSV (formulas guarded) or a formatted .xlsx."""
    from core.safe_text import safe_csv
    from report.spreadsheet import Sheet, workbook_bytes

    path = Path(out)
    if path.suffix.lower() == ".xlsx":
        write_output(path, workbook_bytes([Sheet(name, title, frame, notes)],
                                          "Source: data.police.uk and local data"))
    elif path.suffix.lower() == ".csv":
        write_output(path, safe_csv(frame))
    else:
        raise click.BadParameter("write to a .csv or .xlsx file", param_hint="--out")
    click.echo(f"Wrote {len(frame)} rows to {path}")


@click.command()
@click.option("--area", required=True, help="Borough name (any case) or ONS code.")
@click.option("--by", type=click.Choice(["ward", "lsoa", "town-centre", "river", "pspo"]),
              required=True)
@click.option("--from", "month_from", required=True, callback=check_month, help="YYYY-MM")
@click.option("--to", "month_to", required=True, callback=check_month, help="YYYY-MM")
@click.option("--crime-type", "crime_types", multiple=True, help="Repeat for several.")
@click.option("--frontage", type=click.FloatRange(1, 2000), default=50.0, show_default=True,
              help="River frontage: metres from the water.")
@click.option("--json", "as_json", is_flag=True, help="Print the whole table as JSON.")
@click.option("--out", type=click.Path(dir_okay=False), help="Also write .csv or .xlsx.")
def summary(area: str, by: str, month_from: str, month_to: str, crime_types: tuple[str, ...],
            frontage: float, as_json: bool, out: str | None) -> None:
    """Incidents per ward, LSOA, town centre, river frontage or PSPO: by crime type, per km²,
    per 1,000 residents (where populations are loaded) and as a share of the borough."""
    from report.currency import data_currency
    from report.summary import incident_summary

    engine = database()
    result = incident_summary(engine, area, by, month_from, month_to, list(crime_types) or None,
                            frontage)
    fresh = data_currency(engine, result.area)
    title = f"{result.area.name} by {by}, {month_from} to {month_to}"
    if out:
        _write_report(result.table, out, title, [fresh.sentence() + ".", *result.notes],
                      f"By {by}")
    if as_json:
        click.echo(json.dumps(result.to_dict() | {"currency": fresh.to_dict()}))
        return
    click.echo(title)
    click.echo(fresh.sentence() + ".")
    view = result.overview()
    click.echo(f"{'unit':<45}{'incidents':>10}{'share':>8}{'per km²':>9}{'per 1,000':>10}"
               "  top crime types")
    for _, r in view.iterrows():
        per_1000 = "" if r["per_1000_residents"] != r["per_1000_residents"] else \
            f"{r['per_1000_residents']:.1f}"
        unit = f"{r['unit']} (approx.)" if str(r["note"]).startswith("Approximate") \
            else r["unit"]
        click.echo(f"{unit[:44]:<45}{r['incidents']:>10,}{r['share_of_area_pct']:>7.1f}%"
                   f"{r['per_km2']:>9.0f}{per_1000:>10}  {r['top_types']}")
    click.echo(f"{'Total':<45}{int(result.totals.iloc[0]):>10,}")
    for note in result.notes:
        click.echo(f"Note: {note}")


@click.command()
@click.option("--area", required=True, help="Borough name (any case) or ONS code.")
@click.option("--to", "to_month", required=True, callback=check_month, help="End month, YYYY-MM.")
@click.option("--months", type=click.IntRange(1, 60), default=12, show_default=True,
              help="Rolling period length.")
@click.option("--since", callback=check_month, help="Since the last JAG: first month (YYYY-MM); "
              "compared with the same months a year earlier.")
@click.option("--by", type=click.Choice(["ward", "town-centre"]))
@click.option("--crime-type", "crime_types", multiple=True, help="Repeat for several.")
@click.option("--target", "target_items", multiple=True,
              help="LINE=reduce:X or LINE=increase:X (percent); LINE is a crime type, "
                   "'UNIT/crime type' or '*'. Repeat for several.")
@click.option("--targets", "targets_file", type=click.Path(exists=True, dir_okay=False),
              help="CSV of targets: crime_type, direction, percent[, unit].")
@click.option("--json", "as_json", is_flag=True, help="Print the whole table as JSON.")
@click.option("--out", type=click.Path(dir_okay=False), help="Also write .csv or .xlsx.")
def compare(area: str, to_month: str, months: int, since: str | None, by: str | None,
            crime_types: tuple[str, ...], target_items: tuple[str, ...],
            targets_file: str | None, as_json: bool, out: str | None) -> None:
    """The JAG's performance table: rolling months against the previous ones (or since the
    last JAG against a year before), number and % change, RAG against targets."""
    from report.compare import RAG_RULE, jag_comparison
    from report.currency import data_currency

    engine = database()
    targets = _targets(target_items, targets_file)
    result = jag_comparison(engine, area, to_month, months, by, targets, since,
                            list(crime_types) or None)
    fresh = data_currency(engine, result.area)
    if out:
        _write_report(result.table, out, result.title(),
                      [fresh.sentence() + ".", *result.notes, RAG_RULE], "Comparison")
    if as_json:
        click.echo(json.dumps(result.to_dict() | {"currency": fresh.to_dict()}))
        return
    click.echo(result.title())
    click.echo(fresh.sentence() + ".")
    rates = result.table["population"].notna().any()
    click.echo(f"{'line':<50}{'current':>8}{'previous':>9}{'change':>8}{'%':>8}  {'rag':<7}"
               + (f"{'now/1k':>7}{'was/1k':>7}  " if rates else "") + "reading")
    for _, r in result.table.iterrows():
        line = r["crime_type"] if not by else f"{r['unit']} / {r['crime_type']}"
        change = "" if r["change"] is None or r["change"] != r["change"] else f"{r['change']:+,}"
        pct = _percent(r["change_pct"])
        rag = f"{r['rag']}{' *' if r['significant'] else ''}"
        per = "".join(f"{_rate(r[c]):>7}" for c in ("current_per_1000", "previous_per_1000")) \
            + "  " if rates else ""
        click.echo(f"{line[:49]:<50}{r['current']:>8,}{r['previous']:>9,}{change:>8}{pct:>8}  "
                   f"{rag:<7}{per}{r['reading']}")
    for note in result.notes:
        click.echo(f"Note: {note}")
    click.echo("* change beyond chance at 95% (exact Poisson test)")


def _percent(value) -> str:
    """A % change for the terminal: NA when there is none, one decimal below 1%."""
    if value is None or value != value:
        return "NA"
    return f"{value:+.1f}%" if abs(value) < 1 else f"{value:+.0f}%"


def _rate(value) -> str:
    """A rate per 1,000 residents for the terminal ('' when there is none)."""
    return "" if value is None or value != value else f"{value:.1f}"


@click.command()
@selection_options
@click.option("--cell-size", type=click.FloatRange(10, 1000), default=100.0, show_default=True,
              help="Cell size in metres.")
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON.")
def concentration(area: str, month_from: str, month_to: str, crime_types: tuple[str, ...],
                  cell_size: float, as_json: bool) -> None:
    """How concentrated crime is: share in the top 1/5/10% of cells and Gini, per type."""
    from report.concentration import area_concentration

    table = area_concentration(database(), area, month_from, month_to, crime_types, cell_size)
    if as_json:
        click.echo(table.to_json(orient="records", double_precision=4))
        return
    click.echo(f"{'crime type':<32}{'incidents':>10}{'top 1%':>8}{'top 5%':>8}{'top 10%':>8}"
               f"{'Gini':>7}{'gen.':>7}")
    for _, r in table.iterrows():
        click.echo(f"{r['crime_type'][:31]:<32}{r['incidents']:>10,}{r['top_1pct_share']:>8.0%}"
                   f"{r['top_5pct_share']:>8.0%}{r['top_10pct_share']:>8.0%}{r['gini']:>7.2f}"
                   f"{r['gini_generalised']:>7.2f}")
    click.echo(f"{int(table['cells'].iloc[0]):,} cells of {cell_size:g} m; 'gen.' = generalised "
               "Gini (Bernasco & Steenbeek 2017), fair when incidents are fewer than cells")


@click.command("incidents")
@selection_options
@click.option("--frontage", type=click.FloatRange(1, 2000), default=50.0, show_default=True,
              help="River frontage: metres from the water.")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help=".csv file")
def incidents_export(area: str, month_from: str, month_to: str, crime_types: tuple[str, ...],
                     frontage: float, out: str) -> None:
    """Export the area's incidents with ward, LSOA, town centre, river distance and PSPO."""
    from core.safe_text import safe_csv
    from report.incidents import incidents_in_context

    table = incidents_in_context(database(), area, month_from, month_to, crime_types, frontage)
    write_output(out, safe_csv(table.drop(columns="geometry")))
    click.echo(f"Wrote {len(table)} incidents to {out}")



@click.group()
def themes() -> None:
    """Priority themes: which crime types and council categories count towards each."""


@themes.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print the mapping as JSON.")
def themes_show(as_json: bool) -> None:
    """The mapping in use, theme by theme (the default one until a mapping is saved)."""
    from core.themes import THEMES
    from report.theme_mapping import POLICE_UK_TYPES, theme_mapping

    mapping = theme_mapping(database())
    if as_json:
        click.echo(json.dumps({"default": mapping.attrs["default"],
                               "updated_at": str(mapping.attrs["updated_at"] or "") or None,
                               "updated_by": mapping.attrs["updated_by"],
                               "rows": mapping[["category", "theme"]].to_dict("records")}))
        return
    if mapping.attrs["default"]:
        click.echo("Mapping in use: the default (none saved; `hotspots themes import` to edit)")
    else:
        click.echo(f"Mapping in use: saved by {printable(mapping.attrs['updated_by'])} on "
                   f"{mapping.attrs['updated_at']:%Y-%m-%d %H:%M}")
    for theme in THEMES:
        categories = mapping.loc[mapping["theme"] == theme, "category"]
        click.echo(f"{theme}: " + ("; ".join(printable(c) for c in categories) or
                                   "(no category: shows nothing)"))
    loose = [t for t in POLICE_UK_TYPES if t not in set(mapping["category"])]
    if loose:
        click.echo(f"police.uk types counting towards no theme: {'; '.join(loose)}")


@themes.command("export")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="FILE.csv")
def themes_export(out: str) -> None:
    """Write the mapping in use to a CSV (category, theme) to edit and import again."""
    from core.safe_text import safe_csv
    from report.theme_mapping import theme_mapping

    mapping = theme_mapping(database())
    write_output(out, safe_csv(mapping[["category", "theme"]]))
    which = "default" if mapping.attrs["default"] else "saved"
    click.echo(f"Wrote {len(mapping)} rows of the {which} mapping to {out}")


@themes.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
def themes_import(file: str, as_json: bool) -> None:
    """Replace the mapping by a CSV of category,theme; rows that cannot be used are set
    aside (printed file:row:column: reason) and the rest saved, if any."""
    from report.theme_mapping import read_mapping_csv, save_theme_mapping

    rows = read_mapping_csv(file)
    result = save_theme_mapping(database(), rows, cli_user(), first_row=2)
    name = Path(file).name
    if as_json:
        click.echo(json.dumps({
            "kept": len(result.accepted), "set_aside": len(result.rejected),
            "duplicates": result.duplicates, "saved": result.saved,
            "unchanged": result.unchanged,
            "rejected_rows": [{"file": name, **{k: r[k] for k in ("row", "column", "reason")}}
                              for r in result.rejected.to_dict("records")]}, default=int))
    else:
        click.echo(f"{printable(name)}: {result.summary()}")
        for r in result.rejected.itertuples():
            click.echo(f"{printable(name)}:{r.row}:{r.column}: {printable(r.reason)}",
                       err=True)
    if result.accepted.empty:
        sys.exit(1)


@themes.command("reset")
def themes_reset() -> None:
    """Remove the saved mapping: the default one applies again."""
    from report.theme_mapping import reset_theme_mapping

    removed = reset_theme_mapping(database())
    click.echo(f"Removed {removed} saved row(s): the default mapping applies")


def _cell(value, sign: bool = False) -> str:
    import pandas as pd

    if value is None or pd.isna(value):
        return "-"
    return f"{int(value):+,}" if sign else f"{int(value):,}"


@click.command("overview")
@click.option("--area", required=True, help="Borough name (any case) or ONS code.")
@click.option("--month", required=True, callback=check_month, help="The month, YYYY-MM.")
@click.option("--months", type=click.IntRange(1, 60), default=12, show_default=True,
              help="Rolling period length for the comparison and RAG.")
@click.option("--target", "target_items", multiple=True,
              help="THEME=reduce:X or THEME=increase:X (percent); THEME may be '*'. Repeat "
                   "for several. Default for a theme without one: reduce by 0%.")
@click.option("--alerts/--no-alerts", default=True, show_default=True,
              help="Also list PSPO and water-safety equipment alerts.")
@click.option("--on", "on_day", help="Day the alerts are for (default today), YYYY-MM-DD.")
@click.option("--json", "as_json", is_flag=True, help="Print everything as JSON.")
def overview(area: str, month: str, months: int, target_items: tuple[str, ...],
             alerts: bool, on_day: str | None, as_json: bool) -> None:
    """The borough overview: incidents by priority theme for a month against the month
    before and a year before, the rolling comparison with RAG, and alerts."""
    from registers.alerts import overview_alerts
    from registers.common import parse_date
    from report.compare import parse_targets
    from report.currency import data_currency
    from report.themes import theme_table

    engine = database()
    result = theme_table(engine, area, month, targets=parse_targets(target_items),
                         months=months)
    day = parse_date(on_day, "on", required=False)
    fresh = data_currency(engine, result.area, day)
    found = None
    if alerts:
        found = overview_alerts(engine, result.area.code, day)
    if as_json:
        out = result.to_dict() | {"currency": fresh.to_dict()}
        if found is not None:
            out["alerts"] = found.to_dict("records")
        click.echo(json.dumps(out, default=str))
        return
    click.echo(result.title())
    click.echo(fresh.sentence() + ".")
    now, before = result.periods["rolling"], result.periods["rolling previous"]
    click.echo(f"{'theme':<35}{month:>8}{'prev':>7}{'+/-':>6}{'yr ago':>7}{'+/-':>6}"
               f"{'rolling':>9}{'before':>8}{'+/-':>7}{'%':>7}  rag")
    for r in result.table.itertuples():
        pct = "-" if r.change_pct is None or r.change_pct != r.change_pct else \
            f"{r.change_pct:+.0f}%"
        click.echo(f"{r.theme[:34]:<35}{_cell(r.incidents):>8}{_cell(r.previous_month):>7}"
                   f"{_cell(r.change_previous_month, True):>6}"
                   f"{_cell(r.same_month_last_year):>7}{_cell(r.change_last_year, True):>6}"
                   f"{_cell(r.rolling):>9}{_cell(r.rolling_previous):>8}"
                   f"{_cell(r.change, True):>7}{pct:>7}  {r.rag}{' *' if r.significant else ''}")
    click.echo(f"rolling = {now[0]} to {now[1]}; before = {before[0]} to {before[1]}; "
               "* change beyond chance at 95% (exact Poisson test)")
    for r in result.table.itertuples():
        rate = "" if r.per_1000_residents is None or r.per_1000_residents != \
            r.per_1000_residents else f"; {r.per_1000_residents:.1f} per 1,000 residents"
        click.echo(f"  {r.theme}: {r.reading}{rate}" + (f" ({r.note})" if r.note else ""))
    for note in result.notes:
        click.echo(f"Note: {note}")
    click.echo(f"RAG: {result.rag_rule}")
    if found is not None:
        click.echo(f"\nAlerts ({len(found)}):" if len(found) else "\nAlerts: none")
        for a in found.itertuples():
            click.echo(f"  [{a.severity}] {a.kind}: {printable(a.message)}")




COMMANDS = (summary, compare, concentration, incidents_export, assess, themes, overview)
