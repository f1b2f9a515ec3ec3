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
        from geo.areas import UnknownAreaError
        from geo.layers import LayerError
        from hotspots.result import HotspotInputError
        from ingest.result import FileImportError

        try:
            return super().invoke(ctx)
        except (UnknownAreaError, LayerError, HotspotInputError, FileImportError,
                FileNotFoundError) as exc:
            raise click.ClickException(str(exc).strip("'\"")) from None


@click.group(cls=FriendlyGroup)
def main() -> None:
    """Crime and ASB hotspots for Community Safety Partnerships."""


@main.command()
@click.option("--sample/--no-sample", default=True, show_default=True,
              help="Import the bundled police.uk sample (Spelthorne, Runnymede, Woking).")
def setup(sample: bool) -> None:
    """Create or upgrade the database, load bundled boundaries and the sample data."""
    from geo.layers import seed_bundled_layers
    from ingest.run import ingest_paths
    from store.db import database_url

    engine = _engine()
    added = seed_bundled_layers(engine)
    click.echo(f"Database ready: {database_url()}")
    click.echo(f"Boundary and river features loaded: {added}")
    if sample:
        report = ingest_paths(engine, [SAMPLE_POLICE], progress=_progress_bar())
        click.echo(f"\nSample imported: {report.accepted:,} new incidents, {report.duplicates:,} "
                   f"already present, {report.rejected:,} rows set aside (see `hotspots rejects`)")


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
@click.option("--out", required=True, type=click.Path(dir_okay=False),
              help="Output file: .geojson or .csv.")
def classify(area: str, month_from: str, month_to: str, crime_types: tuple[str, ...],
             period_months: int, cell_size: float | None, out: str) -> None:
    """Emerging, persistent, intermittent and former hot spots, cell by cell."""
    from hotspots.analysis import classify_periods

    frame = classify_periods(_engine(), area, month_from, month_to, list(crime_types),
                             cell_size, period_months)
    for category, n in frame["category"].value_counts().items():
        click.echo(f"{n:>6} cells: {category}")
    _write_frame(frame, out)


@main.command()
def areas() -> None:
    """List the areas (boroughs) that hotspots can be found for."""
    from geo.layers import load_layer

    for _, row in load_layer(_engine(), "area").iterrows():
        click.echo(f"{row['code']}\t{row['name']}")


@main.group()
def layers() -> None:
    """Boundary and context layers."""


@layers.command("add")
@click.argument("kind", type=click.Choice(["area", "ward", "lsoa", "water"]))
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--name", help="Name of the area (kind area: the features are merged into one).")
@click.option("--parent", help="Area name or code the wards/LSOAs belong to.")
def layers_add(kind: str, file: str, name: str | None, parent: str | None) -> None:
    """Load a GeoJSON, GeoPackage or zipped Shapefile layer (any declared CRS)."""
    from geo.areas import resolve_area
    from geo.layers import read_layer_file, store_layer

    engine = _engine()
    if kind == "area" and not name:
        raise click.UsageError("an area needs --name, e.g. --name 'Elmbridge'")
    parent_code = resolve_area(engine, parent).code if parent else None
    frame = read_layer_file(file)
    count = store_layer(engine, kind, frame, source=Path(file).name, name=name,
                        parent_code=parent_code)
    click.echo(f"Loaded {count} {kind} feature(s) from {file}")


@layers.command("list")
def layers_list() -> None:
    """How many features of each kind are loaded, and their source."""
    from geo.layers import list_layers

    for _, row in list_layers(_engine()).iterrows():
        click.echo(f"{row['kind']}\t{row['features']}\t{row['source']}")


if __name__ == "__main__":
    main()
