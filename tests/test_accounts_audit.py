"""Accounts, sessions and the audit log, on SQLite and the real PostgreSQL server: argon2
hashes, sign-in refusals and lock-out, the first admin, sessions that expire, role changes
that only admins make, and an append-only log of who changed what (a check logged and
corrected, a role changed), readable and exportable by admins only."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from access.accounts import (
    AccountError,
    SignInFailed,
    authenticate,
    create_user,
    ensure_first_admin,
    get_user,
    oidc_principal,
    set_active,
    set_role,
)
from access.audit import audit_csv, read_audit
from access.roles import AccessDenied, Principal
from access.scope import acting_as
from access.sessions import end_session, resume_session, start_session
from registers.checks import log_check
from registers.equipment import add_item
from store.models import AuditEntry, User
from tests.sample_data import run_cli

ADMIN = Principal("chief.admin", "admin", "Chief admin")
NOW = datetime(2026, 11, 20, 9, 0)
PASSWORD = "a long enough passphrase"


def entries(engine, entity: str) -> list[dict]:
    t = AuditEntry.__table__
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(
            select(t).where(t.c.entity == entity).order_by(t.c.id))]


def test_passwords_are_kept_as_argon2_hashes_and_checked(register_db) -> None:
    engine = register_db.engine
    with acting_as(ADMIN):
        create_user(engine, "Viewer.One@Housing.example", "viewer", password=PASSWORD)
    with engine.connect() as conn:
        stored = conn.execute(select(User.password_hash).where(
            User.username == "viewer.one@housing.example")).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    signed = authenticate(engine, "  VIEWER.one@housing.example ", PASSWORD)
    assert (signed.username, signed.role, signed.source) == (
        "viewer.one@housing.example", "viewer", "local")
    for name, password in (("viewer.one@housing.example", "wrong password!!"),
                           ("nobody@housing.example", PASSWORD), ("", "")):
        with pytest.raises(SignInFailed, match="wrong username or password"):
            authenticate(engine, name, password)


def test_bad_account_input_is_refused_with_the_field(register_db) -> None:
    engine = register_db.engine
    with acting_as(ADMIN):
        for username, role, password, field, words in (
                ("x", "viewer", PASSWORD, "username", "2 to 200"),
                ("ok.user", "superuser", PASSWORD, None, "not one of: viewer"),
                ("ok.user", "viewer", "short", "password", "at least 12"),
                ("ok.user.name", "viewer", "ok.user.name", "password", "not be the username")):
            with pytest.raises((AccountError, ValueError), match=words) as caught:
                create_user(engine, username, role, password=password)
            if field:
                assert caught.value.field == field
        create_user(engine, "twice", "viewer", password=PASSWORD)
        with pytest.raises(AccountError, match="already a user 'twice'"):
            create_user(engine, "TWICE", "analyst", password=PASSWORD)
    with acting_as(Principal("an.officer", "officer")), pytest.raises(AccessDenied):
        create_user(engine, "sneaky", "admin", password=PASSWORD)


def test_five_wrong_passwords_lock_the_account_for_a_while(register_db) -> None:
    engine = register_db.engine
    with acting_as(ADMIN):
        create_user(engine, "locked.out", "officer", password=PASSWORD)
    for _ in range(5):
        with pytest.raises(SignInFailed):
            authenticate(engine, "locked.out", "not the password", now=NOW)
    with pytest.raises(SignInFailed, match="too many wrong passwords"):
        authenticate(engine, "locked.out", PASSWORD, now=NOW + timedelta(minutes=5))
    assert authenticate(engine, "locked.out", PASSWORD, now=NOW + timedelta(minutes=16))


def test_the_first_admin_password_is_generated_once_or_read_from_the_environment(
        fresh_db, monkeypatch) -> None:
    monkeypatch.delenv("HOTSPOTS_ADMIN_PASSWORD", raising=False)
    first = ensure_first_admin(fresh_db.engine)
    assert first.username == "admin" and len(first.password) >= 20
    assert authenticate(fresh_db.engine, "admin", first.password).role == "admin"
    assert ensure_first_admin(fresh_db.engine) is None  # never again
    result = run_cli(["setup", "--no-sample"], fresh_db.url)
    assert result.returncode == 0 and "First admin" not in result.stdout


def test_setup_prints_the_first_admins_password_once(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/setup.sqlite"
    first = run_cli(["setup", "--no-sample"], url)
    assert first.returncode == 0, first.stderr
    password = first.stdout.split("with the password")[1].split()[0]
    second = run_cli(["setup", "--no-sample"], url)
    assert password not in second.stdout
    from store.db import get_engine
    assert authenticate(get_engine(url), "admin", password).role == "admin"


def test_sessions_expire_when_idle_when_old_and_at_sign_out(register_db, monkeypatch) -> None:
    engine = register_db.engine
    monkeypatch.setenv("HOTSPOTS_SESSION_IDLE_MINUTES", "30")
    monkeypatch.setenv("HOTSPOTS_SESSION_HOURS", "10")
    with acting_as(ADMIN):
        create_user(engine, "session.user", "viewer", password=PASSWORD)
    who = authenticate(engine, "session.user", PASSWORD)
    token = start_session(engine, who, now=NOW)
    assert resume_session(engine, token, NOW + timedelta(minutes=29)).principal == who
    assert resume_session(engine, token, NOW + timedelta(minutes=58)).principal == who
    idle = resume_session(engine, token, NOW + timedelta(minutes=89))
    assert idle.principal is None and "30 minutes without use" in idle.why
    assert resume_session(engine, token, NOW + timedelta(minutes=90)).principal is None
    # used every 20 minutes, a session still ends 10 hours after sign-in
    token = start_session(engine, who, now=NOW)
    for minutes in range(20, 600, 20):
        assert resume_session(engine, token, NOW + timedelta(minutes=minutes)).principal
    old = resume_session(engine, token, NOW + timedelta(minutes=610))
    assert old.principal is None and "at most 10 hours" in old.why
    token = start_session(engine, who, now=NOW)
    end_session(engine, token)
    assert resume_session(engine, token, NOW).principal is None
    assert resume_session(engine, "made-up-token", NOW).principal is None
    # deactivation ends a live session at its next use
    token = start_session(engine, who, now=NOW)
    with acting_as(ADMIN):
        set_active(engine, "session.user", False)
    gone = resume_session(engine, token, NOW + timedelta(minutes=1))
    assert gone.principal is None and "deactivated" in gone.why
    with pytest.raises(SignInFailed):
        authenticate(engine, "session.user", PASSWORD)


def test_council_accounts_get_the_role_an_admin_gave_or_the_default(register_db,
                                                                     monkeypatch) -> None:
    engine = register_db.engine
    with acting_as(ADMIN):
        create_user(engine, "officer@council.example", "officer", source="oidc",
                    display_name="River Officer")
    known = oidc_principal(engine, {"email": "Officer@Council.example", "sub": "x1"})
    assert (known.username, known.role, known.source) == (
        "officer@council.example", "officer", "oidc")
    monkeypatch.setenv("HOTSPOTS_OIDC_DEFAULT_ROLE", "viewer")
    new = oidc_principal(engine, {"email": "new.starter@council.example", "name": "New"})
    assert new.role == "viewer" and get_user(engine, "new.starter@council.example")
    monkeypatch.setenv("HOTSPOTS_OIDC_DEFAULT_ROLE", "none")
    with pytest.raises(SignInFailed, match="ask an admin to add you"):
        oidc_principal(engine, {"email": "stranger@elsewhere.example"})
    assert entries(engine, "user")[-1]["actor"] == "new.starter@council.example"


def test_the_audit_log_records_a_check_logged_and_corrected_and_a_role_change(
        register_db) -> None:
    engine = register_db.engine
    officer = Principal("audit.officer", "officer", "Audit Officer")
    with acting_as(ADMIN):
        create_user(engine, "audit.officer", "viewer", password=PASSWORD)
        set_role(engine, "audit.officer", "officer")
    change = [e for e in entries(engine, "user") if e["entity_id"] == "audit.officer"][-1]
    assert (change["actor"], change["role"], change["action"]) == (
        "chief.admin", "admin", "role changed")
    assert (change["before"], change["after"]) == ({"role": "viewer"}, {"role": "officer"})
    with acting_as(officer):
        add_item(engine, {"asset_id": "AUD-1", "kind": "throwline", "site": "Laleham",
                          "latitude": "51.4100", "longitude": "-0.4900",
                          "installed_on": "2024-01-01"}, officer.label, now=NOW)
        first = log_check(engine, asset_id="AUD-1", checked_at=NOW, checked_by="A. Officer",
                          outcome="missing", recorded_by=officer.label, now=NOW)
        fixed = log_check(engine, asset_id="AUD-1", checked_at=NOW,
                          checked_by="A. Officer", outcome="serviceable",
                          notes="it was behind the bin", corrects=first.id,
                          recorded_by=officer.label, now=NOW)
    logged, corrected = [e for e in entries(engine, "check") if e["entity_id"] == "AUD-1"]
    assert logged["actor"] == corrected["actor"] == "audit.officer"
    assert logged["action"] == "logged" and logged["before"] is None
    assert logged["after"]["outcome"] == "missing" and logged["after"]["id"] == first.id
    assert corrected["action"] == "corrected"
    assert corrected["before"]["outcome"] == "missing"
    assert corrected["after"]["outcome"] == "serviceable"
    assert corrected["after"]["notes"] == "it was behind the bin"
    assert f"correcting check {first.id}" in corrected["summary"] and fixed.id
    assert [e["action"] for e in entries(engine, "equipment")
            if e["entity_id"] == "AUD-1"] == ["added"]


def test_the_audit_log_is_append_only_and_for_admins(register_db) -> None:
    engine = register_db.engine
    with acting_as(ADMIN):
        create_user(engine, "append.only", "viewer", password=PASSWORD)
    for statement in ("UPDATE audit_log SET actor = 'someone else'",
                      "DELETE FROM audit_log", "DELETE FROM users"):
        with pytest.raises(DatabaseError, match="refused"), engine.begin() as conn:
            conn.execute(text(statement))
    for role in ("viewer", "analyst", "officer"):
        with acting_as(Principal(f"a.{role}", role)), pytest.raises(AccessDenied):
            read_audit(engine)
    with acting_as(ADMIN):
        shown = read_audit(engine, entity="user")
        exported = audit_csv(engine, actor="chief.admin")
    assert "append.only" in set(shown["entity_id"])
    rows = list(csv.DictReader(io.StringIO(exported.decode("utf-8-sig"))))
    assert rows and {r["actor"] for r in rows} == {"chief.admin"}
    assert json.loads(next(r for r in rows if r["entity_id"] == "append.only")["after"])[
        "role"] == "viewer"
    reads = entries(engine, "audit log")
    assert [r["action"] for r in reads[-2:]] == ["read", "export"]


def test_the_last_admin_keeps_the_role(register_db) -> None:
    engine = register_db.engine
    with acting_as(ADMIN):
        if get_user(engine, "only.admin") is None:
            create_user(engine, "only.admin", "admin", password=PASSWORD)
    only = Principal("only.admin", "admin")
    with engine.connect() as conn:
        admins = conn.execute(select(User.username).where(User.role == "admin",
                                                          User.active.is_(True))).all()
    with acting_as(only):
        for name, in admins:
            if name != "only.admin":
                set_role(engine, name, "viewer")
        with pytest.raises(AccountError, match="cannot take the admin role from themselves"):
            set_role(engine, "only.admin", "viewer")
        with pytest.raises(AccountError, match="cannot deactivate themselves"):
            set_active(engine, "only.admin", False)


def test_users_and_audit_from_the_command_line(fresh_db) -> None:
    url = fresh_db.url
    env = {"HOTSPOTS_NEW_PASSWORD": PASSWORD}
    added = run_cli(["users", "add", "cli.analyst", "--role", "analyst", "--name",
                     "CLI Analyst"], url, env=env)
    assert added.returncode == 0, added.stderr
    assert run_cli(["users", "role", "cli.analyst", "officer"], url).returncode == 0
    listed = run_cli(["users", "list", "--json"], url)
    assert {u["username"]: u["role"] for u in json.loads(listed.stdout)} == {
        "cli.analyst": "officer"}
    refused = run_cli(["users", "add", "x", "--role", "viewer"], url, env=env)
    assert refused.returncode != 0 and "2 to 200" in refused.stderr
    restricted = run_cli(["restricted", "add", "Anti-social behaviour", "--rule", "ward"], url)
    assert restricted.returncode == 0, restricted.stderr
    audit = run_cli(["audit", "--json"], url)
    log = json.loads(audit.stdout)
    assert {e["action"] for e in log} >= {"added", "role changed", "restricted"}
    assert all(e["actor"].startswith("cli:") for e in log)
    assert authenticate(fresh_db.engine, "cli.analyst", PASSWORD).role == "officer"
