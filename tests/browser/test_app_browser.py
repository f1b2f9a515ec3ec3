"""The app in a real browser (Debian Chromium), offline, on the bundled real sample.

A fresh SQLite database is set up with `hotspots setup` (the README's path), the app is started
on a free port, and every non-local request is blocked and recorded. Screenshots go to
tests/artifacts/.
"""

from __future__ import annotations

import io
import json
import re
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, Locator, Page, expect
from playwright.sync_api import Error as PlaywrightError

from core.themes import ALL_CRIME
from geo.crs import lonlat_to_bng
from hotspots.evaluate import default_candidates
from report.spreadsheet import RAG_FILLS
from tests.sample_data import codepoint_rows, csv_bytes, read_police
from tests.support.browser import (
    choose,
    draw_rectangle,
    file_input,
    hotspot_outlines,
    map_layer_names,
    open_page,
    run_streamlit,
    set_up_sample_database,
    wait_for_map,
    wait_idle,
)

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
HOSTILE = '<img src=x onerror="document.title=\'pwned\'">'
TYPES = "Crime types (none chosen = all)"
# the line over the map: selection, incidents and what the ranking rests on
CAPTION = re.compile(r"\d incidents\. ")


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on a fresh database holding the bundled sample."""
    url = set_up_sample_database(tmp_path_factory.mktemp("appdb"))
    with run_streamlit(ROOT / "serve.py", env={"HOTSPOTS_DATABASE_URL": url}) as app:
        yield app


def hotspot_count(page: Page) -> int:
    """The number in the ranking's first line, "N hotspots hold ...", once the run is over."""
    wait_idle(page)
    line = page.get_by_text(re.compile(r"\d+ hotspots hold")).inner_text()
    return int(re.match(r"\s*(\d+) hotspots", line).group(1))


def wait_for_hotspots(page: Page, expected: int, unlike: list[str] | None = None,
                      timeout_s: float = 60) -> list[str]:
    """Wait until the map draws `expected` hotspot outlines that differ from `unlike` (the
    previous map's), and return their SVG path data."""
    deadline = time.monotonic() + timeout_s
    outlines: list[str] = []
    while time.monotonic() < deadline:
        frame = wait_for_map(page)
        try:
            outlines = hotspot_outlines(frame)
        except PlaywrightError:  # the map was being redrawn
            outlines = []
        if len(outlines) == expected and outlines != unlike:
            return outlines
        page.wait_for_timeout(250)
    raise AssertionError(f"the map has {len(outlines)} hotspot outlines, expected {expected}"
                         f"{' new ones' if unlike else ''}")


def top_repeat_location(area_prefix: str, months: list[str]) -> tuple[str, int]:
    """The place with the most located incidents in the bundled sample (by point and
    location text), read with the csv module; the area taken from the LSOA name."""
    places: Counter[tuple[str, str, str]] = Counter()
    for month in months:
        _, rows = read_police(month)
        places.update((r[4], r[5], r[6]) for r in rows
                      if r[8].startswith(area_prefix) and r[4])
    (_, _, location), count = places.most_common(1)[0]
    return location, count


def test_map_page_shows_hotspots_offline(browser: Browser, app_url: str) -> None:
    """At 1366 x 768 the selection, the map and the ranking are all in view; the map draws
    hotspots, the heat picture, the bundled base with approximate town centres dashed, a key
    and credits behind an (i), and says it has no street map; how it was worked out is in
    words behind an expander."""
    page, blocked, errors = open_page(browser, f"{app_url}/hotspot_map")
    frame = wait_for_map(page)
    count = hotspot_count(page)
    assert count > 3
    assert len(wait_for_hotspots(page, count)) == count
    for label in ("Area", "Months", TYPES, "Method"):
        box = page.get_by_text(label, exact=True).first.bounding_box()
        assert box is not None and box["y"] + box["height"] < 768, (label, box)
    iframe = page.locator('iframe[title="streamlit_folium.st_folium"]').bounding_box()
    assert iframe["y"] + iframe["height"] <= 768, iframe  # the map fits the window
    ranking = page.get_by_test_id("stDataFrame").locator(".dvn-scroller").first
    assert ranking.evaluate("e => e.scrollWidth <= e.clientWidth + 1")  # nothing cut off
    assert ranking.bounding_box()["x"] + ranking.bounding_box()["width"] <= 1366
    assert frame.locator("img.leaflet-image-layer").count() == 1  # the heat picture
    layer_names = map_layer_names(frame)
    assert "Town centres (dashed = approximate)" in layer_names
    assert "River frontage (within 50 m)" in layer_names
    dashed = frame.evaluate("""() => { let n = 0; window.map.eachLayer(l => {
        if (l.options && l.options.color === "#7b3294" && l.options.dashArray) n++; });
        return n; }""")
    assert dashed >= 1  # the bundled town centres are approximations: drawn dashed
    frame.locator(".csp-key-button").click()
    key = frame.locator(".csp-key-panel")
    expect(key).to_contain_text("Town centre, approximate")
    expect(key).to_contain_text("Incidents per km²")
    expect(key).to_contain_text("numbered as in the table")
    assert frame.locator(".leaflet-control-attribution").count() == 0  # no box over the map
    frame.get_by_role("button", name="Map credits and licences").click()
    credits = frame.locator(".csp-credits-panel")
    expect(credits).to_contain_text("Open Government Licence")
    expect(credits).to_contain_text("OpenStreetMap contributors")
    expect(frame.locator(".csp-streets")).to_contain_text("No street map")
    page.get_by_text("How this was worked out").click()
    settings = page.locator('[data-testid="stTable"]').filter(has_text="Setting")
    expect(settings).to_contain_text("Size of the squares (m)")
    expect(page.get_by_text("EPSG:27700")).to_be_visible()
    html = frame.content()
    assert "src=\"http" not in html and "href=\"http" not in html
    assert page.locator('[data-testid="stException"]').count() == 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "hotspot_map.png"))
    assert blocked == [], f"requests left this machine: {blocked}"
    assert errors == []


def settled(page: Page, text: str | re.Pattern, containing: str) -> str:
    """The one element holding `text` (the caption over the map for CAPTION) once the rerun
    has replaced the stale one (Streamlit keeps the previous run's elements on the page until
    the new ones arrive)."""
    found = page.get_by_test_id("stCaptionContainer").filter(has_text=text) \
        if text is CAPTION else page.get_by_text(text)
    expect(found.filter(has_text=containing)).to_have_count(1, timeout=30000)
    wait_idle(page)
    expect(found).to_have_count(1, timeout=30000)
    return found.inner_text()


def test_filters_change_the_ranking(browser: Browser, app_url: str) -> None:
    page, blocked, _ = open_page(browser, f"{app_url}/hotspot_map")
    wait_for_map(page)
    choose(page, "Area", "Spelthorne")
    settled(page, CAPTION, "Spelthorne")
    before = settled(page, "hotspots hold", "")
    choose(page, TYPES, "Shoplifting")
    settled(page, CAPTION, "shoplifting offences in each")
    expect(page.get_by_text("hotspots hold")).not_to_have_text(before, timeout=30000)
    choose(page, "Method", "DBSCAN clusters")
    settled(page, CAPTION, "Clusters of nearby locations")
    assert wait_for_hotspots(page, hotspot_count(page))
    page.screenshot(path=str(ARTIFACTS / "hotspot_map_dbscan_shoplifting.png"))
    assert blocked == []


def test_every_method_redraws_the_map(browser: Browser, app_url: str) -> None:
    """Kernel density, then Getis-Ord Gi*: each time the map is drawn again with as many
    hotspot outlines as the ranking lists, and Gi*'s are not KDE's."""
    page, blocked, errors = open_page(browser, f"{app_url}/hotspot_map")
    wait_for_map(page)
    settled(page, CAPTION, "in each 50 m square")  # the default method
    choose(page, "Method", "Kernel density")
    assert "smoothed over" in settled(page, CAPTION, "density of incidents")
    kde = wait_for_hotspots(page, hotspot_count(page))
    assert kde
    choose(page, "Method", "Getis-Ord Gi*")
    assert "Getis-Ord Gi*" in settled(page, CAPTION, "more than chance would explain")
    gistar = wait_for_hotspots(page, hotspot_count(page), unlike=kde)
    assert gistar
    frame = wait_for_map(page)
    frame.locator(".csp-rank").first.hover(force=True)
    expect(frame.locator(".leaflet-tooltip")).to_contain_text("Hotspot 1", timeout=10000)
    assert page.locator('[data-testid="stException"]').count() == 0
    page.screenshot(path=str(ARTIFACTS / "hotspot_map_gistar.png"))
    assert blocked == [] and errors == []


def test_accuracy_table_recommends_a_method(browser: Browser, app_url: str) -> None:
    """'Measure accuracy' shows the rolling-origin table and the method that did best, for
    all crime and then for the one crime type chosen."""
    labels = [c.label for c in default_candidates()]
    page, blocked, errors = open_page(browser, f"{app_url}/hotspot_map")
    wait_for_map(page)
    page.get_by_role("button", name="Measure accuracy").click()
    line = page.get_by_text(f"Recommended for {ALL_CRIME}:")
    expect(line).to_be_visible(timeout=60000)
    assert any(f"{ALL_CRIME}: {label} (PEI* 0." in line.inner_text() or
               f"{ALL_CRIME}: {label} (PEI* 1." in line.inner_text() for label in labels), \
        line.inner_text()
    expect(line).to_contain_text("fitted on the 12 months before")
    table = page.locator('[data-testid="stTable"]').filter(has_text="PEI*")
    text = table.inner_text()
    for column in ("Method", "Of the best possible (PEI*)", "Times the average (PAI)",
                   "Share caught", "Incidents tested"):
        assert column in text
    assert all(label in text for label in labels)
    verdict = page.get_by_text(re.compile("already uses the recommended method|did less well"))
    expect(verdict).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "hotspot_accuracy.png"))

    choose(page, TYPES, "Shoplifting")
    expect(page.get_by_text("Recommended for Shoplifting:")).to_be_visible(timeout=60000)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert blocked == [] and errors == []


def test_repeat_locations_name_the_top_place(browser: Browser, app_url: str) -> None:
    """Spelthorne, the default twelve months (2023-02 to 2024-01): the repeat-locations
    table starts with the place the raw files have most incidents at."""
    months = [f"2023-{m:02d}" for m in range(2, 13)] + ["2024-01"]
    location, count = top_repeat_location("Spelthorne", months)
    page, blocked, errors = open_page(browser, f"{app_url}/hotspot_map")
    wait_for_map(page)
    choose(page, "Area", "Spelthorne")
    assert "Feb 2023 to Jan 2024" in settled(page, CAPTION, "Spelthorne")
    table = page.locator('[data-testid="stTable"]').filter(has_text="Main types").filter(
        has_text="Place")
    expect(table).to_contain_text(location, timeout=30000)
    first = table.locator("tbody tr").first
    expect(first).to_contain_text(location)
    expect(first).to_contain_text(str(count))
    assert table.locator("tbody tr").count() == 10
    assert blocked == [] and errors == []


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
    file_input(page, "CSV files").set_input_files([str(month_file), str(header_only)])
    page.get_by_role("button", name="Import 2 file(s)").click()
    expect(page.get_by_text("Imported 0 new incidents; 40 were already present")).to_be_visible(
        timeout=30000)
    expect(page.get_by_text("header-only.csv: the file has a header row but no data rows")
           ).to_be_visible()
    wait_idle(page)
    reasons = page.locator('[data-testid="stTable"]').filter(has_text="look swapped").inner_text()
    assert "is not a valid YYYY-MM month" in reasons
    page.screenshot(path=str(ARTIFACTS / "data_page_rejects.png"), )
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
    file_input(page, "CSV files").set_input_files([str(upload)])
    page.get_by_role("button", name="Import 1 file(s)").click()
    expect(page.get_by_text("Imported 12 new incidents")).to_be_visible(timeout=30000)

    page.goto(f"{app_url}/hotspot_map")
    wait_for_map(page)
    choose(page, "Area", "Spelthorne")
    choose(page, "Method", "Grid counts")
    choose(page, TYPES, "Escaping check")
    settled(page, CAPTION, "Escaping check")
    frame = wait_for_map(page)
    assert wait_for_hotspots(page, hotspot_count(page))
    frame = wait_for_map(page)
    frame.locator(".csp-rank").first.hover(force=True)
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
    file_input(page, "CSV files").set_input_files([str(upload)])
    expect(page.get_by_text("Columns of council log spelthorne_asb_log.csv")).to_be_visible()
    date_box = page.get_by_label("Date (dd/mm/yyyy or yyyy-mm-dd, time optional)")
    expect(date_box).to_have_value("Date Logged")  # guessed from the header
    choose(page, "Category / incident type", "Nature of Complaint")
    page.get_by_role("button", name="Import 1 file(s)").click()
    expect(page.get_by_text("Imported 6 new incidents")).to_be_visible(timeout=30000)
    reasons = page.locator('[data-testid="stTable"]').filter(has_text="is not a date")
    expect(reasons).to_have_count(1, timeout=30000)
    expect(reasons).to_contain_text("is not in the postcode lookup")
    page.screenshot(path=str(ARTIFACTS / "data_page_council_log.png"), )
    assert blocked == [] and errors == []


RAG_CELL = re.compile(r"^\s*(Green|Amber|Red)\s*$")
STAINES_PSPO = "Test PSPO (Staines ward outline)"


def comparison_table(page: Page) -> Locator:
    """The JAG page's comparison table (the one with a Target column)."""
    return page.locator('[data-testid="stTable"]').filter(has_text="Target")


def rag_cells(page: Page) -> Locator:
    """Cells of the comparison table holding exactly Green, Amber or Red."""
    return comparison_table(page).locator("tbody td").filter(has_text=RAG_CELL)


def no_sideways_scroll(page: Page) -> list[str]:
    """The tables and the page that scroll sideways (none should at 1366 px)."""
    return page.evaluate("""() => {
        const found = [];
        const main = document.querySelector('[data-testid="stMain"]');
        if (main && main.scrollWidth > main.clientWidth + 1) found.push("the page");
        document.querySelectorAll('[data-testid="stTable"], [data-testid="stTable"] > div')
            .forEach((el, i) => { if (el.scrollWidth > el.clientWidth + 1)
                found.push("table " + i + ": " + el.innerText.slice(0, 40)); });
        return found;
    }""")


def test_jag_report_compares_periods_with_rag(browser: Browser, app_url: str) -> None:
    """The JAG page at 1366 x 768: rolling 12 months to 2024-01 compares the 11 months the
    sample has in both years (2022-12 is missing, so 2023-12 is dropped and the note says so)
    and every line has a change and a RAG; 6 months too; the RAG cells are coloured and
    written; no table scrolls sideways; the spreadsheet downloads with its three sheets."""
    page, blocked, errors = open_page(browser, app_url + "/jag_report")
    expect(page.get_by_role("heading", name="JAG report")).to_be_visible(timeout=60000)
    heading = page.get_by_role("heading", name=re.compile(
        r"the last 12 months: Feb 2023 to Jan 2024 against Feb 2022 to Jan 2023"))
    expect(heading).to_be_visible(timeout=60000)
    wait_idle(page)
    table = comparison_table(page)
    expect(table).to_have_count(1)
    expect(table).to_contain_text(ALL_CRIME)
    expect(table).to_contain_text("reduce by 5%")  # the default target of every line
    expect(table).to_contain_text("11 months compared")
    expect(page.get_by_text("11 of 12 months compared")).to_be_visible()
    expect(page.get_by_text("dropped 2023-12 (no data for 2022-12)")).to_be_visible()
    rows = table.locator("tbody tr").count()
    assert rag_cells(page).count() == rows  # every line has its RAG
    expect(table.locator("tbody tr").first).to_contain_text(re.compile(r"(fell|rose) by"))
    assert no_sideways_scroll(page) == []
    page.screenshot(path=str(ARTIFACTS / "jag_report_12_months.png"))

    page.get_by_role("button", name="Period length").click()
    period = page.get_by_label("Rolling period (months)", exact=True)
    period.fill("6")
    period.press("Enter")
    expect(page.get_by_role("heading", name=re.compile(
        r"the last 6 months: Aug 2023 to Jan 2024 against Feb 2023 to Jul 2023"))
           ).to_be_visible(timeout=60000)
    page.keyboard.press("Escape")
    wait_idle(page)
    expect(rag_cells(page).first).to_be_visible(timeout=30000)
    cells = rag_cells(page)
    assert cells.count() > 0
    colours = cells.evaluate_all(
        "els => els.map(e => [e.innerText.trim(), getComputedStyle(e).backgroundColor])")
    expected = {name: "rgb({}, {}, {})".format(*bytes.fromhex(fill))
                for name, fill in RAG_FILLS.items()}
    assert all(colour == expected[name] for name, colour in colours), colours
    expect(page.locator('[data-testid="stTable"]').filter(has_text="How concentrated")
           ).to_contain_text(ALL_CRIME)

    with page.expect_download(timeout=30000) as info:
        page.get_by_role("button", name="Download JAG spreadsheet (.xlsx)").click()
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    data = Path(download.path()).read_bytes()
    assert data[:2] == b"PK"
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames[0] == "Comparison"
    assert "Concentration" in book.sheetnames and any(n.startswith("Summary") for n in
                                                      book.sheetnames)
    sheet = book["Comparison"]
    assert "Rolling 2023-08 to 2024-01" in sheet["A1"].value
    values = [c.value for row in sheet.iter_rows() for c in row]
    assert ALL_CRIME in values and {"Green", "Amber", "Red"} & set(values)
    assert page.locator('[data-testid="stException"]').count() == 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "jag_report.png"))
    assert blocked == [], f"requests left this machine: {blocked}"
    assert errors == []


def staines_ward() -> dict:
    """The bundled 2013 outline of Spelthorne's Staines ward (GeoJSON geometry, WGS84)."""
    wards = json.loads((ROOT / "data" / "sample" / "boundaries" / "wards_2013_E07000213.geojson"
                        ).read_text(encoding="utf-8"))
    return next(f["geometry"] for f in wards["features"] if f["properties"]["WD13NM"] == "Staines")


def in_bng(geometry: dict) -> dict:
    """The same outline with its coordinates as British National Grid metres."""
    def convert(ring: list) -> list:
        lon, lat = zip(*[(x, y) for x, y, *_ in ring], strict=True)
        east, north = lonlat_to_bng(list(lon), list(lat))
        return [[round(float(e), 1), round(float(n), 1)] for e, n in zip(east, north,
                                                                          strict=True)]
    if geometry["type"] == "Polygon":
        return {"type": "Polygon", "coordinates": [convert(r) for r in geometry["coordinates"]]}
    return {"type": "MultiPolygon",
            "coordinates": [[convert(r) for r in p] for p in geometry["coordinates"]]}


def feature_collection(name: str, geometry: dict) -> str:
    return json.dumps({
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
        "features": [{"type": "Feature", "properties": {"name": name}, "geometry": geometry}]})


def test_layer_upload_adds_a_pspo_and_refuses_a_wrong_crs(browser: Browser, app_url: str,
                                                          tmp_path: Path) -> None:
    """A PSPO file (the Staines ward outline) is added, listed, and summarised on the JAG page;
    a file of grid metres that claims to be longitude/latitude is refused with the reason."""
    outline = staines_ward()
    pspo = tmp_path / "test_pspo.geojson"
    pspo.write_text(feature_collection(STAINES_PSPO, outline), encoding="utf-8")
    mislabelled = tmp_path / "pspo_in_metres.geojson"
    mislabelled.write_text(feature_collection("Metres PSPO", in_bng(outline)), encoding="utf-8")

    page, blocked, errors = open_page(browser, app_url + "/data")
    expect(page.get_by_role("heading", name="Layers")).to_be_visible(timeout=60000)
    layers = page.locator('[data-testid="stTable"]').filter(has_text="With residents")
    expect(layers).to_contain_text("Town centres")
    expect(layers).not_to_contain_text("/data/sample")  # no server paths on a page
    expect(page.get_by_text("Runnymede's and Woking's wards are the 2013 boundaries")
           ).to_be_visible()
    expect(page.get_by_label("Layer kind", exact=True)).to_have_value("PSPO areas")  # default
    file_input(page, "Layer file").set_input_files(str(pspo))
    page.get_by_role("button", name="Add layer").click()
    expect(page.get_by_text("Added 1 feature(s) to PSPO areas from test_pspo.geojson; 0 set "
                            "aside")).to_be_visible(timeout=30000)
    wait_idle(page)
    row = layers.locator("tbody tr").filter(has_text="test_pspo.geojson")
    expect(row).to_have_count(1)
    expect(row.locator("td").first).to_have_text("PSPO areas")
    expect(row).to_contain_text("Spelthorne")  # given the borough it lies in

    file_input(page, "Layer file").set_input_files(str(mislabelled))
    page.get_by_role("button", name="Add layer").click()
    error = page.get_by_test_id("stAlertContentError").filter(has_text="British National Grid")
    expect(error).to_be_visible(timeout=30000)
    expect(error).to_contain_text("pspo_in_metres.geojson")
    wait_idle(page)
    expect(layers.locator("tbody tr").filter(has_text="pspo_in_metres")).to_have_count(0)
    page.screenshot(path=str(ARTIFACTS / "data_page_layers.png"))
    assert page.locator('[data-testid="stException"]').count() == 0

    page.goto(app_url + "/jag_report")
    expect(comparison_table(page)).to_contain_text(ALL_CRIME, timeout=60000)
    choose(page, "Area", "Spelthorne")
    choose(page, "Summary by", "PSPO")
    summary = page.locator('[data-testid="stTable"]').filter(has_text="Outside any PSPO")
    expect(summary).to_contain_text(STAINES_PSPO, timeout=60000)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert blocked == [] and errors == []


def test_town_centre_drawn_on_the_map_is_saved(browser: Browser, app_url: str) -> None:
    """Leaflet.draw works offline: a rectangle drawn over the middle of the map is saved as a
    town centre of Runnymede, and the layers table then lists it as drawn."""
    page, blocked, errors = open_page(browser, app_url + "/data")
    expect(page.get_by_text("Draw a town centre or PSPO area")).to_be_visible(timeout=60000)
    expect(page.get_by_label("Area to draw in", exact=True)).to_have_value("Runnymede")
    page.get_by_label("Name of the drawn shape", exact=True).fill("Chertsey (drawn in test)")
    page.keyboard.press("Enter")
    wait_idle(page)
    draw_rectangle(page, wait_for_map(page, nth=0))
    save = page.get_by_role("button", name="Save the drawn shape")
    expect(save).to_be_enabled(timeout=30000)
    save.click()
    expect(page.get_by_text("Saved Town centres 'Chertsey (drawn in test)'")).to_be_visible(
        timeout=30000)
    wait_idle(page)
    layers = page.locator('[data-testid="stTable"]').filter(has_text="With residents")
    row = layers.locator("tbody tr").filter(has_text="drawn on the map")
    expect(row).to_contain_text("Town centres")
    expect(row).to_contain_text("Runnymede")
    assert page.locator('[data-testid="stException"]').count() == 0
    assert blocked == [] and errors == []
