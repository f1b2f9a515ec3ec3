"""Accessibility statement page: how accessible the service is, its known limits, how to
report a barrier and how it was tested."""

from __future__ import annotations

import streamlit as st

from present.accessibility import statement_markdown

st.title("Accessibility statement")
st.markdown(statement_markdown())
