"""Who may see and change what, checked in the library functions the pages call (not by
hiding widgets): a viewer's incidents, map payload, exports, briefing pack and summaries hold
no restricted incident; "Violence and sexual offences" reaches viewers only as counts per
ward; each role may change only what it should; nobody signed in may do nothing.

Real data: the bundled police.uk months of Spelthorne, and a council log of 12 "Domestic
abuse" reports at real Staines postcodes (Code-Point Open), geocoded as council logs are.
The category is the only made-up part: no public extract holds domestic abuse locations."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, datetime

import geopandas as gpd
import numpy as np
import pytest
import shapely

from access.incidents import categories, coverage, list_rejects, load_incidents
from access.restricted import add_restricted, remove_restricted, visibility
from access.roles import NOBODY, AccessDenied, Principal
from access.scope import acting_as, current_principal
from geo.areas import resolve_area
from geo.bundled import seed_bundled_layers
from geo.layers import load_layer
from hotspots.analysis import area_incidents, evaluate_area, find_hotspots
from ingest.council import ColumnMapping
from ingest.run import ingest_bytes, ingest_paths
from present.export import hotspots_csv, hotspots_geojson
from present.map import build_map, heat_of
from registers.checks import log_check
from registers.equipment import add_item
from registers.pspo import Condition, add_order
from report.briefing import Place, build_briefing
from report.briefing_html import briefing_html
from report.briefing_text import pack_tables
from report.compare import jag_comparison
from report.summary import incident_summary
from report.theme_mapping import save_theme_mapping
from report.themes import theme_table
from tests.conftest import new_database
from tests.sample_data import SAMPLE_POLICE, SPELTHORNE, codepoint_rows

VSO = "Violence and sexual offences"
DA = "Domestic abuse"
MONTHS = ("2023-12", "2024-01")
VIEWER = Principal("jag.member@housing.example", "viewer", "JAG member")
OFFICER = Principal("cs.officer@council.example", "officer", "CS officer")
ANALYST = Principal("analyst@council.example", "analyst", "Analyst")
ADMIN = Principal("admin@council.example", "admin", "Admin")
HEAT = re.compile(r'L\.imageOverlay\(\s*"(data:image/png;base64,[^"]+)"')


def domestic_abuse_log() -> tuple[bytes, list[dict]]:
    """12 reports at real Staines (TW18) postcodes in Spelthorne."""
    postcodes = [r for r in codepoint_rows("TW18 ") if r["district"] == SPELTHORNE][:12]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Date", "Incident Type", "Postcode"])
    for day, row in enumerate(postcodes, start=2):
        writer.writerow([f"{day:02d}/01/2024", DA, row["postcode"]])
    return buffer.getvalue().encode(), postcodes


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    database = new_database(tmp_path_factory.mktemp("access"))
    seed_bundled_layers(database.engine)
    ingest_paths(database.engine, [SAMPLE_POLICE / m for m in MONTHS])
    data, postcodes = domestic_abuse_log()
    report = ingest_bytes(database.engine, "da_log.csv", data,
                          ColumnMapping(date="Date", category="Incident Type",
                                        postcode="Postcode", dataset="DA log"))
    assert report.accepted == 12, report.files
    database.postcodes = postcodes
    yield database
    database.engine.dispose()


def heat_image(html: str) -> str:
    """The map payload's heat picture (a PNG data URI)."""
    return HEAT.search(html).group(1)


def places_of(incidents) -> set[tuple[float, float]]:
    """Incidents' places rounded as the map rounds them (numpy's rounding)."""
    lat, lon = np.round(incidents["lat"].to_numpy(), 5), np.round(incidents["lon"].to_numpy(), 5)
    return set(zip(lat.tolist(), lon.tolist(), strict=True))


def as_(principal: Principal, call, *args, **kwargs):
    with acting_as(principal):
        return call(*args, **kwargs)


def test_nobody_signed_in_may_read_or_change_anything(db) -> None:
    with acting_as(NOBODY):
        assert current_principal() is NOBODY
        with pytest.raises(AccessDenied, match="nobody is signed in"):
            load_incidents(db.engine, *MONTHS)
        with pytest.raises(AccessDenied):
            find_hotspots(db.engine, "Spelthorne", *MONTHS)
        with pytest.raises(AccessDenied):
            coverage(db.engine)


def test_analysts_see_every_incident_viewers_and_officers_none_restricted(db) -> None:
    place = resolve_area(db.engine, "Spelthorne")
    everything = as_(ANALYST, area_incidents, db.engine, place, *MONTHS)
    counts = everything["category"].value_counts()
    assert counts[DA] == 12 and counts[VSO] > 100
    for principal in (VIEWER, OFFICER):
        seen = as_(principal, area_incidents, db.engine, place, *MONTHS)
        assert not {DA, VSO} & set(seen["category"])
        assert len(seen) == len(everything) - counts[DA] - counts[VSO]
        assert as_(principal, load_incidents, db.engine, *MONTHS,
                   categories=[VSO, DA]).empty  # asking by name does not help
        assert not {DA, VSO} & set(as_(principal, categories, db.engine))
    assert {DA, VSO} <= set(as_(ADMIN, categories, db.engine))


def test_a_viewers_map_payload_and_exports_hold_no_restricted_incident(db) -> None:
    area = resolve_area(db.engine, "Spelthorne")
    wards = load_layer(db.engine, "ward", SPELTHORNE)
    boundary = gpd.GeoSeries([area.boundary], crs=27700)
    water = load_layer(db.engine, "water")
    payloads = {}
    for principal in (ANALYST, VIEWER):
        report = as_(principal, find_hotspots, db.engine, "Spelthorne", *MONTHS,
                     method="grid")
        html = build_map(boundary, wards, water, report.incidents,
                         report.hotspots).get_root().render()
        payloads[principal.role] = (report, html, hotspots_geojson(report.hotspots),
                                    hotspots_csv(report.hotspots))
    analyst, viewer = payloads["analyst"], payloads["viewer"]
    da_places = places_of(analyst[0].incidents.query("category == @DA"))
    assert len(da_places) == 12
    # the heat picture is drawn from exactly the incidents each may see: the analyst's
    # holds the domestic abuse reports, the viewer's is the same surface without them
    assert heat_image(analyst[1]) == heat_of(analyst[0].incidents, boundary).data_uri
    assert heat_image(viewer[1]) == heat_of(viewer[0].incidents, boundary).data_uri
    assert heat_image(viewer[1]) != heat_image(analyst[1])
    assert len(viewer[0].incidents) < len(analyst[0].incidents)
    assert not da_places & places_of(viewer[0].incidents)
    assert not {DA, VSO} & set(viewer[0].incidents["category"])
    for text in viewer[1:]:
        assert DA not in text and VSO not in text
    viewer_counted = sum(f["properties"]["count"]
                         for f in json.loads(viewer[2])["features"])
    assert viewer_counted <= len(viewer[0].incidents)


def test_a_viewers_briefing_pack_holds_no_restricted_incident(db) -> None:
    first = db.postcodes[0]
    point = shapely.Point(first["easting"], first["northing"])
    place = Place("Around the first report", "drawn area", SPELTHORNE, point.buffer(400))
    packs = {}
    for principal in (ANALYST, VIEWER):
        briefing = as_(principal, build_briefing, db.engine, place, date(2024, 2, 3),
                       months=2)
        packs[principal.role] = (briefing, briefing_html(briefing))
    analyst_types = set(packs["analyst"][0].incidents["category"])
    assert DA in analyst_types and DA in packs["analyst"][1]
    viewer_briefing, viewer_html = packs["viewer"]
    assert not {DA, VSO} & set(viewer_briefing.incidents["category"])
    # the pack names what the viewer's role does not see, once, in its first lines; no
    # table, figure or map of it holds them
    told = re.search(r"<dt>Not in this pack</dt><dd>([^<]*)</dd>", viewer_html)
    assert told and VSO in told.group(1) and "&#x27;domestic&#x27;" in told.group(1)
    assert "Not in this pack" not in packs["analyst"][1]  # the analyst sees everything
    rest = viewer_html.replace(told.group(0), "")
    assert DA not in rest and VSO not in rest
    for table in pack_tables(viewer_briefing):
        assert DA not in json.dumps(table.rows, default=str)


def test_violence_reaches_viewers_only_as_counts_per_ward(db) -> None:
    by_ward = {p.role: as_(p, incident_summary, db.engine, "Spelthorne", "ward", *MONTHS)
               for p in (ANALYST, VIEWER)}

    def vso_by_ward(summary):
        rows = summary.table[summary.table["crime_type"] == VSO]
        return dict(zip(rows["unit"], rows["incidents"], strict=True))

    assert vso_by_ward(by_ward["viewer"]) == vso_by_ward(by_ward["analyst"])
    assert sum(vso_by_ward(by_ward["viewer"]).values()) > 100
    assert DA not in set(by_ward["viewer"].table["crime_type"])
    assert any("counts per ward only" in n for n in by_ward["viewer"].notes)
    by_lsoa = as_(VIEWER, incident_summary, db.engine, "Spelthorne", "lsoa", *MONTHS)
    assert not {DA, VSO} & set(by_lsoa.table["crime_type"])
    # the borough's theme counts include violence (coarser than a ward), never the hidden
    viewer_themes = as_(VIEWER, theme_table, db.engine, "Spelthorne", "2024-01")
    analyst_themes = as_(ANALYST, theme_table, db.engine, "Spelthorne", "2024-01")
    viewer_counts, analyst_counts = (dict(zip(t.table["theme"], t.table["incidents"],
                                              strict=True))
                                     for t in (viewer_themes, analyst_themes))
    assert viewer_counts["Serious violence"] == analyst_counts["Serious violence"] > 0
    assert (viewer_counts[DA], analyst_counts[DA]) == (0, 12)
    months = {p.role: as_(p, coverage, db.engine) for p in (ANALYST, VIEWER)}
    january = {role: int(frame[frame["month"] == "2024-01"]["incidents"].sum())
               for role, frame in months.items()}
    assert january["analyst"] - january["viewer"] == 12  # DA hidden, VSO counted


def test_an_admin_restricts_another_category_and_it_is_recorded(db) -> None:
    place = resolve_area(db.engine, "Spelthorne")
    before = as_(VIEWER, area_incidents, db.engine, place, *MONTHS)
    assert "Shoplifting" in set(before["category"])
    with pytest.raises(AccessDenied, match="admin"):
        as_(ANALYST, add_restricted, db.engine, "Shoplifting")
    assert as_(ADMIN, add_restricted, db.engine, "shoplifting", "hidden", "exact")
    assert not as_(ADMIN, add_restricted, db.engine, "Shoplifting", "hidden", "exact")
    after = as_(VIEWER, area_incidents, db.engine, place, *MONTHS)
    assert "Shoplifting" not in set(after["category"])
    assert len(before) - len(after) == (before["category"] == "Shoplifting").sum()
    assert as_(VIEWER, visibility, db.engine).key != as_(ANALYST, visibility, db.engine).key
    assert as_(ADMIN, remove_restricted, db.engine, "Shoplifting")
    assert len(as_(VIEWER, area_incidents, db.engine, place, *MONTHS)) == len(before)


def test_each_role_may_change_only_its_registers(db) -> None:
    now = datetime(2026, 11, 20, 10, 0)
    item = {"asset_id": "ACC-1", "kind": "throwline", "site": "Staines Bridge",
            "latitude": "51.4339", "longitude": "-0.5158", "installed_on": "2024-01-01"}
    for principal in (VIEWER, ANALYST):
        with pytest.raises(AccessDenied, match="officer or admin"):
            as_(principal, add_item, db.engine, item, principal.label, now=now)
    as_(OFFICER, add_item, db.engine, item, OFFICER.label, now=now)
    with pytest.raises(AccessDenied):
        as_(VIEWER, log_check, db.engine, asset_id="ACC-1", checked_at=now,
            checked_by="V", outcome="serviceable", recorded_by="V", now=now)
    logged = as_(OFFICER, log_check, db.engine, asset_id="ACC-1", checked_at=now,
                 checked_by="CS officer", outcome="serviceable", recorded_by="CS officer",
                 now=now)
    assert logged.id > 0
    staines = load_layer(db.engine, "ward", SPELTHORNE).set_index("name").geometry
    order = dict(area="Spelthorne", reference="ACC-PSPO", name="Staines riverside",
                 geometry=staines.iloc[0], made_on="2024-01-01", expires_on="2026-12-31",
                 conditions=[Condition("prohibition", "No drinking when asked to stop")],
                 recorded_by="x", now=now)
    for principal in (VIEWER, OFFICER, ANALYST):
        with pytest.raises(AccessDenied, match="may not manage PSPOs: that needs the admin"):
            as_(principal, add_order, db.engine, **order)
    assert as_(ADMIN, add_order, db.engine, **order) > 0
    for principal in (VIEWER, OFFICER):
        with pytest.raises(AccessDenied):
            as_(principal, save_theme_mapping, db.engine, [{"category": "Drugs",
                                                             "theme": "Drugs"}], "x")
        with pytest.raises(AccessDenied):
            as_(principal, list_rejects, db.engine)
        with pytest.raises(AccessDenied):
            as_(principal, ingest_bytes, db.engine, "x.csv", b"a,b\n1,2\n")
        with pytest.raises(AccessDenied):
            as_(principal, evaluate_area, db.engine, "Spelthorne")


def test_the_admin_pages_refuse_when_their_function_is_called_directly() -> None:
    from views.pspo_editor import pspo_editor
    from views.users import users_page

    for principal in (VIEWER, OFFICER, ANALYST, NOBODY):
        with acting_as(principal):
            with pytest.raises(AccessDenied, match="manage PSPOs"):
                pspo_editor()
            with pytest.raises(AccessDenied, match="manage users"):
                users_page()


def test_the_jag_comparison_counts_violence_for_viewers_by_ward_only(db) -> None:
    def vso_lines(principal, by):
        result = as_(principal, jag_comparison, db.engine, "Spelthorne", "2024-01", 1, by)
        rows = result.table[result.table["crime_type"] == VSO]
        return {r.unit: (r.current, r.previous) for r in rows.itertuples()}

    for by in (None, "ward"):
        assert vso_lines(VIEWER, by) == vso_lines(ANALYST, by) != {}
    assert vso_lines(ANALYST, "town-centre") and not vso_lines(VIEWER, "town-centre")
    assert DA not in set(as_(VIEWER, jag_comparison, db.engine, "Spelthorne", "2024-01", 1,
                             "ward").table["crime_type"])
