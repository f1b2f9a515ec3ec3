"""Residents per ward, LSOA or other feature, read from a CSV (code, population), so that
summaries can give rates per 1,000 residents. Bad rows are set aside with reasons."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from geo.layers import (
    POPULATION_FIELDS,
    LayerError,
    find_field,
    load_layer,
    set_population,
)
from ingest.result import FileImport

CODE_FIELDS = (r"code", r".*cd", r"gss.*", r"geography code")


def _column(columns: list[str], patterns: tuple[str, ...], what: str, file: str) -> str:
    found = find_field(columns, patterns)
    if found is not None:
        return found
    raise LayerError(f"{file}: no {what} column (looked for {', '.join(patterns)}; the file has "
                     f"{', '.join(columns)})")


def import_population(engine: Engine, kind: str, path: str | Path) -> FileImport:
    """Set populations of loaded features of `kind` from a CSV; unknown codes, missing or
    non-numeric populations and codes given twice are set aside with row and column."""
    path = Path(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise LayerError(f"{path.name}: cannot be read as a CSV ({exc})") from None
    code_col = _column(list(frame.columns), CODE_FIELDS, "code", path.name)
    pop_col = _column([c for c in frame.columns if c != code_col], POPULATION_FIELDS,
                      "population", path.name)
    known = set(load_layer(engine, kind)["code"])
    accepted, rejected = [], []
    seen: set[str] = set()
    for i, row in frame.iterrows():
        line = int(i) + 2
        code, raw = row[code_col].strip(), row[pop_col].strip().replace(",", "")

        def refuse(column: str, reason: str, row=row, line=line) -> None:
            rejected.append({"file": path.name, "row": line, "column": column,
                             "reason": reason, "raw": row.to_dict()})

        if not code:
            refuse(code_col, "no code")
        elif code not in known:
            refuse(code_col, f"'{code}' is not a loaded {kind} code")
        elif code in seen:
            refuse(code_col, f"'{code}' is given twice; the first row is kept")
        elif not re.fullmatch(r"\d+(\.0+)?", raw):
            refuse(pop_col, f"population '{row[pop_col]}' is not a whole number of residents")
        else:
            seen.add(code)
            accepted.append({"code": code, "population": int(float(raw))})
    accepted_frame = pd.DataFrame(accepted, columns=["code", "population"])
    if len(accepted_frame):
        set_population(engine, kind, accepted_frame)
    result = FileImport(file=path.name, kind="population", dataset=kind)
    result.accepted = accepted_frame
    result.rejected = pd.DataFrame(rejected, columns=["file", "row", "column", "reason", "raw"])
    return result
