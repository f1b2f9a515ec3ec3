"""Sign-in sessions: a random token kept in the browser's cookie (only its SHA-256 here),
valid while the user stays active: it ends after HOTSPOTS_SESSION_IDLE_MINUTES without use
(default 30), HOTSPOTS_SESSION_HOURS after sign-in (default 10), at sign-out, and (every
session of the user at once) when the user is deactivated, given another role or a new
password."""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, select

from access.roles import Principal
from store.db import write_transaction
from store.models import SignInSession, User


def idle_limit() -> timedelta:
    """How long a session may go unused."""
    return timedelta(minutes=float(os.environ.get("HOTSPOTS_SESSION_IDLE_MINUTES", "30")))


def age_limit() -> timedelta:
    """How long a session may last at most."""
    return timedelta(hours=float(os.environ.get("HOTSPOTS_SESSION_HOURS", "10")))


@dataclass(frozen=True)
class Resumed:
    """A session looked up: the principal, or None and why not (shown to the user)."""

    principal: Principal | None
    why: str = ""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(engine: Engine, principal: Principal, now: datetime | None = None) -> str:
    """A new session for someone who has just signed in; returns the token for the cookie."""
    now = now or datetime.now()
    token = secrets.token_urlsafe(32)
    with write_transaction(engine) as conn:
        conn.execute(SignInSession.__table__.insert().values(
            token_sha256=_digest(token), username=principal.username,
            source=principal.source, started_at=now, last_seen=now))
    return token


def resume_session(engine: Engine, token: str | None, now: datetime | None = None) -> Resumed:
    """The principal of a live session (its last use is moved to now), or why there is none;
    an expired session is ended."""
    if not token:
        return Resumed(None)
    now = now or datetime.now()
    s, u = SignInSession.__table__, User.__table__
    with write_transaction(engine) as conn:
        row = conn.execute(select(s, u.c.role, u.c.display_name, u.c.active)
                           .join(u, u.c.username == s.c.username)
                           .where(s.c.token_sha256 == _digest(token))).mappings().first()
        if row is None:
            return Resumed(None)
        if row["ended_at"] is not None:
            return Resumed(None, "" if row["ended_why"] == "signed out" else
                           f"You were signed out ({row['ended_why']}).")
        why = None
        if not row["active"]:
            why = "your account has been deactivated"
        elif now - row["last_seen"] > idle_limit():
            why = f"{idle_limit().total_seconds() / 60:.0f} minutes without use"
        elif now - row["started_at"] > age_limit():
            why = f"sessions last at most {age_limit().total_seconds() / 3600:.0f} hours"
        if why:
            conn.execute(s.update().where(s.c.id == row["id"]).values(ended_at=now,
                                                                       ended_why=why))
            return Resumed(None, f"You were signed out: {why}.")
        conn.execute(s.update().where(s.c.id == row["id"]).values(last_seen=now))
    return Resumed(Principal(row["username"], row["role"], row["display_name"], row["source"]))


def end_session(engine: Engine, token: str | None, why: str = "signed out") -> None:
    """End a session (sign-out); nothing happens for an unknown or ended one."""
    if not token:
        return
    s = SignInSession.__table__
    with write_transaction(engine) as conn:
        conn.execute(s.update().where(s.c.token_sha256 == _digest(token),
                                      s.c.ended_at.is_(None))
                     .values(ended_at=datetime.now(), ended_why=why))


def end_user_sessions(conn: Connection, username: str, why: str) -> int:
    """End every live session of a user, in the caller's transaction (a password reset, a role
    change, a deactivation); returns how many were ended. Each browser is told `why` at its
    next click."""
    s = SignInSession.__table__
    ended = conn.execute(s.update().where(s.c.username == username, s.c.ended_at.is_(None))
                         .values(ended_at=datetime.now(), ended_why=why))
    return int(ended.rowcount or 0)
