"""Text from data and from users is shown as text, never run as HTML or JavaScript nor read
as a spreadsheet formula.

The database holds the bundled real sample with hostile text put in where it really arrives:
police.uk files (the bundled months, one street's `Location` replaced), a ward layer file (the
bundled Spelthorne wards, Staines renamed), a town centre drawn with an ordinary name full of
HTML's special characters, and PSPO, equipment, check, problem-location and partner-action
text entered through the register library. Checked: the hotspot map's HTML as the app builds it
and the same page in Debian's Chromium (every tooltip and popup opened, one by a real hover: no
dialog, no request, no element made from data, the text shown as typed), the briefing pack's
HTML and PDF, and the register CSV exports (formula cells start with ', numbers stay numbers).
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import folium
import geopandas as gpd
import pytest
import shapely
from playwright.sync_api import sync_playwright

from geo.areas import resolve_area
from geo.bundled import seed_bundled_layers
from geo.crs import WGS84, reproject
from geo.joins import context_layers
from geo.layers import add_drawn_feature, add_layer_file, load_layer
from hotspots.analysis import find_hotspots
from hotspots.repeat import repeat_locations
from ingest.run import ingest_paths
from present.assets import SETUP_HINT, assets_ready
from present.map import build_map
from registers.checks import due_report, log_check
from registers.common import RegisterError
from registers.equipment import add_item, list_items
from registers.export import actions_csv, equipment_csv, history_csv, orders_csv, problems_csv
from registers.problems import add_action, adopt_problem, list_problems, problem_actions
from registers.pspo import Condition, add_order, list_orders
from report.briefing import Place, build_briefing
from report.briefing_html import briefing_html
from report.briefing_pdf import briefing_pdf
from store import db
from tests.sample_data import BOUNDARIES, SPELTHORNE, read_police, write_csv
from tests.support.browser import launch_chromium
from tests.support.pdf import pdf_pages_text

ROOT = Path(__file__).resolve().parents[1]
IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(1)</script>"
SVG = '"><svg onload=alert(1)>'
BREAKOUT = "</script><script>alert(1)</script>"
ORDINARY = "St. Mary's & St. John's"

MONTHS = ["2023-11", "2023-12", "2024-01"]
STREET = "On or near High Street"  # a police.uk map point in Staines with dozens of incidents
LOCATION = f"On or near {SVG}"
WARD = f"Staines {BREAKOUT}"
PSPO = f"Riverside PSPO {IMG}"
CONDITION = 'Drinking <b>alcohol</b> & "spirits"'
SITE = f"Bridge {SCRIPT}"
PROBLEM = "High Street {nb} " + SCRIPT  # "{nb}" is fpdf2's default page-total alias
ACTION = f"Joint patrols {IMG} & CCTV"
HOSTILE_MARKUP = ("<img src=x onerror", "<svg onload", "<script>alert", "</script><script>")
FORMULAS = {"hyperlink": '=HYPERLINK("http://x")', "dde": "+cmd|' /C calc'!A0",
            "at": "@SUM(1)", "minus": "-2+3"}
NOW = datetime.now().replace(microsecond=0)
TODAY = NOW.date()
ORIGIN = "http://map.test"  # answered by the test itself (see served_page): nothing leaves


def ward_file(directory: Path) -> Path:
    """The bundled Spelthorne ward file with Staines renamed, as a council might send it."""
    collection = json.loads((BOUNDARIES / f"wards_2013_{SPELTHORNE}.geojson").read_text())
    names = [f["properties"]["WD13NM"] for f in collection["features"]]
    assert "Staines" in names
    for feature in collection["features"]:
        if feature["properties"]["WD13NM"] == "Staines":
            feature["properties"]["WD13NM"] = WARD
    path = directory / "wards_renamed.geojson"
    path.write_text(json.dumps(collection), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    """The bundled layers and three police.uk months, with the hostile text described above."""
    directory = tmp_path_factory.mktemp("escaping")
    url = f"sqlite:///{directory}/t.sqlite"
    db.migrate(url)
    engine = db.get_engine(url)
    seed_bundled_layers(engine)
    renamed = 0
    for month in MONTHS:
        header, rows = read_police(month)
        column = header.index("Location")
        for row in rows:
            if row[column] == STREET:
                row[column] = LOCATION
                renamed += 1
        write_csv(directory / "police" / month / f"{month}-surrey-street.csv", header, rows)
    assert renamed > 20
    ingest_paths(engine, [directory / "police"])
    add_layer_file(engine, "ward", ward_file(directory), parent=SPELTHORNE)
    staines = load_layer(engine, "ward", SPELTHORNE).set_index("name").loc[WARD, "geometry"]
    add_drawn_feature(engine, "town-centre", ORDINARY,
                      shapely.geometry.mapping(staines.buffer(-0.002)), SPELTHORNE)
    add_order(engine, area="Spelthorne", reference="ESC-1", name=PSPO, geometry=staines,
              made_on=TODAY - timedelta(days=30), expires_on=TODAY + timedelta(days=700),
              conditions=[Condition.checked("prohibition", CONDITION)],
              published_url="https://example.org/order?a=1&b=<x>",
              consultation_notes=FORMULAS["hyperlink"], publication_notes=FORMULAS["dde"],
              area_source="test: Staines ward outline", recorded_by="test", now=NOW)
    add_item(engine, {"asset_id": "ESC-1", "kind": "throw-ring", "site": SITE,
                      "latitude": "51.4318", "longitude": "-0.5131",
                      "owner": FORMULAS["at"], "notes": FORMULAS["minus"]}, "test", now=NOW)
    log_check(engine, asset_id="ESC-1", checked_at=NOW - timedelta(days=1),
              checked_by=FORMULAS["hyperlink"], outcome="vandalised", notes=IMG,
              recorded_by="test", now=NOW)
    problem_id = adopt_problem(engine, area="Spelthorne", name=PROBLEM, geometry=staines,
                               objective=FORMULAS["minus"], scanning=FORMULAS["at"],
                               origin="test: Staines ward outline",
                               adopted_on=TODAY - timedelta(days=60), recorded_by="test",
                               now=NOW)
    add_action(engine, problem_id, action=ACTION, lead=FORMULAS["dde"],
               measure=FORMULAS["hyperlink"], due_on=TODAY + timedelta(days=14),
               recorded_by="test", now=NOW)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def hotspot_map(engine) -> folium.Map:
    """The hotspot map as the app's hotspot page builds it (views.state.hotspot_map)."""
    place = resolve_area(engine, "Spelthorne")
    report = find_hotspots(engine, "Spelthorne", MONTHS[0], MONTHS[-1])
    layers = context_layers(engine, place, 50.0)
    frontage = gpd.GeoSeries([layers.frontage(place.land)], crs=27700).to_crs(WGS84)
    problems = list_problems(engine, SPELTHORNE, include_closed=False)
    return build_map(gpd.GeoSeries([place.boundary], crs=27700),
                     load_layer(engine, "ward", SPELTHORNE), load_layer(engine, "water"),
                     report.incidents, report.hotspots,
                     town_centres=layers.town_centres.frame.to_crs(WGS84),
                     frontage=frontage[~frontage.is_empty],
                     pspos=layers.pspos.frame.to_crs(WGS84), frontage_m=50.0,
                     equipment=due_report(engine, f"{TODAY:%Y-%m}", SPELTHORNE, now=NOW),
                     cctv=None, problems=problems[["name", "geometry"]],
                     streets=repeat_locations(report.incidents, top=15), tiles="none")


OWN_MARKUP = re.compile(r"</?b>|<br>")  # the map's own bold and line breaks in tooltips


def shown_properties(fmap: folium.Map) -> list[dict]:
    """The properties of every feature of every GeoJSON layer that has a tooltip or popup,
    and the text of every marker's tooltip and popup (the map's own <b> and <br> taken
    out)."""
    out, pending = [], [fmap]
    while pending:
        element = pending.pop()
        pending.extend(element._children.values())
        if isinstance(element, folium.GeoJson) and any(
                isinstance(child, folium.GeoJsonTooltip | folium.GeoJsonPopup)
                for child in element._children.values()):
            out.extend(f["properties"] for f in element.data["features"])
        if isinstance(element, folium.Marker):
            for child in element._children.values():
                if isinstance(child, folium.Tooltip):
                    out.append({"tooltip": OWN_MARKUP.sub(" ", child.text)})
                if isinstance(child, folium.Popup):
                    body = "".join(getattr(part, "data", "") for part in
                                   child.html._children.values())
                    out.append({"popup": OWN_MARKUP.sub(" ", body)})
    return out


# ---------------------------------------------------------------- the map's HTML


def test_the_map_html_holds_data_text_escaped_once(hotspot_map) -> None:
    page = hotspot_map.get_root().render()
    for markup in HOSTILE_MARKUP:
        assert markup not in page, markup
    # inside the page's script: HTML-escaped, then JSON-quoted by folium (& as \u0026)
    assert "\\u0026lt;img src=x onerror=alert(1)\\u0026gt;" in page
    assert "St. Mary\\u0026#x27;s \\u0026amp; St. John\\u0026#x27;s" in page
    texts = [v for p in shown_properties(hotspot_map) for v in p.values() if isinstance(v, str)]
    for value in texts:  # tooltips and popups set innerHTML: nothing left to be read as markup
        assert not re.search(r"[<>\"']|&(?!(?:amp|lt|gt|quot|#x27);)", value), value
    shown = {html.unescape(v) for v in texts}  # what the browser shows: each escaped once
    for text in (WARD, PSPO, PROBLEM, ORDINARY):
        assert text in shown, text
    assert any(SITE in v for v in shown)  # an item's site, in its tooltip
    assert any(v.startswith(LOCATION + " (") for v in shown)  # a hotspot's "Most at"
    assert not any("&lt;" in v or "&amp;" in v for v in shown)  # never escaped twice


def served_page(page, body: str, stray: list[str]) -> None:
    """Answer ORIGIN/map.html with `body` and /app/static/… from static/ (as Streamlit would);
    every other request is refused and recorded in `stray`."""
    def handle(route) -> None:
        parts = urlsplit(route.request.url)
        local = ROOT / "static" / parts.path.removeprefix("/app/static/")
        if f"{parts.scheme}://{parts.netloc}" == ORIGIN and parts.path == "/map.html":
            route.fulfill(body=body, content_type="text/html; charset=utf-8")
        elif (f"{parts.scheme}://{parts.netloc}" == ORIGIN
              and parts.path.startswith(("/app/static/vendor/", "/app/static/map/"))
              and local.is_file()):
            route.fulfill(path=str(local))
        else:
            stray.append(route.request.url)
            route.abort()

    page.route("**/*", handle)


OPEN_EVERY_DETAIL = """(name) => {
    const map = window[name], out = [];
    const made = el => el.querySelectorAll('img, svg, script, iframe, a, [onload], [onerror]')
        .length;
    map.eachLayer(layer => {  // markers that carry their own tooltip and popup
        if (layer.eachLayer || !layer.getLatLng) return;
        if (layer.getTooltip && layer.getTooltip()) {
            layer.openTooltip();
            const el = layer.getTooltip().getElement();
            out.push({text: el.textContent, made: made(el)});
            layer.closeTooltip();
        }
        if (layer.getPopup && layer.getPopup()) {
            layer.openPopup();
            const el = layer.getPopup().getElement().querySelector('.leaflet-popup-content');
            out.push({text: el.textContent, made: made(el)});
            map.closePopup();
        }
    });
    map.eachLayer(group => {
        if (!group.eachLayer || !(group.getTooltip() || group.getPopup())) return;
        group.eachLayer(layer => {
            const at = layer.getBounds ? layer.getBounds().getCenter() : layer.getLatLng();
            if (group.getTooltip()) {
                layer.fire('mouseover', {latlng: at}, true);
                const el = group.getTooltip().getElement();
                out.push({text: el.textContent, made: made(el)});
                layer.fire('mouseout', {latlng: at}, true);
            }
            if (group.getPopup()) {
                layer.fire('click', {latlng: at}, true);
                const el = group.getPopup().getElement().querySelector(
                    '.leaflet-popup-content');  // not Leaflet's own close button
                out.push({text: el.textContent, made: made(el)});
                map.closePopup();
            }
        });
    });
    return out;
}"""


def test_the_map_in_chromium_shows_hostile_text_and_runs_none_of_it(engine,
                                                                      hotspot_map) -> None:
    if not assets_ready():
        pytest.fail(f"static/vendor is incomplete: {SETUP_HINT}", pytrace=False)
    body = hotspot_map.get_root().render()
    name = hotspot_map.get_name()
    inside = list_problems(engine, SPELTHORNE).geometry.iloc[0].representative_point()
    dialogs: list[str] = []
    errors: list[str] = []
    stray: list[str] = []
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.on("pageerror", lambda e: errors.append(str(e)))
            served_page(page, body, stray)
            page.goto(f"{ORIGIN}/map.html")
            page.wait_for_selector(".leaflet-overlay-pane canvas", timeout=30000)
            page.wait_for_timeout(500)
            # a real hover over the problem location (drawn on top): its tooltip, as typed
            x, y = page.evaluate(
                """([name, lat, lon]) => {
                    const map = window[name];
                    const p = map.latLngToContainerPoint([lat, lon]);
                    const box = map.getContainer().getBoundingClientRect();
                    return [box.left + p.x, box.top + p.y];
                }""", [name, inside.y, inside.x])
            page.mouse.move(5, 5)
            page.mouse.move(x, y, steps=5)
            tooltip = page.locator(".leaflet-tooltip").first
            tooltip.wait_for(timeout=10000)
            assert PROBLEM in tooltip.inner_text()
            assert tooltip.locator("img, svg, script").count() == 0
            # then every tooltip and popup of every feature, through Leaflet's own events
            details = page.evaluate(OPEN_EVERY_DETAIL, name)
            page.wait_for_timeout(300)  # an onerror or onload would have fired by now
            injected = page.evaluate(
                "document.querySelectorAll('img[src=x], svg[onload], [onerror]').length")
        finally:
            browser.close()
    assert dialogs == [], f"data text ran as script: {dialogs}"
    assert errors == [], f"JavaScript errors: {errors}"
    assert stray == [], f"requests the page should not make: {stray}"
    assert len(details) > 100  # wards, town centre, PSPO, hotspots, equipment, problem
    assert [d for d in details if d["made"]] == []
    shown = "\n".join(d["text"] for d in details)
    for text in (WARD, PSPO, SITE, PROBLEM, ORDINARY, LOCATION):
        assert text in shown, text
    assert "&amp;" not in shown and "&lt;" not in shown and "&#x27;" not in shown
    assert injected == 0


# ---------------------------------------------------------------- the briefing pack


class _Markup(HTMLParser):
    """Every start tag with its attributes, and the text, of an HTML document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data) -> None:
        self.text.append(data)


@pytest.fixture(scope="module")
def briefing(engine):
    problem = list_problems(engine, SPELTHORNE).iloc[0]
    outline = reproject(problem.geometry, WGS84, 27700)
    place = Place(name=problem["name"], kind="problem location", area_code=SPELTHORNE,
                  geometry=outline)
    return build_briefing(engine, place, TODAY)


def test_the_briefing_html_shows_every_text_as_text(briefing) -> None:
    assert set(briefing.repeats["location"]) >= {LOCATION}
    assert PSPO in set(briefing.pspos["name"]) and SITE in set(briefing.equipment["site"])
    page = briefing_html(briefing)
    for markup in HOSTILE_MARKUP:
        assert markup not in page, markup
    parsed = _Markup()
    parsed.feed(page)
    tags = [tag for tag, _ in parsed.tags]
    assert "script" not in tags and "img" not in tags and "iframe" not in tags
    assert tags.count("svg") == 1  # the map, matplotlib's own
    for tag, attrs in parsed.tags:
        for attr, value in attrs:
            assert not attr.startswith("on"), (tag, attr)
            assert not (value or "").strip().lower().startswith("javascript:"), (tag, attr)
    text = "".join(parsed.text)
    for shown in (PROBLEM, PSPO, f"Prohibits: {CONDITION}", SITE, ACTION, LOCATION,
                  "https://example.org/order?a=1&b=<x>"):
        assert shown in text, shown
    assert "Staines </script>" in text  # the ward's name on the map (SVG text), literally


def test_the_briefing_pdf_prints_text_as_typed(briefing) -> None:
    data = briefing_pdf(briefing)
    pages = pdf_pages_text(data)
    text = "\n".join(pages)
    assert pages and "\ufffd" not in text
    words = " ".join(text.split())  # table cells wrap at spaces
    for shown in (PROBLEM, PSPO, SITE, ACTION, LOCATION):
        assert shown in words, shown
    assert "{nb}" in text  # fpdf2's page-total alias in a name is printed, not counted
    for number in range(1, len(pages) + 1):
        assert re.search(rf"page {number} of\s*{len(pages)}\b", text)


# ---------------------------------------------------------------- CSV exports


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def a_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def test_register_csv_exports_guard_formulas_and_keep_numbers(engine) -> None:
    actions = problem_actions(engine)
    actions.loc[actions.index[0], "update_note"] = "\t=1+1"
    exports = {
        "orders": read_csv(orders_csv(engine, list_orders(engine))),
        "equipment": read_csv(equipment_csv(list_items(engine))),
        "history": read_csv(history_csv(engine)[0]),
        "problems": read_csv(problems_csv(list_problems(engine))),
        "actions": read_csv(actions_csv(actions)),
    }
    for name, rows in exports.items():
        assert rows, name
        for row in rows:
            for column, cell in row.items():
                if cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
                    assert a_number(cell), (name, column, cell)  # -0.51 stays a number
    order = next(r for r in exports["orders"] if r["reference"] == "ESC-1")
    assert order["name"] == PSPO  # CSV is not HTML: text as it was typed
    assert order["consultation_notes"] == "'" + FORMULAS["hyperlink"]
    assert order["publication_notes"] == "'" + FORMULAS["dde"]
    item = next(r for r in exports["equipment"] if r["asset_id"] == "ESC-1")
    assert item["site"] == SITE
    assert (item["owner"], item["notes"]) == ("'" + FORMULAS["at"], "'" + FORMULAS["minus"])
    assert float(item["lon"]) == pytest.approx(-0.5131) and item["lon"].startswith("-")
    check = next(r for r in exports["history"] if r["asset_id"] == "ESC-1")
    assert (check["checked_by"], check["notes"]) == ("'" + FORMULAS["hyperlink"], IMG)
    problem = next(r for r in exports["problems"] if r["name"] == PROBLEM)
    assert (problem["objective"], problem["scanning"]) == ("'" + FORMULAS["minus"],
                                                           "'" + FORMULAS["at"])
    action = next(r for r in exports["actions"] if r["action"] == ACTION)
    assert (action["lead"], action["measure"]) == ("'" + FORMULAS["dde"],
                                                   "'" + FORMULAS["hyperlink"])
    assert "'\t=1+1" in [r["update_note"] for r in exports["actions"]]


def test_a_javascript_link_is_refused_for_a_published_order(engine) -> None:
    staines = load_layer(engine, "ward", SPELTHORNE).set_index("name").loc[WARD, "geometry"]
    before = len(list_orders(engine))
    with pytest.raises(RegisterError, match="must start with https:// or http://"):
        add_order(engine, area="Spelthorne", reference="ESC-JS", name="Order", geometry=staines,
                  made_on=TODAY, expires_on=TODAY + timedelta(days=365),
                  conditions=[Condition.checked("prohibition", "Drinking")],
                  published_url="javascript:alert(1)", recorded_by="test", now=NOW)
    assert len(list_orders(engine)) == before
