"""The app as its users meet it, in a real browser (Debian Chromium), offline, on a database set
up by `hotspots setup` (the bundled police.uk sample and the EXAMPLE registers):

- the JAG in the meeting room, on a 1366 x 768 projector: every page, there and on a 390 x 844
  phone, loads with no error, no request leaving the machine and no serious or critical
  accessibility failure (axe-core); the first click on the top hotspot opens its profile
  without the page moving; a hotspot is adopted as a problem location and is still there
  after a reload; the overview's theme table fits the screen with its RAG column;
- an officer planning an action day downloads the briefing pack (HTML and PDF) holding the map
  and the tables;
- a community safety officer at the riverside: the phone's menu closes after a choice, a
  finger swiped over the map scrolls the page (two move the map), the check form comes first
  with thumb-sized choices; the officer signs in and logs a throwline check, and finds it
  there, still signed in, after the app is restarted.

Unless a test signs in itself, pages open signed in as the database's admin.

Screenshots of every page at both sizes go to tests/artifacts/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from access.accounts import create_user, get_user
from registers.checks import check_history, due_report
from registers.problems import list_problems
from store.db import get_engine
from tests.support.axe import audit, describe, serious
from tests.support.browser import (
    PHONE,
    SESSION_COOKIE,
    add_session_cookie,
    block_external,
    choose,
    open_page,
    run_streamlit,
    set_up_sample_database,
    settle,
    wait_for_cookie,
    wait_for_map,
    wait_idle,
)

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
PAGES = {  # path -> (title, how many maps it draws)
    "": ("Overview", 0), "hotspot_map": ("Hotspot map", 1),
    "problems": ("Problem locations", 0), "jag_report": ("JAG report", 0),
    "planner": ("Action day planner", 0), "water_safety": ("Water safety", 1),
    "pspos": ("PSPOs", 1), "pspo_editor": ("PSPO editor", 1), "data": ("Data", 1),
    "users": ("Users and audit", 0), "account": ("Your account", 0),
    "accessibility": ("Accessibility statement", 0)}
SIZES = {"projector": False, "phone": True}
OFFICER_PASSWORD = "riverside officer password"


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return set_up_sample_database(tmp_path_factory.mktemp("meetingdb"))


@pytest.fixture(scope="module")
def app_url(database_url: str) -> Iterator[str]:
    with run_streamlit(ROOT / "serve.py", env={"HOTSPOTS_DATABASE_URL": database_url}) as url:
        yield url


def no_errors(page: Page, blocked: list[str], errors: list[str]) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0
    assert blocked == [], f"requests left this machine: {blocked}"
    assert errors == [], errors


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("path", list(PAGES))
def test_every_page_loads_offline_and_passes_axe(browser: Browser, app_url: str, path: str,
                                                 size: str) -> None:
    """Each page, on the projector and on a phone: its heading, its maps, no error, nothing
    fetched from off the machine, and no serious or critical WCAG 2.2 AA failure found by
    axe-core, in the page and inside its maps."""
    title, maps = PAGES[path]
    page, blocked, errors = open_page(browser, f"{app_url}/{path}", phone=SIZES[size])
    expect(page.get_by_role("heading", name=title, exact=True).first).to_be_visible(
        timeout=60000)
    if maps:
        wait_for_map(page, nth=maps - 1)
    settle(page)
    page.wait_for_timeout(500)  # let the maps settle for the screenshot
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"page_{path or 'overview'}_{size}.png"))
    found = serious(audit(page))
    assert found == [], describe(found)
    no_errors(page, blocked, errors)


def test_overview_shows_priority_themes_and_alerts(browser: Browser, app_url: str) -> None:
    page, blocked, errors = open_page(browser, app_url)
    wait_idle(page)
    table = page.get_by_test_id("stTable").filter(has_text="Priority theme")
    expect(table).to_be_visible(timeout=60000)
    for theme in ("Serious violence", "Town centre and acquisitive crime",
                  "Anti-social behaviour", "Water safety"):
        expect(table).to_contain_text(theme)
    # the whole table is on the projector's screen, its RAG column included, and written in
    # words (11 of the sample's 12 months compare: every theme with data has its RAG)
    rag = table.locator("th").filter(has_text="RAG")
    box = rag.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 1366, box
    assert table.evaluate("t => t.scrollWidth <= t.clientWidth + 1")
    expect(table.locator("tbody tr").filter(has_text="Anti-social behaviour")).to_contain_text(
        re.compile(r"(Green|Amber|Red)"))
    expect(page.get_by_text(re.compile(r"Latest police.uk month loaded: January 2024, \d+ "
                                       "months before today"))).to_be_visible()
    expect(page.get_by_text("What needs doing")).to_be_visible()
    choose(page, "Area", "Spelthorne")
    wait_idle(page)
    expect(page.get_by_role("heading", name=re.compile("^Spelthorne: priority themes"))
           ).to_be_visible(timeout=30000)
    expect(page.get_by_test_id("stTable").filter(has_text="Priority theme")).to_contain_text(
        "Per 1,000 residents")
    # the EXAMPLE PSPO near expiry, overdue for review, and the broken cabinet are listed
    alerts = page.get_by_test_id("stAlert")
    expect(alerts.filter(has_text=re.compile(r"^PSPO expiring: .*riverside.* expires in"))
           ).to_have_count(1)
    expect(alerts.filter(has_text=re.compile(r"^PSPO review overdue: "))).to_have_count(1)
    expect(alerts.filter(has_text=re.compile(r"^Equipment needs attention: SBC-TL-04 "))
           ).to_have_count(1)
    page.screenshot(path=str(ARTIFACTS / "overview_spelthorne.png"))
    no_errors(page, blocked, errors)


def main_scroll(page: Page) -> float:
    """How far the page is scrolled (Streamlit scrolls its main block, not the window)."""
    return page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollTop"
                         " + window.scrollY")


def test_a_hotspot_click_opens_its_profile_and_it_is_adopted(browser: Browser, app_url: str,
                                                            database_url: str) -> None:
    """At 1366 x 768 the first click on hotspot 1 (its numbered marker at the opening zoom)
    opens its profile beside the map; the page does not move under the pointer; the profile
    counts what the map's tooltip said; the hotspot is adopted."""
    page, blocked, errors = open_page(browser, f"{app_url}/hotspot_map")
    frame = wait_for_map(page)
    settle(page)
    expect(page.get_by_role("heading", name=re.compile(r"^Hotspot \d+$"))).to_have_count(0)
    marker = frame.locator(".csp-rank").filter(has_text=re.compile(r"^1$"))
    box = marker.bounding_box()
    assert box["width"] >= 24 and box["height"] >= 24  # a target big enough to hit
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    tooltip = frame.locator(".leaflet-tooltip").filter(has_text="Hotspot 1")
    expect(tooltip).to_be_visible(timeout=10000)
    said = int(re.search(r"Hotspot 1\D+([\d,]+) incidents", tooltip.inner_text()).group(1)
               .replace(",", ""))
    before = main_scroll(page)
    page.mouse.down()
    assert main_scroll(page) == before  # nothing moves under the pointer
    page.mouse.up()
    heading = page.get_by_role("heading", name="Hotspot 1", exact=True)
    expect(heading).to_be_visible(timeout=30000)
    wait_idle(page)
    rank = 1
    expect(page.get_by_text(f"{said:,} incidents", exact=True)).to_be_visible()
    expect(page.get_by_text("By type", exact=True)).to_be_visible()
    expect(page.get_by_text("Repeat locations in this hotspot")).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Trend: "))).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "hotspot_profile.png"))

    form = page.get_by_test_id("stForm").filter(has_text="Adopt as a problem location")
    name = f"Browser adopted hotspot {rank}"
    form.get_by_label("Name").fill(name)
    form.get_by_label("Objective").fill("Reduce violence at night by 20% in six months")
    form.get_by_role("button", name="Adopt").click()
    expect(page.get_by_text(f"Adopted '{name}'")).to_be_visible(timeout=30000)
    stored = list_problems(get_engine(database_url)).set_index("name")
    assert stored.loc[name, "status"] == "Open"
    assert f"Hotspot {rank} of" in stored.loc[name, "origin"]

    page.goto(f"{app_url}/problems")
    wait_idle(page)
    expect(page.get_by_test_id("stDataFrame").first).to_contain_text(name, timeout=30000)
    page.reload()
    wait_idle(page)
    expect(page.get_by_test_id("stDataFrame").first).to_contain_text(name, timeout=30000)
    choose_option(page, "Work a location", name)
    wait_idle(page)
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    expect(page.get_by_text("Incidents here, before and since adoption")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "problem_location.png"))
    no_errors(page, blocked, errors)


def choose_option(page: Page, label: str, option: str) -> None:
    """Pick an option of a selectbox by typing part of it (options carry extra words)."""
    box = page.get_by_label(label, exact=True)
    box.click()
    box.fill(option)
    page.get_by_role("option", name=re.compile(re.escape(option))).first.click()


def test_a_row_of_the_hotspot_table_opens_its_profile(browser: Browser, app_url: str) -> None:
    page, blocked, errors = open_page(browser, f"{app_url}/hotspot_map")
    wait_for_map(page)
    wait_idle(page)
    table = page.get_by_test_id("stDataFrame").first
    expect(table).to_be_visible()
    box = table.bounding_box()
    # the row-selection checkbox of the second row (header row, then row 1, row 2)
    page.mouse.click(box["x"] + 10, box["y"] + 35 * 2 + 18)
    expect(page.get_by_role("heading", name="Hotspot 2", exact=True)).to_be_visible(
        timeout=30000)
    page.get_by_role("button", name="Back to the list").click()
    expect(page.get_by_role("heading", name="Hotspot 2", exact=True)).to_have_count(
        0, timeout=30000)
    no_errors(page, blocked, errors)


def test_an_action_day_pack_downloads_with_its_map_and_tables(browser: Browser,
                                                              app_url: str,
                                                              tmp_path: Path) -> None:
    page, blocked, errors = open_page(browser, f"{app_url}/planner")
    wait_idle(page)
    page.get_by_text("Town centre", exact=True).click()
    wait_idle(page)
    page.get_by_role("button", name="Prepare the briefing pack").click()
    expect(page.get_by_role("heading", name=re.compile("^Briefing pack: "))).to_be_visible(
        timeout=60000)
    wait_idle(page)
    with page.expect_download() as html_download:
        page.get_by_role("button", name=re.compile("Download the pack \\(HTML")).click()
    html_path = tmp_path / html_download.value.suggested_filename
    html_download.value.save_as(html_path)
    html = html_path.read_text(encoding="utf-8")
    assert html_path.suffix == ".html"
    assert "<svg" in html or "data:image/png" in html  # the map, inside the file
    for heading in ("Incidents by type and month", "Repeat locations", "PSPOs in force",
                    "Water-safety equipment within", "Open partner actions"):
        assert heading in html, heading
    assert re.search(r"<(script|link|img)[^>]+(src|href)=\"https?://", html) is None
    # how old the data is, in the pack's first lines; the map names the busiest streets
    assert re.search(r"Latest police.uk month loaded: January 2024, \d+ months before the "
                     r"action day", html)
    assert "The data is" in html and "older than the action day" in html
    assert "Street of a busy point" in html
    with page.expect_download() as pdf_download:
        page.get_by_role("button", name=re.compile("Download the pack \\(PDF")).click()
    pdf_path = tmp_path / pdf_download.value.suggested_filename
    pdf_download.value.save_as(pdf_path)
    assert pdf_path.read_bytes().startswith(b"%PDF")
    page.screenshot(path=str(ARTIFACTS / "action_day_pack.png"))
    no_errors(page, blocked, errors)


def test_a_throwline_check_on_a_phone_survives_a_restart(browser: Browser,
                                                         database_url: str) -> None:
    engine = get_engine(database_url)
    due = due_report(engine, area_code="E07000213")
    throwlines = due[(due["kind"] == "throwline") & due["needs_check"]]
    asset = throwlines["asset_id"].iloc[0]
    note = "Bag dry, line coiled; checked from the phone"
    if get_user(engine, "riverside.officer") is None:
        create_user(engine, "riverside.officer", "officer", display_name="Riverside Officer",
                    password=OFFICER_PASSWORD)
    with run_streamlit(ROOT / "serve.py", env={"HOTSPOTS_DATABASE_URL": database_url}) as url:
        context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                                      device_scale_factor=2)
        page = context.new_page()
        blocked = block_external(page)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{url}/water_safety")
        # the officer signs in on the phone, on the page they opened
        page.get_by_label("Username").fill("riverside.officer")
        page.get_by_label("Password", exact=True).fill(OFFICER_PASSWORD)
        page.get_by_role("button", name="Sign in").tap()
        expect(page.get_by_role("heading", name="Water safety")).to_be_visible(timeout=30000)
        wait_for_cookie(page)  # set by the server, HttpOnly
        assert page.url == f"{url}/water_safety"  # on to the page opened before signing in
        wait_for_map(page)
        wait_idle(page)
        # nothing wider than the phone: no sideways scrolling at the riverside
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        # the check form comes before the map on a phone
        form_top = page.get_by_role("heading", name="Log a check").bounding_box()["y"]
        map_top = page.locator('iframe[title="streamlit_folium.st_folium"]').bounding_box()["y"]
        assert form_top < map_top
        item = page.get_by_role("combobox", name="Item (or tap it on the map)", exact=True)
        item.click()
        item.fill(asset)
        page.get_by_role("option", name=re.compile(f"^{asset} ")).first.click()
        wait_idle(page)
        form = page.get_by_test_id("stForm").filter(has_text="Save check")
        for choice in form.get_by_test_id("stRadio").first.locator("label").all():
            target = choice.bounding_box()  # each outcome is a thumb-sized target
            assert target["height"] >= 44 and target["width"] >= 44, target
        save = form.get_by_role("button", name="Save check")
        assert save.bounding_box()["height"] >= 44  # a thumb-sized target
        form.get_by_text("Present and serviceable").tap()
        form.get_by_label("Checked by").fill("Riverside Officer")
        form.get_by_label("Notes (optional)").fill(note)
        save.tap()
        expect(page.get_by_text(f"for {asset}: Present and serviceable")).to_be_visible(
            timeout=30000)
        page.screenshot(path=str(ARTIFACTS / "phone_check_saved.png"))
        assert blocked == [] and errors == []
        token = next(c["value"] for c in context.cookies() if c["name"] == SESSION_COOKIE)
        context.close()
    latest = check_history(engine, asset).iloc[-1]
    assert (latest["checked_by"], latest["notes"], latest["outcome"]) == (
        "Riverside Officer", note, "serviceable")
    assert latest["recorded_by"] == "Riverside Officer"
    # the app restarted on the same database: the officer is still signed in (the session is
    # the database's) and the check is in the item's history
    with run_streamlit(ROOT / "serve.py", env={"HOTSPOTS_DATABASE_URL": database_url}) as url:
        context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
        add_session_cookie(context, url, token)
        page = context.new_page()
        page.goto(f"{url}/water_safety")
        wait_for_map(page)
        wait_idle(page)
        item = page.get_by_role("combobox", name="Item (or tap it on the map)", exact=True)
        item.click()
        item.fill(asset)
        page.get_by_role("option", name=re.compile(f"^{asset} ")).first.click()
        wait_idle(page)
        page.get_by_text(re.compile(f"^Earlier checks of {asset}")).tap()
        expect(page.get_by_test_id("stTable").filter(has_text="Riverside Officer")
               ).to_be_visible(timeout=30000)
        page.screenshot(path=str(ARTIFACTS / "phone_check_after_restart.png"))
        context.close()


def test_on_a_phone_the_menu_closes_and_a_swipe_scrolls_past_the_map(browser: Browser,
                                                                    app_url: str) -> None:
    """390 x 844 with touch: the menu opened and a page chosen, the menu closes over it; one
    finger swiped over the Water safety map scrolls the page and leaves the map where it
    was."""
    page, blocked, errors = open_page(browser, app_url, phone=True)
    settle(page)
    sidebar = page.get_by_test_id("stSidebar")
    page.get_by_test_id("stExpandSidebarButton").tap()
    expect(sidebar).to_have_attribute("data-collapsed", "false", timeout=10000)
    page.get_by_role("link", name="Water safety").tap()
    expect(page.get_by_role("heading", name="Water safety")).to_be_visible(timeout=60000)
    expect(sidebar).to_have_attribute("data-collapsed", "true", timeout=10000)
    frame = wait_for_map(page)
    settle(page)
    page.screenshot(path=str(ARTIFACTS / "phone_menu_closed.png"))
    cdp = page.context.new_cdp_session(page)
    iframe = page.locator('iframe[title="streamlit_folium.st_folium"]')
    iframe.scroll_into_view_if_needed()
    box = iframe.bounding_box()
    x = box["x"] + box["width"] / 2
    y = min(box["y"] + box["height"] / 2, PHONE["height"] - 60)
    centre = frame.evaluate("() => JSON.stringify(window.map.getCenter())")
    before = main_scroll(page)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x,
                                                                                 "y": y}]})
    for step in range(1, 11):
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove",
                                              "touchPoints": [{"x": x, "y": y - 25 * step}]})
        page.wait_for_timeout(16)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    page.wait_for_timeout(500)
    assert main_scroll(page) > before + 100  # the page scrolled
    assert frame.evaluate("() => JSON.stringify(window.map.getCenter())") == centre
    no_errors(page, blocked, errors)
