"""The registers in a real browser (Debian Chromium), offline, on a database set up by
`hotspots setup` (the bundled sample and the EXAMPLE registers): the water-safety map shows
each item's check state by symbol, shape and colour, a check logged through the form is
stored as typed and survives a restart of the app, and the PSPO page shows its alerts and
takes a new order from an uploaded map while refusing a broken one. Screenshots go to
tests/artifacts/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from playwright.sync_api import Browser, Page, expect

from registers.checks import STATES, check_history, due_report
from registers.pspo import list_orders
from store.db import get_engine
from tests.sample_data import BOUNDARIES
from tests.support.browser import (
    choose,
    draw_rectangle,
    file_input,
    open_page,
    run_streamlit,
    set_up_sample_database,
    settle,
    wait_for_map,
    wait_for_rerun,
    wait_idle,
)

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
HOSTILE = '<img src=x onerror="document.title=\'pwned\'">'


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return set_up_sample_database(tmp_path_factory.mktemp("regdb"))


@pytest.fixture(scope="module")
def app_url(database_url: str) -> Iterator[str]:
    with run_streamlit(ROOT / "serve.py", env={"HOTSPOTS_DATABASE_URL": database_url}) as url:
        yield url


def metric(page: Page, label: str) -> int:
    """A count in the line under the selection, e.g. '41 items in service · ...'."""
    wait_idle(page)
    line = page.get_by_text(re.compile(r"items in service ·")).inner_text()
    return int(re.search(r"([\d,]+) " + re.escape(label), line).group(1).replace(",", ""))


def test_water_safety_map_colours_items_by_state(browser: Browser, app_url: str,
                                                 database_url: str) -> None:
    page, blocked, errors = open_page(browser, f"{app_url}/water_safety")
    frame = wait_for_map(page)
    wait_idle(page)
    due = due_report(get_engine(database_url), area_code="E07000213")  # Spelthorne, default
    assert metric(page, "items in service") == len(due) == 41
    assert metric(page, "needing attention") == int(due["attention"].sum())
    frame.wait_for_selector(".csp-kit", state="attached")
    marks = {"attention": "!", "due": "?", "checked": "✓"}
    for state in STATES:
        if state == "missed":
            continue
        expected = int((due["state"] == state).sum())
        symbols = frame.locator(f".csp-kit-{state}")
        assert symbols.count() == expected, state
        if expected:  # the state is a mark and a shape, not colour alone
            assert symbols.first.inner_text().strip() == marks[state]
            expect(symbols.first).to_have_attribute("title", re.compile(": " + re.escape(
                STATES[state][0])))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "water_safety.png"), )
    assert page.locator('[data-testid="stException"]').count() == 0
    assert blocked == [] and errors == []


def test_a_check_logged_in_the_form_is_kept_as_typed(browser: Browser, database_url: str,
                                                      tmp_path: Path) -> None:
    engine = get_engine(database_url)
    before = due_report(engine, area_code="E07000213")
    needing = before[before["attention"]]["asset_id"].tolist()
    assert needing  # the example register has a broken cabinet lock in Spelthorne
    asset = needing[0]
    with run_streamlit(ROOT / "serve.py", env={"HOTSPOTS_DATABASE_URL": database_url}) as url:
        page, blocked, errors = open_page(browser, f"{url}/water_safety")
        wait_for_map(page)
        wait_idle(page)
        assert metric(page, "needing attention") == len(needing)
        form = page.get_by_test_id("stForm").filter(has_text="Save check")
        # what needs attention is offered first
        expect(page.get_by_role("combobox", name="Item (or tap it on the map)", exact=True)
               ).to_have_value(
            re.compile(f"^{asset} .*Needs attention"))
        form.get_by_text("Present and serviceable").click()
        form.get_by_text("Replaced", exact=True).click()
        form.get_by_label("Checked by").fill("Browser Tester")
        form.get_by_label("Notes (optional)").fill(HOSTILE)
        form.get_by_role("button", name="Save check").click()
        expect(page.get_by_text(f"for {asset}: Present and serviceable")).to_be_visible(
            timeout=30000)
        wait_idle(page)
        assert metric(page, "needing attention") == len(needing) - 1
        # the form is ready for the next item: notes cleared, the checker kept
        expect(form.get_by_label("Notes (optional)")).to_have_value("")
        expect(form.get_by_label("Checked by")).to_have_value("Browser Tester")
        assert page.title() != "pwned"
        page.screenshot(path=str(ARTIFACTS / "water_safety_check_saved.png"), )
        assert blocked == [] and errors == []
    latest = check_history(engine, asset).iloc[-1]
    assert (latest["checked_by"], latest["notes"], latest["outcome"], latest["action"],
            latest["source"]) == ("Browser Tester", HOSTILE, "serviceable", "replaced",
                                  "app form")
    # a new server on the same database: the check is there, its text shown as typed
    with run_streamlit(ROOT / "serve.py", env={"HOTSPOTS_DATABASE_URL": database_url}) as url:
        page, _, _ = open_page(browser, f"{url}/water_safety")
        wait_for_map(page)
        wait_idle(page)
        assert metric(page, "needing attention") == len(needing) - 1


def test_pspo_page_alerts_and_a_new_order_from_its_map(browser: Browser, app_url: str,
                                                       database_url: str,
                                                       tmp_path: Path) -> None:
    wards = gpd.read_file(BOUNDARIES / "wards_2013_E07000213.geojson")
    good = tmp_path / "ashford_pspo.geojson"
    wards[wards["WD13NM"] == "Ashford Town"].to_crs(27700).to_file(good, driver="GeoJSON")
    minx, miny, maxx, maxy = wards[wards["WD13NM"] == "Ashford Town"].total_bounds
    broken = tmp_path / "bow_tie.geojson"
    gpd.GeoDataFrame({"name": ["Bow"]}, geometry=[shapely.Polygon(
        [(minx, miny), (maxx, maxy), (maxx, miny), (minx, maxy)])], crs=4326).to_file(
        broken, driver="GeoJSON")

    page, blocked, errors = open_page(browser, f"{app_url}/pspos")
    wait_for_map(page)
    wait_idle(page)
    expect(page.get_by_text("review overdue by").first).to_be_visible()
    expect(page.get_by_text("expires in").first).to_be_visible()
    page.goto(f"{app_url}/pspo_editor")  # the admin's editor
    wait_for_map(page)  # the drawing map (it reruns the page once when it loads)
    settle(page)
    form = page.get_by_test_id("stForm").filter(has_text="Add the order")
    choose(page, "Borough", "Spelthorne")
    expect(page.get_by_role("combobox", name="Borough", exact=True)).to_have_value(
        "Spelthorne")
    form.get_by_label("Reference").fill("BROWSER-1")
    form.get_by_label("Name").fill(f"Ashford {HOSTILE}")
    for label, day in (("Made on", "06012025"), ("Expires on (at most 3 years later)",
                                                 "06012028")):
        form.get_by_role("spinbutton", name=f"day, {label}").click()
        page.keyboard.type(day)  # day, month, year: the field moves on by itself
    form.get_by_label("Prohibitions").fill("Drinking alcohol when asked to stop | times: at "
                                           "all times")
    file_input(page, "The order's map (or draw it below)").set_input_files(str(broken))
    wait_idle(page)
    form.get_by_role("button", name="Add the order").click()
    expect(page.get_by_text("is not a valid outline")).to_be_visible(timeout=30000)
    assert "BROWSER-1" not in set(list_orders(get_engine(database_url))["reference"])

    file_input(page, "The order's map (or draw it below)").set_input_files(str(good))
    wait_idle(page)
    form.get_by_role("button", name="Add the order").click()
    expect(page.get_by_text("Added BROWSER-1")).to_be_visible(timeout=30000)
    orders = list_orders(get_engine(database_url)).set_index("reference")
    assert orders.loc["BROWSER-1", "name"] == f"Ashford {HOSTILE}"
    assert orders.loc["BROWSER-1", "status"] == "in force"
    page.goto(f"{app_url}/pspos")
    wait_idle(page)
    expect(page.get_by_test_id("stTable").filter(has_text="BROWSER-1")).to_be_visible()
    assert page.title() != "pwned"
    page.screenshot(path=str(ARTIFACTS / "pspos.png"), )
    assert page.locator('[data-testid="stException"]').count() == 0
    assert blocked == [] and errors == []


def test_an_order_drawn_on_the_map_is_added(browser: Browser, app_url: str,
                                            database_url: str) -> None:
    """Leaflet.draw (served offline) on the PSPO editor: a rectangle drawn in the middle of
    Runnymede becomes the new order's area."""
    page, blocked, errors = open_page(browser, f"{app_url}/pspo_editor")
    wait_for_map(page)  # the drawing map
    settle(page)  # a map drawn on during the map's first rerun would be replaced
    draw_rectangle(page, wait_for_map(page))
    wait_for_rerun(page)  # the drawing has reached the server
    form = page.get_by_test_id("stForm").filter(has_text="Add the order")
    form.get_by_label("Reference").fill("DRAWN-1")
    form.get_by_label("Name").fill("Drawn in the browser test")
    for label, day in (("Made on", "02062025"), ("Expires on (at most 3 years later)",
                                                 "02062027")):
        form.get_by_role("spinbutton", name=f"day, {label}").click()
        page.keyboard.type(day)
    form.get_by_label("Requirements").fill("Dogs on leads when asked | exempt: assistance dogs")
    form.get_by_role("button", name="Add the order").click()
    expect(page.get_by_text("Added DRAWN-1")).to_be_visible(timeout=30000)
    order = list_orders(get_engine(database_url)).set_index("reference").loc["DRAWN-1"]
    assert order["area"] == "Runnymede" and order["area_source"] == "drawn on the map"
    assert order.geometry.geom_type == "MultiPolygon" and order.geometry.area > 0
    assert blocked == [] and errors == []
