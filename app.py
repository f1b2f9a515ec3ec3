"""Streamlit entry point: sign in, then the pages the user's role allows (the pages call
library functions, which check the role again: hiding a page is for clarity, not security).

The navigation is a bar across the top (a menu on a phone), so the whole width of a
1366 x 768 projector is the page's: each page puts its own selection in a row above its
map or table."""

from __future__ import annotations

import streamlit as st

from access.roles import (
    IMPORT,
    MANAGE_LAYERS,
    MANAGE_PSPOS,
    MANAGE_USERS,
    AccessDenied,
    Principal,
)
from access.scope import acting_as
from views import state
from views.pspo_editor import pspo_editor
from views.shell import style_page
from views.signin import go_on_to_page_asked_for, signed_in
from views.users import users_page

st.set_page_config(page_title="CSP hotspots", layout="wide",
                   initial_sidebar_state="collapsed")


def pages_for(principal: Principal) -> dict[str, list]:
    """The navigation for a role: everyone has the meeting, action-day and register pages,
    their account and the accessibility statement; the PSPO editor, the Data page and Users
    and audit only those who may use them."""
    registers = [st.Page("views/water_safety.py", title="Water safety"),
                 st.Page("views/pspos.py", title="PSPOs")]
    if principal.can(MANAGE_PSPOS):
        registers.append(st.Page(pspo_editor, title="PSPO editor", url_path="pspo_editor"))
    sections = {
        "Meeting": [
            st.Page("views/overview.py", title="Overview", default=True),
            st.Page("views/hotspot_map.py", title="Hotspot map"),
            st.Page("views/problems.py", title="Problem locations"),
            st.Page("views/jag_report.py", title="JAG report"),
        ],
        "Action days": [st.Page("views/planner.py", title="Action day planner")],
        "Registers": registers,
    }
    admin = []
    if principal.can(IMPORT) or principal.can(MANAGE_LAYERS):
        admin.append(st.Page("views/data.py", title="Data"))
    if principal.can(MANAGE_USERS):
        admin.append(st.Page(users_page, title="Users and audit", url_path="users"))
    if admin:
        sections["Data and access"] = admin
    sections[principal.label] = [
        st.Page("views/account.py", title="Your account", url_path="account"),
        st.Page("views/accessibility.py", title="Accessibility statement",
                url_path="accessibility"),
    ]
    return sections


style_page()
engine = state.engine()
state.start_warm_up()
principal = signed_in(engine)
with acting_as(principal):
    sections = pages_for(principal)
    pages = st.navigation(sections, position="top")
    go_on_to_page_asked_for(pages, [p for section in sections.values() for p in section])
    try:
        pages.run()
    except AccessDenied as exc:
        st.error(f"Not allowed: {exc}.")
