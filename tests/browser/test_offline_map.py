"""Folium maps must render fully offline inside Streamlit (no CDN requests at all).

Starts tests/support/map_probe_app.py in a real Streamlit server, opens it in Chromium with every
non-local request blocked, and checks the map, its layers and the assets it loaded. Needs the
vendored files: ``npm ci && python scripts/vendor_assets.py``. A screenshot is written to
tests/artifacts/offline_map.png.
"""

from __future__ import annotations

import re
from pathlib import Path

import folium
import folium.plugins
import pytest
from playwright.sync_api import sync_playwright

from present.assets import SETUP_HINT, assets_ready, external_assets, use_offline_assets
from tests.support.browser import block_external, launch_chromium, run_streamlit, wait_for_map

ROOT = Path(__file__).resolve().parents[2]
PROBE = ROOT / "tests" / "support" / "map_probe_app.py"
ARTIFACTS = ROOT / "tests" / "artifacts"
REMOTE_ASSET = re.compile(
    r"<(?:script|link)\b[^>]*\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//", re.IGNORECASE
)
WARD_PATH = '.leaflet-overlay-pane svg path[stroke="#3355ff"]'  # probe's ward outline colour
HEAT_HAS_PIXELS = """() => {
    const c = document.querySelector('canvas.leaflet-heatmap-layer');
    if (!c || !c.width || !c.height) return false;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) return true;
    return false;
}"""


def require_assets() -> None:
    """Fail (not skip) when the vendored front-end files are missing."""
    if not assets_ready():
        pytest.fail(f"static/vendor is incomplete: {SETUP_HINT}", pytrace=False)


def test_no_cdn_assets_left_after_rewrite() -> None:
    """Every folium element class points only at local assets, and a rendered map agrees."""
    use_offline_assets()
    assert external_assets() == []
    m = folium.Map(tiles=None)
    folium.plugins.MarkerCluster().add_to(m)
    folium.plugins.HeatMap([[51.4, -0.5]]).add_to(m)
    html = m.get_root().render()
    assert not REMOTE_ASSET.search(html)


def test_map_renders_offline_in_streamlit() -> None:
    """The probe map draws wards, heat and clusters with zero external requests."""
    require_assets()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    failed_local: list[str] = []
    errors: list[str] = []
    with run_streamlit(PROBE, static_dir=ROOT / "static") as url, sync_playwright() as pw:
        browser = launch_chromium(pw)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            blocked = block_external(page)
            page.on(
                "response",
                lambda r: failed_local.append(f"{r.status} {r.url}") if r.status >= 400 else None,
            )
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(url)
            frame = wait_for_map(page)

            box = frame.locator(".leaflet-container").first.bounding_box()
            assert box is not None and box["height"] > 0, "leaflet container has no height"
            frame.wait_for_selector(WARD_PATH, timeout=30000)
            frame.wait_for_selector("canvas.leaflet-heatmap-layer", state="attached")
            frame.wait_for_function(HEAT_HAS_PIXELS, timeout=30000)
            frame.wait_for_selector(".marker-cluster", timeout=30000)
            assert frame.evaluate("L.Icon.Default.imagePath").endswith(
                "/app/static/vendor/leaflet/images/"
            )
            assert "police.uk" in frame.inner_text(".leaflet-control-attribution")
            page.wait_for_timeout(500)  # let the heat layer and clusters settle for the picture
            page.screenshot(path=str(ARTIFACTS / "offline_map.png"), full_page=True)

            assert blocked == [], f"external requests were attempted: {blocked}"
            assert failed_local == [], f"local requests failed: {failed_local}"
            assert errors == [], f"JavaScript errors: {errors}"
            remote = REMOTE_ASSET.findall(frame.content())
            assert remote == [], f"map iframe still links remote assets: {remote}"
        finally:
            browser.close()
