"""The action-day briefing pack on the real bundled sample (police.uk, Spelthorne's wards, the
approximate town centres, the EXAMPLE registers): counts checked against the raw police.uk
files read with csv + pyproj + shapely, PSPOs in force on the day, equipment and its check
state, open partner actions, the self-contained HTML (escaped, nothing fetched), the 1-2 page
PDF (its text read back from the file) and the refusals of bad places.
"""

from __future__ import annotations

import csv
import dataclasses
import html
import json
import math
import re
from collections import Counter
from datetime import date, datetime

import pandas as pd
import pytest
import shapely
import shapely.geometry
from pyproj import Transformer

from core.themes import ASB
from registers.checks import due_report
from registers.equipment import retire_item
from registers.example import EXAMPLES, seed_example_registers
from registers.pspo import Condition, add_order, discharge_order
from report.briefing import (
    Briefing,
    BriefingError,
    Place,
    build_briefing,
    place_from_layer,
)
from report.briefing_html import briefing_html
from report.briefing_pdf import briefing_pdf
from report.briefing_text import header_facts, key_figures
from report.static_map import briefing_map
from report.theme_mapping import DEFAULT_MAPPING, POLICE_UK_TYPES
from tests.sample_data import BOUNDARIES, SPELTHORNE, codepoint_rows, police_dicts
from tests.support.pdf import pdf_pages_text

TO_BNG = Transformer.from_crs(4326, 27700, always_xy=True)
NOW = datetime(2026, 11, 28, 12, 0)
USER = "test officer"
LATEST_3 = ["2023-11", "2023-12", "2024-01"]
ALL_MONTHS = ([f"2022-{m:02d}" for m in range(1, 12)]  # 2022-12 is not in the sample
              + [f"2023-{m:02d}" for m in range(1, 13)] + ["2024-01"])
HOSTILE = "<script>alert(1)</script>"
HOSTILE_ORDER = '<script>alert("pspo")</script> & "quoted"'
NETWORK = re.compile(r"""(?:src|href|action|poster|data|xlink:href)\s*=\s*["']?\s*(?:https?:)?//""",
                     re.I)


# ---------------------------------------------------------------- independent readings


def to_bng(shape: shapely.Geometry) -> shapely.Geometry:
    """A WGS84 shape in British National Grid metres, with pyproj (not the code under test)."""
    return shapely.transform(shape, lambda xy: list(zip(*TO_BNG.transform(xy[:, 0], xy[:, 1]),
                                                        strict=True)))


def ward_wgs84(name: str, code: str = SPELTHORNE) -> shapely.Geometry:
    """A bundled 2013 ward outline read with json + shapely."""
    collection = json.loads((BOUNDARIES / f"wards_2013_{code}.geojson").read_text())
    for feature in collection["features"]:
        if feature["properties"]["WD13NM"] == name:
            return shapely.geometry.shape(feature["geometry"])
    raise KeyError(name)


def borough_bng(code: str = SPELTHORNE) -> shapely.Geometry:
    """A bundled borough outline in BNG, read with json + shapely + pyproj."""
    collection = json.loads((BOUNDARIES / "lad_2013_sample.geojson").read_text())
    for feature in collection["features"]:
        if feature["properties"]["LAD13CD"] == code:
            return to_bng(shapely.geometry.shape(feature["geometry"]))
    raise KeyError(code)


def ward_place(name: str, kind: str = "ward") -> Place:
    """A place made from a bundled ward outline (independently of geo.layers)."""
    return Place(name=name, kind=kind, area_code=SPELTHORNE, geometry=to_bng(ward_wgs84(name)))


def raw_inside(shape: shapely.Geometry, months: list[str]) -> pd.DataFrame:
    """The raw police.uk rows of the months inside the shape and the borough: month,
    category, location, easting, northing."""
    rows = [(m, r["Crime type"], r["Location"], float(r["Longitude"]), float(r["Latitude"]))
            for m in months for r in police_dicts(m) if r["Longitude"] and r["Latitude"]]
    frame = pd.DataFrame(rows, columns=["month", "category", "location", "lon", "lat"])
    frame["easting"], frame["northing"] = TO_BNG.transform(frame["lon"].to_numpy(),
                                                           frame["lat"].to_numpy())
    inside = shapely.contains_xy(shape, frame["easting"], frame["northing"]) & \
        shapely.contains_xy(borough_bng(), frame["easting"], frame["northing"])
    return frame[inside].reset_index(drop=True)


def example_equipment_bng() -> pd.DataFrame:
    """The EXAMPLE equipment file read with csv, with each item's BNG point."""
    with (EXAMPLES / "example_equipment.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    frame = pd.DataFrame({"asset_id": [r["Asset ID"] for r in rows],
                          "lon": [float(r["Longitude"]) for r in rows],
                          "lat": [float(r["Latitude"]) for r in rows]})
    frame["easting"], frame["northing"] = TO_BNG.transform(frame["lon"].to_numpy(),
                                                           frame["lat"].to_numpy())
    return frame


def by_type(briefing: Briefing) -> dict[str, int]:
    """The briefing's counts by crime type, without the total line."""
    body = briefing.by_type.iloc[:-1]
    return dict(zip(body["crime_type"], body["incidents"].astype(int), strict=True))


# ---------------------------------------------------------------- reading the PDF back

def page_count(data: bytes) -> int:
    """Pages in a PDF: with pypdf when installed, else by its page objects."""
    try:
        import io

        from pypdf import PdfReader
    except ImportError:
        return len(re.findall(rb"/Type\s*/Page\b", data))
    return len(PdfReader(io.BytesIO(data)).pages)


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def engine(sample_db):
    """The sample database with the EXAMPLE registers and test PSPOs over Staines ward:
    in force, discharged, expired, made later, elsewhere, and one with a hostile name."""
    engine = sample_db.engine
    seed_example_registers(engine)
    alcohol = Condition.checked("prohibition", "Drinking alcohol when asked to stop",
                                "at all times")
    staines = ward_wgs84("Staines")
    orders = {"T-IN-FORCE": (date(2025, 1, 6), date(2028, 1, 6), staines),
              "T-DISCHARGED": (date(2025, 1, 6), date(2028, 1, 6), staines),
              "T-EXPIRED": (date(2023, 1, 9), date(2026, 1, 9), staines),
              "T-LATER": (date(2026, 6, 1), date(2029, 6, 1), staines),
              "T-ELSEWHERE": (date(2025, 1, 6), date(2028, 1, 6), ward_wgs84("Sunbury East")),
              "T-HOSTILE": (date(2025, 1, 6), date(2028, 1, 6), staines)}
    ids = {}
    for reference, (made, expires, area) in orders.items():
        hostile = reference == "T-HOSTILE"
        conditions = [Condition.checked("prohibition", 'Drinking <b>alcohol</b> & "spirits"')
                      ] if hostile else [alcohol]
        ids[reference] = add_order(
            engine, area="Spelthorne", reference=reference,
            name=HOSTILE_ORDER if hostile else f"Order {reference}", geometry=area,
            made_on=made, expires_on=expires, conditions=conditions, recorded_by=USER,
            area_source="test: ward outline", now=NOW)
    discharge_order(engine, ids["T-DISCHARGED"], on=date(2026, 3, 2), recorded_by=USER, now=NOW)
    return engine


# ---------------------------------------------------------------- counts


def test_counts_by_type_and_month_equal_the_raw_police_files(engine) -> None:
    place = ward_place("Staines")
    briefing = build_briefing(engine, place, date(2026, 11, 28))
    assert briefing.months == LATEST_3
    raw = raw_inside(place.geometry, LATEST_3)
    assert len(raw) > 300
    assert by_type(briefing) == dict(Counter(raw["category"]))
    total = briefing.by_type.iloc[-1]
    assert (total["crime_type"], int(total["incidents"])) == ("All crime and ASB", len(raw))
    assert briefing.total == len(raw) == len(briefing.incidents)
    assert briefing.by_type["share_pct"].iloc[:-1].sum() == pytest.approx(100, abs=0.5)
    months = briefing.by_month.set_index("month")
    expected = raw.groupby(["month", "category"]).size()
    for (month, category), n in expected.items():
        assert months.loc[month, category] == n
    assert months["total"].drop("Total").to_dict() == raw["month"].value_counts().to_dict()
    assert months.loc["Total", "total"] == len(raw)
    # repeat locations: the busiest police.uk point, counted from the raw rows
    raw["_x"], raw["_y"] = raw["easting"].round(), raw["northing"].round()
    busiest = raw.groupby(["_x", "_y", "location"]).size().max()
    assert int(briefing.repeats["count"].iloc[0]) == busiest
    assert set(briefing.incidents.columns) >= {"month", "category", "location", "lat", "lon",
                                               "easting", "northing"}
    notes = " ".join(briefing.notes)
    assert "police.uk publishes each month about two months after it ends" in notes
    assert "On or near" in notes  # locations are anonymised snap points
    # how current: whole months from the end of January 2024 to Saturday 28 November 2026
    assert briefing.currency.latest == "2024-01" and briefing.currency.months == 33
    assert briefing.currency.stale


def test_the_pack_says_how_old_the_data_is_in_its_first_lines(engine) -> None:
    place = ward_place("Staines")
    stale = build_briefing(engine, place, date(2026, 11, 28))
    sentence = ("Latest police.uk month loaded: January 2024, 33 months before the action day "
                "(Saturday 28 November 2026)")
    assert stale.currency.sentence() == sentence
    facts = dict(header_facts(stale))
    assert list(facts)[:4] == ["Place", "Borough", "Action day", "Data"]
    assert facts["Data"] == sentence + "."
    summary = key_figures(stale)
    assert summary[0].startswith("The data is 33 months older than the action day")
    assert "Import the latest police.uk months" in summary[0]
    page = briefing_html(stale)
    assert page.index(html.escape(sentence)) < page.index("At a glance")
    assert html.escape(summary[0]) in page
    text = " ".join(" ".join(pdf_pages_text(briefing_pdf(stale))).split())
    assert sentence in text and "The data is 33 months older than the action day" in text
    # an action day two months after the latest month: current enough, no warning
    fresh = build_briefing(engine, place, date(2024, 3, 20))
    assert fresh.currency.months == 1 and not fresh.currency.stale
    assert not key_figures(fresh)[0].startswith("The data is")
    assert dict(header_facts(fresh))["Data"] == (
        "Latest police.uk month loaded: January 2024, 1 month before the action day "
        "(Wednesday 20 March 2024).")
    # an action day in the past uses the latest month loaded up to it
    past = build_briefing(engine, place, date(2023, 6, 15))
    assert past.currency.latest == "2023-06" and past.currency.months == 0


def test_the_latest_months_loaded_up_to_the_action_day_are_used(engine) -> None:
    place = ward_place("Staines")
    year = build_briefing(engine, place, date(2026, 11, 28), months=12)
    assert year.months == ALL_MONTHS[-12:]
    assert year.total == len(raw_inside(place.geometry, ALL_MONTHS[-12:]))
    midyear = build_briefing(engine, place, date(2023, 6, 15))
    assert midyear.months == ["2023-04", "2023-05", "2023-06"]
    more = build_briefing(engine, place, date(2026, 11, 28), months=30)
    assert more.months == ALL_MONTHS
    assert any("Only 24 months" in n for n in more.notes)
    # 2022-12 is not loaded: a span over it leaves it out, and says so
    gap = build_briefing(engine, place, date(2023, 2, 10))
    assert gap.months == ["2022-11", "2023-01", "2023-02"]
    assert any("1 month(s) between 2022-11 and 2023-02 have no incidents loaded" in n
               for n in gap.notes)
    with pytest.raises(BriefingError, match="no incidents are loaded for Spelthorne up to "
                                            "2021-12"):
        build_briefing(engine, place, date(2021, 12, 1))


def test_a_town_centre_place_is_its_stated_approximation(engine) -> None:
    place = place_from_layer(engine, "town-centre", "staines-upon-thames", "Spelthorne")
    assert (place.name, place.kind, place.area_code) == ("Staines-upon-Thames", "town centre",
                                                         SPELTHORNE)
    assert place.note.startswith("Approximate: 400 m around TW18 4DR")
    postcode = next(p for p in codepoint_rows("TW18 4DR") if p["postcode"] == "TW18 4DR")
    assert shapely.distance(place.geometry.centroid,
                            shapely.Point(postcode["easting"], postcode["northing"])) < 1.0
    assert place.geometry.area == pytest.approx(math.pi * 400 ** 2, rel=0.01)
    briefing = build_briefing(engine, place, date(2026, 11, 28))
    raw = raw_inside(place.geometry, LATEST_3)
    assert by_type(briefing) == dict(Counter(raw["category"]))
    assert briefing.total == len(raw) > 200
    with pytest.raises(BriefingError, match="has no town centre called 'Atlantis'"):
        place_from_layer(engine, "town-centre", "Atlantis", "Spelthorne")


def test_a_theme_counts_only_its_crime_types(engine) -> None:
    place = ward_place("Staines")
    raw = raw_inside(place.geometry, LATEST_3)
    briefing = build_briefing(engine, place, date(2026, 11, 28), theme="asb")
    assert briefing.theme == ASB
    asb_types = {c for c, themes in DEFAULT_MAPPING.items() if ASB in themes}
    assert set(briefing.categories) == asb_types
    shown = asb_types & set(POLICE_UK_TYPES)
    assert shown == {"Anti-social behaviour", "Criminal damage and arson", "Public order"}
    expected = dict(Counter(raw.loc[raw["category"].isin(shown), "category"]))
    assert by_type(briefing) == expected
    assert briefing.by_type.iloc[-1]["crime_type"] == "All selected types"
    assert briefing.total == sum(expected.values()) < len(raw)
    assert set(briefing.incidents["category"]) == shown

    chosen = build_briefing(engine, place, date(2026, 11, 28), theme="Town centre and "
                            "acquisitive crime", categories=["Shoplifting"])
    assert by_type(chosen) == {"Shoplifting": int((raw["category"] == "Shoplifting").sum())}
    unmapped = build_briefing(engine, place, date(2026, 11, 28), theme="Domestic abuse")
    assert unmapped.total == 0
    assert any("none of these is in the loaded data" in n for n in unmapped.notes)
    with pytest.raises(BriefingError, match="unknown theme: 'Cats' is not a priority theme"):
        build_briefing(engine, place, date(2026, 11, 28), theme="Cats")
    with pytest.raises(BriefingError, match="unknown crime type 'Shop lifting'"):
        build_briefing(engine, place, date(2026, 11, 28), categories=["Shop lifting"])


# ---------------------------------------------------------------- registers


def test_pspos_in_force_on_the_day_overlapping_the_place(engine) -> None:
    place = ward_place("Staines")
    spring = build_briefing(engine, place, date(2026, 4, 15))
    assert set(spring.pspos["reference"]) == {"T-IN-FORCE", "T-HOSTILE", "EXAMPLE-SBC-PSPO-1"}
    row = spring.pspos.set_index("reference").loc["T-IN-FORCE"]
    assert row["conditions"] == "Prohibits: Drinking alcohol when asked to stop (at all times)"
    assert row["expires_on"] == date(2028, 1, 6)
    # before the discharge and the expiry, both orders were in force; the later one was not
    winter = build_briefing(engine, place, date(2025, 12, 1))
    assert set(winter.pspos["reference"]) == {"T-IN-FORCE", "T-HOSTILE", "T-DISCHARGED",
                                              "T-EXPIRED", "EXAMPLE-SBC-PSPO-1"}
    later = build_briefing(engine, place, date(2026, 11, 28))
    assert "T-LATER" in set(later.pspos["reference"])
    assert "T-ELSEWHERE" not in set(later.pspos["reference"])
    assert later.pspos.crs.to_epsg() == 27700


def test_equipment_near_the_place_with_its_state_from_the_due_report(engine) -> None:
    place = ward_place("Laleham and Shepperton Green")
    on = date(2026, 11, 28)
    items = example_equipment_bng()
    distance = shapely.distance(place.geometry, shapely.points(items["easting"],
                                                               items["northing"]))
    near = items[distance <= 250]
    briefing = build_briefing(engine, place, on)
    assert set(briefing.equipment["asset_id"]) == set(near["asset_id"])
    assert (distance[distance <= 250] > 0).any() and (distance == 0).any()
    due = due_report(engine, "2026-11").set_index("asset_id")
    shown = briefing.equipment.set_index("asset_id")
    for column in ("state", "state_label", "colour", "kind_label", "site"):
        assert shown[column].to_dict() == due.loc[shown.index, column].to_dict()
    assert set(shown["state"]) >= {"attention", "checked"}
    inside = near.loc[distance[distance <= 250] == 0, "asset_id"]
    assert (shown.loc[list(inside), "distance_m"] == 0).all()
    # an item retired before the day is not listed; the day before its retirement it is
    retired = sorted(inside)[0]
    retire_item(engine, retired, on=date(2026, 11, 2), reason="test: moved",
                recorded_by=USER, now=NOW)
    assert retired not in set(build_briefing(engine, place, on).equipment["asset_id"])
    assert retired in set(build_briefing(engine, place, date(2026, 11, 1)
                                         ).equipment["asset_id"])


def test_open_partner_actions_of_problem_locations_in_the_place(engine) -> None:
    from registers.problems import add_action, adopt_problem, update_action

    town = to_bng(ward_wgs84("Staines")).representative_point().buffer(120)
    to_wgs84 = Transformer.from_crs(27700, 4326, always_xy=True)
    outline = shapely.transform(town, lambda xy: list(zip(*to_wgs84.transform(
        xy[:, 0], xy[:, 1]), strict=True)))
    here = adopt_problem(engine, area="Spelthorne", name="Test street drinking spot",
                         geometry=outline, objective="Reduce street drinking",
                         origin="test", adopted_on=date(2026, 9, 1), recorded_by=USER, now=NOW)
    away = adopt_problem(engine, area="Spelthorne", name="Test elsewhere",
                         geometry=ward_wgs84("Sunbury East"), objective="Elsewhere",
                         origin="test", adopted_on=date(2026, 9, 1), recorded_by=USER, now=NOW)
    add_action(engine, here, action="Joint patrols <Fri/Sat>", lead="Police",
               due_on=date(2026, 10, 1), recorded_by=USER, now=NOW)
    add_action(engine, here, action="Signage", lead="Council", due_on=date(2027, 1, 31),
               recorded_by=USER, now=NOW)
    done = add_action(engine, here, action="Cut back hedges", lead="Council",
                      due_on=date(2026, 10, 15), recorded_by=USER, now=NOW)
    update_action(engine, done, recorded_by=USER, status="Closed", on=date(2026, 10, 14),
                  now=NOW)
    add_action(engine, away, action="Not here", lead="Police", due_on=date(2026, 12, 1),
               recorded_by=USER, now=NOW)
    briefing = build_briefing(engine, ward_place("Staines"), date(2026, 11, 28))
    assert briefing.actions_available
    actions = briefing.actions.set_index("action")
    assert set(actions.index) == {"Joint patrols <Fri/Sat>", "Signage"}
    assert actions["overdue"].astype(bool).to_dict() == {"Joint patrols <Fri/Sat>": True,
                                                         "Signage": False}
    page = briefing_html(briefing)
    assert "Joint patrols &lt;Fri/Sat&gt;" in page and "(overdue)" in page


# ---------------------------------------------------------------- HTML


def test_the_html_is_self_contained_escaped_and_complete(engine) -> None:
    briefing = build_briefing(engine, ward_place("Staines"), date(2026, 4, 15))
    page = briefing_html(briefing)
    assert page.startswith("<!DOCTYPE html>")
    assert not NETWORK.search(page)
    assert not re.search(r"url\(\s*['\"]?\s*(?:https?:)?//|@import|<script|<link|<iframe",
                         page, re.I)
    for tag in re.findall(r"<[^>]+>", page):
        assert "http" not in tag.lower(), tag  # URLs only as plain text (a published order)
    assert "<svg" in page and "@media print" in page and "size: A4" in page
    # the tables, with their values
    for section in ("incidents", "repeats", "pspos", "equipment"):
        assert f'<section class="table {section}"><h2>' in page
    assert page.count("<table>") >= 4
    first = briefing.by_type.iloc[0]
    assert f"<td>{first['crime_type']}</td>" in page
    assert f'<td class="n">{int(first["incidents"]):,}</td>' in page
    # header and footer
    for text in ("Staines (ward)", "Spelthorne (E07000213)", "Wednesday 15 April 2026",
                 "2023-11 to 2024-01", "Generated at", "Open Government Licence v3.0",
                 "contains OS data © Crown copyright", "© OpenStreetMap contributors",
                 "ODbL"):
        assert text in page, text
    # a hostile order name and condition from the register, escaped
    assert html.escape(HOSTILE_ORDER) in page and HOSTILE_ORDER not in page
    assert "Drinking &lt;b&gt;alcohol&lt;/b&gt; &amp; &quot;spirits&quot;" in page


def test_hostile_text_anywhere_is_escaped(engine) -> None:
    briefing = build_briefing(engine, ward_place("Staines"), date(2026, 11, 28))
    repeats = briefing.repeats.copy()
    repeats.loc[0, "location"] = HOSTILE
    equipment = briefing.equipment.copy()
    equipment.loc[0, "site"] = HOSTILE
    wards = briefing.wards.copy()
    wards["name"] = HOSTILE
    hostile = dataclasses.replace(
        briefing, place=dataclasses.replace(briefing.place, name=HOSTILE), theme=HOSTILE,
        repeats=repeats, equipment=equipment, wards=wards, notes=[*briefing.notes, HOSTILE])
    page = briefing_html(hostile)
    assert "<script" not in page
    assert page.count(html.escape(HOSTILE)) >= 7  # title, h1, theme, location, site, note, map
    assert not NETWORK.search(page)


def test_the_map_is_svg_or_png_without_metadata(engine) -> None:
    briefing = build_briefing(engine, ward_place("Staines"), date(2026, 4, 15))
    svg = briefing_map(briefing, "svg")
    assert b"<svg" in svg and b"<metadata>" not in svg and b"<image" not in svg
    assert len(re.findall(rb"<path", svg)) > 50
    png = briefing_map(briefing, "png")
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 20_000
    with pytest.raises(ValueError, match="svg or png"):
        briefing_map(briefing, "gif")


# ---------------------------------------------------------------- PDF


def test_the_pdf_is_one_or_two_a4_pages_with_the_tables(engine) -> None:
    place = ward_place("Staines")
    briefing = build_briefing(engine, place, date(2026, 4, 15))
    data = briefing_pdf(briefing)
    assert data.startswith(b"%PDF")
    assert 1 <= page_count(data) <= 2
    assert b"/MediaBox [0 0 595.28 841.89]" in data  # A4 portrait in points
    text = "\n".join(pdf_pages_text(data))
    first = briefing.by_type.iloc[0]
    for expected in ("Action day briefing: Staines", "Incidents by type and month",
                     str(first["crime_type"]), f"{int(first['incidents']):,}",
                     "T-IN-FORCE", "Wednesday 15 April 2026", "page 1 of",
                     "Open Government Licence v3.0"):
        assert expected in text, expected


def test_a_long_pack_is_cut_to_two_pages_and_says_how_much_is_left_out(engine) -> None:
    place = ward_place("Shepperton Town")
    briefing = build_briefing(engine, place, date(2026, 11, 28), months=12)
    many = pd.concat([briefing.equipment] * 4, ignore_index=True)
    long = dataclasses.replace(briefing, equipment=many)
    data = briefing_pdf(long)
    assert 1 <= page_count(data) <= 2
    text = "\n".join(pdf_pages_text(data))
    left_out = re.search(r"… and (\d+) more", text)
    assert left_out and int(left_out.group(1)) >= len(many) - 12
    words = " ".join(text.split())  # a month heading may wrap onto two lines
    assert all(month in words for month in ("Feb 2023", "Jan 2024"))  # 12 month columns


def test_the_pdf_prints_unicode_text(engine) -> None:
    name = "Staines – riverside … £5 café"
    place = dataclasses.replace(ward_place("Staines"), name=name, kind="drawn area")
    data = briefing_pdf(build_briefing(engine, place, date(2026, 11, 28)))
    text = "\n".join(pdf_pages_text(data))
    assert f"Action day briefing: {name}" in text
    assert "\ufffd" not in text


# ---------------------------------------------------------------- refusals


@pytest.mark.parametrize(("change", "message"), [
    ({"geometry": shapely.Polygon()}, "has no outline (empty geometry)"),
    ({"geometry": None}, "has no outline"),
    ({"geometry": shapely.Point(505000, 171000)}, "is a Point: a place must be an outline"),
    ({"geometry": shapely.Polygon([(505000, 171000), (505500, 171500), (505500, 171000),
                                   (505000, 171500)])}, "is not a valid outline"),
    ({"geometry": shapely.box(-0.52, 51.42, -0.5, 51.44)}, "looks like longitude/latitude"),
    ({"area_code": "E99999999"}, "no area called 'E99999999'"),
    ({"kind": "street"}, "kind 'street' is not one of hotspot, problem location"),
    ({"name": "  "}, "the place needs a name"),
])
def test_bad_places_are_refused_with_what_is_wrong(engine, change, message) -> None:
    place = dataclasses.replace(ward_place("Staines"), **change)
    with pytest.raises(BriefingError, match=re.escape(message)):
        build_briefing(engine, place, date(2026, 11, 28))


def test_a_place_outside_its_borough_is_refused(engine) -> None:
    egham = to_bng(ward_wgs84("Egham Town", "E07000212"))
    with pytest.raises(BriefingError, match="lies wholly outside Spelthorne"):
        build_briefing(engine, Place("Egham", "drawn area", SPELTHORNE, egham),
                       date(2026, 11, 28))
    staines = to_bng(ward_wgs84("Staines"))
    straddling = egham.union(staines.representative_point().buffer(200))  # mostly Runnymede
    with pytest.raises(BriefingError, match=r"only \d+% of it lies inside Spelthorne"):
        build_briefing(engine, Place("Both banks", "drawn area", SPELTHORNE, straddling),
                       date(2026, 11, 28))
    # mostly inside: made, with a note that only Spelthorne's incidents are counted
    spill = staines.union(egham.representative_point().buffer(150))
    briefing = build_briefing(engine, Place("Over the river", "drawn area", SPELTHORNE, spill),
                              date(2026, 11, 28))
    assert any("lies outside Spelthorne: only Spelthorne's incidents are counted" in n
               for n in briefing.notes)
    assert briefing.total == len(raw_inside(spill, LATEST_3))


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"months": 0}, "whole number from 1 to 36"),
    ({"months": 2.5}, "whole number from 1 to 36"),
    ({"on": "next Tuesday"}, "the action day must be a date"),
    ({"categories": []}, "no crime type chosen"),
])
def test_bad_options_are_refused(engine, kwargs, message) -> None:
    values = {"on": date(2026, 11, 28), **kwargs}
    with pytest.raises(BriefingError, match=re.escape(message)):
        build_briefing(engine, ward_place("Staines"), **values)


# ---------------------------------------------------------------- did it work? (issue 18)


def test_the_pack_compares_the_place_with_the_borough_trend(engine) -> None:
    """The latest 3 months against the 3 before, inside the place, in a 250 m ring and in
    the rest of the borough, each count read back from the raw police.uk files; the WDD
    figures follow from them by the hand formula; the sentence opens the pack and the
    table is in the HTML."""
    place = ward_place("Staines")
    briefing = build_briefing(engine, place, date(2026, 11, 28))
    a = briefing.assessment
    assert a is not None and a.before == ("2023-08", "2023-10") and \
        a.after == ("2023-11", "2024-01") and a.ring_m == 250
    before = ["2023-08", "2023-09", "2023-10"]
    assert a.counts["target_before"] == len(raw_inside(place.geometry, before)) > 300
    assert a.counts["target_after"] == len(raw_inside(place.geometry, LATEST_3))
    ring = place.geometry.buffer(250).difference(place.geometry)
    rest = borough_bng().difference(place.geometry.buffer(250))
    # the ring is counted across the borough's edge too (Egham, over the river): a move
    # next door does not stop at the boundary
    rows = [(float(r["Longitude"]), float(r["Latitude"])) for m in before
            for r in police_dicts(m) if r["Longitude"] and r["Latitude"]]
    x, y = TO_BNG.transform([r[0] for r in rows], [r[1] for r in rows])
    in_ring = shapely.contains_xy(ring, x, y)
    assert a.counts["ring_before"] == pytest.approx(int(in_ring.sum()), abs=3)
    assert a.counts["control_before"] == pytest.approx(len(raw_inside(rest, before)), abs=3)
    assert a.counts["control_after"] == pytest.approx(len(raw_inside(rest, LATEST_3)), abs=3)
    c = a.counts
    t0, t1, c0, c1 = (c["target_before"], c["target_after"], c["control_before"],
                      c["control_after"])
    w = t0 / c0
    assert a.local.estimate == pytest.approx((t1 - t0) - w * (c1 - c0))
    assert a.local.se == pytest.approx(math.sqrt(t0 + t1 + w * w * (c0 + c1)))
    sentence = a.sentence()
    assert sentence.startswith("Staines ") and "the borough's trend would predict" in sentence
    assert sentence in key_figures(briefing)
    page = briefing_html(briefing)
    assert '<section class="table assessment"><h2>Change against the borough' in page
    assert f'<td class="n">{t0:,}</td>' in page and html.escape(sentence) in page
    assert page_count(briefing_pdf(briefing)) <= 2


def test_the_pack_says_when_there_is_nothing_to_compare_with(engine) -> None:
    # the first sample month has no month before it loaded
    briefing = build_briefing(engine, ward_place("Staines"), date(2022, 1, 20), months=1)
    assert briefing.assessment is None
    assert any("Change against the borough's trend: not worked out" in n and
               "2021-12" in n for n in briefing.notes)
