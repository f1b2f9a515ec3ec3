"""Sign-in under a hostile person (issue 20, finding 7), on SQLite and the real PostgreSQL
server: the lock-out answer is the same for a name that exists and one that does not; a lock
at one address does not keep the owner out from another, is not renewed by more tries, and an
admin can lift it; guessing many names from one address locks that address; tries sent at
once cannot slip past the limit; a new password or another role ends every session of the
user; and the session cookie is set by the server, HttpOnly, for a one-time ticket only."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from access.accounts import (
    SignInFailed,
    authenticate,
    change_own_password,
    create_user,
    set_password,
    set_role,
)
from access.roles import Principal
from access.scope import acting_as
from access.sessions import resume_session, start_session
from access.throttle import NAME_LIMIT, SOURCE_LIMIT
from store.models import AuditEntry
from tests.sample_data import run_cli
from views.session_cookie import CLAIM_PATH, COOKIE, END_PATH, hand_over, routes

ADMIN = Principal("chief.admin", "admin", "Chief admin")
NOW = datetime(2026, 11, 20, 9, 0)
PASSWORD = "a long enough passphrase"
WRONG = "not the password at all"
ATTACKER = "203.0.113.66"
OWNER_DESK = "198.51.100.20"


def user(engine, name: str, role: str = "officer") -> str:
    with acting_as(ADMIN):
        create_user(engine, name, role, password=PASSWORD)
    return name


def answer(engine, name: str, password: str, when: datetime, source: str = ATTACKER) -> str:
    """What the sign-in form would say: 'signed in', or the refusal."""
    try:
        authenticate(engine, name, password, now=when, source=source)
    except SignInFailed as exc:
        return str(exc)
    return "signed in"


def lock(engine, name: str, when: datetime = NOW, source: str = ATTACKER) -> list[str]:
    return [answer(engine, name, WRONG, when, source) for _ in range(NAME_LIMIT)]


def test_the_lock_out_answer_is_the_same_for_a_real_name_and_an_unknown_one(register_db):
    engine = register_db.engine
    real = user(engine, "real.person")
    answers = {name: lock(engine, name) + [answer(engine, name, WRONG, NOW)]
               for name in (real, "no.such.person")}
    assert answers[real] == answers["no.such.person"]
    assert answers[real][:NAME_LIMIT] == ["wrong username or password"] * NAME_LIMIT
    assert answers[real][-1].startswith("too many wrong passwords from this address")
    # the right password is refused the same way while the lock lasts
    assert answer(engine, real, PASSWORD, NOW + timedelta(minutes=1)) == answers[real][-1]


def test_a_lock_at_one_address_does_not_keep_the_owner_out_from_another(register_db):
    engine = register_db.engine
    owner = user(engine, "kept.out")
    lock(engine, owner)
    assert answer(engine, owner, PASSWORD, NOW, source=OWNER_DESK) == "signed in"
    assert answer(engine, owner, PASSWORD, NOW).startswith("too many wrong passwords")


def test_more_tries_during_or_after_a_lock_never_renew_it(register_db):
    engine = register_db.engine
    owner = user(engine, "not.renewed")
    lock(engine, owner)
    for minutes in range(1, 15):  # an attacker keeps trying all through the lock
        assert answer(engine, owner, WRONG, NOW + timedelta(minutes=minutes)).startswith(
            "too many wrong passwords")
    after = NOW + timedelta(minutes=15, seconds=1)
    # one more wrong try once it ran out starts a new count: it does not lock again
    assert answer(engine, owner, WRONG, after) == "wrong username or password"
    assert answer(engine, owner, PASSWORD, after) == "signed in"


def test_guessing_many_names_from_one_address_locks_that_address(register_db):
    engine = register_db.engine
    real = user(engine, "sprayed.user")
    sprayer = "192.0.2.99"
    said = [answer(engine, f"guess{i}@council.example", WRONG, NOW, sprayer)
            for i in range(SOURCE_LIMIT)]
    assert said == ["wrong username or password"] * SOURCE_LIMIT
    assert answer(engine, real, PASSWORD, NOW, sprayer).startswith("too many wrong passwords")
    assert answer(engine, real, PASSWORD, NOW, OWNER_DESK) == "signed in"


def test_wrong_tries_sent_at_once_cannot_slip_past_the_limit(register_db):
    engine = register_db.engine
    target = user(engine, "raced.user")
    barrier = threading.Barrier(10)
    said: list[str] = []

    def attempt() -> None:
        with acting_as(ADMIN):
            barrier.wait()
            said.append(answer(engine, target, WRONG, NOW))

    threads = [threading.Thread(target=attempt) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(said) == 10
    assert said.count("wrong username or password") == NAME_LIMIT  # the password was checked
    assert all(s.startswith("too many wrong passwords") for s in said
               if s != "wrong username or password")
    assert answer(engine, target, PASSWORD, NOW).startswith("too many wrong passwords")


def test_an_admin_unlocks_a_user_from_the_command_line(register_db):
    engine = register_db.engine
    owner = user(engine, "unlocked.user")
    lock(engine, owner, datetime.now())
    assert answer(engine, owner, PASSWORD, datetime.now()).startswith("too many")
    done = run_cli(["users", "unlock", owner], register_db.url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{owner} can sign in again."
    assert answer(engine, owner, PASSWORD, datetime.now()) == "signed in"
    again = run_cli(["users", "unlock", owner], register_db.url)
    assert again.stdout.strip() == f"{owner} was not locked out; nothing changed."
    with engine.connect() as conn:
        summaries = list(conn.execute(select(AuditEntry.summary).where(
            AuditEntry.action == "unlocked", AuditEntry.entity_id == owner)).scalars())
    assert len(summaries) == 2 and "lifted" in summaries[0]


def test_a_new_password_or_another_role_ends_every_session_of_the_user(register_db):
    engine = register_db.engine
    officer = user(engine, "two.browsers")
    bystander = user(engine, "bystander.user")
    who = authenticate(engine, officer, PASSWORD)
    phone, desk = start_session(engine, who, NOW), start_session(engine, who, NOW)
    other = start_session(engine, authenticate(engine, bystander, PASSWORD), NOW)
    with acting_as(ADMIN):
        set_password(engine, officer, "a brand new passphrase")
    for token in (phone, desk):
        gone = resume_session(engine, token, NOW + timedelta(minutes=1))
        assert gone.principal is None and "password was changed" in gone.why
    assert resume_session(engine, other, NOW + timedelta(minutes=1)).principal is not None
    assert answer(engine, officer, PASSWORD, NOW, OWNER_DESK) == "wrong username or password"

    who = authenticate(engine, officer, "a brand new passphrase")
    token = start_session(engine, who, NOW)
    with acting_as(ADMIN):
        set_role(engine, officer, "viewer")
    gone = resume_session(engine, token, NOW + timedelta(minutes=1))
    assert gone.principal is None and "role was changed" in gone.why

    # changing one's own password ends one's sessions too (this one included)
    who = authenticate(engine, officer, "a brand new passphrase")
    token = start_session(engine, who, NOW)
    change_own_password(engine, who, "a brand new passphrase", "yet another passphrase")
    assert resume_session(engine, token, NOW + timedelta(minutes=1)).principal is None
    assert authenticate(engine, officer, "yet another passphrase").role == "viewer"


@pytest.fixture
def cookie_routes() -> TestClient:
    return TestClient(Starlette(routes=routes()), base_url="http://csp.example")


def set_cookie_header(response) -> str:
    return response.headers.get("set-cookie", "")


def test_the_server_sets_the_session_cookie_httponly_for_a_one_time_ticket(cookie_routes):
    ticket = hand_over("the-session-token")
    claimed = cookie_routes.post(CLAIM_PATH, content=ticket,
                                 headers={"Origin": "http://csp.example"})
    assert claimed.status_code == 204
    header = set_cookie_header(claimed).lower()
    assert header.startswith(f"{COOKIE}=the-session-token;")
    assert "httponly" in header and "samesite=strict" in header and "path=/" in header
    assert "secure" not in header  # plain HTTP on this machine
    assert claimed.headers["cache-control"] == "no-store"
    # a ticket is used once
    assert cookie_routes.post(CLAIM_PATH, content=ticket).status_code == 403
    assert cookie_routes.post(CLAIM_PATH, content="made-up-ticket").status_code == 403
    assert set_cookie_header(cookie_routes.post(CLAIM_PATH, content="made-up")) == ""


def test_the_cookie_is_secure_behind_https_and_other_sites_cannot_claim_or_end_it(
        cookie_routes):
    ticket = hand_over("token-over-https")
    claimed = cookie_routes.post(CLAIM_PATH, content=ticket,
                                 headers={"X-Forwarded-Proto": "https"})
    assert "; secure" in set_cookie_header(claimed).lower()
    stolen = hand_over("token-for-another-site")
    refused = cookie_routes.post(CLAIM_PATH, content=stolen,
                                 headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403 and set_cookie_header(refused) == ""
    assert cookie_routes.post(END_PATH, headers={"Origin": "https://evil.example"}
                              ).status_code == 403
    ended = cookie_routes.post(END_PATH, headers={"Origin": "http://csp.example"})
    header = set_cookie_header(ended).lower()
    assert ended.status_code == 204 and "max-age=0" in header and "httponly" in header
    # GET is not a way in
    assert cookie_routes.get(CLAIM_PATH).status_code == 405
