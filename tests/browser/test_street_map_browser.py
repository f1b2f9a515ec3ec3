"""The street base map in a real browser (Debian Chromium): shown whenever the tile server
answers (here a tile server of the test's own on this machine, as a council's would be, set
with HOTSPOTS_TILES), and when it cannot be reached (the default OpenStreetMap server, with
every request off this machine blocked, or a council server that is down) the map falls back
quietly to the bundled boundaries and river and says so. Either way it names the busiest
streets."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, expect

from tests.support.browser import (
    free_port,
    open_page,
    run_streamlit,
    set_up_sample_database,
    settle,
    wait_for_map,
)

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"


def tile_png() -> bytes:
    """One 256 px tile: a pale street-map grey with a darker 'road' across it."""
    image = Image.new("RGB", (256, 256), (236, 232, 224))
    for x in range(256):
        for y in range(120, 136):
            image.putpixel((x, y), (190, 190, 190))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


class TileServer:
    """A tile server on this machine: every /{z}/{x}/{y}.png is the same tile; it counts
    what it served."""

    def __init__(self) -> None:
        body, served = tile_png(), []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                served.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.served = served
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/{{z}}/{{x}}/{{y}}.png"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return set_up_sample_database(tmp_path_factory.mktemp("streetsdb"))


@pytest.fixture(scope="module")
def tiles() -> Iterator[TileServer]:
    server = TileServer()
    yield server
    server.close()


def test_streets_show_when_the_tile_server_answers(browser: Browser, database_url: str,
                                                   tiles: TileServer) -> None:
    env = {"HOTSPOTS_DATABASE_URL": database_url, "HOTSPOTS_TILES": tiles.url,
           "HOTSPOTS_TILES_ATTRIBUTION": "Council street map (test server)"}
    with run_streamlit(ROOT / "serve.py", env=env) as url:
        page, blocked, errors = open_page(browser, f"{url}/hotspot_map")
        frame = wait_for_map(page)
        settle(page)
        status = frame.locator(".csp-streets")
        expect(status).to_have_text("Street map: 127.0.0.1", timeout=30000)
        assert frame.locator("img.leaflet-tile-loaded").count() > 0
        assert tiles.served and all(p.endswith(".png") for p in tiles.served)
        frame.get_by_role("button", name="Map credits and licences").click()
        expect(frame.locator(".csp-credits-panel")).to_contain_text(
            "Street map: Council street map (test server)")
        page.screenshot(path=str(ARTIFACTS / "hotspot_map_with_streets.png"))
        assert blocked == [] and errors == []


@pytest.mark.parametrize("setting", ["osm", "down"])
def test_without_a_tile_server_the_map_says_so_and_still_names_streets(
        browser: Browser, database_url: str, setting: str) -> None:
    """The default (OpenStreetMap) on a machine that reaches nothing outside, and a council
    server that is down: the tile layer goes, the bundled base stays, the map says it has no
    street map, and the busiest streets are written on it."""
    down = f"http://127.0.0.1:{free_port()}/{{z}}/{{x}}/{{y}}.png"
    tiles = "osm" if setting == "osm" else down
    env = {"HOTSPOTS_DATABASE_URL": database_url, "HOTSPOTS_TILES": tiles}
    with run_streamlit(ROOT / "serve.py", env=env) as url:
        page, blocked, errors = open_page(browser, f"{url}/hotspot_map")
        frame = wait_for_map(page)
        settle(page)
        expect(frame.locator(".csp-streets")).to_contain_text(
            "No street map (the tile server cannot be reached)", timeout=30000)
        assert frame.locator(".leaflet-tile-pane img").count() == 0  # no grey squares left
        assert frame.locator(".csp-street-label").count() >= 5
        visible = frame.locator(".csp-street-label").evaluate_all(
            "els => els.filter(e => e.style.visibility !== 'hidden').length")
        assert visible >= 3  # those that would overlap a busier one are left out
        assert frame.locator("img.leaflet-image-layer").count() == 1  # the heat stays
        page.screenshot(path=str(ARTIFACTS / f"hotspot_map_no_streets_{setting}.png"))
        # only tile requests tried to leave this machine, and the page showed no error
        assert all(u.startswith("https://tile.openstreetmap.org/") for u in blocked), blocked
        assert (len(blocked) > 0) == (setting == "osm")
        assert errors == []
