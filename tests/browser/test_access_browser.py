"""Signing in and what each role sees and may do, in a real browser (Debian Chromium),
offline, on a database set up by `hotspots setup`:

- local accounts sign in through the form; a wrong password is refused; sign-out ends the
  session;
- a viewer's hotspot map is drawn from the incidents the role may see (its heat picture is
  the surface of those, not the admin's), the page, the map's key and both downloads say what
  was left out, and a viewer cannot reach the PSPO editor by its address;
- an officer may log checks but not edit PSPOs; an analyst has the Data page; an admin
  changes a role on the Users page and the audit log records it;
- a council account signs in through OpenID Connect against a real provider running here
  (oidc-provider-mock), gets the default viewer role, and signs out.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from access.accounts import create_user, get_user
from access.roles import Principal
from access.scope import acting_as
from geo.areas import resolve_area
from hotspots.analysis import area_incidents, find_hotspots
from present.map import surface_picture
from store.db import get_engine
from store.models import AuditEntry
from tests.support.browser import (
    block_external,
    open_page,
    run_streamlit,
    set_up_sample_database,
    settle,
    wait_for_cookie,
    wait_for_map,
    wait_idle,
)
from tests.support.oidc import (
    OidcProvider,
    env_for_secrets,
    sign_in_with_oidc,
    sign_out_of_oidc,
    write_auth_secrets,
)

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
PASSWORD = "a long test passphrase"
USERS = {"viewer": "jag.viewer", "officer": "river.officer", "analyst": "data.analyst"}
VSO = "Violence and sexual offences"
pytestmark = pytest.mark.filterwarnings("ignore:get_jwt_config:DeprecationWarning")


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = set_up_sample_database(tmp_path_factory.mktemp("accessdb"))
    engine = get_engine(url)
    for role, username in USERS.items():
        create_user(engine, username, role, display_name=username.replace(".", " ").title(),
                    password=PASSWORD)
    return url


@pytest.fixture(scope="module")
def app_url(database_url: str) -> Iterator[str]:
    with run_streamlit(ROOT / "serve.py", env={"HOTSPOTS_DATABASE_URL": database_url}) as url:
        yield url


def sign_in(browser: Browser, url: str, username: str, password: str = PASSWORD) -> Page:
    """A new page at `url`, signed in through the form, which goes on to `url`'s page."""
    page, _, _ = open_page(browser, url, signed_in=False)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    wait_idle(page)
    if password == PASSWORD:
        wait_for_cookie(page)  # set once the page asked for is open
        wait_idle(page)
        assert page.url.rstrip("/") == url.rstrip("/")
    return page


def nav_links(page: Page) -> set[str]:
    """Every page the navigation bar offers, opening each of its menus in turn."""
    found: set[str] = set()
    sections = page.get_by_test_id("stTopNavSection")
    for i in range(sections.count()):
        sections.nth(i).click()
        links = page.get_by_test_id("stTopNavDropdownLink")
        expect(links.first).to_be_visible(timeout=10000)
        found |= {links.nth(j).inner_text().strip() for j in range(links.count())}
        page.keyboard.press("Escape")
        expect(links).to_have_count(0, timeout=10000)
    return found


def signed_in_as(page: Page, label: str) -> None:
    """The navigation bar has the signed-in person's menu (their account, the statement)."""
    expect(page.get_by_test_id("stTopNavSection").filter(has_text=label)).to_be_visible(
        timeout=30000)


def heat_picture(page: Page) -> str:
    """The hotspot map's heat picture (a PNG data URI), read from the map's own document
    once the page has settled (the map's first value reruns it once)."""
    settle(page)
    for _ in range(40):
        image = wait_for_map(page).locator("img.leaflet-image-layer")
        if image.count():
            return image.first.get_attribute("src")
        page.wait_for_timeout(500)
    raise AssertionError("the hotspot map's heat picture never appeared")


def expected_heat(database_url: str, principal: Principal, area: str) -> str:
    """The heat picture of the default selection, worked out for `principal` directly."""
    engine = get_engine(database_url)
    with acting_as(principal):
        report = find_hotspots(engine, area, "2023-02", "2024-01")
        return surface_picture(report.density()).data_uri


def test_a_wrong_password_is_refused_and_sign_out_ends_the_session(browser: Browser,
                                                                   app_url: str) -> None:
    page = sign_in(browser, app_url, USERS["viewer"], "not the password at all")
    expect(page.get_by_text("Wrong username or password.")).to_be_visible()
    assert nav_links(page) == set()
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    signed_in_as(page, "Jag Viewer")
    wait_for_cookie(page)
    page.reload()  # the cookie keeps the session across a reload
    wait_idle(page)
    signed_in_as(page, "Jag Viewer")
    page.goto(f"{app_url}/account")
    expect(page.get_by_text("role viewer")).to_be_visible(timeout=30000)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=30000)
    page.reload()
    wait_idle(page)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=30000)


def test_a_viewer_sees_no_restricted_incident_and_cannot_reach_the_editors(
        browser: Browser, app_url: str, database_url: str) -> None:
    page = sign_in(browser, f"{app_url}/hotspot_map", USERS["viewer"])
    blocked = block_external(page)
    signed_in_as(page, "Jag Viewer")
    links = nav_links(page)
    assert {"Overview", "Hotspot map", "PSPOs", "Water safety"} <= links
    assert not {"PSPO editor", "Data", "Users and audit"} & links
    area = page.get_by_role("combobox", name="Area", exact=True).input_value()
    viewer = Principal(USERS["viewer"], "viewer")
    admin = Principal("admin", "admin")
    seen = heat_picture(page)
    assert seen == expected_heat(database_url, viewer, area)
    assert seen != expected_heat(database_url, admin, area)  # violence left out
    # the page, the map's key and both downloads say what was left out, with the count
    with acting_as(admin):
        engine = get_engine(database_url)
        points = area_incidents(engine, resolve_area(engine, area), "2023-02", "2024-01",
                                [VSO])
    told = f"{VSO} ({len(points):,} in this selection; shown to your role only as counts"
    expect(page.get_by_text(re.compile(r"^Left out here for your role \(viewer\)"))
           ).to_contain_text(told)
    frame = wait_for_map(page)
    frame.locator(".csp-key-button").click()
    expect(frame.locator(".csp-key-panel")).to_contain_text("Left out from this map for your "
                                                            "role (viewer)")
    with page.expect_download() as geojson:
        page.get_by_role("button", name="Download (GeoJSON)").click()
    notes = json.loads(Path(geojson.value.path()).read_text(encoding="utf-8"))["notes"]
    assert any(told in note for note in notes)
    with page.expect_download() as table:
        page.get_by_role("button", name="Download (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(Path(table.value.path()).read_text("utf-8"))))
    assert rows and all(told in row["note"] for row in rows)
    expect(page.get_by_role("button", name="Measure accuracy")).to_have_count(0)
    page.screenshot(path=str(ARTIFACTS / "viewer_hotspot_map.png"))
    # by its address: the editor is not there for a viewer
    page.goto(f"{app_url}/pspo_editor")
    wait_idle(page)
    signed_in_as(page, "Jag Viewer")
    expect(page.get_by_role("button", name="Add the order")).to_have_count(0)
    expect(page.get_by_role("heading", name="PSPO editor")).to_have_count(0)
    page.goto(f"{app_url}/users")
    wait_idle(page)
    expect(page.get_by_role("heading", name="Users and audit")).to_have_count(0)
    page.goto(f"{app_url}/water_safety")
    wait_for_map(page)
    expect(page.get_by_text("Logging checks is for officers and admins.")).to_be_visible()
    expect(page.get_by_role("button", name="Save check")).to_have_count(0)
    assert blocked == []


def test_an_officer_logs_checks_but_does_not_edit_pspos(browser: Browser,
                                                        app_url: str) -> None:
    page = sign_in(browser, f"{app_url}/water_safety", USERS["officer"])
    wait_for_map(page)
    expect(page.get_by_role("button", name="Save check")).to_be_visible(timeout=30000)
    links = nav_links(page)
    assert "PSPO editor" not in links and "Data" not in links
    page.goto(f"{app_url}/pspo_editor")
    wait_idle(page)
    expect(page.get_by_role("button", name="Add the order")).to_have_count(0)


def test_an_analyst_has_the_data_page_but_not_the_admin_pages(browser: Browser,
                                                              app_url: str) -> None:
    page = sign_in(browser, app_url, USERS["analyst"])
    signed_in_as(page, "Data Analyst")
    links = nav_links(page)
    assert "Data" in links and not {"PSPO editor", "Users and audit"} & links


def test_an_admin_changes_a_role_and_the_audit_log_records_it(
        browser: Browser, app_url: str, database_url: str) -> None:
    username = "promoted.user"
    engine = get_engine(database_url)
    if get_user(engine, username) is None:
        create_user(engine, username, "viewer", password=PASSWORD)
    page, blocked, errors = open_page(browser, f"{app_url}/users")
    expect(page.get_by_role("heading", name="Users and audit")).to_be_visible(timeout=30000)
    form = page.get_by_test_id("stForm").filter(has_text="Change a user")
    user_box = form.get_by_role("combobox", name="User", exact=True)
    user_box.click()
    user_box.fill(username)
    page.get_by_role("option", name=username, exact=True).click()
    form.get_by_text("role", exact=True).click()
    role_box = form.get_by_role("combobox", name="New role", exact=True)
    role_box.click()
    page.get_by_role("option", name="analyst", exact=True).click()
    form.get_by_role("button", name="Save the change").click()
    expect(page.get_by_text(f"{username} is now analyst.")).to_be_visible(timeout=30000)
    assert get_user(engine, username)["role"] == "analyst"
    with engine.connect() as conn:
        entry = conn.execute(AuditEntry.__table__.select().where(
            AuditEntry.entity_id == username, AuditEntry.action == "role changed")
            .order_by(AuditEntry.id.desc())).mappings().first()
    assert entry["actor"] == "admin" and entry["after"] == {"role": "analyst"}
    audit = page.get_by_test_id("stForm").filter(has_text="Show the log")
    audit.get_by_role("button", name="Show the log").click()
    expect(page.get_by_test_id("stDataFrame").filter(has_text="role changed")).to_have_count(
        1, timeout=30000)
    page.screenshot(path=str(ARTIFACTS / "users_and_audit.png"), )
    assert blocked == [] and errors == []


def test_a_council_account_signs_in_through_openid_connect(browser: Browser,
                                                           database_url: str,
                                                           tmp_path: Path) -> None:
    with OidcProvider() as provider:
        provider.add_user("new.starter@council.example", email="new.starter@council.example",
                          name="New Starter")
        secrets_file = write_auth_secrets(tmp_path, provider)
        env = {"HOTSPOTS_DATABASE_URL": database_url, **env_for_secrets(secrets_file)}
        with run_streamlit(ROOT / "serve.py", env=env) as url:
            page, blocked, errors = open_page(browser, url, signed_in=False)
            wait_idle(page)
            sign_in_with_oidc(page, provider, "new.starter@council.example")
            signed_in_as(page, "New Starter")
            assert "PSPO editor" not in nav_links(page)
            page.goto(f"{url}/account")
            expect(page.get_by_text("role viewer")).to_be_visible(timeout=30000)
            user = get_user(get_engine(database_url), "new.starter@council.example")
            assert (user["source"], user["role"], user["display_name"]) == (
                "oidc", "viewer", "New Starter")
            page.screenshot(path=str(ARTIFACTS / "oidc_signed_in.png"), )
            sign_out_of_oidc(page, provider)
            expect(page.get_by_test_id("stTopNavSection")).to_have_count(0)
