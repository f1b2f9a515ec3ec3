"""Your account: who is signed in, what the role may do and see, sign out, and (for local
accounts) change the password."""

from __future__ import annotations

import streamlit as st

from access.accounts import AccountError, SignInFailed, change_own_password
from access.roles import ROLE_SUMMARY
from access.scope import current_principal
from present.markdown import markdown_text
from views import state
from views.signin import sign_out

md = markdown_text
engine = state.engine()
principal = current_principal()

st.title("Your account")
st.markdown(f"Signed in as **{md(principal.label)}**, role **{principal.role}**: "
            f"{ROLE_SUMMARY.get(principal.role or '', '')}.")
withheld = state.withheld_text()
if withheld:
    st.info(md(withheld))
if st.button("Sign out", key="sign_out", type="primary"):
    sign_out(engine)
if principal.source == "local":
    st.header("Change your password")
    with st.form("own_password"):
        old = st.text_input("Current password", type="password", key="pw_old")
        new = st.text_input("New password (12 characters or more)", type="password",
                            key="pw_new")
        change = st.form_submit_button("Change the password")
    if change:
        try:
            change_own_password(engine, principal, old, new)
        except (SignInFailed, AccountError) as exc:
            st.error(md(exc))
        else:
            st.success("Password changed.")
else:
    st.caption("You sign in with your council account: change its password with your "
               "council's IT service.")
