"""The app in a real browser (Debian Chromium), offline, on the bundled real sample.

A fresh SQLite database is set up with `hotspots setup` (the README's path), the app is started
on a free port, and every non-local request is blocked and recorded. Screenshots go to
tests/artifacts/.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from present.assets import SETUP_HINT, assets_ready
from tests.sample_data import codepoint_rows, csv_bytes, read_police
from tests.support.browser import block_external, launch_chromium, run_streamlit, wait_for_map

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
HOSTILE = '<img src=x onerror="document.title=\'pwned\'">'
HOTSPOT_STROKE = '.leaflet-overlay-pane path[stroke="#c0392b"]'


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on a fresh database holding the bundled sample."""
    if not assets_ready():
        pytest.fail(f"static/vendor is incomplete: {SETUP_HINT}", pytrace=False)
    db = tmp_path_factory.mktemp("appdb") / "app.sqlite"
    env = {"HOTSPOTS_DATABASE_URL": f"sqlite:///{db}"}
    subprocess.run([sys.executable, "-m", "hotspots.cli", "setup"], cwd=ROOT, check=True,
                   env={**os.environ, **env}, capture_output=True)
    with run_streamlit(ROOT / "app.py", env=env) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        chromium = launch_chromium(pw)
        yield chromium
        chromium.close()


def open_page(browser: Browser, url: str) -> tuple[Page, list[str], list[str]]:
    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    blocked = block_external(page)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    return page, blocked, errors


def choose(page: Page, label: str, option: str) -> None:
    """Pick an option in a Streamlit selectbox or multiselect by its label, typing to filter
    (long option lists are virtualised: only the first few are in the page)."""
    box = page.get_by_label(label)
    box.click()
    box.fill(option)
    page.get_by_role("option", name=option, exact=True).click()
    page.keyboard.press("Escape")  # a multiselect's list stays open after a pick


def test_map_page_shows_hotspots_offline(browser: Browser, app_url: str) -> None:
    page, blocked, errors = open_page(browser, app_url)
    frame = wait_for_map(page)
    frame.wait_for_selector(HOTSPOT_STROKE, state="attached", timeout=30000)
    hotspot_count = frame.locator(HOTSPOT_STROKE).count()
    assert hotspot_count > 3
    expect(page.get_by_text("hotspots, ranked")).to_be_visible()
    caption = page.get_by_text("Parameters:")
    expect(caption).to_contain_text("cell_size_m")
    expect(caption).to_contain_text("EPSG:27700")
    attribution = frame.locator(".leaflet-control-attribution").inner_text()
    assert "Open Government Licence" in attribution
    assert "OpenStreetMap contributors" in attribution
    assert frame.locator("canvas.leaflet-heatmap-layer").count() == 1
    html = frame.content()
    assert "src=\"http" not in html and "href=\"http" not in html.split("leaflet-control")[0]
    assert page.locator('[data-testid="stException"]').count() == 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "hotspot_map.png"), full_page=True)
    assert blocked == [], f"requests left this machine: {blocked}"
    assert errors == []


def test_filters_change_the_ranking(browser: Browser, app_url: str) -> None:
    page, blocked, _ = open_page(browser, app_url)
    wait_for_map(page)
    choose(page, "Area", "Spelthorne")
    expect(page.get_by_text("Parameters:")).to_contain_text("Spelthorne")
    before = page.get_by_text("The hotspots hold").inner_text()
    choose(page, "Crime types (none = all)", "Shoplifting")
    expect(page.get_by_text("Parameters:")).to_contain_text("Shoplifting", timeout=30000)
    after = page.get_by_text("The hotspots hold").inner_text()
    assert before != after
    page.get_by_text("DBSCAN clusters").click()
    expect(page.get_by_text("Parameters:")).to_contain_text("eps_m", timeout=30000)
    frame = wait_for_map(page)
    frame.wait_for_selector(HOTSPOT_STROKE, state="attached", timeout=30000)
    page.screenshot(path=str(ARTIFACTS / "hotspot_map_dbscan_shoplifting.png"), full_page=True)
    assert blocked == []


def _real_rows() -> tuple[list[str], list[list[str]]]:
    """Header and located Spelthorne records of the bundled 2024-01 file."""
    header, rows = read_police("2024-01")
    return header, [r for r in rows if r[8].startswith("Spelthorne") and r[4]]


def test_upload_reports_bad_rows_and_bad_files(browser: Browser, app_url: str,
                                               tmp_path: Path) -> None:
    header, rows = _real_rows()
    good = [list(r) for r in rows[:40]]
    swapped = list(rows[40])
    swapped[4], swapped[5] = swapped[5], swapped[4]
    bad_month = list(rows[41])
    bad_month[1] = "2024-13"
    month_file = tmp_path / "2024-01-surrey-street.csv"
    month_file.write_bytes(csv_bytes(header, [*good, swapped, bad_month]))
    header_only = tmp_path / "header-only.csv"
    header_only.write_text(",".join(header) + "\n", encoding="utf-8")

    page, blocked, _ = open_page(browser, app_url + "/data")
    page.locator('input[type="file"]').set_input_files([str(month_file), str(header_only)])
    page.get_by_role("button", name="Import 2 file(s)").click()
    expect(page.get_by_text("Imported 0 new incidents; 40 were already present")).to_be_visible(
        timeout=30000)
    expect(page.get_by_text("header-only.csv: the file has a header row but no data rows")
           ).to_be_visible()
    reasons = page.locator('[data-testid="stTable"]').inner_text()
    assert "look swapped" in reasons
    assert "is not a valid YYYY-MM month" in reasons
    page.screenshot(path=str(ARTIFACTS / "data_page_rejects.png"), full_page=True)
    assert blocked == []


def test_location_text_is_escaped_on_the_map(browser: Browser, app_url: str,
                                             tmp_path: Path) -> None:
    header, rows = _real_rows()
    hostile = []
    for _ in range(12):
        row = list(rows[0])
        row[0] = ""  # ASB-style rows: identical rows are distinct incidents
        row[6] = HOSTILE
        row[9] = "Escaping check"
        hostile.append(row)
    upload = tmp_path / "2024-01-escaping-street.csv"
    upload.write_bytes(csv_bytes(header, hostile))
    page, blocked, errors = open_page(browser, app_url + "/data")
    page.locator('input[type="file"]').set_input_files([str(upload)])
    page.get_by_role("button", name="Import 1 file(s)").click()
    expect(page.get_by_text("Imported 12 new incidents")).to_be_visible(timeout=30000)

    page.goto(app_url)
    wait_for_map(page)
    choose(page, "Area", "Spelthorne")
    choose(page, "Crime types (none = all)", "Escaping check")
    expect(page.get_by_text("Parameters:")).to_contain_text("Escaping check", timeout=30000)
    frame = wait_for_map(page)
    frame.wait_for_selector(HOTSPOT_STROKE, state="attached", timeout=30000)
    frame.locator(HOTSPOT_STROKE).first.hover(force=True)
    tooltip = frame.locator(".leaflet-tooltip")
    expect(tooltip).to_contain_text("<img src=x", timeout=10000)
    assert frame.locator('img[src="x"]').count() == 0
    assert page.title() != "pwned"
    assert frame.evaluate("document.title") != "pwned"
    assert blocked == [] and errors == []


def test_council_log_upload_through_the_mapping_form(browser: Browser, app_url: str,
                                                     tmp_path: Path) -> None:
    """A council ASB log with its own column names: the form guesses the mapping, good rows go
    in located by postcode, a bad postcode and a US-style date are set aside with reasons."""
    header, rows = _real_rows()
    postcodes = [r["postcode"] for r in codepoint_rows("TW18 ") if r["easting"]][:6]
    log = [["Log No", "Date Logged", "Nature of Complaint", "Post Code", "Street"]]
    for i, (row, postcode) in enumerate(zip(rows[:6], postcodes, strict=True)):
        log.append([f"ASB-{i:04d}", f"{10 + i}/01/2024 14:3{i}", "Noise nuisance", postcode,
                    row[6]])
    log.append(["ASB-0100", "12/31/2024", "Noise nuisance", postcodes[0], "Kingston Road"])
    log.append(["ASB-0101", "15/01/2024", "Noise nuisance", "ZZ99 9ZZ", "On or near Nowhere"])
    upload = tmp_path / "spelthorne_asb_log.csv"
    upload.write_bytes(csv_bytes(log[0], log[1:]))

    page, blocked, errors = open_page(browser, app_url + "/data")
    page.locator('input[type="file"]').set_input_files([str(upload)])
    expect(page.get_by_text("Columns of council log spelthorne_asb_log.csv")).to_be_visible()
    date_box = page.get_by_label("Date (dd/mm/yyyy or yyyy-mm-dd, time optional)")
    expect(date_box).to_have_value("Date Logged")  # guessed from the header
    choose(page, "Category / incident type", "Nature of Complaint")
    page.get_by_role("button", name="Import 1 file(s)").click()
    expect(page.get_by_text("Imported 6 new incidents")).to_be_visible(timeout=30000)
    reasons = page.locator('[data-testid="stTable"]').inner_text()
    assert "is not a date" in reasons
    assert "is not in the postcode lookup" in reasons
    page.screenshot(path=str(ARTIFACTS / "data_page_council_log.png"), full_page=True)
    assert blocked == [] and errors == []
