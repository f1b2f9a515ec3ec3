"""Where PSPOs apply, for the context joins (geo/pspo_outlines.py): an order's status on a day
(discharge and expiry on the day itself), the bundled EXAMPLE register's orders in force on
days either side of their real dates and events, a discharged order left out, and the
register's orders together with a PSPO layer file made from a real Spelthorne ward."""

from __future__ import annotations

import json
from datetime import date

import geopandas as gpd
import pytest
import shapely

from geo.layers import add_layer_file
from geo.pspo_outlines import OUTLINE_COLUMNS, order_status, orders_in_force, pspo_outlines
from registers.example import EXAMPLES, seed_example_registers
from registers.pspo import Condition, add_order, discharge_order
from tests.sample_data import BOUNDARIES, SPELTHORNE

RUNNYMEDE = "E07000212"


@pytest.mark.parametrize(("discharged", "today", "status"), [
    (None, date(2023, 7, 3), "in force"),       # the day it is made
    (None, date(2026, 7, 2), "in force"),       # the day before it expires
    (None, date(2026, 7, 3), "expired"),        # the expiry day itself
    (None, date(2030, 1, 1), "expired"),
    (date(2025, 1, 10), date(2025, 1, 9), "in force"),    # discharge still to come
    (date(2025, 1, 10), date(2025, 1, 10), "discharged"),
    (date(2025, 1, 10), date(2027, 1, 1), "discharged"),  # discharged wins over expired
])
def test_order_status_on_a_day(discharged, today, status):
    assert order_status(date(2023, 7, 3), date(2026, 7, 3), discharged, today) == status


@pytest.fixture(scope="module")
def examples():
    """The bundled EXAMPLE orders, as written in their GeoJSON (read with json)."""
    features = json.loads((EXAMPLES / "example_pspos.geojson").read_text())["features"]
    return {f["properties"]["reference"]: f for f in features}


@pytest.fixture(scope="module")
def staines_ward():
    wards = gpd.read_file(BOUNDARIES / f"wards_2013_{SPELTHORNE}.geojson").to_crs(4326)
    return wards[wards["WD13NM"] == "Staines"].iloc[0]


@pytest.fixture(scope="module")
def register(layers_db, staines_ward):
    """The EXAMPLE register, plus a Staines order that was discharged."""
    engine = layers_db.engine
    seed_example_registers(engine)
    order = add_order(engine, area="Spelthorne", reference="SBC-TEST-DISCHARGED",
                      name="Staines ward order, discharged", geometry=staines_ward.geometry,
                      made_on="2024-02-01", expires_on="2027-02-01",
                      conditions=[Condition.checked("prohibition", "Street drinking")],
                      recorded_by="test")
    discharge_order(engine, order, on="2024-09-30", recorded_by="test")
    return engine


def test_the_example_orders_in_force_follow_their_dates_and_extension(register, examples):
    runnymede = examples["EXAMPLE-RBC-PSPO-1"]["properties"]
    spelthorne = examples["EXAMPLE-SBC-PSPO-1"]["properties"]
    # Runnymede's was extended to 2029-06-15 (its events); Spelthorne's expires 2026-12-18
    assert runnymede["events"][0][:3] == ["extended", "2026-06-15", "2029-06-15"]
    # (the day asked is today or later: a register holds no order made in the future)
    on_day = {day: orders_in_force(register, today=day) for day in (
        date(2024, 6, 1), date(2026, 12, 17), date(2026, 12, 18), date(2029, 6, 14),
        date(2029, 6, 15))}
    assert sorted(on_day[date(2026, 12, 17)]["code"]) == ["EXAMPLE-RBC-PSPO-1",
                                                         "EXAMPLE-SBC-PSPO-1"]
    assert on_day[date(2029, 6, 14)]["code"].tolist() == ["EXAMPLE-RBC-PSPO-1"]
    assert sorted(on_day[date(2024, 6, 1)]["code"]) == ["EXAMPLE-RBC-PSPO-1",
                                                       "EXAMPLE-SBC-PSPO-1",
                                                       "SBC-TEST-DISCHARGED"]
    assert on_day[date(2026, 12, 18)]["code"].tolist() == ["EXAMPLE-RBC-PSPO-1"]
    assert on_day[date(2029, 6, 15)].empty
    frame = on_day[date(2024, 6, 1)].set_index("code")
    assert frame.crs.to_epsg() == 4326
    assert frame.loc["EXAMPLE-SBC-PSPO-1", "name"] == spelthorne["name"]
    assert frame.loc["EXAMPLE-SBC-PSPO-1", "parent_code"] == SPELTHORNE
    assert frame.loc["EXAMPLE-RBC-PSPO-1", "parent_code"] == RUNNYMEDE == runnymede["area"]
    assert bool(frame.loc["EXAMPLE-SBC-PSPO-1", "example"]) is True
    assert not bool(frame.loc["SBC-TEST-DISCHARGED", "example"])
    outline = shapely.geometry.shape(examples["EXAMPLE-SBC-PSPO-1"]["geometry"])
    assert frame.loc["EXAMPLE-SBC-PSPO-1", "geometry"].equals_exact(outline, 1e-9) or \
        frame.loc["EXAMPLE-SBC-PSPO-1", "geometry"].symmetric_difference(outline).area \
        < 1e-6 * outline.area
    # one borough only
    only = orders_in_force(register, SPELTHORNE, today=date(2024, 6, 1))
    assert sorted(only["code"]) == ["EXAMPLE-SBC-PSPO-1", "SBC-TEST-DISCHARGED"]
    assert orders_in_force(register, "E07000217", today=date(2024, 6, 1)).empty


def test_a_discharged_order_is_left_out_from_its_discharge_day(register):
    codes = set(orders_in_force(register, SPELTHORNE, today=date(2024, 9, 29))["code"])
    assert "SBC-TEST-DISCHARGED" in codes
    codes = set(orders_in_force(register, SPELTHORNE, today=date(2024, 9, 30))["code"])
    assert "SBC-TEST-DISCHARGED" not in codes and "EXAMPLE-SBC-PSPO-1" in codes


def test_register_orders_and_a_pspo_layer_file_together(register, staines_ward, tmp_path):
    before = pspo_outlines(register, SPELTHORNE)
    assert list(before.columns) == OUTLINE_COLUMNS
    assert (before["source"] == "PSPO register").all()
    assert before.set_index("code").loc["EXAMPLE-SBC-PSPO-1", "note"] == "EXAMPLE order"
    assert not before["approximate"].any()
    layer = gpd.GeoDataFrame({"name": ["Staines ward PSPO (file)"]},
                             geometry=[staines_ward.geometry], crs=4326)
    path = tmp_path / "pspo.geojson"
    layer.to_file(path, driver="GeoJSON")
    add_layer_file(register, "pspo", path, parent="Spelthorne")
    both = pspo_outlines(register, SPELTHORNE)
    assert list(both.columns) == OUTLINE_COLUMNS and both.crs.to_epsg() == 4326
    assert len(both) == len(before) + 1
    from_file = both[both["name"] == "Staines ward PSPO (file)"].iloc[0]
    assert from_file["source"] != "PSPO register"
    assert from_file["geometry"].symmetric_difference(staines_ward.geometry).area < \
        0.001 * staines_ward.geometry.area
    # Runnymede has no layer file: only its register order
    runnymede = pspo_outlines(register, RUNNYMEDE)
    assert runnymede["code"].tolist() == ["EXAMPLE-RBC-PSPO-1"]
