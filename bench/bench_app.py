"""Benchmark issues 6 and 15: the app in the meeting and at the riverside, measured against a
running app in a real browser, beside a bare Streamlit page in the same browser.

    .venv/bin/python bench/bench_app.py [--runs 3]

Sets up a fresh SQLite database as `make run` does (`hotspots setup`: the bundled police.uk
sample and the EXAMPLE registers), adds one area made of the three bundled boroughs together
(a heavy case: about 25,000 incidents in the 12 months the map shows by default), starts the
app with `streamlit run`, and drives Debian's Chromium (Playwright) at 1366 x 768:

1. a bare Streamlit page (a title and a line): the floor under every page;
2. a newcomer's first map: from opening the Hotspot map to its hotspots on the map (and to
   the page settled, the script idle), for the very first visit after the server starts
   (nothing cached yet), and for a newcomer once the server has warmed its caches (it starts
   doing so at the first page of any visitor, the sign-in page, while they sign in);
3. a filter change on a borough-year (Spelthorne) and on the three boroughs: from the click
   that adds a crime type until the new hotspots are on the map, first time (computed) and
   back to a selection seen before (cached);
4. the map page's payload (websocket and HTTP bytes), and whether panning reruns the page;
5. saving a water-safety check on a 390 x 844 phone, from the tap to the confirmation.

Prints the median of `--runs` runs and the machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
from machine import ROOT, machine_line

sys.path.insert(0, str(ROOT))

from playwright.sync_api import Error as PlaywrightError  # noqa: E402
from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

from tests.support.browser import (  # noqa: E402
    PHONE,
    PROJECTOR,
    TEST_ADMIN_PASSWORD,
    add_session_cookie,
    block_external,
    hotspot_outlines,
    launch_chromium,
    run_streamlit,
    sign_in_session,
    wait_for_map,
    wait_idle,
)

THREE = "Three boroughs"
BOROUGH = "Spelthorne"
TYPES = "Crime types (none chosen = all)"
CRIME_TYPE = "Burglary"
WARM_WAIT_S = 45  # the server warms every area for both views (about 25 s here)
BARE_APP = """import streamlit as st
st.title("A bare Streamlit page")
st.write("Nothing else: what any Streamlit page costs in this browser.")
"""


def set_up(directory: Path) -> str:
    """The sample database plus the three-borough area; returns its URL."""
    url = f"sqlite:///{directory / 'bench.sqlite'}"
    env = {**os.environ, "HOTSPOTS_DATABASE_URL": url,
           "HOTSPOTS_ADMIN_PASSWORD": TEST_ADMIN_PASSWORD}
    subprocess.run([sys.executable, "-m", "cli", "setup"], cwd=ROOT, check=True,
                   env=env, capture_output=True)
    boroughs = gpd.read_file(ROOT / "data" / "sample" / "boundaries" / "lad_2013_sample.geojson")
    union = directory / "three_boroughs.geojson"
    gpd.GeoDataFrame({"name": [THREE]}, geometry=[boroughs.union_all()],
                     crs=boroughs.crs).to_file(union, driver="GeoJSON")
    subprocess.run([sys.executable, "-m", "cli", "layers", "add", "area", str(union),
                    "--name", THREE], cwd=ROOT, check=True, env=env, capture_output=True)
    return url


class Traffic:
    """Bytes received by a page over websockets and HTTP, counted from events."""

    def __init__(self, page: Page) -> None:
        self.websocket = 0
        self.http = 0
        page.on("websocket", self._socket)
        page.on("response", self._response)

    def _socket(self, socket) -> None:
        socket.on("framereceived", self._frame)

    def _frame(self, payload) -> None:
        self.websocket += len(payload if isinstance(payload, bytes) else payload.encode())

    def _response(self, response) -> None:
        try:
            self.http += len(response.body())
        except Exception:  # redirects and aborted requests have no body
            pass


def drawn(page: Page) -> list[str]:
    """The hotspot outlines drawn on the map now (none while the map is being made)."""
    try:
        iframe = page.locator('iframe[title="streamlit_folium.st_folium"]')
        if not iframe.count():
            return []
        frame = iframe.first.element_handle(timeout=1000).content_frame()
        return hotspot_outlines(frame) if frame else []
    except PlaywrightError:  # not loaded yet, or being replaced
        return []


def listed(page: Page) -> int | None:
    """How many hotspots the ranking says the selection has (None before it is shown)."""
    line = page.get_by_text("hotspots hold")
    try:
        return int(line.first.inner_text(timeout=200).split()[0].replace(",", ""))
    except (PlaywrightError, ValueError):
        return None


def until_drawn(page: Page, start: float, unlike: list[str] | None = None
                ) -> tuple[float, float]:
    """Seconds from `start` until the map shows as many hotspots as the ranking lists (and,
    with `unlike`, not the old selection's), then until the page has settled (the script
    idle: the map's first value reruns it once)."""
    deadline = time.perf_counter() + 120
    while time.perf_counter() < deadline:
        outlines, expected = drawn(page), listed(page)
        if outlines and len(outlines) == expected and outlines != unlike:
            appeared = time.perf_counter() - start
            wait_idle(page)
            return appeared, time.perf_counter() - start
        page.wait_for_timeout(15)
    raise TimeoutError("the map never showed the selection's hotspots")


def open_map(page: Page, url: str, area: str) -> tuple[float, float]:
    """Seconds from opening the hotspot map page on `area` to its hotspots on the map, and
    to the page settled."""
    start = time.perf_counter()
    page.goto(f"{url}/hotspot_map?area={area.replace(' ', '+')}")
    return until_drawn(page, start)


def filter_change(page: Page, add: bool) -> float:
    """Seconds from picking (or removing) the crime type to the new hotspots on the map:
    the clock starts at the click that changes the selection, not while typing."""
    before = drawn(page)
    if add:
        box = page.get_by_label(TYPES, exact=True)
        box.click()
        box.fill(CRIME_TYPE)
        option = page.get_by_role("option", name=CRIME_TYPE, exact=True)
        option.wait_for()
        start = time.perf_counter()
        option.click()
        page.keyboard.press("Escape")  # a multiselect's list stays open after a pick
    else:
        start = time.perf_counter()
        page.get_by_role("button", name=f"Remove {CRIME_TYPE}").click()
    appeared, _ = until_drawn(page, start, unlike=before)
    return appeared


def pan_reruns(page: Page) -> bool:
    """Whether dragging the map starts a script run."""
    frame = wait_for_map(page)
    box = frame.locator(".leaflet-container").bounding_box()
    state = page.locator('[data-testid="stApp"]')
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 120, y + 60, steps=10)
    page.mouse.up()
    runs = []
    for _ in range(20):
        page.wait_for_timeout(50)
        runs.append(state.get_attribute("data-test-script-state"))
    return "running" in runs


def bare_page_load(browser, directory: Path, runs: int) -> list[float]:
    """Seconds to open a bare Streamlit page until its script is idle."""
    script = directory / "bare_app.py"
    script.write_text(BARE_APP, encoding="utf-8")
    times = []
    with run_streamlit(script, cwd=directory) as url:
        for _ in range(runs):
            page = browser.new_page(viewport=PROJECTOR)
            start = time.perf_counter()
            page.goto(url)
            page.get_by_role("heading", name="A bare Streamlit page").wait_for(timeout=60000)
            wait_idle(page)
            times.append(time.perf_counter() - start)
            page.close()
    return times


def save_a_check(browser, url: str, token: str) -> float:
    """Seconds from tapping Save check on a phone to the confirmation shown."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    add_session_cookie(context, url, token)
    page = context.new_page()
    block_external(page)
    page.goto(f"{url}/water_safety")
    wait_for_map(page)
    wait_idle(page)
    form = page.get_by_test_id("stForm").filter(has_text="Save check")
    form.get_by_label("Checked by").fill("Bench Officer")
    form.get_by_text("Present and serviceable").tap()
    start = time.perf_counter()
    form.get_by_role("button", name="Save check").tap()
    expect(page.get_by_text("Saved check")).to_be_visible(timeout=30000)
    took = time.perf_counter() - start
    context.close()
    return took


def new_page(browser, url: str, token: str) -> Page:
    page = browser.new_page(viewport=PROJECTOR)
    add_session_cookie(page.context, url, token)
    return page


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(machine_line())
    figures: dict[str, list[float]] = {}

    def note(name: str, value: float) -> None:
        figures.setdefault(name, []).append(value)

    panned = []
    with tempfile.TemporaryDirectory() as tmp:
        url_db = set_up(Path(tmp))
        print(f"Database: the bundled sample + '{THREE}' (set up in {tmp})")
        with sync_playwright() as pw:
            browser = launch_chromium(pw)
            for value in bare_page_load(browser, Path(tmp), args.runs):
                note("bare", value)
            for run in range(args.runs):
                env = {"HOTSPOTS_DATABASE_URL": url_db}
                with run_streamlit(ROOT / "app.py", env=env) as url:
                    token = sign_in_session(url_db, "admin", TEST_ADMIN_PASSWORD)
                    page = new_page(browser, url, token)
                    block_external(page)
                    note("cold", open_map(page, url, BOROUGH)[0])
                    page.close()
                with run_streamlit(ROOT / "app.py", env=env) as url:
                    # the newcomer opens the app and signs in: the server warms its caches
                    page = browser.new_page(viewport=PROJECTOR)
                    page.goto(url)
                    page.get_by_role("button", name="Sign in").wait_for(timeout=60000)
                    page.wait_for_timeout(WARM_WAIT_S * 1000)
                    page.close()
                    for area, label in ((BOROUGH, "borough"), (THREE, "three")):
                        page = new_page(browser, url, token)
                        blocked = block_external(page)
                        traffic = Traffic(page)
                        appeared, settled = open_map(page, url, area)
                        note(f"warm_{label}", appeared)
                        note(f"settled_{label}", settled)
                        page.wait_for_timeout(300)
                        note(f"kb_{label}", (traffic.websocket + traffic.http) / 1024)
                        note(f"filter_{label}", filter_change(page, add=True))
                        note(f"back_{label}", filter_change(page, add=False))
                        panned.append(pan_reruns(page))
                        assert blocked == [], blocked
                        page.close()
                    note("check", save_a_check(browser, url, token))
                print(f"  run {run + 1}: " + ", ".join(f"{k} {v[-1]:.2f}"
                                                      for k, v in figures.items()))
            browser.close()
    med = {name: statistics.median(values) for name, values in figures.items()}
    print(f"\nMedian of {args.runs} runs, 1366 x 768 (the check on a 390 x 844 phone):")
    print(f"  a bare Streamlit page in the same browser:              {med['bare']:.2f} s")
    print(f"  {BOROUGH}: first map, first visit after the server starts:   {med['cold']:.2f} s")
    print(f"  {BOROUGH}: a newcomer's first map (caches warmed at start):   "
          f"{med['warm_borough']:.2f} s (page settled {med['settled_borough']:.2f} s)")
    print(f"  {BOROUGH}: filter change, a new selection (computed):          "
          f"{med['filter_borough']:.2f} s")
    print(f"  {BOROUGH}: filter change, back to a selection seen before:    "
          f"{med['back_borough']:.2f} s")
    print(f"  {THREE}: a newcomer's first map (caches warmed):         "
          f"{med['warm_three']:.2f} s")
    print(f"  {THREE}: filter change, new / seen before:               "
          f"{med['filter_three']:.2f} s / {med['back_three']:.2f} s")
    print(f"  payload of the first map: {BOROUGH} {med['kb_borough']:,.0f} kB, {THREE} "
          f"{med['kb_three']:,.0f} kB")
    print(f"  saving a check on a phone, tap to confirmation:           {med['check']:.2f} s")
    print(f"  panning the map reruns the page: {'yes' if any(panned) else 'no'}")


if __name__ == "__main__":
    main()
