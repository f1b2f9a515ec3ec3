"""Users and audit (admins only): accounts and roles, restricted categories, and the audit
log with its CSV export. A page function: the role is checked first whoever calls it, and
every library function it calls checks it again."""

from __future__ import annotations

import streamlit as st

from access.accounts import (
    AccountError,
    create_user,
    list_users,
    set_active,
    set_password,
    set_role,
)
from access.audit import audit_csv, read_audit
from access.restricted import (
    MATCHES,
    RULES,
    add_restricted,
    list_restricted,
    remove_restricted,
)
from access.roles import MANAGE_USERS, ROLE_SUMMARY, ROLES
from access.scope import require
from core.words import readable
from present.markdown import markdown_safe, markdown_text
from views import state

md = markdown_text
USER_LABELS = {"username": "Username", "display_name": "Name", "email": "Email",
               "role": "Role", "source": "Signs in with", "active": "Active",
               "created_at": "Added", "last_sign_in": "Last sign-in"}


def _done(message: str) -> None:
    st.session_state["users_done"] = message
    st.cache_data.clear()
    st.rerun()


def _users_section(engine) -> None:
    st.header("Users and roles")
    st.caption("; ".join(f"**{role}**: {text}" for role, text in ROLE_SUMMARY.items()))
    users = list_users(engine)
    shown = users.assign(source=users["source"].map(
        {"local": "password here", "oidc": "council account"}))
    st.dataframe(readable(shown, USER_LABELS), hide_index=True, width="stretch",
                 key="users_table")
    names = users["username"].tolist()
    add, change = st.columns(2)
    with add, st.form("user_add"):
        st.markdown("**Add a user**")
        username = st.text_input("Username (an email address works)", key="ua_username")
        display = st.text_input("Name", key="ua_name")
        email = st.text_input("Email", key="ua_email")
        role = st.selectbox("Role", ROLES, key="ua_role")
        oidc = st.checkbox("Signs in with the council account (no password here)",
                           key="ua_oidc")
        password = st.text_input("Password (12 characters or more; local accounts)",
                                 type="password", key="ua_password")
        if st.form_submit_button("Add the user"):
            try:
                name = create_user(engine, username, role, display_name=display, email=email,
                                   password=None if oidc else password,
                                   source="oidc" if oidc else "local")
            except AccountError as exc:
                st.error(md(exc))
            else:
                _done(f"Added {name} as {role}.")
    with change, st.form("user_change"):
        st.markdown("**Change a user**")
        who = st.selectbox("User", names, key="uc_user")
        what = st.radio("Change", ["role", "deactivate", "reactivate", "password"],
                        horizontal=True, key="uc_what")
        new_role = st.selectbox("New role", ROLES, key="uc_role")
        new_password = st.text_input("New password", type="password", key="uc_password")
        if st.form_submit_button("Save the change"):
            try:
                if what == "role":
                    set_role(engine, who, new_role)
                    message = f"{who} is now {new_role}."
                elif what == "password":
                    set_password(engine, who, new_password)
                    message = f"Password of {who} changed."
                else:
                    set_active(engine, who, what == "reactivate")
                    message = f"{who} {what}d."
            except AccountError as exc:
                st.error(md(exc))
            else:
                _done(message)


def _restricted_section(engine) -> None:
    st.header("Restricted categories")
    st.caption("Viewers and officers never see **hidden** categories; **ward** ones they see "
               "only as counts per ward. Analysts and admins see everything.")
    rules = list_restricted(engine)
    st.table(markdown_safe(readable(rules, {
        "pattern": "Category or words", "match": "Match", "rule": "Rule",
        "added_at": "Added", "added_by": "By"})), hide_index=True)
    left, right = st.columns(2)
    with left, st.form("restricted_add"):
        pattern = st.text_input("Category (or words it contains)", key="ra_pattern")
        match = st.radio("Match", MATCHES, horizontal=True, key="ra_match",
                         format_func={"exact": "the whole category",
                                      "contains": "any category containing the words"}.get)
        rule = st.radio("Rule", list(RULES), horizontal=True, key="ra_rule",
                        format_func=lambda r: f"{r}: {RULES[r]}")
        if st.form_submit_button("Restrict"):
            try:
                changed = add_restricted(engine, pattern, rule, match)
            except ValueError as exc:
                st.error(md(exc))
            else:
                _done(f"'{pattern.strip()}' restricted." if changed else "Nothing changed.")
    with right, st.form("restricted_remove"):
        gone = st.selectbox("Stop restricting", rules["pattern"].tolist(), key="rr_pattern")
        if st.form_submit_button("Stop restricting") and gone:
            remove_restricted(engine, gone)
            _done(f"'{gone}' is no longer restricted.")


def _audit_section(engine) -> None:
    st.header("Audit log")
    st.caption("Every change to a register, a user or role, a layer or an import: who, when, "
               "what, before and after. Append-only; reading and exporting it are recorded "
               "too.")
    with st.form("audit_filter"):
        first, second, third = st.columns(3)
        entity = first.text_input("About (e.g. check, pspo, user, layer, import)",
                                  key="audit_entity")
        actor = second.text_input("By (username)", key="audit_actor")
        since = third.date_input("Since", value=None, format="DD/MM/YYYY", key="audit_since")
        show = st.form_submit_button("Show the log")
        export = st.form_submit_button("Prepare a CSV export")
    filters = {"entity": entity.strip() or None, "actor": actor.strip().lower() or None,
               "since": since}
    if show:
        frame = read_audit(engine, limit=500, **filters)
        st.dataframe(frame, hide_index=True, width="stretch", key="audit_table",
                     column_config={"before": st.column_config.JsonColumn("Before"),
                                    "after": st.column_config.JsonColumn("After")})
    if export:
        st.download_button("Download the audit log (CSV)", audit_csv(engine, **filters),
                           file_name="audit_log.csv", mime="text/csv", key="audit_download")


def users_page() -> None:
    """The page; raises AccessDenied for anyone who may not manage users."""
    require(MANAGE_USERS)
    st.title("Users and audit")
    engine = state.engine()
    done = st.session_state.pop("users_done", None)
    if done:
        st.success(md(done))
    _users_section(engine)
    _restricted_section(engine)
    _audit_section(engine)
