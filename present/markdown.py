"""Text from data made literal for Streamlit's Markdown: st.caption, st.write, st.info and
st.table cells render Markdown, so every Markdown character in a name or a cell is
backslash-escaped before the pages show it.
"""

from __future__ import annotations

import re

import pandas as pd

MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|:~$&])")


def markdown_text(value: object) -> str:
    """Text from data made literal for Streamlit's Markdown (st.caption, st.write, st.info,
    st.table cells): every Markdown character backslash-escaped, so a name such as
    `![x](http://…)` shows as typed instead of loading a remote image."""
    return MARKDOWN_SPECIAL.sub(r"\\\1", str(value))


def markdown_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells show literally in `st.table` (which renders Markdown)."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(lambda v: markdown_text(v) if isinstance(v, str)
                                          else v)
    return out
