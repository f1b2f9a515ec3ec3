"""Wrong passwords, counted so that guessing is slow but nobody can keep someone else out.

Tries are counted per username as typed (known or not: the answers never tell which names
exist) and source (the browser's address), and per source for every name together:

- 5 wrong passwords for one name from one address within 15 minutes: that name waits 15
  minutes at that address; its owner, elsewhere, is not locked out;
- 20 wrong passwords from one address within 15 minutes, whatever the names: that address
  waits 15 minutes (password spraying);
- a lock that has run out starts the count again, so one more wrong try does not renew it;
- a try is counted before its password is checked (argon2 takes ~0.4 s), so tries sent at
  once cannot slip past the limit together; a right password takes its count back;
- an admin lifts the locks on a name (`hotspots users unlock NAME`), and a new password does.

Every write here is a short transaction of its own: no password is ever hashed while the
database's write lock is held.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, delete, or_, select
from sqlalchemy.exc import IntegrityError

from store.db import write_transaction
from store.models import SignInFailure

NAME_LIMIT = 5
SOURCE_LIMIT = 20
WINDOW = timedelta(minutes=15)  # failures older than this are forgotten
LOCKOUT = timedelta(minutes=15)
FORGET_AFTER = timedelta(days=1)  # rows of names tried once and never again are removed
EVERY_NAME = "*"
LOCAL = "local"


@dataclass(frozen=True)
class Attempt:
    """A try let through (its count taken), or refused until `locked_until`."""

    locked_until: datetime | None = None

    @property
    def allowed(self) -> bool:
        """Whether the password may be checked."""
        return self.locked_until is None


def source_label(address: str | None) -> str:
    """The source a try came from: its address, or 'local' for this machine."""
    text = str(address or "").strip()[:100]
    return text or LOCAL


def begin_attempt(engine: Engine, name: str, source: str, now: datetime) -> Attempt:
    """Refuse a try while its name (at this source) or its source is locked; otherwise count
    it as a failure in advance (see finish_attempt) and lock what reaches its limit."""
    try:
        return _begin(engine, name, source, now)
    except IntegrityError:  # a first try of this name and source sent twice at once
        return _begin(engine, name, source, now)


def _begin(engine: Engine, name: str, source: str, now: datetime) -> Attempt:
    with write_transaction(engine) as conn:
        rows = {r.username: r for r in _rows(conn, name, source)}
        locks = [r.locked_until for r in rows.values()
                 if r.locked_until is not None and r.locked_until > now]
        if locks:
            return Attempt(max(locks))
        _count(conn, rows.get(name), name, source, NAME_LIMIT, now)
        _count(conn, rows.get(EVERY_NAME), EVERY_NAME, source, SOURCE_LIMIT, now)
        conn.execute(delete(SignInFailure).where(SignInFailure.last_at < now - FORGET_AFTER,
                                                 SignInFailure.locked_until.is_(None)))
    return Attempt()


def finish_attempt(engine: Engine, name: str, source: str, right: bool) -> None:
    """After the password was checked: a right one takes back its count (the name's run of
    failures ends, the source's count drops by one and its lock, if this try set it, goes);
    a wrong one stays counted."""
    if not right:
        return
    t = SignInFailure.__table__
    with write_transaction(engine) as conn:
        conn.execute(delete(SignInFailure).where(t.c.username == name, t.c.source == source))
        row = conn.execute(select(t).where(t.c.username == EVERY_NAME,
                                           t.c.source == source)).first()
        if row is not None:
            left = max(row.failures - 1, 0)
            conn.execute(t.update().where(t.c.id == row.id).values(
                failures=left, locked_until=row.locked_until if left >= SOURCE_LIMIT else None))


def unlock(conn: Connection, name: str) -> int:
    """Lift the locks on a name at every source, and those of the sources it was locked at
    (so its owner can sign in again from there); returns how many locks were lifted."""
    t = SignInFailure.__table__
    sources = [r.source for r in conn.execute(select(t.c.source).where(t.c.username == name))]
    gone = conn.execute(delete(SignInFailure).where(or_(
        t.c.username == name,
        (t.c.username == EVERY_NAME) & t.c.source.in_(sources) & t.c.locked_until.isnot(None)),
    ))
    return int(gone.rowcount or 0)


def _rows(conn: Connection, name: str, source: str) -> list:
    t = SignInFailure.__table__
    query = select(t).where(t.c.source == source, t.c.username.in_([name, EVERY_NAME]))
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return list(conn.execute(query))


def _count(conn: Connection, row, name: str, source: str, limit: int, now: datetime) -> None:
    """One more failure for (name, source); a run that is old or whose lock ran out starts
    again at one."""
    t = SignInFailure.__table__
    if row is None:
        conn.execute(t.insert().values(username=name, source=source, failures=1, first_at=now,
                                       last_at=now, locked_until=None))
        return
    stale = row.locked_until is not None or now - row.first_at > WINDOW
    failures = 1 if stale else row.failures + 1
    conn.execute(t.update().where(t.c.id == row.id).values(
        failures=failures, first_at=now if stale else row.first_at, last_at=now,
        locked_until=now + LOCKOUT if failures >= limit else None))
