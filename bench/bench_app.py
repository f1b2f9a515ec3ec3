"""Benchmark issue 6: the app in the meeting, measured against a running app in a real browser.

    .venv/bin/python bench/bench_app.py [--runs 3]

Sets up a fresh SQLite database as `make run` does (`hotspots setup`: the bundled police.uk
sample and the EXAMPLE registers), adds one area made of the three bundled boroughs together
(Spelthorne, Runnymede and Woking: 26,727 incidents over 13 months, about 25,000 in the
12 months the map shows by default, the size of a busy borough-year), starts the app with
`streamlit run`, and drives Debian's Chromium (Playwright) on the Hotspot map page:

1. first load: from opening the page to the map drawn and the script finished, for the very
   first visit after the server starts (nothing cached) and for a new visitor once the server
   has the selection cached (the usual case in a meeting: someone opened it before);
2. a filter change: a crime type added in the sidebar, until the new map is drawn and the
   script has finished, first time (computed) and when going back to a selection seen before
   (cached);
3. the map page's payload: bytes the browser received over Streamlit's websocket (the page's
   data, the map included) and over HTTP (the app's and the map's JavaScript and CSS, served
   from this machine), for the three-borough year;
4. whether panning the map reruns the page (it must not: only clicks come back).

Prints the median of `--runs` runs and the machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
from machine import cpu_model

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Error as PlaywrightError  # noqa: E402
from playwright.sync_api import Page, sync_playwright  # noqa: E402

from tests.support.browser import (  # noqa: E402
    TEST_ADMIN_PASSWORD,
    add_session_cookie,
    block_external,
    choose,
    launch_chromium,
    run_streamlit,
    sign_in_session,
    wait_for_map,
    wait_idle,
)

AREA = "Three boroughs"
CRIME_TYPES = ["Burglary", "Shoplifting", "Vehicle crime"]


def set_up(directory: Path) -> str:
    """The sample database plus the three-borough area; returns its URL."""
    url = f"sqlite:///{directory / 'bench.sqlite'}"
    env = {**os.environ, "HOTSPOTS_DATABASE_URL": url,
           "HOTSPOTS_ADMIN_PASSWORD": TEST_ADMIN_PASSWORD}
    subprocess.run([sys.executable, "-m", "hotspots.cli", "setup"], cwd=ROOT, check=True,
                   env=env, capture_output=True)
    boroughs = gpd.read_file(ROOT / "data" / "sample" / "boundaries" / "lad_2013_sample.geojson")
    union = directory / "three_boroughs.geojson"
    gpd.GeoDataFrame({"name": [AREA]}, geometry=[boroughs.union_all()],
                     crs=boroughs.crs).to_file(union, driver="GeoJSON")
    subprocess.run([sys.executable, "-m", "hotspots.cli", "layers", "add", "area", str(union),
                    "--name", AREA], cwd=ROOT, check=True, env=env, capture_output=True)
    return url


class Traffic:
    """Bytes received by a page over websockets and HTTP, counted from events."""

    def __init__(self, page: Page) -> None:
        self.websocket = 0
        self.http = 0
        self.frames = 0
        page.on("websocket", self._socket)
        page.on("response", self._response)

    def _socket(self, socket) -> None:
        socket.on("framereceived", self._frame)

    def _frame(self, payload) -> None:
        self.frames += 1
        self.websocket += len(payload if isinstance(payload, bytes) else payload.encode())

    def _response(self, response) -> None:
        try:
            self.http += len(response.body())
        except Exception:  # redirects and aborted requests have no body
            pass

    def reset(self) -> None:
        self.websocket = self.http = self.frames = 0


def settled(page: Page) -> None:
    """Wait for the script to finish and the map to be drawn (retrying while a rerun replaces
    the map's frame)."""
    for _ in range(20):
        wait_idle(page)
        try:
            wait_for_map(page)
        except PlaywrightError:  # the frame was replaced by a rerun: wait again
            continue
        wait_idle(page)
        return
    raise TimeoutError("the map never settled")


def open_map(page: Page, url: str) -> float:
    """Seconds from opening the hotspot map page to its map drawn and the script idle."""
    start = time.perf_counter()
    page.goto(f"{url}/hotspot_map?area={AREA.replace(' ', '+')}")
    choose_area(page)
    settled(page)
    return time.perf_counter() - start


def choose_area(page: Page) -> None:
    """The three-borough area in the sidebar (the page opens on the first area)."""
    box = page.get_by_label("Area", exact=True)
    box.wait_for(timeout=60000)
    if box.input_value() != AREA:
        choose(page, "Area", AREA)


def filter_change(page: Page, crime_type: str) -> float:
    """Seconds from picking a crime type to the new map drawn and the script idle."""
    start = time.perf_counter()
    choose(page, "Crime types (none = all)", crime_type)
    page.wait_for_timeout(50)
    settled(page)
    return time.perf_counter() - start


def remove_filter(page: Page, crime_type: str) -> float:
    """Seconds to go back (remove a crime type): a selection seen before, served from cache."""
    start = time.perf_counter()
    page.get_by_role("button", name=f"Remove {crime_type}").click()
    page.wait_for_timeout(50)
    settled(page)
    return time.perf_counter() - start


def pan_reruns(page: Page) -> bool:
    """Whether dragging the map starts a script run."""
    frame = wait_for_map(page)
    box = frame.locator(".leaflet-container").bounding_box()
    runs = []
    page.on("websocket", lambda ws: None)
    state = page.locator('[data-testid="stApp"]')
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 120, y + 60, steps=10)
    page.mouse.up()
    for _ in range(20):
        page.wait_for_timeout(50)
        runs.append(state.get_attribute("data-test-script-state"))
    return "running" in runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"Machine: {cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    cold, warm, fresh_filter, cached_filter, socket_kb, http_kb = [], [], [], [], [], []
    panned = []
    with tempfile.TemporaryDirectory() as tmp:
        url_db = set_up(Path(tmp))
        print(f"Database: the bundled sample + '{AREA}' (set up in {tmp})")
        with sync_playwright() as pw:
            browser = launch_chromium(pw)
            for run in range(args.runs):
                env = {"HOTSPOTS_DATABASE_URL": url_db}
                with run_streamlit(ROOT / "app.py", env=env) as url:
                    token = sign_in_session(url_db, "admin", TEST_ADMIN_PASSWORD)
                    page = browser.new_page(viewport={"width": 1500, "height": 1000})
                    add_session_cookie(page.context, url, token)
                    block_external(page)
                    cold.append(open_map(page, url))
                    page.close()
                    page = browser.new_page(viewport={"width": 1500, "height": 1000})
                    add_session_cookie(page.context, url, token)
                    blocked = block_external(page)
                    traffic = Traffic(page)
                    warm.append(open_map(page, url))
                    page.wait_for_timeout(500)
                    socket_kb.append(traffic.websocket / 1024)
                    http_kb.append(traffic.http / 1024)
                    for crime_type in CRIME_TYPES[:1]:
                        fresh_filter.append(filter_change(page, crime_type))
                        cached_filter.append(remove_filter(page, crime_type))
                    panned.append(pan_reruns(page))
                    assert blocked == [], blocked
                    page.close()
                print(f"  run {run + 1}: first visit {cold[-1]:.2f} s, new visitor "
                      f"{warm[-1]:.2f} s, filter {fresh_filter[-1]:.2f} s (new) / "
                      f"{cached_filter[-1]:.2f} s (seen), payload {socket_kb[-1]:,.0f} kB "
                      f"websocket + {http_kb[-1]:,.0f} kB HTTP")
            browser.close()
    med = statistics.median
    print(f"\nHotspot map page, '{AREA}' (the default 12 months), median of {args.runs}:")
    print(f"  first load, first visit after the server starts: {med(cold):.2f} s")
    print(f"  first load, a new visitor (selection cached):     {med(warm):.2f} s")
    print(f"  filter change, a new selection (computed):        {med(fresh_filter):.2f} s")
    print(f"  filter change, back to a selection seen before:   {med(cached_filter):.2f} s")
    print(f"  payload: websocket {med(socket_kb):,.0f} kB + HTTP {med(http_kb):,.0f} kB = "
          f"{(med(socket_kb) + med(http_kb)) / 1024:.2f} MB")
    print(f"  panning the map reruns the page: {'yes' if any(panned) else 'no'}")


if __name__ == "__main__":
    main()
