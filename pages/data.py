"""Data page: import files (police.uk or council logs), see what was set aside and why."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ingest.council import ColumnMapping, guess_mapping
from ingest.police import looks_like_police
from ingest.readcsv import read_header
from ingest.result import FileImportError
from ingest.run import IngestReport, ingest_bytes
from present import appstate
from store.incidents import list_imports, list_rejects, reject_reasons

MAPPING_FIELDS = [
    ("date", "Date (dd/mm/yyyy or yyyy-mm-dd, time optional)"), ("time", "Time (optional)"),
    ("category", "Category / incident type"), ("latitude", "Latitude"),
    ("longitude", "Longitude"), ("easting", "Easting (OS grid)"),
    ("northing", "Northing (OS grid)"), ("postcode", "Postcode"),
    ("location", "Location / address text"), ("reference", "Reference / log number"),
    ("notes", "Notes"),
]

st.title("Data")
engine = appstate.engine()


def header_of(name: str, data: bytes) -> list[str] | str:
    """The file's column names, or a message saying why it cannot be read."""
    try:
        return read_header(name, data)
    except FileImportError as exc:
        return exc.message


def show_report(report: IngestReport) -> None:
    """Per-file outcome and totals, in words users read at a glance."""
    st.success(f"Imported {report.accepted:,} new incidents; {report.duplicates:,} were already "
               f"present; {report.rejected:,} rows were set aside (listed below).")
    files = pd.DataFrame(report.files)
    st.dataframe(files[["file", "kind", "accepted", "duplicates", "rejected", "error",
                        "skipped"]], hide_index=True, width="stretch")
    for failed in report.failed_files:
        st.error(f"{failed['file']}: {failed['error']}")


st.subheader("Import files")
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
        st.error(f"{name}: {message}")

    mappings: dict[str, ColumnMapping] = {}
    for name, _data, header in council_files:
        with st.expander(f"Columns of council log {name}", expanded=True):
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
            bar.progress(i / total, text=f"Importing {name} ({i + 1} of {total}); "
                         f"{report.accepted:,} rows imported so far")
            ingest_bytes(engine, name, data, mapping, report)
        bar.progress(1.0, text=f"Done: {report.accepted:,} rows imported")
        st.cache_data.clear()
        show_report(report)

st.subheader("Rows set aside")
reasons = reject_reasons(engine)
if reasons.empty:
    st.write("No rows have been set aside.")
else:
    st.write(f"{int(reasons['rows'].sum()):,} rows were set aside at import, by reason:")
    st.table(reasons.set_index("reason"))
    rejects = list_rejects(engine, 2000)
    rejects["raw"] = rejects["raw"].map(lambda r: "; ".join(f"{k}={v}" for k, v in r.items()
                                                            if v))
    st.dataframe(rejects.rename(columns={"file_name": "file", "row_number": "row"})
                 [["file", "row", "column", "reason", "raw"]],
                 hide_index=True, width="stretch", key="rejects")

st.subheader("Imports")
imports = list_imports(engine)
st.dataframe(imports[["imported_at", "file_name", "kind", "dataset", "accepted", "duplicates",
                      "rejected", "error"]], hide_index=True, width="stretch")

st.subheader("Date coverage")
st.dataframe(appstate.coverage_table(), width="stretch")
