"""Data page: import files (police.uk or council logs), see what was set aside and why; load
boundary and context layers (wards, town centres, PSPO areas, ...), populations, and
approximate town centres."""

from __future__ import annotations

import tempfile
from pathlib import Path, PurePath

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from access.incidents import list_rejects, reject_reasons
from core.import_result import FileImportError
from core.words import blank, month_name, readable
from geo.areas import UnknownAreaError, resolve_area
from geo.layers import (
    KINDS,
    LayerError,
    LayerFile,
    add_drawn_feature,
    add_layer_file,
    list_layers,
)
from geo.population import import_population
from geo.town_centres import DEFAULT_RADIUS_M, approximate_town_centre
from ingest.council import ColumnMapping, guess_mapping
from ingest.police import looks_like_police
from ingest.readcsv import read_header
from ingest.run import IngestReport, ingest_bytes
from ingest.validate import NO_POSITION
from present.map import drawing_map
from present.markdown import markdown_safe, markdown_text
from store.incidents import list_imports
from views import state

MAPPING_FIELDS = [
    ("date", "Date (dd/mm/yyyy or yyyy-mm-dd, time optional)"), ("time", "Time (optional)"),
    ("category", "Category / incident type"), ("latitude", "Latitude"),
    ("longitude", "Longitude"), ("easting", "Easting (OS grid)"),
    ("northing", "Northing (OS grid)"), ("postcode", "Postcode"),
    ("location", "Location / address text"), ("reference", "Reference / log number"),
    ("notes", "Notes"),
]

KIND_LABELS = {"area": "Area (borough boundary)", "ward": "Wards", "lsoa": "LSOAs",
               "town-centre": "Town centres", "water": "Water (rivers, lakes)",
               "pspo": "PSPO areas", "cctv": "CCTV cameras (points)"}
POPULATION_KINDS = ("ward", "lsoa", "town-centre", "pspo", "area")
WORK_IT_OUT = "(the loaded area each feature overlaps most)"
LAYER_TYPES = ["geojson", "json", "gpkg", "zip"]

st.title("Data")
engine = state.engine()
md = markdown_text


def header_of(name: str, data: bytes) -> list[str] | str:
    """The file's column names, or a message saying why it cannot be read."""
    try:
        return read_header(name, data)
    except FileImportError as exc:
        return exc.message


def file_name(name: object) -> str:
    """A file as the user knows it: its name, never the folder it sat in on the server."""
    text = blank(name)
    return PurePath(text.replace("\\", "/")).name if text else ""


def source_text(source: object) -> str:
    """A layer's source for people: a file's name (never a server path), or the words."""
    text = blank(source)
    if "/" in text or "\\" in text:
        return f"file {file_name(text)}"
    return text


def raw_text(raw: object) -> str:
    """A rejected row's values as 'column=value; …'."""
    if isinstance(raw, dict):
        return "; ".join(f"{k}={v}" for k, v in raw.items() if v)
    return "" if raw is None else str(raw)


def show_report(report: IngestReport) -> None:
    """Per-file outcome and totals, in words users read at a glance."""
    st.success(f"Imported {report.accepted:,} new incidents; {report.duplicates:,} were already "
               f"present; {report.rejected:,} rows were set aside (listed below).")
    files = pd.DataFrame(report.files)
    files["file"] = files["file"].map(file_name)
    st.table(markdown_safe(readable(files, {
        "file": "File", "kind": "Kind", "accepted": "Added", "duplicates": "Already there",
        "rejected": "Set aside", "error": "Problem", "skipped": "Skipped"})), hide_index=True)
    for failed in report.failed_files:
        st.error(md(f"{failed['file']}: {failed['error']}"))
    for read in report.files:  # how a file was read: lines decoded as Windows-1252, ...
        for note in read.get("notes") or []:
            st.info(md(f"{file_name(read['file'])}: {note}."))


st.header("Import files")
st.write("data.police.uk street-level CSVs exactly as downloaded (one month or many), or a "
         "council log (ASB reports, fly-tipping, CCTV incidents) with a date, a category and a "
         "location (latitude/longitude, easting/northing or postcode). Importing the same file "
         "again adds nothing.")
uploads = st.file_uploader("CSV files", type=["csv"], accept_multiple_files=True,
                           key="uploads")
if uploads:
    police_files, council_files, unreadable = [], [], []
    for upload in uploads:
        data = upload.getvalue()
        header = header_of(upload.name, data)
        if isinstance(header, str):
            unreadable.append((upload.name, header))
        elif looks_like_police(header, upload.name):
            police_files.append((upload.name, data))
        else:
            council_files.append((upload.name, data, header))
    for name, message in unreadable:
        st.error(md(f"{name}: {message}"))

    mappings: dict[str, ColumnMapping] = {}
    for name, _data, header in council_files:
        with st.expander(f"Columns of council log {md(name)}", expanded=True):
            guess = guess_mapping(header).to_dict()
            choices = ["(none)", *header]
            chosen = {}
            cols = st.columns(3)
            for i, (field, label) in enumerate(MAPPING_FIELDS):
                current = guess.get(field) or "(none)"
                pick = cols[i % 3].selectbox(label, choices, index=choices.index(current),
                                             key=f"map-{name}-{field}")
                chosen[field] = "" if pick == "(none)" else pick
            chosen["dataset"] = st.text_input("Name of this log", value=name.rsplit(".", 1)[0],
                                              key=f"map-{name}-dataset")
            mappings[name] = ColumnMapping(**chosen)

    total = len(police_files) + len(council_files)
    if total and st.button(f"Import {total} file(s)", type="primary", key="import"):
        report = IngestReport()
        bar = st.progress(0.0, text="Starting…")
        jobs = [(n, d, None) for n, d in police_files] + [
            (n, d, mappings[n]) for n, d, _ in council_files]
        for i, (name, data, mapping) in enumerate(jobs):
            bar.progress(i / total, text=f"Importing {md(name)} ({i + 1} of {total}); "
                         f"{report.accepted:,} rows imported so far")
            ingest_bytes(engine, name, data, mapping, report)
        bar.progress(1.0, text=f"Done: {report.accepted:,} rows imported")
        st.cache_data.clear()
        show_report(report)

st.header("Rows set aside")
reasons = reject_reasons(engine)
if reasons.empty:
    st.write("No rows have been set aside.")
else:
    st.write(f"{int(reasons['rows'].sum()):,} rows were set aside at import, by reason:")
    st.table(markdown_safe(readable(reasons, {"reason": "Reason", "rows": "Rows"})),
             hide_index=True)
    if reasons["reason"].eq(NO_POSITION).any():
        st.caption("police.uk publishes some crimes without a map position (where none could "
                   "be given, or where it could identify someone); they are counted in "
                   "police.uk's own totals but cannot be mapped here.")
    with st.expander("Every row set aside (the latest 2,000), with its values"):
        rejects = list_rejects(engine, 2000)
        rejects["raw"] = rejects["raw"].map(raw_text)
        rejects["file_name"] = rejects["file_name"].map(file_name)
        st.dataframe(readable(rejects, {"file_name": "File", "row_number": "Row",
                                        "column": "Column", "reason": "Reason",
                                        "raw": "The row's values"}),
                     hide_index=True, width="stretch", key="rejects")

st.header("Imports")
imports = list_imports(engine)
imports["file_name"] = imports["file_name"].map(file_name)
st.dataframe(readable(imports, {
    "imported_at": "Imported", "file_name": "File", "kind": "Kind", "dataset": "Data set",
    "accepted": "Added", "duplicates": "Already there", "rejected": "Set aside",
    "error": "Problem"}), hide_index=True, width="stretch", key="imports")

st.header("Months loaded")
coverage = state.coverage_table()
if len(coverage):
    st.caption(state.currency_text())
    shown = coverage.reset_index()
    shown["month"] = shown["month"].map(month_name)
    counts = {column: st.column_config.NumberColumn(column, format="localized")
              for column in shown.columns if column != "month"}  # 12,345, not 12345
    st.dataframe(shown.rename(columns={"month": "Month"}), hide_index=True, width="stretch",
                 column_config=counts, key="coverage")


def saved_upload(upload, folder: str) -> Path:
    """Write an uploaded file into `folder` under its own file name (messages name it)."""
    path = Path(folder) / (Path(upload.name).name or "upload")
    path.write_bytes(upload.getvalue())
    return path


def with_upload(upload, what: str, action):
    """Run `action` on the upload saved under its own file name (messages name it); show a
    LayerError; clear the caches after success. None when nothing came of it."""
    if upload is None:
        st.error(f"Choose {what} first.")
        return None
    with tempfile.TemporaryDirectory(prefix="upload-") as folder:
        try:
            result = action(saved_upload(upload, folder))
        except LayerError as exc:
            st.error(md(exc))
            return None
    st.cache_data.clear()
    return result


def show_layer_result(kind: str, result: LayerFile) -> None:
    """What an added layer file kept, repaired and set aside."""
    kept, aside = len(result.features), len(result.rejected)
    repaired = f"; {result.repaired} repaired (invalid outlines made valid)" if \
        result.repaired else ""
    st.success(md(f"Added {kept:,} feature(s) to {KIND_LABELS[kind]} from {result.file}; "
                  f"{aside:,} set aside{repaired}."))
    if aside:
        st.write("Features set aside:")
        st.table(markdown_safe(result.rejected[["file", "feature", "field", "reason"]]),
                 hide_index=True)


st.header("Layers")
st.write("Boundaries and context the hotspots and the JAG report are put in: each borough "
         "(area), its wards and LSOAs, town centres, the river, and PSPO areas.")
layers_box = st.container()
area_list = state.areas(state.data_version())

with st.form("layer_upload"):
    st.markdown("**Add a layer file** (GeoJSON, GeoPackage or zipped Shapefile, in any "
                "declared coordinate system)")
    first, second, third = st.columns(3)
    layer_kind = first.selectbox("Layer kind", KINDS, index=KINDS.index("pspo"),
                                 format_func=KIND_LABELS.get, key="layer_kind")
    layer_name = second.text_input(
        "Name (optional)", key="layer_name",
        help="For an area: a name merges the file's features into one area; left empty, each "
             "feature is an area of its own (every district of a county, say).")
    layer_parent = third.selectbox("Area it belongs to (optional)", [WORK_IT_OUT, *area_list],
                                   key="layer_parent")
    layer_upload = st.file_uploader("Layer file", type=LAYER_TYPES, key="layer_file")
    add_layer = st.form_submit_button("Add layer")
if add_layer:
    added = with_upload(layer_upload, "a layer file", lambda path: add_layer_file(
        engine, layer_kind, path, name=layer_name.strip() or None,
        parent=None if layer_parent == WORK_IT_OUT else layer_parent))
    if added is not None:
        show_layer_result(layer_kind, added)

st.markdown("**Draw a town centre or PSPO area** on the map (polygon or rectangle tool, top "
            "left), name it and save. A drawn town centre replaces the borough's "
            "approximations.")
draw_cols = st.columns(3)
draw_area = draw_cols[0].selectbox("Area to draw in", area_list, key="draw_area")
draw_kind = draw_cols[1].selectbox("It is a", ["town-centre", "pspo"],
                                   format_func=KIND_LABELS.get, key="draw_kind")
draw_name = draw_cols[2].text_input("Name of the drawn shape", key="draw_name")
draw_layers = state.map_layers(draw_area, state.data_version())
drawn = st_folium(drawing_map(draw_layers.boundary, draw_layers.wards, draw_layers.water,
                              draw_layers.town_centres, draw_layers.pspos),
                  height=420, use_container_width=True, key="draw_map",
                  returned_objects=["last_active_drawing"])
shape = (drawn or {}).get("last_active_drawing") or None
if st.button("Save the drawn shape", key="draw_save", disabled=shape is None):
    try:
        code = add_drawn_feature(engine, draw_kind, draw_name, shape["geometry"],
                                 resolve_area(engine, draw_area).code)
    except (LayerError, UnknownAreaError) as exc:
        st.error(md(exc))
    else:
        st.cache_data.clear()
        st.success(md(f"Saved {KIND_LABELS.get(draw_kind, draw_kind)} '{draw_name.strip()}' "
                      f"({code}) for {draw_area}."))

with st.form("population_upload"):
    st.markdown("**Residents per ward, LSOA or other feature** (a CSV with a code column and "
                "a population column), for rates per 1,000 residents")
    first, second = st.columns([1, 2])
    population_kind = first.selectbox("Population of", POPULATION_KINDS,
                                      format_func=KIND_LABELS.get, key="population_kind")
    population_upload = second.file_uploader("Population CSV", type=["csv"],
                                             key="population_file")
    add_population = st.form_submit_button("Import populations")
if add_population:
    imported = with_upload(population_upload, "a population CSV",
                           lambda path: import_population(engine, population_kind, path))
    if imported is not None:
        st.success(md(f"Set the population of {len(imported.accepted):,} feature(s) of "
                      f"{KIND_LABELS[population_kind]}; {len(imported.rejected):,} rows set "
                      "aside."))
        if len(imported.rejected):
            rejected = imported.rejected.assign(raw=imported.rejected["raw"].map(raw_text))
            st.table(markdown_safe(
                rejected[["file", "row", "column", "reason", "raw"]]), hide_index=True)

with st.form("approximate_town_centre"):
    st.markdown("**Approximate town centre**: until the council's outline is loaded, a circle "
                "around a postcode on the high street, labelled as approximate on every map "
                "and table")
    first, second, third, fourth = st.columns(4)
    centre_name = first.text_input("Town centre name", key="centre_name")
    centre_area = second.selectbox("Area", area_list, key="centre_area")
    centre_postcode = third.text_input("High street postcode", key="centre_postcode")
    centre_radius = fourth.number_input("Radius (m)", min_value=50, max_value=3000,
                                        value=int(DEFAULT_RADIUS_M), step=50,
                                        key="centre_radius")
    centre_street = st.text_input("Street (optional, for the label)", key="centre_street")
    add_centre = st.form_submit_button("Add approximate town centre")
if add_centre:
    if not centre_name.strip():
        st.error("Give the town centre a name.")
    elif not centre_area:
        st.error("Load an area first.")
    else:
        try:
            note = approximate_town_centre(engine, centre_name.strip(),
                                           resolve_area(engine, centre_area).code,
                                           centre_postcode, float(centre_radius),
                                           centre_street.strip() or None)
        except (LayerError, UnknownAreaError, FileNotFoundError) as exc:
            st.error(md(exc))
        else:
            st.cache_data.clear()
            st.success(md(f"Added {centre_name.strip()}: {note}"))

with layers_box:
    layers = list_layers(engine)
    shown = layers.assign(kind=layers["kind"].map(lambda k: KIND_LABELS.get(k, k)),
                          source=layers["source"].map(source_text))
    st.table(markdown_safe(readable(shown, {
        "kind": "Layer", "area": "Borough", "features": "Features",
        "approximate": "Approximate", "with_population": "With residents",
        "source": "Source", "note": "Note"})), hide_index=True)
    old_wards = layers[(layers["kind"] == "ward")
                       & layers["note"].fillna("").str.contains("2013 ward boundaries")]
    if len(old_wards):
        names = " and ".join(f"{n}'s" for n in old_wards["area"].map(md))
        st.caption(f"{names} wards are the 2013 boundaries: those boroughs have been re-warded "
                   "since, so counts by ward there follow out-of-date lines. Load the current "
                   "wards (ONS Open Geography Portal) below as a Wards layer file: they replace "
                   "the old ones for that borough.")
