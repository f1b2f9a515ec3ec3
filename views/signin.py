"""Sign-in for the app: OpenID Connect through Streamlit's st.login when the secrets file has
an [auth] section (councils' Entra ID and others), and local accounts from the database (the
embedded default, no identity provider needed).

A signed-in browser holds a random session token in a cookie the server sets (HttpOnly,
SameSite=Strict, Secure over HTTPS: views.session_cookie); the database keeps only its hash
and ends the session after inactivity, after a working day, at sign-out, and (all of the
user's sessions) on deactivation, a role change or a new password (access.sessions). The
principal and its role are read from the database on every run."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import streamlit as st
from sqlalchemy import Engine
from streamlit.navigation.page import StreamlitPage

from access.accounts import (
    AccountError,
    SignInFailed,
    authenticate,
    oidc_principal,
)
from access.roles import ROLE_SUMMARY, Principal
from access.sessions import end_session, resume_session, start_session
from present.accessibility import statement_markdown
from present.markdown import markdown_text
from views.session_cookie import COOKIE, claim_script, end_script, hand_over

OIDC_LABEL = "Sign in with your council account"
_TOKEN = "session_token"
_WANTED = "page_asked_for"  # the page opened before signing in, to go on to afterwards
_PENDING_COOKIE = "cookie_to_set"


def _auth_section() -> dict:
    try:
        return {k: v for k, v in (st.secrets.get("auth") or {}).items()}
    except Exception:  # no secrets file: Streamlit raises its own not-found error
        return {}


def _provider() -> str | None:
    """st.login's provider argument: the named [auth.NAME] section, if any."""
    auth = _auth_section()
    if auth.get("client_id"):
        return None
    named = [k for k, v in auth.items() if hasattr(v, "get") and v.get("client_id")]
    return named[0] if named else None


def oidc_configured() -> bool:
    """Whether the secrets file names an identity provider (an [auth] section with a
    client_id, directly or under a named provider)."""
    auth = _auth_section()
    return bool(auth.get("client_id")) or _provider() is not None


def _oidc_claims() -> dict | None:
    try:
        return st.user.to_dict() if st.user.is_logged_in else None
    except Exception:  # no [auth] configured: st.user has no identity
        return None


def client_address() -> str | None:
    """The browser's address, for counting wrong passwords per address: the connection's, or
    behind the council's reverse proxy (HOTSPOTS_BEHIND_PROXY=1, only when the proxy sets
    X-Forwarded-For itself) the last address the proxy added; None on this machine."""
    if os.environ.get("HOTSPOTS_BEHIND_PROXY") == "1":
        forwarded = (st.context.headers.get("X-Forwarded-For") or "").split(",")
        if forwarded[-1].strip():
            return forwarded[-1].strip()
    return st.context.ip_address


def _set_cookie(token: str | None) -> None:
    """Have the server give the browser the session cookie (or remove it), for its next page
    loads: HttpOnly, so no script in the page can read it (views.session_cookie)."""
    script = claim_script(hand_over(token)) if token else end_script()
    st.html(script, unsafe_allow_javascript=True)


def _begin(engine: Engine, principal: Principal, cookie: bool = True) -> Principal:
    token = start_session(engine, principal)
    st.session_state[_TOKEN] = token
    if cookie:
        _set_cookie(token)
    return principal


def _current(engine: Engine) -> tuple[Principal | None, str]:
    """This browser's principal (None when signed out) and why it was signed out, if so."""
    token = st.session_state.get(_TOKEN) or st.context.cookies.get(COOKIE)
    resumed = resume_session(engine, token)
    claims = _oidc_claims()
    if resumed.principal is not None:
        st.session_state[_TOKEN] = token
        return resumed.principal, ""
    st.session_state.pop(_TOKEN, None)
    if claims is not None and not resumed.why:
        try:  # arrived from the identity provider: start a session of our own
            return _begin(engine, oidc_principal(engine, claims)), ""
        except (SignInFailed, AccountError) as exc:
            return None, str(exc)
    return None, resumed.why


def sign_out(engine: Engine, why: str = "signed out") -> None:
    """End this browser's session and its cookie; with a council account, also the identity
    cookie and the provider's session (st.logout redirects the browser there and back)."""
    end_session(engine, st.session_state.pop(_TOKEN, None), why)
    _set_cookie(None)
    if _oidc_claims() is not None:
        st.logout()
        st.stop()  # let the redirect happen (a rerun would cancel it)
    st.rerun()


def _sign_in_form(engine: Engine, why: str) -> Principal | None:
    """The sign-in page; the principal once the form's password is right."""
    st.session_state.setdefault(_WANTED, urlsplit(st.context.url or "").path.strip("/"))
    st.title("CSP hotspots: sign in")
    if why:
        st.info(markdown_text(why))
    if oidc_configured():
        provider = _provider()
        if st.button(OIDC_LABEL, type="primary", key="oidc_sign_in"):
            st.login(provider) if provider else st.login()
        st.caption("Or, with a local account:")
    with st.form("sign_in"):
        username = st.text_input("Username", key="sign_in_username")
        password = st.text_input("Password", type="password", key="sign_in_password")
        go = st.form_submit_button("Sign in", type="primary")
    st.caption("Ask your partnership's admin for an account. Roles: " + "; ".join(
        f"**{role}**: {text}" for role, text in ROLE_SUMMARY.items()) + ".")
    with st.expander("Accessibility statement"):
        st.markdown(statement_markdown())
    if go:
        try:
            principal = authenticate(engine, username, password, source=client_address())
        except SignInFailed as exc:
            st.error(markdown_text(str(exc)[:1].upper() + str(exc)[1:] + "."))
        else:
            return _begin(engine, principal, cookie=False)
    return None


def signed_in(engine: Engine) -> Principal:
    """The signed-in principal, or the sign-in page (and the run stops)."""
    principal, why = _current(engine)
    if principal is None:
        if why and _oidc_claims() is not None:
            st.logout()  # the provider's cookie must not outlive our session
        holder = st.empty()
        with holder.container():
            principal = _sign_in_form(engine, why)
        if principal is None:
            st.stop()
        # signed in: the same run goes on to the page (a rerun would drop the cookie script)
        holder.empty()
        st.session_state[_PENDING_COOKIE] = True
    if st.session_state.get(_PENDING_COOKIE) and _WANTED not in st.session_state:
        del st.session_state[_PENDING_COOKIE]  # after going on to the page asked for
        _set_cookie(st.session_state[_TOKEN])
    return principal


def go_on_to_page_asked_for(current: StreamlitPage, pages: list[StreamlitPage]) -> None:
    """After signing in, open the page the address asked for (signing in itself lands on the
    default page); then give the browser its session cookie."""
    wanted = st.session_state.pop(_WANTED, None)
    if wanted and wanted != current.url_path:
        for page in pages:
            if page.url_path == wanted:
                st.switch_page(page)  # reruns; the cookie is set in that run
    if st.session_state.pop(_PENDING_COOKIE, False):
        _set_cookie(st.session_state[_TOKEN])
