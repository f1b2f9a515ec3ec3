"""Text at the door of every import, the same on SQLite and PostgreSQL: control characters are
removed (a stray ESC would break every spreadsheet export), a NUL sets its row aside (no
PostgreSQL text column can hold one) and so does a value longer than the database column it
goes to (PostgreSQL refuses it, SQLite would keep it): a row is set aside with its reason,
never a whole batch lost to a database error."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Column

from ingest.validate import RowReasons

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


def nul_field(record: list[str], header: list[str]) -> str | None:
    """The column of the first field holding a NUL character, or None."""
    for i, value in enumerate(record):
        if "\x00" in value:
            return header[i] if i < len(header) else f"field {i + 1}"
    return None


def limit_of(column: Column) -> int | None:
    """The length a database column holds (None for unbounded text)."""
    return getattr(column.type, "length", None)


def mark_too_long(reasons: RowReasons, values: pd.Series, label: str, column: Column) -> None:
    """Set aside rows whose value (as it would be stored) is longer than `column` holds."""
    limit = limit_of(column)
    if limit is None or values.empty:
        return
    lengths = values.fillna("").str.len()
    reasons.mark(lengths > limit, f"{label} is " + lengths.map("{:,}".format)
                 + f" characters long; at most {limit:,} fit", label)


def fit(value: str | None, limit: int) -> str | None:
    """A file name or label cut to what its column holds (marked with … when cut)."""
    if value is None or len(value) <= limit:
        return value
    return value[:limit - 1] + "…"
