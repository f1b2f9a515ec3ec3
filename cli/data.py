"""`hotspots setup|ingest|rejects|areas|layers …`: the database, imports and the boundary and
context layers."""

from __future__ import annotations

import json
import sys

import click

from cli.common import database, echo_set_aside, progress_bar


@click.command()
@click.option("--sample/--no-sample", default=True, show_default=True,
              help="Import the bundled police.uk sample (Spelthorne, Runnymede, Woking) and "
                   "the EXAMPLE PSPO and water-safety registers.")
@click.option("--all-areas", is_flag=True,
              help="Also load every English district (326, bundled) as an area.")
def setup(sample: bool, all_areas: bool) -> None:
    """Create or upgrade the database, load bundled boundaries, Census 2021 populations and the
    sample data, and make the first admin (its password from HOTSPOTS_ADMIN_PASSWORD, else
    printed once)."""
    from geo.bundled import seed_all_districts
    from registers.setup import load_missing_populations, load_sample, prepare_database

    ready = prepare_database()
    engine, first = ready.engine, ready.first_admin
    click.echo(f"Database ready: {ready.url}")
    click.echo(f"Boundary and river features loaded: {ready.layers_added}")
    if all_areas:
        added = seed_all_districts(engine)
        click.echo(f"Every English district is an area: {added} added (areas already loaded "
                   "kept as they were)")
    if first is not None and first.password:
        click.echo(f"\nFirst admin made: sign in as '{first.username}' with the password\n\n"
                   f"    {first.password}\n\nIt is shown only this once (only its hash is "
                   "kept): note it now, or reset it later with `hotspots users password "
                   f"{first.username}`.\n")
    elif first is not None:
        click.echo(f"First admin made: '{first.username}', with the password in "
                   "HOTSPOTS_ADMIN_PASSWORD.")
    if sample:
        loaded = load_sample(engine, progress=progress_bar())
        report = loaded.incidents
        click.echo(f"\nSample imported: {report.accepted:,} new incidents, {report.duplicates:,} "
                   f"already present, {report.rejected:,} rows set aside (see `hotspots rejects`)")
        click.echo("EXAMPLE registers (marked as examples everywhere): " + ", ".join(
            f"{count} {what}" for what, count in loaded.examples.items()) + " added")
    match = load_missing_populations(engine)
    if match is not None:
        click.echo(f"\nPopulations loaded (rates per 1,000 residents): {match.summary()}")



@click.command()
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
    report = ingest_paths(database(), paths, column_mapping, progress=progress_bar())
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


@click.command()
@click.option("--limit", type=int, default=50, show_default=True, help="0 lists all.")
@click.option("--json", "as_json", is_flag=True)
def rejects(limit: int, as_json: bool) -> None:
    """List rows set aside at import: file, row, column and reason."""
    from access.incidents import list_rejects, reject_reasons

    engine = database()
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



@click.command()
def areas() -> None:
    """List the areas (boroughs) that hotspots can be found for."""
    from geo.layers import load_layer

    for _, row in load_layer(database(), "area").iterrows():
        click.echo(f"{row['code']}\t{row['name']}")


@click.group()
def layers() -> None:
    """Boundary and context layers."""


LAYER_KINDS = ["area", "ward", "lsoa", "town-centre", "water", "river", "pspo"]



@layers.command("add")
@click.argument("kind", type=click.Choice(LAYER_KINDS))
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--name", help="Area name (kind area: features merged into one; without it each "
              "feature is an area, named by --name-field); or the name of a single town "
              "centre or PSPO when the file has no name field.")
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
    checked = add_layer_file(database(), kind, file, name=name, parent=parent,
                             code_field=code_field, name_field=name_field,
                             population_field=population_field)
    kept = 1 if kind == "area" and name else len(checked.features)
    click.echo(f"Loaded {kept} {kind} feature(s) from {file}"
               + (f"; {checked.repaired} invalid geometry repaired" if checked.repaired else "")
               + (f"; {len(checked.rejected)} set aside" if len(checked.rejected) else ""))
    echo_set_aside(checked.rejected)


@layers.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
def layers_list(as_json: bool) -> None:
    """What is loaded: features of each kind per borough, source, notes."""
    from geo.layers import list_layers

    frame = list_layers(database())
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

    result = import_population(database(), kind, file)
    click.echo(f"Set the population of {len(result.accepted)} {kind} feature(s) from {file}"
               + (f"; {len(result.rejected)} row(s) set aside" if len(result.rejected) else ""))
    echo_set_aside(result.rejected)
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

    engine = database()
    note = approximate_town_centre(engine, name, resolve_area(engine, area).code, postcode,
                                   radius, street)
    click.echo(f"{name}: {note}")



COMMANDS = (setup, ingest, rejects, areas, layers)
