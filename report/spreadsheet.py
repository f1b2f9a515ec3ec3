"""Formatted spreadsheets for board papers: a title block, bold headers, frozen panes,
filters, number formats (percentages, rates per 1,000 residents), RAG cells coloured, and the
notes and rules under each table (which months were compared, how current the data is)."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

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


def formula_safe(value: object) -> object:
    """Stop a spreadsheet treating data text as a formula (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def workbook_bytes(sheets: list[Sheet], source: str) -> bytes:
    """An .xlsx file holding each table on its own sheet."""
    book = Workbook()
    book.remove(book.active)
    for sheet in sheets:
        _write(book.create_sheet(_sheet_name(sheet.name)), sheet, source)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _sheet_name(name: str) -> str:
    for bad in "[]:*?/\\":
        name = name.replace(bad, " ")
    return name[:31]


def _write(ws, sheet: Sheet, source: str) -> None:
    ws.append([sheet.title])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([f"{source}; produced {datetime.now():%d/%m/%Y %H:%M}"])
    ws["A2"].font = Font(italic=True, color="555555")
    ws.append([])
    header_row = 4
    table = sheet.table
    ws.append([str(c).replace("_", " ").capitalize() for c in table.columns])
    for cell in ws[header_row]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for values in table.itertuples(index=False):
        ws.append([formula_safe(None if _missing(v) else v) for v in values])
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
            ws.append([note])
            ws.cell(row=ws.max_row, column=1).font = Font(italic=True)


def _missing(value) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False
