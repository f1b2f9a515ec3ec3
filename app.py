"""Streamlit entry point: the CSP hotspot service's pages (the pages call library functions)."""

from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="CSP hotspots", layout="wide")

pages = st.navigation({
    "Meeting": [
        st.Page("views/overview.py", title="Overview", default=True),
        st.Page("views/hotspot_map.py", title="Hotspot map"),
        st.Page("views/problems.py", title="Problem locations"),
        st.Page("views/jag_report.py", title="JAG report"),
    ],
    "Action days": [st.Page("views/planner.py", title="Action day planner")],
    "Registers": [
        st.Page("views/water_safety.py", title="Water safety"),
        st.Page("views/pspos.py", title="PSPOs"),
    ],
    "Data": [st.Page("views/data.py", title="Data")],
})
pages.run()
