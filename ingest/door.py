"""Text at the door of every import, the same on SQLite and PostgreSQL: control characters are
removed (a stray ESC would break every spreadsheet export), a NUL sets its row aside (no
PostgreSQL text column can hold one) and so does a value longer than the database column it
goes to (PostgreSQL refuses it, SQLite would keep it): a row is set aside with its reason,
never a whole batch lost to a database error."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Column

from core.safe_text import limit_of
from ingest.validate import RowReasons


def nul_field(record: list[str], header: list[str]) -> str | None:
    """The column of the first field holding a NUL character, or None."""
    for i, value in enumerate(record):
        if "\x00" in value:
            return header[i] if i < len(header) else f"field {i + 1}"
    return None


def mark_too_long(reasons: RowReasons, values: pd.Series, label: str, column: Column) -> None:
    """Set aside rows whose value (as it would be stored) is longer than `column` holds."""
    limit = limit_of(column)
    if limit is None or values.empty:
        return
    lengths = values.fillna("").str.len()
    reasons.mark(lengths > limit, lambda m: f"{label} is " + lengths[m].map("{:,}".format)
                 + f" characters long; at most {limit:,} fit", label)
