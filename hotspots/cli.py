"""The `hotspots` command line: a thin layer over the same library functions as the app."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import click

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
SAMPLE_POLICE = Path(__file__).resolve().parents[1] / "data" / "sample" / "police"


def _engine():
    from store.db import get_engine, migrate

    migrate()
    return get_engine()


def _month(_ctx, param, value: str | None) -> str | None:
    if value is not None and not MONTH.match(value):
        raise click.BadParameter(f"'{value}' is not a month in YYYY-MM form (e.g. 2024-01)",
                                 param=param)
    return value


def _months(ctx, param, values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(_month(ctx, param, v) for v in values)


class FriendlyGroup(click.Group):
    """Turns the library's validation errors into one-line messages, never tracebacks."""

    def invoke(self, ctx: click.Context):
        """Run the command as the terminal's operator (access.scope.operator), turning the
        library's refusals into one-line messages."""
        from access.accounts import AccountError, SignInFailed
        from access.roles import AccessDenied
        from access.scope import acting_as, operator
        from geo.areas import UnknownAreaError
        from geo.layers import LayerError
        from hotspots.result import HotspotInputError
        from ingest.result import FileImportError
        from registers.common import RegisterError

        try:
            with acting_as(operator()):
                return super().invoke(ctx)
        except (UnknownAreaError, LayerError, HotspotInputError, FileImportError,
                FileNotFoundError, RegisterError, AccessDenied, AccountError,
                SignInFailed) as exc:
            raise click.ClickException(str(exc).strip("'\"")) from None


@click.group(cls=FriendlyGroup)
def main() -> None:
    """Crime and ASB hotspots for Community Safety Partnerships."""


@main.command()
@click.option("--sample/--no-sample", default=True, show_default=True,
              help="Import the bundled police.uk sample (Spelthorne, Runnymede, Woking) and "
                   "the EXAMPLE PSPO and water-safety registers.")
def setup(sample: bool) -> None:
    """Create or upgrade the database, load bundled boundaries, Census 2021 populations and the
    sample data, and make the first admin (its password from HOTSPOTS_ADMIN_PASSWORD, else
    printed once)."""
    from access.accounts import ensure_first_admin
    from geo.layers import seed_bundled_layers
    from geo.population import load_census_population, needs_population
    from ingest.run import ingest_paths
    from registers.example import seed_example_registers
    from store.db import database_url

    engine = _engine()
    added = seed_bundled_layers(engine)
    click.echo(f"Database ready: {database_url()}")
    click.echo(f"Boundary and river features loaded: {added}")
    first = ensure_first_admin(engine)
    if first is not None and first.password:
        click.echo(f"\nFirst admin made: sign in as '{first.username}' with the password\n\n"
                   f"    {first.password}\n\nIt is shown only this once (only its hash is "
                   "kept): note it now, or reset it later with `hotspots users password "
                   f"{first.username}`.\n")
    elif first is not None:
        click.echo(f"First admin made: '{first.username}', with the password in "
                   "HOTSPOTS_ADMIN_PASSWORD.")
    if sample:
        report = ingest_paths(engine, [SAMPLE_POLICE], progress=_progress_bar())
        click.echo(f"\nSample imported: {report.accepted:,} new incidents, {report.duplicates:,} "
                   f"already present, {report.rejected:,} rows set aside (see `hotspots rejects`)")
        examples = seed_example_registers(engine)
        click.echo("EXAMPLE registers (marked as examples everywhere): " + ", ".join(
            f"{count} {what}" for what, count in examples.items()) + " added")
    if needs_population(engine):
        match = load_census_population(engine)
        click.echo(f"\nPopulations loaded (rates per 1,000 residents): {match.summary()}")


def _progress_bar():
    from tqdm import tqdm

    bar = tqdm(total=1000, file=sys.stderr, bar_format="{l_bar}{bar}| {desc}", leave=True)

    def update(fraction: float, message: str) -> None:
        bar.n = int(fraction * 1000)
        bar.set_description_str(message, refresh=True)
        if fraction >= 1:
            bar.close()

    return update


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--mapping", type=click.Path(exists=True, dir_okay=False),
              help="JSON file mapping a council log's columns, e.g. "
                   '{"date": "Date reported", "category": "Type", "postcode": "Postcode"}.')
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with the counts.")
def ingest(paths: tuple[str, ...], mapping: str | None, as_json: bool) -> None:
    """Import police.uk street CSVs, council logs, or folders of them."""
    from ingest.council import ColumnMapping
    from ingest.run import ingest_paths

    column_mapping = ColumnMapping.from_file(mapping) if mapping else None
    report = ingest_paths(_engine(), paths, column_mapping, progress=_progress_bar())
    if as_json:
        click.echo(json.dumps(report.to_dict()))
    else:
        for f in report.files:
            state = f["error"] or f["skipped"] or (
                f"{f['accepted']:,} imported, {f['duplicates']:,} already present, "
                f"{f['rejected']:,} set aside")
            click.echo(f"{f['file']}: {state}")
            for note in f.get("notes") or []:
                click.echo(f"  {note}")
        click.echo(f"Total: {report.accepted:,} imported, {report.duplicates:,} already present, "
                   f"{report.rejected:,} set aside")
    if report.failed_files:
        sys.exit(1)


@main.command()
@click.option("--limit", type=int, default=50, show_default=True, help="0 lists all.")
@click.option("--json", "as_json", is_flag=True)
def rejects(limit: int, as_json: bool) -> None:
    """List rows set aside at import: file, row, column and reason."""
    from store.incidents import list_rejects, reject_reasons

    engine = _engine()
    frame = list_rejects(engine, limit or None)
    if as_json:
        click.echo(frame.to_json(orient="records"))
        return
    click.echo("Rows set aside, by reason:")
    for _, r in reject_reasons(engine).iterrows():
        click.echo(f"  {r['rows']:>6}  {r['reason']}")
    click.echo("")
    for _, r in frame.iterrows():
        click.echo(f"{r['file_name']} row {r['row_number']} [{r['column'] or '-'}]: {r['reason']}")


def selection_options(command):
    """--area, --from, --to and --crime-type: how every analysis command selects incidents."""
    for option in reversed([
        click.option("--area", required=True, help="Borough name (any case) or ONS code."),
        click.option("--from", "month_from", required=True, callback=_month, help="YYYY-MM"),
        click.option("--to", "month_to", required=True, callback=_month, help="YYYY-MM"),
        click.option("--crime-type", "crime_types", multiple=True,
                     help="Repeat for several."),
    ]):
        command = option(command)
    return command


def _method_choice() -> click.Choice:
    from hotspots import METHODS

    return click.Choice(list(METHODS))


@main.command()
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
    report = find_hotspots(_engine(), area, month_from, month_to, list(crime_types),
                           method, coverage, **given)
    path = Path(out)
    text = hotspots_csv(report.hotspots) if path.suffix.lower() == ".csv" else hotspots_geojson(
        report.hotspots)
    path.write_text(text, encoding="utf-8")
    for note in report.notes:
        click.echo(f"Note: {note}", err=True)
    click.echo(report.caption(), err=True)
    click.echo(f"Wrote {len(report.hotspots)} hotspots to {path}")


@main.command()
@click.option("--area", required=True, help="Borough name (any case) or ONS code.")
@click.option("--test-month", "test_months", multiple=True, callback=_months,
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
    from hotspots.evaluate import ALL_CRIME

    types = None
    if crime_types:
        types = [ALL_CRIME if t.lower() in ("all", ALL_CRIME.lower()) else t
                 for t in crime_types]
    result = evaluate_area(_engine(), area, list(test_months) or None, train_months, coverage,
                           cell_size, types, list(methods) or None,
                           progress=None if as_json else _progress_bar())
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


def _write_frame(frame, out: str) -> None:
    """A per-cell or per-place result to GeoJSON (WGS84) or CSV (formulas guarded)."""
    from geo.crs import WGS84
    from present.export import safe_csv

    path = Path(out)
    if path.suffix.lower() == ".csv":
        centres = frame.geometry.centroid.to_crs(WGS84)
        table = frame.drop(columns="geometry").assign(
            centroid_lat=centres.y.round(6), centroid_lon=centres.x.round(6))
        path.write_text(safe_csv(table), encoding="utf-8")
    else:
        path.write_text(frame.to_crs(WGS84).to_json(drop_id=True), encoding="utf-8")
    click.echo(f"Wrote {len(frame)} rows to {path}")


@main.command()
@selection_options
@click.option("--top", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON.")
def repeats(area: str, month_from: str, month_to: str, crime_types: tuple[str, ...], top: int,
            as_json: bool) -> None:
    """The places (snap points, addresses) with the most incidents, month by month."""
    from hotspots.analysis import find_repeats

    table = find_repeats(_engine(), area, month_from, month_to, list(crime_types), top)
    if as_json:
        click.echo(table.drop(columns="geometry").to_json(orient="records"))
        return
    for _, r in table.iterrows():
        click.echo(f"{r['rank']:>3}  {r['count']:>5}  {r['location']}  ({r['first_month']} to "
                   f"{r['last_month']}; {r['top_types']})")


@main.command()
@click.option("--area", required=True, help="Borough name (any case) or ONS code.")
@click.option("--before", nargs=2, required=True, callback=_months, metavar="FROM TO",
              help="First period, two YYYY-MM months.")
@click.option("--after", nargs=2, required=True, callback=_months, metavar="FROM TO",
              help="Second period, two YYYY-MM months.")
@click.option("--crime-type", "crime_types", multiple=True, help="Repeat for several.")
@click.option("--cell-size", type=float, help="Cell size in metres (default by rule).")
@click.option("--out", required=True, type=click.Path(dir_okay=False),
              help="Output file: .geojson or .csv.")
def change(area: str, before: tuple[str, str], after: tuple[str, str],
           crime_types: tuple[str, ...], cell_size: float | None, out: str) -> None:
    """Per-cell change between two periods, with an exact test of significance."""
    from hotspots.analysis import compare_periods

    frame = compare_periods(_engine(), area, before, after, list(crime_types), cell_size)
    for direction, n in frame["direction"].value_counts().items():
        click.echo(f"{n:>6} cells: {direction}")
    _write_frame(frame, out)


@main.command()
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

        frame = classify_periods(_engine(), area, month_from, month_to, list(crime_types),
                                 cell_size, period_months)
        for category, n in frame["category"].value_counts().items():
            click.echo(f"{n:>6} cells: {category}")
        _write_frame(frame, out)
        return
    from hotspots.emerging import DEFAULTS, emerging_hotspots, pattern_counts

    frame = emerging_hotspots(
        _engine(), area, month_from, month_to, list(crime_types) or None, period_months,
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
    _write_frame(frame, out)


@main.command()
@click.option("--area", required=True, help="Borough name (any case) or ONS code.")
@click.option("--problem", help="A problem location's name.")
@click.option("--pspo", help="A PSPO's reference.")
@click.option("--file", "map_file", type=click.Path(exists=True, dir_okay=False),
              help="A map file with the outline (GeoJSON, KML, GeoPackage, zipped Shapefile).")
@click.option("--feature", help="--file: the feature to use when it holds several.")
@click.option("--before", nargs=2, required=True, callback=_months, metavar="FROM TO",
              help="Before period, two YYYY-MM months.")
@click.option("--after", nargs=2, required=True, callback=_months, metavar="FROM TO",
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
    engine = _engine()
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


@main.command()
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
    engine = _engine()
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
    _write_frame(frame, out)


@main.command("near-repeat")
@click.option("--area", required=True, help="Borough name (any case) or ONS code.")
@click.option("--from", "month_from", required=True, callback=_month, help="YYYY-MM")
@click.option("--to", "month_to", required=True, callback=_month, help="YYYY-MM")
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

    result = near_repeat(_engine(), area, month_from, month_to, list(categories) or None,
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
        _write_frame(result.zones, zones)
    if not result.applies:
        sys.exit(1)


@main.command()
@click.option("--area", required=True, help="Borough name (any case) or ONS code.")
@click.option("--to", "to_month", required=True, callback=_month, help="End month, YYYY-MM.")
@click.option("--months", type=click.IntRange(1, 60), default=6, show_default=True,
              help="Length of each period.")
@click.option("--crime-type", "crime_types", multiple=True,
              help="Repeat for several (default: all crime, then each type).")
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON.")
def stability(area: str, to_month: str, months: int, crime_types: tuple[str, ...],
              as_json: bool) -> None:
    """Are last period's hotspots hotspots again? Share, Spearman and rank-biased overlap,
    per crime type, on the evaluation's grid."""
    from hotspots.evaluate import ALL_CRIME
    from hotspots.stability import stability as stability_of

    types = None
    if crime_types:
        types = [ALL_CRIME if t.lower() in ("all", ALL_CRIME.lower()) else t
                 for t in crime_types]
    table = stability_of(_engine(), area, to_month, months, types)
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


@main.command()
def areas() -> None:
    """List the areas (boroughs) that hotspots can be found for."""
    from geo.layers import load_layer

    for _, row in load_layer(_engine(), "area").iterrows():
        click.echo(f"{row['code']}\t{row['name']}")


@main.group()
def layers() -> None:
    """Boundary and context layers."""


LAYER_KINDS = ["area", "ward", "lsoa", "town-centre", "water", "river", "pspo"]


def _echo_set_aside(rejected) -> None:
    """Print rows or features set aside, one line each, to stderr."""
    for _, r in rejected.iterrows():
        where = f"feature {r['feature']}" if "feature" in r else f"row {r['row']}"
        column = r.get("field", r.get("column", "")) or "-"
        click.echo(f"  set aside: {r['file']} {where} [{column}]: {r['reason']}", err=True)


@layers.command("add")
@click.argument("kind", type=click.Choice(LAYER_KINDS))
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--name", help="Area name (kind area: features merged into one); or the name of a "
              "single town centre or PSPO when the file has no name field.")
@click.option("--parent", help="Area name or code the features belong to (default: the loaded "
              "area each overlaps most).")
@click.option("--code-field", help="Field holding each feature's code (default: guessed).")
@click.option("--name-field", help="Field holding each feature's name (default: guessed).")
@click.option("--population-field", help="Field holding residents (default: guessed).")
def layers_add(kind: str, file: str, name: str | None, parent: str | None,
               code_field: str | None, name_field: str | None,
               population_field: str | None) -> None:
    """Load a GeoJSON, GeoPackage or zipped Shapefile layer (any declared CRS).

    Wards or LSOAs replace the ones loaded for the same borough; town centres replace the
    borough's approximations; a feature with the code of one already loaded replaces it.
    'river' is another word for 'water'."""
    from geo.layers import add_layer_file

    kind = "water" if kind == "river" else kind
    if kind == "area" and not name:
        raise click.UsageError("an area needs --name, e.g. --name 'Elmbridge'")
    checked = add_layer_file(_engine(), kind, file, name=name, parent=parent,
                             code_field=code_field, name_field=name_field,
                             population_field=population_field)
    kept = 1 if kind == "area" else len(checked.features)
    click.echo(f"Loaded {kept} {kind} feature(s) from {file}"
               + (f"; {checked.repaired} invalid geometry repaired" if checked.repaired else "")
               + (f"; {len(checked.rejected)} set aside" if len(checked.rejected) else ""))
    _echo_set_aside(checked.rejected)


@layers.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
def layers_list(as_json: bool) -> None:
    """What is loaded: features of each kind per borough, source, notes."""
    from geo.layers import list_layers

    frame = list_layers(_engine())
    if as_json:
        click.echo(frame.to_json(orient="records"))
        return
    for _, row in frame.iterrows():
        flags = " (approximate)" if row["approximate"] else ""
        population = f", {row['with_population']} with population" if row["with_population"] \
            else ""
        note = f"\t{row['note']}" if isinstance(row["note"], str) else ""
        click.echo(f"{row['kind']}\t{row['area'] or '-'}\t{row['features']}{flags}{population}"
                   f"\t{row['source']}{note}")


@layers.command("population")
@click.argument("kind", type=click.Choice(["ward", "lsoa", "town-centre", "pspo"]))
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def layers_population(kind: str, file: str) -> None:
    """Set residents per feature from a CSV (code, population) for rates per 1,000."""
    from geo.population import import_population

    result = import_population(_engine(), kind, file)
    click.echo(f"Set the population of {len(result.accepted)} {kind} feature(s) from {file}"
               + (f"; {len(result.rejected)} row(s) set aside" if len(result.rejected) else ""))
    _echo_set_aside(result.rejected)
    if result.accepted.empty:
        sys.exit(1)


@layers.command("town-centre")
@click.argument("name")
@click.option("--area", required=True, help="Borough name or code.")
@click.option("--postcode", required=True, help="A postcode on the main shopping street.")
@click.option("--radius", type=float, default=400.0, show_default=True, help="Metres.")
@click.option("--street", help="The street's name, for the label.")
def layers_town_centre(name: str, area: str, postcode: str, radius: float,
                       street: str | None) -> None:
    """Add an approximate town centre: a circle around a high street postcode, labelled as an
    approximation until the council's outline is loaded."""
    from geo.areas import resolve_area
    from geo.town_centres import approximate_town_centre

    engine = _engine()
    note = approximate_town_centre(engine, name, resolve_area(engine, area).code, postcode,
                                   radius, street)
    click.echo(f"{name}: {note}")


def _targets(items: tuple[str, ...], path: str | None) -> dict:
    from report.compare import parse_targets, read_targets

    targets = {}
    if path:
        targets, rejected = read_targets(path)
        _echo_set_aside(rejected)
    try:
        targets.update(parse_targets(items))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--target") from None
    return targets


def _write_report(frame, out: str, title: str, notes: list[str], name: str) -> None:
    """A report table to CSV (formulas guarded) or a formatted .xlsx."""
    from present.export import safe_csv
    from report.spreadsheet import Sheet, workbook_bytes

    path = Path(out)
    if path.suffix.lower() == ".xlsx":
        path.write_bytes(workbook_bytes([Sheet(name, title, frame, notes)],
                                        "Source: data.police.uk and local data"))
    elif path.suffix.lower() == ".csv":
        path.write_text(safe_csv(frame), encoding="utf-8")
    else:
        raise click.BadParameter("write to a .csv or .xlsx file", param_hint="--out")
    click.echo(f"Wrote {len(frame)} rows to {path}")


@main.command()
@click.option("--area", required=True, help="Borough name (any case) or ONS code.")
@click.option("--by", type=click.Choice(["ward", "lsoa", "town-centre", "river", "pspo"]),
              required=True)
@click.option("--from", "month_from", required=True, callback=_month, help="YYYY-MM")
@click.option("--to", "month_to", required=True, callback=_month, help="YYYY-MM")
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
    from report.summary import summarise

    engine = _engine()
    result = summarise(engine, area, by, month_from, month_to, list(crime_types) or None,
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


@main.command()
@click.option("--area", required=True, help="Borough name (any case) or ONS code.")
@click.option("--to", "to_month", required=True, callback=_month, help="End month, YYYY-MM.")
@click.option("--months", type=click.IntRange(1, 60), default=12, show_default=True,
              help="Rolling period length.")
@click.option("--since", callback=_month, help="Since the last JAG: first month (YYYY-MM); "
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
    from report.compare import RAG_RULE
    from report.compare import compare as compare_periods_table
    from report.currency import data_currency

    engine = _engine()
    targets = _targets(target_items, targets_file)
    result = compare_periods_table(engine, area, to_month, months, by, targets, since,
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


@main.command()
@selection_options
@click.option("--cell-size", type=click.FloatRange(10, 1000), default=100.0, show_default=True,
              help="Cell size in metres.")
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON.")
def concentration(area: str, month_from: str, month_to: str, crime_types: tuple[str, ...],
                  cell_size: float, as_json: bool) -> None:
    """How concentrated crime is: share in the top 1/5/10% of cells and Gini, per type."""
    from geo.areas import resolve_area
    from hotspots.analysis import area_incidents, months_between
    from report.concentration import concentration as measure

    engine = _engine()
    months_between(month_from, month_to)
    place = resolve_area(engine, area)
    table = measure(area_incidents(engine, place, month_from, month_to,
                                   list(crime_types) or None), place.land, cell_size)
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


@main.command("incidents")
@selection_options
@click.option("--frontage", type=click.FloatRange(1, 2000), default=50.0, show_default=True,
              help="River frontage: metres from the water.")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help=".csv file")
def incidents_export(area: str, month_from: str, month_to: str, crime_types: tuple[str, ...],
                     frontage: float, out: str) -> None:
    """Export the area's incidents with ward, LSOA, town centre, river distance and PSPO."""
    from geo.areas import resolve_area
    from geo.joins import attribute_incidents, context_layers
    from hotspots.analysis import area_incidents, months_between
    from present.export import safe_csv

    engine = _engine()
    months_between(month_from, month_to)
    place = resolve_area(engine, area)
    points = area_incidents(engine, place, month_from, month_to, list(crime_types) or None)
    table = attribute_incidents(points, context_layers(engine, place, frontage))
    Path(out).write_text(safe_csv(table.drop(columns="geometry")), encoding="utf-8")
    click.echo(f"Wrote {len(table)} incidents to {out}")


if __name__ == "__main__":
    main()


def _add_register_commands() -> None:
    from access.cli import COMMANDS as ACCESS_COMMANDS  # users, restricted, audit
    from registers.cli import COMMANDS
    from report.cli import COMMANDS as REPORT_COMMANDS  # themes, overview

    for command in (*COMMANDS, *REPORT_COMMANDS, *ACCESS_COMMANDS):
        main.add_command(command)


_add_register_commands()
