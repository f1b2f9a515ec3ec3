"""User accounts: local ones with argon2 password hashes (the embedded default, no identity
provider needed) and council accounts met through OpenID Connect; roles set by an admin.

The first admin is made at set-up: its password comes from HOTSPOTS_ADMIN_PASSWORD or is
generated and shown once (only its hash is stored)."""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, func, select

from access.audit import changed_fields, record
from access.roles import MANAGE_USERS, Principal, check_role
from access.scope import SYSTEM, acting_as, require
from access.sessions import end_user_sessions
from access.throttle import begin_attempt, finish_attempt, source_label, unlock
from core.errors import UserError
from store.db import write_transaction
from store.models import User

MIN_PASSWORD = 12
# Sessions a change ends, and what each browser is told at its next click.
ENDS_SESSIONS = {"password reset": "the password was changed: sign in with the new one",
                 "role changed": "your role was changed: sign in again",
                 "deactivated": "your account has been deactivated"}
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@+'-]{1,199}$")  # email addresses included
_HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Verified against when the username is unknown, so a wrong name costs as long as a
    wrong password and the timing does not tell which names exist (made on first use: a hash
    takes ~0.4 s, which every CLI command would pay at import)."""
    return _HASHER.hash(secrets.token_urlsafe(16))
PUBLIC_FIELDS = ["username", "display_name", "email", "role", "source", "active",
                 "created_at", "last_sign_in"]


class AccountError(UserError, ValueError):
    """An account change that cannot be made, with the field and what to do."""

    def __init__(self, message: str, field: str = "username"):
        super().__init__(message)
        self.field = field


class SignInFailed(UserError):
    """Wrong username or password (deliberately not saying which), or a locked account."""


@dataclass(frozen=True)
class FirstAdmin:
    """The admin made at set-up; `password` is set only when it was generated (show once)."""

    username: str
    password: str | None


def normal_username(value: object) -> str:
    """Usernames are compared in lower case, without surrounding spaces."""
    name = str(value or "").strip().lower()
    if not USERNAME.match(name):
        raise AccountError(f"username '{value}' must be 2 to 200 letters, digits or . _ @ + ' - "
                           "(an email address works)")
    return name


def check_password(password: str, username: str = "") -> None:
    """At least 12 characters and not the username (NCSC: length over complexity rules)."""
    if len(password or "") < MIN_PASSWORD:
        raise AccountError(f"the password must have at least {MIN_PASSWORD} characters",
                           "password")
    if username and password.strip().lower() == username.lower():
        raise AccountError("the password must not be the username", "password")


def _row(conn, username: str, lock: bool = False) -> dict | None:
    t = User.__table__
    query = select(t).where(t.c.username == username)
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    found = conn.execute(query).first()
    return dict(found._mapping) if found else None


def _public(row: dict) -> dict:
    return {k: row.get(k) for k in ("display_name", "email", "role", "source", "active")}


def create_user(engine: Engine, username: str, role: str, *, display_name: str = "",
                email: str | None = None, password: str | None = None,
                source: str = "local") -> str:
    """Add a user (admins only). A local user needs a password; an OpenID Connect user signs
    in with the council's account and has none here. Returns the username."""
    require(MANAGE_USERS)
    return _insert_user(engine, username, role, display_name=display_name, email=email,
                        password=password, source=source, summary="user added")


def _insert_user(engine: Engine, username: str, role: str, *, display_name: str,
                 email: str | None, password: str | None, source: str, summary: str) -> str:
    name = normal_username(username)
    role = check_role(role)
    if source not in ("local", "oidc"):
        raise AccountError(f"source '{source}' is not local or oidc", "source")
    if source == "local":
        check_password(password or "", name)
    t = User.__table__
    values = {"username": name, "display_name": (display_name or "").strip() or name,
              "email": (email or "").strip() or None, "role": role, "source": source,
              "password_hash": _HASHER.hash(password) if source == "local" else None,
              "active": True, "failed_sign_ins": 0, "created_at": datetime.now()}
    with write_transaction(engine) as conn:
        if _row(conn, name) is not None:
            raise AccountError(f"there is already a user '{name}'")
        conn.execute(t.insert().values(**values))
        record(conn, "added", "user", name, after=_public(values),
               summary=f"{summary}: {name} as {role}")
    return name


def _change(engine: Engine, username: str, what: str, **values) -> dict:
    """Apply `values` to a user and record before/after (the caller checked the role). A new
    password, another role or a deactivation ends every session of the user (each browser
    signs in again, with the new password or role); a new password also lifts lock-outs."""
    name = normal_username(username)
    t = User.__table__
    with write_transaction(engine) as conn:
        old = _row(conn, name, lock=True)
        if old is None:
            raise AccountError(f"no user '{name}'")
        conn.execute(t.update().where(t.c.username == name).values(**values))
        new = {**old, **values}
        before, after = changed_fields(_public(old), _public(new))
        if "password_hash" in values:
            before["password"], after["password"] = "(set)", "(changed)"
            unlock(conn, name)
        ended = 0
        if what in ENDS_SESSIONS and (before or "password_hash" in values):
            ended = end_user_sessions(conn, name, ENDS_SESSIONS[what])
        record(conn, what, "user", name, before=before, after=after,
               summary=f"{what}: {name}" + (f" {old['role']} -> {new['role']}"
                                            if what == "role changed" else "")
               + (f"; {ended} session(s) ended" if ended else ""))
    return new


def set_role(engine: Engine, username: str, role: str) -> None:
    """Give a user another role (admins only). The last active admin cannot lose the role."""
    actor = require(MANAGE_USERS)
    role = check_role(role)
    name = normal_username(username)
    if name == actor.username and role != "admin":
        raise AccountError("admins cannot take the admin role from themselves; ask another "
                           "admin", "role")
    if role != "admin" and _is_last_admin(engine, name):
        raise AccountError(f"{name} is the only active admin; make someone else admin first",
                           "role")
    _change(engine, name, "role changed", role=role)


def set_active(engine: Engine, username: str, active: bool) -> None:
    """Deactivate (or reactivate) a user (admins only); their past entries keep their name."""
    actor = require(MANAGE_USERS)
    name = normal_username(username)
    if not active and name == actor.username:
        raise AccountError("admins cannot deactivate themselves", "active")
    if not active and _is_last_admin(engine, name):
        raise AccountError(f"{name} is the only active admin; make someone else admin first",
                           "active")
    _change(engine, name, "deactivated" if not active else "reactivated", active=active)


def set_password(engine: Engine, username: str, password: str) -> None:
    """Set a local user's password (admins, for anyone; see change_own_password)."""
    require(MANAGE_USERS)
    _set_password(engine, username, password)


def _set_password(engine: Engine, username: str, password: str) -> None:
    name = normal_username(username)
    check_password(password, name)
    user = get_user(engine, name)
    if user is None:
        raise AccountError(f"no user '{name}'")
    if user["source"] != "local":
        raise AccountError(f"{name} signs in with the council's account; there is no password "
                           "here to set", "password")
    hashed = _HASHER.hash(password)  # ~0.4 s, before any write lock is taken
    _change(engine, name, "password reset", password_hash=hashed)


def change_own_password(engine: Engine, principal: Principal, old: str, new: str,
                        source: str | None = None) -> None:
    """A signed-in local user changes their own password, knowing the old one (a wrong one
    counts as a failed sign-in from `source`). Every session of theirs ends, this one too:
    they sign in again with the new password."""
    authenticate(engine, principal.username, old, source=source)
    with acting_as(principal):
        _set_password(engine, principal.username, new)


def unlock_user(engine: Engine, username: str) -> int:
    """Lift the lock-outs after wrong passwords on a user at every address (admins only);
    returns how many locks there were. The user's password is not changed."""
    require(MANAGE_USERS)
    name = normal_username(username)
    if get_user(engine, name) is None:
        raise AccountError(f"no user '{name}'")
    with write_transaction(engine) as conn:
        lifted = unlock(conn, name)
        record(conn, "unlocked", "user", name, summary=f"sign-in lock-outs of {name} lifted "
                                                       f"({lifted} record(s))")
    return lifted


def _is_last_admin(engine: Engine, name: str) -> bool:
    t = User.__table__
    with engine.connect() as conn:
        admins = conn.execute(select(t.c.username).where(t.c.role == "admin",
                                                         t.c.active.is_(True))).scalars().all()
    return list(admins) == [name]


def get_user(engine: Engine, username: str) -> dict | None:
    """One user's public fields (no hash), or None."""
    try:
        name = normal_username(username)
    except AccountError:
        return None
    with engine.connect() as conn:
        row = _row(conn, name)
    return {k: row[k] for k in PUBLIC_FIELDS} if row else None


def list_users(engine: Engine) -> pd.DataFrame:
    """Every user with role, source, whether active and last sign-in (admins only)."""
    require(MANAGE_USERS)
    t = User.__table__
    with engine.connect() as conn:
        return pd.read_sql(select(*[t.c[c] for c in PUBLIC_FIELDS]).order_by(t.c.username),
                           conn)


def principal_of(row: dict) -> Principal:
    """The principal a user row signs in as."""
    return Principal(row["username"], row["role"], row["display_name"], row["source"])


def authenticate(engine: Engine, username: str, password: str,
                 now: datetime | None = None, source: str | None = None) -> Principal:
    """Check a local user's password; return who signed in. Raises SignInFailed without
    saying whether the name or the password was wrong, and with the same lock-out answer for
    a name that exists and one that does not (access.throttle: 5 wrong passwords for a name
    from one address, or 20 from one address, wait 15 minutes). `source` is the browser's
    address (None: this machine).

    The password is checked (argon2, ~0.4 s, also for an unknown name so the time does not
    tell) outside any write transaction: only the short bookkeeping before and after it
    takes SQLite's write lock."""
    now = now or datetime.now()
    try:
        name = normal_username(username)
    except AccountError:
        name = ""
    where = source_label(source)
    attempt = begin_attempt(engine, name or "(blank)", where, now)
    if not attempt.allowed:
        raise SignInFailed(f"too many wrong passwords from this address: try again after "
                           f"{attempt.locked_until:%H:%M}, or ask an admin to unlock the "
                           "account")
    with engine.connect() as conn:
        row = _row(conn, name) if name else None
    usable = row is not None and row["active"] and row["source"] == "local" \
        and row["password_hash"]
    try:
        _HASHER.verify(row["password_hash"] if usable else _dummy_hash(), password or "")
        right = bool(usable)
    except (VerificationError, InvalidHashError):
        right = False
    finish_attempt(engine, name or "(blank)", where, right)
    if not right:
        raise SignInFailed("wrong username or password")
    values = {"last_sign_in": now}
    if _HASHER.check_needs_rehash(row["password_hash"]):
        values["password_hash"] = _HASHER.hash(password)  # outside the write lock too
    t = User.__table__
    with write_transaction(engine) as conn:
        conn.execute(t.update().where(t.c.username == name,
                                      t.c.password_hash == row["password_hash"])
                     .values(**values))
    return principal_of(row)


def oidc_principal(engine: Engine, claims: dict, default_role: str | None = None) -> Principal:
    """The principal for someone the council's identity provider signed in: matched by email
    (else subject) to a user an admin added with source 'oidc'. Someone not yet added gets
    HOTSPOTS_OIDC_DEFAULT_ROLE (default viewer; 'none' refuses them) and is recorded."""
    email = str(claims.get("email") or "").strip().lower()
    username = normal_username(email or claims.get("sub"))
    display = str(claims.get("name") or email or username)
    user = get_user(engine, username)
    if user is None:
        role = default_role or os.environ.get("HOTSPOTS_OIDC_DEFAULT_ROLE", "viewer")
        if role == "none":
            raise SignInFailed(f"{username} is not a user of this service: ask an admin to "
                               "add you")
        with acting_as(Principal(username, None, display, "oidc")):
            _insert_user(engine, username, check_role(role), display_name=display,
                         email=email or None, password=None, source="oidc",
                         summary="first sign-in through the identity provider")
        user = get_user(engine, username)
    if not user["active"]:
        raise SignInFailed(f"{username} has been deactivated: ask an admin")
    if user["source"] != "oidc":
        raise SignInFailed(f"{username} is a local account: sign in with its password")
    t = User.__table__
    with write_transaction(engine) as conn:
        conn.execute(t.update().where(t.c.username == username)
                     .values(last_sign_in=datetime.now()))
    return principal_of({**user, "display_name": user["display_name"] or display})


def ensure_first_admin(engine: Engine, username: str = "admin") -> FirstAdmin | None:
    """Make the first admin when there are no users (None when there are some). The password
    is HOTSPOTS_ADMIN_PASSWORD when set, else generated and returned to be shown once."""
    with engine.connect() as conn:
        if conn.execute(select(func.count()).select_from(User)).scalar_one():
            return None
    given = os.environ.get("HOTSPOTS_ADMIN_PASSWORD")
    password = given or secrets.token_urlsafe(15)
    with acting_as(SYSTEM):
        _insert_user(engine, username, "admin", display_name="Administrator", email=None,
                     password=password, source="local", summary="first admin made at set-up")
    return FirstAdmin(normal_username(username), None if given else password)
