"""`hotspots themes show|export|import|reset` and `hotspots overview`: the priority-theme
mapping and the borough overview from the command line, over the same functions as the
Overview page. `COMMANDS` are added to the `hotspots` command; `cli` runs them on their own
(tests use it with click's CliRunner)."""

from __future__ import annotations

import functools
import json
import re
import sys
from pathlib import Path

import click

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _engine():
    """The configured database, migrated. The URL is passed explicitly: `get_engine()` without
    one is cached under no key and would keep the first URL of the process."""
    from store.db import database_url, get_engine, migrate

    url = database_url()
    migrate(url)
    return get_engine(url)


def _printable(value: object) -> str:
    from registers.cli import printable

    return printable(value)


def friendly(command):
    """Refusals (unknown area, theme or target, bad file) as one line, never a traceback."""
    @functools.wraps(command)
    def run(*args, **kwargs):
        from pandas.errors import EmptyDataError

        try:
            return command(*args, **kwargs)
        except EmptyDataError:
            raise click.ClickException("the file is empty: expected columns category, "
                                       "theme") from None
        except (ValueError, LookupError, FileNotFoundError, UnicodeDecodeError) as exc:
            raise click.ClickException(str(exc).strip("'\"")) from None
    return run


def _month(_ctx, param, value: str | None) -> str | None:
    if value is not None and not MONTH.match(value):
        raise click.BadParameter(f"'{value}' is not a month in YYYY-MM form (e.g. 2024-01)",
                                 param=param)
    return value


@click.group()
def themes() -> None:
    """Priority themes: which crime types and council categories count towards each."""


@themes.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print the mapping as JSON.")
@friendly
def themes_show(as_json: bool) -> None:
    """The mapping in use, theme by theme (the default one until a mapping is saved)."""
    from report.themes import POLICE_UK_TYPES, THEMES, theme_mapping

    mapping = theme_mapping(_engine())
    if as_json:
        click.echo(json.dumps({"default": mapping.attrs["default"],
                               "updated_at": str(mapping.attrs["updated_at"] or "") or None,
                               "updated_by": mapping.attrs["updated_by"],
                               "rows": mapping[["category", "theme"]].to_dict("records")}))
        return
    if mapping.attrs["default"]:
        click.echo("Mapping in use: the default (none saved; `hotspots themes import` to edit)")
    else:
        click.echo(f"Mapping in use: saved by {_printable(mapping.attrs['updated_by'])} on "
                   f"{mapping.attrs['updated_at']:%Y-%m-%d %H:%M}")
    for theme in THEMES:
        categories = mapping.loc[mapping["theme"] == theme, "category"]
        click.echo(f"{theme}: " + ("; ".join(_printable(c) for c in categories) or
                                   "(no category: shows nothing)"))
    loose = [t for t in POLICE_UK_TYPES if t not in set(mapping["category"])]
    if loose:
        click.echo(f"police.uk types counting towards no theme: {'; '.join(loose)}")


@themes.command("export")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="FILE.csv")
@friendly
def themes_export(out: str) -> None:
    """Write the mapping in use to a CSV (category, theme) to edit and import again."""
    from present.export import safe_csv
    from report.themes import theme_mapping

    mapping = theme_mapping(_engine())
    Path(out).write_text(safe_csv(mapping[["category", "theme"]]), encoding="utf-8")
    which = "default" if mapping.attrs["default"] else "saved"
    click.echo(f"Wrote {len(mapping)} rows of the {which} mapping to {out}")


@themes.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@friendly
def themes_import(file: str, as_json: bool) -> None:
    """Replace the mapping by a CSV of category,theme; rows that cannot be used are set
    aside (printed file:row:column: reason) and the rest saved, if any."""
    from registers.common import command_line_user
    from report.themes import read_mapping_csv, save_theme_mapping

    rows = read_mapping_csv(file)
    result = save_theme_mapping(_engine(), rows, command_line_user(), first_row=2)
    name = Path(file).name
    if as_json:
        click.echo(json.dumps({
            "kept": len(result.accepted), "set_aside": len(result.rejected),
            "duplicates": result.duplicates, "saved": result.saved,
            "unchanged": result.unchanged,
            "rejected_rows": [{"file": name, **{k: r[k] for k in ("row", "column", "reason")}}
                              for r in result.rejected.to_dict("records")]}, default=int))
    else:
        click.echo(f"{_printable(name)}: {result.summary()}")
        for r in result.rejected.itertuples():
            click.echo(f"{_printable(name)}:{r.row}:{r.column}: {_printable(r.reason)}",
                       err=True)
    if result.accepted.empty:
        sys.exit(1)


@themes.command("reset")
@friendly
def themes_reset() -> None:
    """Remove the saved mapping: the default one applies again."""
    from report.themes import reset_theme_mapping

    removed = reset_theme_mapping(_engine())
    click.echo(f"Removed {removed} saved row(s): the default mapping applies")


def _cell(value, sign: bool = False) -> str:
    import pandas as pd

    if value is None or pd.isna(value):
        return "-"
    return f"{int(value):+,}" if sign else f"{int(value):,}"


@click.command("overview")
@click.option("--area", required=True, help="Borough name (any case) or ONS code.")
@click.option("--month", required=True, callback=_month, help="The month, YYYY-MM.")
@click.option("--months", type=click.IntRange(1, 60), default=12, show_default=True,
              help="Rolling period length for the comparison and RAG.")
@click.option("--target", "target_items", multiple=True,
              help="THEME=reduce:X or THEME=increase:X (percent); THEME may be '*'. Repeat "
                   "for several. Default for a theme without one: reduce by 0%.")
@click.option("--alerts/--no-alerts", default=True, show_default=True,
              help="Also list PSPO and water-safety equipment alerts.")
@click.option("--on", "on_day", help="Day the alerts are for (default today), YYYY-MM-DD.")
@click.option("--json", "as_json", is_flag=True, help="Print everything as JSON.")
@friendly
def overview(area: str, month: str, months: int, target_items: tuple[str, ...],
             alerts: bool, on_day: str | None, as_json: bool) -> None:
    """The borough overview: incidents by priority theme for a month against the month
    before and a year before, the rolling comparison with RAG, and alerts."""
    from registers.common import parse_date
    from report.compare import parse_targets
    from report.currency import data_currency
    from report.themes import overview_alerts, theme_table

    engine = _engine()
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
            click.echo(f"  [{a.severity}] {a.kind}: {_printable(a.message)}")


COMMANDS = (themes, overview)
cli = click.Group("hotspots", commands={c.name: c for c in COMMANDS},
                  help="The theme and overview commands on their own (as in `hotspots`).")
