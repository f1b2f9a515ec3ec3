"""Who is acting now, for the library functions to check: the app sets it for each page run
from the signed-in user, the CLI for the operator at the terminal. Unset means nobody, who
may do nothing (fail closed)."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from access.roles import NOBODY, Principal

_ACTING: ContextVar[Principal] = ContextVar("acting", default=NOBODY)


def current_principal() -> Principal:
    """The principal acting in this thread or task (NOBODY when none was set)."""
    return _ACTING.get()


def require(permission: str) -> Principal:
    """The acting principal, if its role allows `permission` (else AccessDenied)."""
    principal = current_principal()
    principal.require(permission)
    return principal


@contextmanager
def acting_as(principal: Principal) -> Iterator[Principal]:
    """Run the block as `principal`; the previous one is restored afterwards."""
    token = _ACTING.set(principal)
    try:
        yield principal
    finally:
        _ACTING.reset(token)


def operator() -> Principal:
    """The person at the terminal running the CLI: whoever holds the database file can already
    change anything in it, so the CLI acts as admin and the audit log names their login."""
    try:
        login = getpass.getuser()
    except Exception:  # no user name on some containers
        return Principal("cli:unknown", "admin", "command line", "cli")
    return Principal(f"cli:{login}", "admin", f"{login} (command line)", "cli")


# The app's own start-up work (loading the bundled boundaries), not any person's.
SYSTEM = Principal("system", "admin", "the app (start-up)", "system")


def act_from_now_as(principal: Principal) -> None:
    """Act as `principal` for the rest of this thread, for scripts such as the benchmarks
    (everything else uses acting_as, which puts the previous principal back)."""
    _ACTING.set(principal)
