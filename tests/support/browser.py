"""Browser-test support: run a Streamlit app in a subprocess and drive it with Chromium.

Uses Playwright's sync API with the Debian Chromium at ``/usr/bin/chromium`` (never run
``playwright install``: it downloads browsers and fails offline). Typical use::

    with run_streamlit(APP) as url, sync_playwright() as pw:
        browser = launch_chromium(pw)
        page = browser.new_page()
        blocked = block_external(page)
        page.goto(url)
        frame = wait_for_map(page)
        assert blocked == []
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

from playwright.sync_api import Browser, Frame, Locator, Page, Playwright, Route, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
# The first admin's password in test databases (`hotspots setup` reads it from the
# environment instead of printing a new one), and the signed-in sessions made for them: a
# database URL's admin session, and each running app's (by base URL), for open_page.
TEST_ADMIN_PASSWORD = "correct horse battery staple"
SESSION_COOKIE = "csp_session"
_DATABASE_SESSIONS: dict[str, str] = {}
_APP_SESSIONS: dict[str, str] = {}
MAP_IFRAME = 'iframe[src*="streamlit_folium"]'


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tail(log: IO[bytes], limit: int = 4000) -> str:
    """Return the last ``limit`` characters written to a log file."""
    log.flush()
    log.seek(0)
    return log.read().decode("utf-8", "replace")[-limit:]


def _launcher(app_path: Path, static_dir: Path, tmp: Path) -> Path:
    """Write a one-line script that runs ``app_path``, next to a ``static`` link to ``static_dir``.

    Streamlit serves the ``static/`` folder beside the *main script*; a test app that lives
    elsewhere (e.g. in tests/support/) is run through this launcher so it gets the project's.
    """
    (tmp / "static").symlink_to(static_dir.resolve(), target_is_directory=True)
    script = tmp / app_path.name
    script.write_text(
        f"import runpy\nrunpy.run_path({str(app_path.resolve())!r}, run_name='__main__')\n",
        encoding="utf-8",
    )
    return script


def _wait_healthy(proc: subprocess.Popen[bytes], url: str, log: IO[bytes], timeout: float) -> None:
    """Poll ``url`` until it answers ``ok``; raise with the server's output if it dies or stalls."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"streamlit exited with code {proc.returncode} before becoming healthy.\n"
                f"--- server output ---\n{_tail(log)}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200 and resp.read().strip() == b"ok":
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    raise TimeoutError(
        f"streamlit was not healthy at {url} after {timeout:.0f} s.\n"
        f"--- server output ---\n{_tail(log)}"
    )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop the server's process group (SIGTERM, then SIGKILL after 10 s)."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@contextmanager
def run_streamlit(
    app_path: Path,
    env: dict[str, str] | None = None,
    cwd: Path = PROJECT_ROOT,
    static_dir: Path | None = None,
    timeout: float = 60.0,
) -> Iterator[str]:
    """Run ``streamlit run app_path`` on a free port and yield its base URL.

    The server runs in ``cwd`` (so ``cwd/.streamlit/config.toml`` applies) in its own process
    group, with ``cwd`` on ``PYTHONPATH``; ``env`` adds or overrides environment variables.
    ``static_dir``: serve this folder as the app's ``static/`` (for apps that do not live beside
    it). Waits for ``/_stcore/health``; on failure the error includes the server's output. The
    server is stopped on exit.
    """
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    full_env = dict(os.environ)
    full_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(cwd), full_env.get("PYTHONPATH", "")) if p
    )
    # no street tiles unless a test asks for them (a tile server of its own): every request
    # leaving the machine is blocked and would be recorded as one
    full_env.setdefault("HOTSPOTS_TILES", "none")
    full_env.update(env or {})
    with tempfile.TemporaryDirectory(prefix="st-run-") as tmp_name:
        tmp = Path(tmp_name)
        script = _launcher(app_path, static_dir, tmp) if static_dir else app_path
        cmd = [
            sys.executable, "-m", "streamlit", "run", str(script),
            "--server.headless", "true",
            "--server.port", str(port),
            "--server.address", "127.0.0.1",
            "--browser.gatherUsageStats", "false",
        ]  # fmt: skip
        with open(tmp / "server.log", "w+b") as log:
            proc = subprocess.Popen(
                cmd, cwd=cwd, env=full_env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
            try:
                _wait_healthy(proc, f"{base_url}/_stcore/health", log, timeout)
                database = full_env.get("HOTSPOTS_DATABASE_URL", "")
                if database in _DATABASE_SESSIONS:
                    _APP_SESSIONS[base_url] = _DATABASE_SESSIONS[database]
                yield base_url
            finally:
                _APP_SESSIONS.pop(base_url, None)
                _stop(proc)


def launch_chromium(playwright: Playwright, **kwargs: object) -> Browser:
    """Launch the system Chromium headless with flags that keep it quiet and offline-friendly."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, **kwargs
    )


def block_external(page: Page) -> list[str]:
    """Abort every request not addressed to this machine; return the (live) list of their URLs.

    Covers all frames of ``page``, including the map iframe. Tests assert the list stays empty.
    """
    blocked: list[str] = []

    def handle(route: Route) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob") or parts.hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    page.route("**/*", handle)
    return blocked


def wait_for_map(page: Page, timeout_ms: float = 60000, nth: int = 0) -> Frame:
    """Wait for the ``nth`` streamlit-folium map to be drawn and return its iframe's Frame.

    The iframe is awaited with ``state="attached"`` (it has height 0 until the map script runs),
    then a ``.leaflet-container`` inside it, then a non-zero iframe height.
    """
    iframes = page.locator(MAP_IFRAME)
    iframes.nth(nth).wait_for(state="attached", timeout=timeout_ms)
    handle = iframes.nth(nth).element_handle(timeout=timeout_ms)
    deadline = time.monotonic() + timeout_ms / 1000
    frame = handle.content_frame()
    while frame is None and time.monotonic() < deadline:
        page.wait_for_timeout(100)
        frame = handle.content_frame()
    if frame is None:
        raise TimeoutError("the streamlit-folium iframe never got a document")
    frame.wait_for_selector(".leaflet-container", state="attached", timeout=timeout_ms)
    page.wait_for_function(
        "el => el.getBoundingClientRect().height > 0", arg=handle, timeout=timeout_ms
    )
    return frame


def sign_in_session(database_url: str, username: str, password: str) -> str:
    """Sign in through the library (the password really checked) and return the session
    token the app's cookie would hold."""
    from access.accounts import authenticate
    from access.sessions import start_session
    from store.db import get_engine

    engine = get_engine(database_url)
    return start_session(engine, authenticate(engine, username, password))


def add_session_cookie(context, base_url: str, token: str) -> None:
    """Give a browser context the app's session cookie, as signing in would."""
    context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": base_url,
                          "sameSite": "Strict", "httpOnly": True}])


def wait_for_cookie(page: Page) -> None:
    """The session cookie is set by the server once the first signed-in page asks for it
    (views.session_cookie): wait for it, and check no script in the page can read it."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = [c for c in page.context.cookies() if c["name"] == SESSION_COOKIE]
        if found:
            assert found[0]["httpOnly"] and found[0]["sameSite"] == "Strict"
            assert SESSION_COOKIE not in page.evaluate("document.cookie")
            return
        page.wait_for_timeout(200)
    raise AssertionError("the server never set the session cookie")


PROJECTOR = {"width": 1366, "height": 768}  # a meeting room's projector
PHONE = {"width": 390, "height": 844}  # a phone held upright at the riverside


def open_page(browser: Browser, url: str, signed_in: bool = True, phone: bool = False
              ) -> tuple[Page, list[str], list[str]]:
    """A new page at `url`, the size of a meeting-room projector (or of a phone, touch
    included), with the (live) lists of requests blocked for leaving this machine and of
    JavaScript errors. `signed_in`: as the test database's admin when the app runs on a
    database set_up_sample_database made (the tests of what each role sees sign in
    themselves)."""
    if phone:
        page = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    else:
        page = browser.new_page(viewport=PROJECTOR)
    base = f"{urlsplit(url).scheme}://{urlsplit(url).netloc}"
    if signed_in and base in _APP_SESSIONS:
        add_session_cookie(page.context, base, _APP_SESSIONS[base])
    blocked = block_external(page)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    return page, blocked, errors


def hotspot_outlines(frame: Frame) -> list[str]:
    """The hotspot outlines the map draws (on a canvas, so read from Leaflet's layers), each
    as the JSON of its coordinates, best ranked first."""
    return frame.evaluate("""() => {
        const found = [];
        window.map.eachLayer(layer => {
            if (layer.feature && layer instanceof L.Polygon
                    && layer.options.color === "#c0392b") {
                found.push([layer.feature.properties.rank,
                            JSON.stringify(layer.feature.geometry.coordinates)]);
            }
        });
        return found.sort((a, b) => a[0] - b[0]).map(pair => pair[1]);
    }""")


def map_layer_names(frame: Frame) -> str:
    """The names in the map's layer control."""
    return frame.locator(".leaflet-control-layers-list").inner_text()


def choose(page: Page, label: str, option: str) -> None:
    """Pick an option in a Streamlit selectbox or multiselect by its label, typing to filter
    (long option lists are virtualised: only the first few are in the page)."""
    box = page.get_by_label(label, exact=True)
    box.click()
    box.fill(option)
    page.get_by_role("option", name=option, exact=True).click()
    page.keyboard.press("Escape")  # a multiselect's list stays open after a pick


def file_input(page: Page, label: str) -> Locator:
    """The file input of the Streamlit uploader with this label (the Data page has several)."""
    uploader = page.get_by_test_id("stFileUploader").filter(
        has=page.get_by_text(label, exact=True))
    return uploader.locator('input[type="file"]')


def wait_idle(page: Page) -> None:
    """Wait for the script run to finish, so no element of the previous run is left."""
    expect(page.locator('[data-testid="stApp"]')).to_have_attribute(
        "data-test-script-state", "notRunning", timeout=60000)


def settle(page: Page) -> None:
    """Wait until the page has stopped rerunning: each map sends its first value when it has
    loaded, which reruns the page once more after the first run has finished."""
    wait_idle(page)
    page.wait_for_timeout(750)
    wait_idle(page)


def wait_for_rerun(page: Page, timeout_ms: float = 5000) -> None:
    """Wait for the run a widget's new value starts (a drawing sent back by the map), then
    for it to finish; returns at once if no run starts within `timeout_ms`."""
    try:
        page.wait_for_function(
            "document.querySelector('[data-testid=\"stApp\"]')"
            ".getAttribute('data-test-script-state') === 'running'", timeout=timeout_ms)
    except PlaywrightTimeout:
        pass
    wait_idle(page)


def set_up_sample_database(directory: Path) -> str:
    """A new SQLite database set up as `make run` does (`hotspots setup`: the bundled sample,
    the EXAMPLE registers and the first admin, signed in for open_page), for an app under
    test; returns its URL. Fails the test with the
    set-up hint when the offline map files are missing."""
    from present.assets import SETUP_HINT, assets_ready

    if not assets_ready():
        raise AssertionError(f"static/vendor is incomplete: {SETUP_HINT}")
    url = f"sqlite:///{directory / 'app.sqlite'}"
    subprocess.run([sys.executable, "-m", "cli", "setup"], cwd=PROJECT_ROOT,
                   check=True, env={**os.environ, "HOTSPOTS_DATABASE_URL": url,
                                    "HOTSPOTS_ADMIN_PASSWORD": TEST_ADMIN_PASSWORD},
                   capture_output=True)
    _DATABASE_SESSIONS[url] = sign_in_session(url, "admin", TEST_ADMIN_PASSWORD)
    return url


def app_session(base_url: str) -> str:
    """The admin session token of a running app set up by set_up_sample_database."""
    return _APP_SESSIONS[base_url]


def draw_rectangle(page: Page, frame: Frame) -> None:
    """Draw a rectangle with Leaflet.draw's tool in the middle of the map in `frame`."""
    tool = frame.locator("a.leaflet-draw-draw-rectangle")
    expect(tool).to_be_visible(timeout=30000)
    tool.click()
    box = frame.locator(".leaflet-container").bounding_box()
    # bounding boxes inside the iframe are already in the page's coordinates
    x0 = box["x"] + box["width"] * 0.45
    y0 = box["y"] + box["height"] * 0.45
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x0 + 60, y0 + 50, steps=8)
    page.mouse.up()
