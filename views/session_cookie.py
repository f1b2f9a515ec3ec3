"""The session cookie, set by the server: HttpOnly (no script in the page can read it),
SameSite=Strict, and Secure when the app is reached over HTTPS.

A Streamlit script runs over a websocket after the page has loaded, so it cannot answer an
HTTP request with a Set-Cookie header; since Streamlit 1.5x an ASGI app (`st.App`, started by
serve.py) can add routes of its own. After a sign-in the script keeps the new session's token
here, in this process's memory only, under a one-time ticket (60 seconds, random), and puts a
small script in the page that posts the ticket to CLAIM_PATH; the route answers with the
cookie. The token itself never passes through the page's JavaScript, and a ticket is useless
once used or expired. Signing out posts to END_PATH, which removes the cookie.

Run the app with serve.py (`make run` does): under a plain `streamlit run app.py` the routes
do not exist, nothing sets a cookie, and a reload asks to sign in again (it never falls back
to a cookie a script could read).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from access.sessions import age_limit

COOKIE = "csp_session"
CLAIM_PATH = "/_csp/session"
END_PATH = "/_csp/session/end"
TICKET_SECONDS = 60.0
_PENDING: dict[str, tuple[str, float]] = {}  # sha256(ticket) -> (token, expiry)
_LOCK = threading.Lock()


def _digest(ticket: str) -> str:
    return hashlib.sha256(ticket.encode("utf-8")).hexdigest()


def hand_over(token: str) -> str:
    """Keep a session token for CLAIM_PATH to set as the cookie; returns the one-time ticket."""
    ticket = secrets.token_urlsafe(32)
    now = time.monotonic()
    with _LOCK:
        for key, (_, expiry) in list(_PENDING.items()):
            if expiry < now:
                del _PENDING[key]
        _PENDING[_digest(ticket)] = (token, now + TICKET_SECONDS)
    return ticket


def take(ticket: str) -> str | None:
    """The token a live ticket holds (the ticket is used up), or None."""
    with _LOCK:
        found = _PENDING.pop(_digest(ticket), None)
    if found is None or found[1] < time.monotonic():
        return None
    return found[0]


def _https(request: Request) -> bool:
    """Whether the browser reached the app over HTTPS (directly, or through a proxy that
    says so)."""
    return request.url.scheme == "https" or \
        request.headers.get("x-forwarded-proto", "").lower() == "https"


def _same_origin(request: Request) -> bool:
    """Refuse a post another site's page sent (the browser names its origin)."""
    origin = request.headers.get("origin")
    if not origin:
        return True
    host = request.headers.get("x-forwarded-host") or request.headers.get("host") or ""
    return urlsplit(origin).netloc == host


def _cookie(response: Response, request: Request, token: str, max_age: int) -> Response:
    response.set_cookie(COOKIE, token, max_age=max_age, path="/", httponly=True,
                        samesite="strict", secure=_https(request))
    response.headers["Cache-Control"] = "no-store"
    return response


async def claim(request: Request) -> Response:
    """POST CLAIM_PATH with a ticket as the body: the session cookie for it."""
    ticket = (await request.body())[:200].decode("ascii", errors="ignore").strip()
    token = take(ticket) if _same_origin(request) else None
    if token is None:
        return Response("unknown or used ticket", status_code=403, media_type="text/plain")
    return _cookie(Response(status_code=204), request, token,
                   int(age_limit().total_seconds()))


async def end(request: Request) -> Response:
    """POST END_PATH: the session cookie removed (the session itself is ended by the app)."""
    if not _same_origin(request):
        return Response("refused", status_code=403, media_type="text/plain")
    return _cookie(Response(status_code=204), request, "", 0)


def routes() -> list[Route]:
    """The routes serve.py adds to Streamlit's."""
    return [Route(CLAIM_PATH, claim, methods=["POST"]), Route(END_PATH, end, methods=["POST"])]


def claim_script(ticket: str) -> str:
    """The page's script that asks the server for the cookie."""
    return (f"<script>fetch({json.dumps(CLAIM_PATH)}, {{method: 'POST', "
            f"credentials: 'same-origin', headers: {{'Content-Type': 'text/plain'}}, "
            f"body: {json.dumps(ticket)}}});</script>")


def end_script() -> str:
    """The page's script that asks the server to remove the cookie."""
    return (f"<script>fetch({json.dumps(END_PATH)}, {{method: 'POST', "
            "credentials: 'same-origin'});</script>")
