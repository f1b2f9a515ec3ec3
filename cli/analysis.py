"""`hotspots detect|evaluate|repeats|change|classify|rates|near-repeat|stability`: finding
hotspots and measuring them."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from cli.common import (
    check_month,
    check_months,
    crime_type_lines,
    database,
    progress_bar,
    selection_options,
    write_frame,
    write_output,
)


def _method_choice() -> click.Choice:
    from hotspots import METHODS

    return click.Choice(list(METHODS))


@click.command()
@selection_options
@click.option("--method", type=_method_choice(), default=None,
              help="Default: the method with the best out-of-sample accuracy (weighted).")
@click.option("--coverage", type=float, default=0.01, show_default=True,
              help="Hotspots together cover at most this share of the area's land.")
@click.option("--cell-size", type=float, help="Cell size in metres (default by rule).")
@click.option("--shape", type=click.Choice(["square", "hex"]), help="grid: cell shape.")
@click.option("--kernel", type=click.Choice(["quartic", "gaussian"]), help="kde: kernel.")
@click.option("--bandwidth", type=float, help="kde: bandwidth in metres (default by rule).")
@click.option("--eps", type=float, help="dbscan: radius in metres (default by rule).")
@click.option("--min-samples", type=int, help="dbscan/hdbscan: minimum incidents (by rule).")
@click.option("--min-cluster-size", type=int, help="hdbscan: smallest cluster (by rule).")
@click.option("--distance", type=float, help="gistar: neighbour distance band in metres.")
@click.option("--neighbours", "k", type=int, help="gistar: k nearest cells instead.")
@click.option("--out", required=True, type=click.Path(dir_okay=False),
              help="Output file: .geojson (WGS84 polygons) or .csv (table with WKT).")
def detect(area: str, month_from: str, month_to: str, crime_types: tuple[str, ...],
           method: str | None, coverage: float, out: str, **options) -> None:
    """Find hotspots and write them as GeoJSON or CSV."""
    from hotspots import method_options
    from hotspots.analysis import DEFAULT_METHOD, find_hotspots
    from present.export import hotspots_csv, hotspots_geojson

    method = method or DEFAULT_METHOD
    accepted = method_options(method)
    given = {k: v for k, v in options.items() if v is not None}
    wrong = sorted(k for k in given if k not in accepted)
    if wrong:
        names = ", ".join("--" + w.replace("_", "-") for w in wrong)
        raise click.UsageError(f"{names} does not apply to the {method} method")
    report = find_hotspots(database(), area, month_from, month_to, list(crime_types),
                           method, coverage, **given)
    path = Path(out)
    text = hotspots_csv(report.hotspots) if path.suffix.lower() == ".csv" else hotspots_geojson(
        report.hotspots)
    write_output(path, text)
    for note in report.notes:
        click.echo(f"Note: {note}", err=True)
    click.echo(report.caption(), err=True)
    click.echo(f"Wrote {len(report.hotspots)} hotspots to {path}")


@click.command()
@click.option("--area", required=True, help="Borough name (any case) or ONS code.")
@click.option("--test-month", "test_months", multiple=True, callback=check_months,
              help="YYYY-MM; repeat for several (default: every month with enough before it).")
@click.option("--train-months", type=click.IntRange(1, 120), default=12, show_default=True,
              help="Months before each test month that each method is fitted on.")
@click.option("--coverage", type=click.FloatRange(0, 1, min_open=True), default=0.01,
              show_default=True, help="Share of the land the hotspots may cover.")
@click.option("--cell-size", type=click.FloatRange(10, 1000), default=50.0, show_default=True,
              help="Evaluation grid cell size in metres.")
@click.option("--crime-type", "crime_types", multiple=True,
              help="Repeat for several (default: all crime, then each type).")
@click.option("--method", "methods", multiple=True, type=_method_choice(),
              help="Repeat for several (default: every method).")
@click.option("--json", "as_json", is_flag=True, help="Print the whole result as JSON.")
def evaluate(area: str, test_months: tuple[str, ...], train_months: int, coverage: float,
             cell_size: float, crime_types: tuple[str, ...], methods: tuple[str, ...],
             as_json: bool) -> None:
    """Measure every method out of sample: PAI, PEI* and hit rate, month by month."""
    from hotspots.analysis import evaluate_area

    types = crime_type_lines(crime_types)
    result = evaluate_area(database(), area, list(test_months) or None, train_months, coverage,
                           cell_size, types, list(methods) or None,
                           progress=None if as_json else progress_bar())
    if as_json:
        click.echo(json.dumps(result.to_dict()))
        return
    click.echo(f"{result.area.name}: test months {', '.join(result.test_months)}, each fitted "
               f"on the {train_months} months before; hotspots cover {coverage:.1%} of the "
               f"land on {cell_size:g} m cells.")
    for note in result.notes:
        click.echo(f"Note: {note}")
    summary = result.summary
    for crime, rows in summary.groupby("crime_type", sort=False):
        click.echo(f"\n{crime} (best: {result.best(crime)})")
        click.echo(f"  {'method':<18}{'PEI*':>7}{'PAI':>8}{'hit rate':>10}{'incidents':>11}")
        for _, r in rows.iterrows():
            click.echo(f"  {r['method']:<18}{r['pei_star']:>7.3f}{r['pai']:>8.1f}"
                       f"{r['hit_rate']:>10.1%}{r['incidents']:>11,}")


@click.command()
@selection_options
@click.option("--top", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON.")
def repeats(area: str, month_from: str, month_to: str, crime_types: tuple[str, ...], top: int,
            as_json: bool) -> None:
    """The places (snap points, addresses) with the most incidents, month by month."""
    from hotspots.analysis import find_repeats

    table = find_repeats(database(), area, month_from, month_to, list(crime_types), top)
    if as_json:
        click.echo(table.drop(columns="geometry").to_json(orient="records"))
        return
    for _, r in table.iterrows():
        click.echo(f"{r['rank']:>3}  {r['count']:>5}  {r['location']}  ({r['first_month']} to "
                   f"{r['last_month']}; {r['top_types']})")


@click.command()
@click.option("--area", required=True, help="Borough name (any case) or ONS code.")
@click.option("--before", nargs=2, required=True, callback=check_months, metavar="FROM TO",
              help="First period, two YYYY-MM months.")
@click.option("--after", nargs=2, required=True, callback=check_months, metavar="FROM TO",
              help="Second period, two YYYY-MM months.")
@click.option("--crime-type", "crime_types", multiple=True, help="Repeat for several.")
@click.option("--cell-size", type=float, help="Cell size in metres (default by rule).")
@click.option("--out", required=True, type=click.Path(dir_okay=False),
              help="Output file: .geojson or .csv.")
def change(area: str, before: tuple[str, str], after: tuple[str, str],
           crime_types: tuple[str, ...], cell_size: float | None, out: str) -> None:
    """Per-cell change between two periods, with an exact test of significance."""
    from hotspots.analysis import change_by_cell

    frame = change_by_cell(database(), area, before, after, list(crime_types), cell_size)
    for direction, n in frame["direction"].value_counts().items():
        click.echo(f"{n:>6} cells: {direction}")
    write_frame(frame, out)


@click.command()
@selection_options
@click.option("--period-months", type=click.IntRange(1, 24), default=1, show_default=True)
@click.option("--cell-size", type=float, help="Cell size in metres (default by rule).")
@click.option("--scheme", type=click.Choice(["sfhotspot", "ehsa"]), default="sfhotspot",
              show_default=True, help="sfhotspot: emerging, persistent, intermittent and former "
              "(today's classes); ehsa: ArcGIS's emerging hot spot patterns with a "
              "Mann-Kendall trend.")
@click.option("--time-lag", type=click.IntRange(0, 12), default=None,
              help="ehsa: periods before each one whose cells are neighbours too (default 1).")
@click.option("--critical-p", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=None, help="ehsa: adjusted p at which a bin is a hot or cold spot "
              "(default 0.10: 90% confidence).")
@click.option("--trend-p", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=None, help="ehsa: p at which a trend counts (default 0.10).")
@click.option("--out", required=True, type=click.Path(dir_okay=False),
              help="Output file: .geojson or .csv.")
def classify(area: str, month_from: str, month_to: str, crime_types: tuple[str, ...],
             period_months: int, cell_size: float | None, scheme: str, time_lag: int | None,
             critical_p: float | None, trend_p: float | None, out: str) -> None:
    """Hot spots over many periods, cell by cell: sfhotspot's classes (default) or ArcGIS's
    emerging hot spot patterns (--scheme ehsa)."""
    if scheme == "sfhotspot":
        given = [name for name, value in (("--time-lag", time_lag), ("--critical-p", critical_p),
                                          ("--trend-p", trend_p)) if value is not None]
        if given:
            raise click.UsageError(f"{', '.join(given)} apply to --scheme ehsa only")
        from hotspots.analysis import classify_periods

        frame = classify_periods(database(), area, month_from, month_to, list(crime_types),
                                 cell_size, period_months)
        for category, n in frame["category"].value_counts().items():
            click.echo(f"{n:>6} cells: {category}")
        write_frame(frame, out)
        return
    from hotspots.emerging import DEFAULTS, emerging_hotspots, pattern_counts

    frame = emerging_hotspots(
        database(), area, month_from, month_to, list(crime_types) or None, period_months,
        cell_size, DEFAULTS["time_lag"] if time_lag is None else time_lag,
        critical_p or DEFAULTS["critical_p"], trend_p or DEFAULTS["trend_p"])
    params = frame.attrs["parameters"]
    click.echo(f"Emerging hot spots for {frame.attrs['area']}, {month_from} to {month_to}, "
               f"{', '.join(crime_types) or 'all crime and ASB'}: {frame.attrs['incidents']:,} "
               f"incidents, {params['periods']} periods of {period_months} month(s), "
               f"{params['cells']:,} cells of {params['cell_size_m']:g} m "
               f"({params['cell_size_rule']}); Gi* neighbours {params['neighbours']} and "
               f"{params['time_lag']} period(s) back; hot/cold at adjusted p <= "
               f"{params['critical_p']:g}, trend at p <= {params['trend_p']:g}.")
    for _, row in pattern_counts(frame).iterrows():
        click.echo(f"{row['cells']:>6} cells: {row['pattern']} ({row['incidents']:,} incidents)")
    write_frame(frame, out)



@click.command()
@selection_options
@click.option("--per", type=click.Choice(["residents"]), default=None,
              help="Rate per 1,000 residents (Census 2021 by LSOA; the default).")
@click.option("--per-crime-type", "per_types", multiple=True,
              help="Rate per incidents of these crime types instead (repeat for several).")
@click.option("--measure", type=click.Choice(["ratio", "log-ratio", "difference"]),
              default="ratio", show_default=True)
@click.option("--floor", type=click.FloatRange(0, min_open=True),
              help="Leave out cells with fewer residents (or incidents) within the kernel's "
                   "reach (default 100 residents, or 10 incidents).")
@click.option("--bandwidth", type=float, help="Bandwidth in metres (default by rule).")
@click.option("--cell-size", type=float, help="Cell size in metres (default by rule).")
@click.option("--coverage", type=click.FloatRange(0, 1, min_open=True),
              help="Keep the top cells covering at most this share of the land (default: all).")
@click.option("--out", required=True, type=click.Path(dir_okay=False),
              help="Output file: .geojson or .csv.")
def rates(area: str, month_from: str, month_to: str, crime_types: tuple[str, ...],
          per: str | None, per_types: tuple[str, ...], measure: str, floor: float | None,
          bandwidth: float | None, cell_size: float | None, coverage: float | None,
          out: str) -> None:
    """Rate hotspots (sfhotspot's dual KDE): incidents over residents or over other
    incidents, as a ratio, log ratio or difference, with a floor on the denominator."""
    from geo.areas import resolve_area
    from hotspots.rates import rate_hotspots
    from hotspots.result import select_coverage

    if per and per_types:
        raise click.UsageError("give --per residents or --per-crime-type, not both")
    engine = database()
    frame = rate_hotspots(engine, area, month_from, month_to, list(crime_types) or None,
                          list(per_types) if per_types else "residents", measure, floor,
                          bandwidth, cell_size)
    params = frame.attrs["parameters"]
    click.echo(f"Rates for {frame.attrs['area']}, {month_from} to {month_to}, "
               f"{', '.join(crime_types) or 'all crime and ASB'} ({frame.attrs['incidents']:,} "
               f"incidents) per {params['denominator']} ({frame.attrs['denominator_total']:,}): "
               f"{measure}, score = {params['score_unit']}. {frame.attrs['message']}. "
               f"Bandwidth {params['bandwidth_m']:g} m ({params['bandwidth_rule']}); "
               f"{params['cell_size_m']:g} m cells; floor {params['floor']:g} "
               f"({params['floor_rule']}).")
    if coverage:
        frame = select_coverage(frame, resolve_area(engine, area).land_area_m2, coverage)
    for _, r in frame.head(5).iterrows():
        click.echo(f"  {r['rank']:>4}  score {r['score']:.4g}  incidents in cell {r['count']}"
                   f"  denominator per km² {r['denominator_per_km2']:,.0f}")
    write_frame(frame, out)


@click.command("near-repeat")
@click.option("--area", required=True, help="Borough name (any case) or ONS code.")
@click.option("--from", "month_from", required=True, callback=check_month, help="YYYY-MM")
@click.option("--to", "month_to", required=True, callback=check_month, help="YYYY-MM")
@click.option("--category", "categories", multiple=True, help="Repeat for several.")
@click.option("--distance", type=float, default=1000.0, show_default=True, help="Metres.")
@click.option("--distance-step", type=float, default=200.0, show_default=True, help="Metres.")
@click.option("--days", type=click.IntRange(1, 3650), default=7, show_default=True)
@click.option("--day-step", type=click.IntRange(1, 3650), default=1, show_default=True)
@click.option("--simulations", type=click.IntRange(1, 99_999), default=999, show_default=True)
@click.option("--seed", type=int, default=18, show_default=True,
              help="Seed of the shuffles: the same seed gives the same answer.")
@click.option("--zones", type=click.Path(dir_okay=False),
              help="Also write the risk zones (.geojson or .csv).")
@click.option("--json", "as_json", is_flag=True, help="Print the whole result as JSON.")
def near_repeat_command(area: str, month_from: str, month_to: str,
                        categories: tuple[str, ...], distance: float, distance_step: float,
                        days: int, day_step: int, simulations: int, seed: int,
                        zones: str | None, as_json: bool) -> None:
    """Near repeats in a council log with dates and exact locations: the Knox test by Monte
    Carlo, and risk zones around the latest incidents. Not for police.uk data."""
    from hotspots.near_repeat import near_repeat

    result = near_repeat(database(), area, month_from, month_to, list(categories) or None,
                         distance, distance_step, days, day_step, simulations, seed)
    if as_json:
        click.echo(json.dumps(result.to_dict()))
    else:
        click.echo(result.sentence())
        if result.applies:
            table = result.table
            pivot = table.pivot(index="distance_band", columns="days_band", values="knox_ratio")
            pivot = pivot.loc[table["distance_band"].unique(), table["days_band"].unique()]
            flags = table.pivot(index="distance_band", columns="days_band",
                                values="significant").loc[pivot.index, pivot.columns]
            click.echo(f"Knox ratios (observed / expected pairs; * p < 0.05 over "
                       f"{simulations} shuffles) for {result.knox.incidents:,} incidents:")
            click.echo(f"  {'':<18}" + "".join(f"{c[:10]:>11}" for c in pivot.columns))
            for band, row in pivot.iterrows():
                cells = "".join(
                    f"{'' if v != v else f'{v:.2f}'}{'*' if flags.loc[band, c] else ' ':1}"
                    .rjust(11) for c, v in row.items())
                click.echo(f"  {band:<18}{cells}")
    if not as_json:
        for note in result.notes:
            click.echo(f"Note: {note}")
    if zones and result.zones is not None:
        write_frame(result.zones, zones)
    if not result.applies:
        sys.exit(1)


@click.command()
@click.option("--area", required=True, help="Borough name (any case) or ONS code.")
@click.option("--to", "to_month", required=True, callback=check_month, help="End month, YYYY-MM.")
@click.option("--months", type=click.IntRange(1, 60), default=6, show_default=True,
              help="Length of each period.")
@click.option("--crime-type", "crime_types", multiple=True,
              help="Repeat for several (default: all crime, then each type).")
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON.")
def stability(area: str, to_month: str, months: int, crime_types: tuple[str, ...],
              as_json: bool) -> None:
    """Are last period's hotspots hotspots again? Share, Spearman and rank-biased overlap,
    per crime type, on the evaluation's grid."""
    from hotspots.stability import stability as stability_of

    types = crime_type_lines(crime_types)
    table = stability_of(database(), area, to_month, months, types)
    if as_json:
        click.echo(json.dumps({"area": table.attrs["area"], "notes": table.attrs["notes"],
                               "parameters": table.attrs["parameters"],
                               "table": json.loads(table.to_json(orient="records",
                                                                 double_precision=4))}))
        return
    params = table.attrs["parameters"]
    first = table.iloc[0]
    click.echo(f"{table.attrs['area']}: hotspots of {first['before']} against {first['after']}"
               f" ({params['method']} method on {params['cell_size_m']:g} m cells covering "
               f"{params['coverage']:.0%} of the land, at most {params['cells_budget']} cells).")
    click.echo(f"  {'crime type':<32}{'before':>7}{'after':>7}{'again':>7}{'share':>7}"
               f"{'rho':>7}{'RBO':>7}")
    for _, r in table.iterrows():
        def shown(value, pattern: str) -> str:
            return "" if value != value else format(value, pattern)
        click.echo(f"  {r['crime_type'][:31]:<32}{r['hotspots_before']:>7}"
                   f"{r['hotspots_after']:>7}{r['again']:>7}{shown(r['share'], '.0%'):>7}"
                   f"{shown(r['spearman'], '.2f'):>7}{shown(r['rbo'], '.2f'):>7}")
    for note in table.attrs["notes"]:
        click.echo(f"Note: {note}")




COMMANDS = (detect, evaluate, repeats, change, classify, rates, near_repeat_command,
            stability)
