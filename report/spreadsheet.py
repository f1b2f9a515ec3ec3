"""Formatted spreadsheets for board papers: a title block, bold headers, frozen panes,
filters, number formats (percentages, rates per 1,000 residents), RAG cells coloured, and the
notes and rules under each table (which months were compared, how current the data is)."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from core.safe_text import FORMULA_START, formula_safe, without_controls

CELL_LIMIT = 32_767  # characters Excel keeps in one cell
RAG_FILLS = {"Green": "C6EFCE", "Amber": "FFEB9C", "Red": "FFC7CE"}
HEADER_FILL = "DDEBF7"
PERCENT_COLUMNS = ("change_pct", "share_of_area_pct")
SHARE_COLUMNS = ("top_1pct_share", "top_5pct_share", "top_10pct_share")
RATE_COLUMNS = ("per_1000_residents", "current_per_1000", "previous_per_1000")


@dataclass
class Sheet:
    """One table for one worksheet, with its heading and the notes printed under it."""

    name: str
    title: str
    table: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def cell_value(value: object) -> object:
    """A value as a cell holds it safely: control characters removed, then text that would
    run as a formula guarded, text cut to Excel's 32,767 characters, and missing or infinite
    numbers left blank (Excel cannot open a file holding 'nan' or 'inf')."""
    if _missing(value) or (isinstance(value, float) and not math.isfinite(value)):
        return None
    value = formula_safe(without_controls(value))
    if isinstance(value, str) and len(value) > CELL_LIMIT:
        return value[:CELL_LIMIT - 1] + "…"
    return value


def workbook_bytes(sheets: list[Sheet], source: str) -> bytes:
    """An .xlsx file holding each table on its own sheet; every cell, header, title, note
    and sheet name guarded (see cell_value and sheet_name)."""
    book = Workbook()
    book.remove(book.active)
    taken: set[str] = set()
    for sheet in sheets:
        _write(book.create_sheet(sheet_name(sheet.name, taken)), sheet, source)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def sheet_name(name: str, taken: set[str] | None = None) -> str:
    """A worksheet name Excel accepts: no control characters, none of []:*?/\\, no formula
    sign or apostrophe at the start, at most 31 characters, not blank, and (against `taken`,
    which it adds to) unique in any case."""
    name = str(without_controls(str(name)))
    for bad in "[]:*?/\\":
        name = name.replace(bad, " ")
    name = name.lstrip("".join(FORMULA_START) + "' ").rstrip("' ")[:31].strip() or "Sheet"
    taken = taken if taken is not None else set()
    unique, n = name, 1
    while unique.lower() in taken:
        n += 1
        suffix = f" ({n})"
        unique = name[:31 - len(suffix)] + suffix
    taken.add(unique.lower())
    return unique


def _write(ws, sheet: Sheet, source: str) -> None:
    ws.append([cell_value(sheet.title)])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([cell_value(f"{source}; produced {datetime.now():%d/%m/%Y %H:%M}")])
    ws["A2"].font = Font(italic=True, color="555555")
    ws.append([])
    header_row = 4
    table = sheet.table
    ws.append([cell_value(str(c).replace("_", " ").capitalize()) for c in table.columns])
    for cell in ws[header_row]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for values in table.itertuples(index=False):
        ws.append([cell_value(v) for v in values])
    last = ws.max_row
    for i, column in enumerate(table.columns, start=1):
        letter = get_column_letter(i)
        cells = [ws.cell(row=r, column=i) for r in range(header_row + 1, last + 1)]
        if column in PERCENT_COLUMNS:
            for cell in cells:
                if isinstance(cell.value, int | float):
                    cell.value = cell.value / 100
                    cell.number_format = "0.0%"
        elif column in SHARE_COLUMNS:
            for cell in cells:
                cell.number_format = "0.0%"
        elif column in RATE_COLUMNS:
            for cell in cells:
                cell.number_format = "0.00"
        elif column == "rag":
            for cell in cells:
                if cell.value in RAG_FILLS:
                    cell.fill = PatternFill("solid", fgColor=RAG_FILLS[cell.value])
                    cell.font = Font(bold=True)
        widest = max([len(str(ws.cell(row=header_row, column=i).value))]
                     + [len(str(c.value)) for c in cells if c.value is not None] or [8])
        ws.column_dimensions[letter].width = min(60, max(8, widest + 2))
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    if len(table.columns):
        ws.auto_filter.ref = f"A{header_row}:{get_column_letter(len(table.columns))}{last}"
    if sheet.notes:
        ws.append([])
        for note in sheet.notes:
            ws.append([cell_value(note)])
            ws.cell(row=ws.max_row, column=1).font = Font(italic=True)


def _missing(value) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False
