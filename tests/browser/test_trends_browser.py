"""Issue 18's tools where the JAG meets them, in a real browser (Debian Chromium), offline, on a
database set up by `hotspots setup` (the bundled police.uk sample, Feb 2022 to Jan 2024, and
the EXAMPLE registers) with one problem location adopted in Staines town centre:

- "Did it work?" on the Problem location page and in the PSPO review: the sentence, the
  counts (equal to the library's), the period and ring choices;
- "Where is it heading?" on the Hotspot map page: emerging hot spots (map and table), rates
  per resident (map), hotspots again (table) and near repeats: the Knox table for a council
  fly-tipping log with dates and grid references (synthetic, seeded, imported into
  Spelthorne), and a plain "does not apply" for police.uk data (Runnymede);
- the briefing pack's comparison with the borough's trend.

Each at 1366 x 768 with no error, no request leaving the machine and no serious or critical
axe-core failure; screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
import shapely
import shapely.geometry
from playwright.sync_api import Browser, Page, expect

from access.scope import SYSTEM, acting_as
from geo.areas import resolve_area
from hotspots.emerging import emerging_hotspots, pattern_counts
from hotspots.near_repeat import near_repeat
from ingest.run import ingest_paths
from registers.problems import adopt_problem, find_problem_id
from report.assessment import assess_order, assess_problem
from store.db import get_engine
from tests.sample_data import write_csv
from tests.support.axe import audit, describe, serious
from tests.support.browser import (
    MAP_IFRAME,
    open_page,
    run_streamlit,
    set_up_sample_database,
    settle,
    wait_for_map,
    wait_idle,
)

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
PLACE = "Staines High Street"
# around Staines High Street and the Elmsleigh Centre (WGS84)
OUTLINE = shapely.geometry.box(-0.5125, 51.4315, -0.5035, 51.4355)


def flytipping_log(engine, folder: Path) -> Path:
    """A council fly-tipping log for Spelthorne, 2023, as a council writes it (day-first dates,
    OS grid references): 200 reports at random over the borough and 60 more each within about
    50 m and 0-2 days after one of them. Synthetic and seeded: no council publishes its log
    with dates and exact locations."""
    land = resolve_area(engine, "spelthorne").boundary
    rng = np.random.default_rng(18)
    minx, miny, maxx, maxy = land.bounds
    spots = []
    while len(spots) < 200:
        x, y = round(rng.uniform(minx, maxx)), round(rng.uniform(miny, maxy))
        if land.contains(shapely.Point(x, y)):
            spots.append((x, y, int(rng.integers(0, 362))))
    for k in rng.choice(200, 60, replace=False):
        x, y, d = spots[k]
        nx, ny = round(x + rng.normal(0, 50)), round(y + rng.normal(0, 50))
        if land.contains(shapely.Point(nx, ny)):
            spots.append((nx, ny, d + int(rng.integers(0, 3))))
    rows = [[f"FT/{i + 1:05d}", (date(2023, 1, 1) + timedelta(days=d)).strftime("%d/%m/%Y"),
             "Fly-tipping", str(x), str(y), "Verge"] for i, (x, y, d) in enumerate(spots)]
    return write_csv(folder / "spelthorne_flytipping.csv",
                     ["Reference", "Date Reported", "Incident Type", "Easting", "Northing",
                      "Details"], rows)


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("trendsdb")
    url = set_up_sample_database(folder)
    engine = get_engine(url)
    with acting_as(SYSTEM):
        adopt_problem(engine, area="Spelthorne", name=PLACE, geometry=OUTLINE,
                      objective="Fewer thefts from shops and less ASB on the High Street",
                      origin="test: drawn outline", adopted_on=date(2023, 8, 1),
                      recorded_by="test")
        report = ingest_paths(engine, [flytipping_log(engine, folder)])
    assert report.accepted > 250, report
    return url


@pytest.fixture(scope="module")
def app_url(database_url: str) -> Iterator[str]:
    with run_streamlit(ROOT / "serve.py", env={"HOTSPOTS_DATABASE_URL": database_url}) as url:
        yield url


def checked(page: Page, blocked: list[str], errors: list[str], name: str) -> None:
    """Screenshot, then: no error shown, nothing fetched from off the machine, no script
    error, no serious or critical accessibility failure."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"trends_{name}.png"))
    assert page.locator('[data-testid="stException"]').count() == 0
    assert blocked == [], f"requests left this machine: {blocked}"
    assert errors == [], errors
    found = serious(audit(page))
    assert found == [], describe(found)


def fits_the_screen(table) -> None:
    """The table fits the projector's width: no sideways scrolling."""
    box = table.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 1366, box
    assert table.evaluate("t => t.scrollWidth <= t.clientWidth + 1")


def test_problem_location_did_it_work(browser: Browser, app_url: str,
                                      database_url: str) -> None:
    page, blocked, errors = open_page(browser, f"{app_url}/problems")
    expect(page.get_by_role("heading", name=PLACE)).to_be_visible(timeout=60000)
    settle(page)
    section = page.get_by_test_id("stExpander").filter(has_text="Did it work?")
    section.scroll_into_view_if_needed()
    # adopted in August 2023: Aug 2023 to Jan 2024 (6 months) against Feb to Jul 2023
    engine = get_engine(database_url)
    problem = find_problem_id(engine, PLACE, "Spelthorne")
    expected = assess_problem(engine, problem, ("2023-02", "2023-07"), ("2023-08", "2024-01"))
    expect(section).to_contain_text(expected.sentence(), timeout=30000)
    table = section.get_by_test_id("stTable")
    expect(table).to_contain_text("Before (Feb 2023 to Jul 2023 (6 months))")
    row = table.locator("tbody tr").filter(has_text=f"Inside {PLACE}")
    c = expected.counts
    expect(row).to_contain_text(f"{c['target_before']:,}")
    expect(row).to_contain_text(f"{c['target_after']:,}")
    expect(row).to_contain_text(f"{expected.expected_target:,.0f}")
    expect(table.locator("tbody tr").filter(has_text="Everywhere else in Spelthorne")
           ).to_contain_text(f"{c['control_before']:,}")
    expect(section).to_contain_text("Weighted displacement difference")
    fits_the_screen(table)
    checked(page, blocked, errors, "problem_did_it_work")
    # a wider ring: the table and the sentence follow
    ring = section.get_by_role("spinbutton", name="Ring around it (metres)")
    ring.fill("500")
    ring.press("Enter")
    wait_idle(page)
    wider = assess_problem(engine, problem, ("2023-02", "2023-07"), ("2023-08", "2024-01"),
                           ring_m=500)
    expect(table.locator("tbody tr").filter(has_text="Within 500 m around it")
           ).to_contain_text(f"{wider.counts['ring_before']:,}")
    expect(section).to_contain_text(wider.sentence())
    assert errors == []


def test_pspo_review_did_it_work(browser: Browser, app_url: str, database_url: str) -> None:
    page, blocked, errors = open_page(browser, f"{app_url}/pspos")
    expect(page.get_by_role("heading", name="PSPOs", exact=True)).to_be_visible(timeout=60000)
    wait_for_map(page)
    settle(page)
    section = page.get_by_test_id("stExpander").filter(has_text="Did it work?")
    section.scroll_into_view_if_needed()
    # the first order, Runnymede's EXAMPLE, made in July 2023: six months either side
    expected = assess_order(get_engine(database_url), "EXAMPLE-RBC-PSPO-1",
                            ("2023-01", "2023-06"), ("2023-07", "2023-12"), area="Runnymede")
    expect(section).to_contain_text(expected.sentence(), timeout=30000)
    table = section.get_by_test_id("stTable")
    expect(table.locator("tbody tr").filter(has_text="Inside EXAMPLE-RBC-PSPO-1")
           ).to_contain_text(f"{expected.counts['target_before']:,}")
    fits_the_screen(table)
    checked(page, blocked, errors, "pspo_did_it_work")
    # a shorter period: the choice is the JAG's
    months = section.get_by_role("spinbutton", name="Months in each period")
    months.fill("3")
    months.press("Enter")
    wait_idle(page)
    expect(table).to_contain_text("Before (Apr 2023 to Jun 2023 (3 months))")
    assert errors == []


def open_tool(browser: Browser, app_url: str, tool: str, area: str = "Spelthorne"
              ) -> tuple[Page, list[str], list[str]]:
    page, blocked, errors = open_page(browser, f"{app_url}/hotspot_map?area={area}")
    wait_for_map(page)
    settle(page)
    heading = page.get_by_role("heading", name="Where is it heading?")
    heading.scroll_into_view_if_needed()
    page.get_by_text(tool, exact=True).click()
    wait_idle(page)
    return page, blocked, errors


def test_emerging_hot_spots_map_and_table(browser: Browser, app_url: str,
                                          database_url: str) -> None:
    page, blocked, errors = open_tool(browser, app_url, "Emerging hot spots")
    frame = wait_for_map(page, nth=1)
    assert page.locator(MAP_IFRAME).count() == 2
    # the page's default selection: the latest 12 months loaded, all crime and ASB
    found = pattern_counts(emerging_hotspots(get_engine(database_url), "Spelthorne",
                                             "2023-02", "2024-01"))
    table = page.get_by_test_id("stTable").filter(has_text="What it means")
    for _, row in found[found["pattern"] != "no pattern"].iterrows():
        line = table.locator("tbody tr").filter(has_text=row["pattern"].capitalize())
        expect(line).to_contain_text(f"{int(row['cells'])}")
        expect(line).to_contain_text(f"{int(row['incidents']):,}")
    fits_the_screen(table)
    assert "Emerging hot spots" in frame.locator(".leaflet-control-layers-list").inner_text()
    page.locator(MAP_IFRAME).nth(1).scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    checked(page, blocked, errors, "emerging")


def test_rates_per_resident_map(browser: Browser, app_url: str, database_url: str) -> None:
    from hotspots.rates import rate_hotspots
    from hotspots.result import select_coverage

    page, blocked, errors = open_tool(browser, app_url, "Rates per resident")
    frame = wait_for_map(page, nth=1)
    # the highest-rate squares covering the same 1% of the land as the map's hotspots
    engine = get_engine(database_url)
    squares = select_coverage(rate_hotspots(engine, "Spelthorne", "2023-02", "2024-01"),
                              resolve_area(engine, "Spelthorne").land_area_m2, 0.01)
    expect(frame.get_by_text(f"Highest rates per resident: {len(squares):,} squares, 1.00% "
                             "of the land, as the hotspots")).to_be_attached()
    expect(page.get_by_text(re.compile(r"Census 2021"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"fewer than 100 residents nearby"))).to_be_visible()
    assert "Highest rates per resident" in frame.locator(
        ".leaflet-control-layers-list").inner_text()
    page.locator(MAP_IFRAME).nth(1).scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    checked(page, blocked, errors, "rates")


def test_hotspots_again_table(browser: Browser, app_url: str, database_url: str) -> None:
    from hotspots.stability import stability

    page, blocked, errors = open_tool(browser, app_url, "Hotspots again?")
    table = page.get_by_test_id("stTable").filter(has_text="Hotspots again")
    expect(table).to_be_visible(timeout=30000)
    expected = stability(get_engine(database_url), "Spelthorne", "2024-01", 6).iloc[0]
    row = table.locator("tbody tr").filter(has_text="All crime and ASB")
    expect(row).to_contain_text(f"{int(expected['again'])}")
    expect(row).to_contain_text(f"{expected['share']:.0%}")
    expect(page.get_by_text(re.compile(r"Aug 2023 to Jan 2024 \(6 months\) against those of "
                                       r"Feb 2023 to Jul 2023"))).to_be_visible()
    expect(row).to_contain_text(f"(Spearman {expected['spearman']:.2f})")
    fits_the_screen(table)
    table.scroll_into_view_if_needed()
    checked(page, blocked, errors, "stability")


def test_near_repeats_say_plainly_police_data_cannot_be_tested(browser: Browser,
                                                                app_url: str) -> None:
    page, blocked, errors = open_tool(browser, app_url, "Near repeats", area="Runnymede")
    expect(page.get_by_text(re.compile(r"Not applicable: near repeat does not apply to "
                                       r"police.uk data"))).to_be_visible(timeout=30000)
    checked(page, blocked, errors, "near_repeats_police")


def test_near_repeats_in_a_council_log(browser: Browser, app_url: str,
                                       database_url: str) -> None:
    page, blocked, errors = open_tool(browser, app_url, "Near repeats")
    expected = near_repeat(get_engine(database_url), "Spelthorne", "2023-02", "2024-01")
    assert expected.applies and expected.sentence().startswith("Near repeats beyond chance")
    expect(page.get_by_text(expected.sentence())).to_be_visible(timeout=60000)
    table = page.get_by_test_id("stTable").filter(has_text="How far apart")
    planted = expected.table.set_index(["distance_band", "days_band"]).loc[("1-200 m", "0 days")]
    assert planted["significant"] and planted["knox_ratio"] > 2
    row = table.locator("tbody tr").filter(has_text="1-200 m")
    expect(row).to_contain_text(f"{planted['knox_ratio']:.1f}× *")
    expect(page.get_by_text(re.compile(r"police.uk incidents left out"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Risk zones: within "))).to_be_visible()
    fits_the_screen(table)
    table.scroll_into_view_if_needed()
    checked(page, blocked, errors, "near_repeats_council")


def test_briefing_pack_compares_with_the_borough_trend(browser: Browser, app_url: str,
                                                       tmp_path: Path) -> None:
    page, blocked, errors = open_page(browser, f"{app_url}/planner")
    wait_idle(page)
    page.get_by_text("Town centre", exact=True).click()
    wait_idle(page)
    page.get_by_role("button", name="Prepare the briefing pack").click()
    expect(page.get_by_role("heading", name=re.compile("^Briefing pack: "))).to_be_visible(
        timeout=60000)
    wait_idle(page)
    with page.expect_download() as download:
        page.get_by_role("button", name=re.compile("Download the pack \\(HTML")).click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    text = path.read_text(encoding="utf-8")
    assert "Change against the borough&#x27;s trend" in text or \
        "Change against the borough's trend" in text
    assert re.search(r"(fewer|more) than the borough(&#x27;|')s trend would predict|as the "
                     r"borough(&#x27;|')s trend would predict", text)
    assert blocked == [] and errors == []
