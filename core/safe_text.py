"""Text that comes from outside made safe to store and to hand back: control characters and
NULs removed, values fitted to their database column, and spreadsheet formulas guarded in
every CSV and workbook cell (CSV injection). Every layer uses these, so they live here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from sqlalchemy import Column

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CONTROLS = ILLEGAL_CHARACTERS_RE  # C0 controls but tab and line breaks: XML 1.0 refuses them
# C0 controls but tab, line feed and carriage return (which CSV and spreadsheets keep), DEL and
# the C1 controls (U+0085 is a line break to Python's splitlines).
CONTROL = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_LINE = re.compile(r"\r\n|\r|\n")
_SHOWN = 10


@dataclass(frozen=True)
class Cleaned:
    """Text with its control characters removed, and where they were."""

    text: str
    removed: int
    lines: list[int]

    def note(self) -> str | None:
        """What was removed, or None when nothing was."""
        if not self.removed:
            return None
        shown = ", ".join(str(n) for n in self.lines[:_SHOWN])
        more = f" and {len(self.lines) - _SHOWN:,} more" if len(self.lines) > _SHOWN else ""
        return (f"{self.removed:,} control character(s) (such as ESC) were removed from "
                f"line(s) {shown}{more}")


def strip_controls(text: str) -> Cleaned:
    """Remove control characters (not NUL, tab or line breaks) and say on which lines."""
    found = [m.start() for m in CONTROL.finditer(text)]
    if not found:
        return Cleaned(text, 0, [])
    lines: list[int] = []
    line, pos = 1, 0
    for at in found:
        line += len(_LINE.findall(text, pos, at))
        pos = at
        if not lines or lines[-1] != line:
            lines.append(line)
    return Cleaned(CONTROL.sub("", text), len(found), lines)


def clean_value(value: object) -> object:
    """One value with control characters and NULs removed (exports, names, single fields)."""
    if isinstance(value, str):
        return CONTROL.sub("", value).replace("\x00", "")
    return value


def limit_of(column: Column) -> int | None:
    """The length a database column holds (None for unbounded text)."""
    return getattr(column.type, "length", None)


def fit(value: str | None, limit: int) -> str | None:
    """A file name or label cut to what its column holds (marked with … when cut)."""
    if value is None or len(value) <= limit:
        return value
    return value[:limit - 1] + "…"


def formula_safe(value: object) -> object:
    """Stop a spreadsheet treating data text as a formula (CSV injection)."""
    if isinstance(value, str) and value[:1] in FORMULA_START:
        return "'" + value
    return value


def without_controls(value: object) -> object:
    """Text without the control characters a spreadsheet cannot hold (ESC, NUL...): one of
    them in a category would otherwise make the whole .xlsx fail (openpyxl refuses it)."""
    if isinstance(value, str):
        return CONTROLS.sub("", value)
    return value


def csv_text(value: object) -> object:
    """A CSV cell: control characters a spreadsheet cannot hold removed, then formulas
    guarded (the same rule as the .xlsx exports)."""
    return formula_safe(without_controls(value))


def safe_csv(frame: pd.DataFrame) -> str:
    """Any table as CSV, every text cell and every header guarded against spreadsheet
    formulas and stripped of control characters."""
    guarded = frame.copy()
    for column in guarded.columns:
        if guarded[column].dtype == object or pd.api.types.is_string_dtype(guarded[column]):
            guarded[column] = guarded[column].map(csv_text)
    guarded.columns = [csv_text(str(c)) for c in guarded.columns]
    return guarded.to_csv(index=False)


def json_value(value: object) -> object:
    """A table cell as a JSON-ready Python value: numpy scalars unwrapped, dates as ISO text,
    NaN and NA as null."""
    if isinstance(value, (datetime, date)):  # pandas Timestamps too
        return value.isoformat()
    if hasattr(value, "item"):
        value = value.item()
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    return value
