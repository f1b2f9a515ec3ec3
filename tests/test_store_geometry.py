"""The geometry column (store/geometry.py): real Spelthorne ward outlines and points written
and read back unchanged on SQLite (WKB bytes) and on the real PostgreSQL + PostGIS server (a
PostGIS geometry in EPSG:4326 that ST_Contains works on), NULL kept as NULL, and anything
that is not a geometry refused before it reaches the database."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateTable

from store.geometry import WGS84_SRID, Geometry
from tests.databases import BACKENDS, database
from tests.sample_data import BOUNDARIES, SPELTHORNE


@pytest.fixture(scope="module")
def wards() -> gpd.GeoDataFrame:
    """Spelthorne's bundled 2013 wards, in WGS84 as the registers keep outlines."""
    frame = gpd.read_file(BOUNDARIES / f"wards_2013_{SPELTHORNE}.geojson").to_crs(4326)
    assert len(frame) > 10
    return frame


def probe_table() -> tuple[MetaData, Table]:
    metadata = MetaData()
    table = Table("geometry_probe", metadata,
                  Column("id", Integer, primary_key=True),
                  Column("name", String(100)),
                  Column("outline", Geometry("MultiPolygon"), nullable=True),
                  Column("place", Geometry("Point"), nullable=True))
    return metadata, table


@pytest.mark.parametrize("backend", BACKENDS)
def test_ward_outlines_and_points_come_back_as_written(backend, wards, tmp_path):
    metadata, table = probe_table()
    rows = []
    for i, ward in enumerate(wards.itertuples(), start=1):
        outline = shapely.MultiPolygon([ward.geometry]) if ward.geometry.geom_type == "Polygon" \
            else ward.geometry
        rows.append({"id": i, "name": ward.WD13NM, "outline": outline,
                     "place": outline.representative_point()})
    rows.append({"id": 999, "name": "nothing", "outline": None, "place": None})
    with database(backend, tmp_path) as db:
        metadata.create_all(db.engine)
        with db.engine.begin() as conn:
            conn.execute(table.insert(), rows)
        with db.engine.connect() as conn:
            back = {r.id: r for r in conn.execute(select(table).order_by(table.c.id))}
            if backend == "postgresql":  # a real PostGIS geometry, in WGS84, usable in SQL
                srids = conn.execute(select(func.ST_SRID(text("outline"))).select_from(
                    table).where(table.c.id == 1)).scalar_one()
                assert srids == WGS84_SRID
                inside = conn.execute(text(
                    "SELECT count(*) FROM geometry_probe WHERE ST_Contains(outline, place)"
                )).scalar_one()
                assert inside == len(wards)
            else:  # WKB bytes any GIS reads
                raw = conn.execute(text("SELECT outline FROM geometry_probe WHERE id = 1")
                                   ).scalar_one()
                assert shapely.from_wkb(bytes(raw)).equals(rows[0]["outline"])
    assert back[999].outline is None and back[999].place is None
    for row in rows[:-1]:
        got = back[row["id"]]
        assert got.name == row["name"]
        assert shapely.equals_exact(got.outline, row["outline"], tolerance=0)
        assert shapely.equals_exact(got.place, row["place"], tolerance=0)
        assert got.outline.contains(got.place)


def test_bytes_are_taken_as_wkb_and_other_values_are_refused(wards):
    column = Geometry("MultiPolygon")
    outline = wards.geometry.iloc[0]
    wkb = shapely.to_wkb(outline)
    dialect = sqlite.dialect()
    assert column.process_bind_param(outline, dialect) == wkb
    assert column.process_bind_param(bytearray(wkb), dialect) == wkb
    assert column.process_bind_param(memoryview(wkb), dialect) == wkb
    assert column.process_bind_param(None, dialect) is None
    for wrong in (outline.wkt, [1.0, 2.0], 51.4):
        with pytest.raises(TypeError, match="expected a shapely geometry, not"):
            column.process_bind_param(wrong, dialect)
    # PostGIS can print a geometry as hex WKB text: that is read too
    assert column.process_result_value(shapely.to_wkb(outline, hex=True), dialect).equals(outline)
    assert column.process_result_value(memoryview(wkb), dialect).equals(outline)
    assert column.process_result_value(None, dialect) is None


def test_the_column_is_postgis_geometry_on_postgresql_and_a_blob_on_sqlite():
    _, table = probe_table()
    on_postgres = str(CreateTable(table).compile(dialect=postgresql.dialect()))
    assert "outline geometry(MultiPolygon,4326)" in on_postgres
    assert "place geometry(Point,4326)" in on_postgres
    on_sqlite = str(CreateTable(table).compile(dialect=sqlite.dialect()))
    assert "outline BLOB" in on_sqlite and "place BLOB" in on_sqlite
    # values go in through ST_GeomFromWKB and come out through ST_AsBinary on PostgreSQL only
    insert = table.insert().values(outline=shapely.Point(0, 51)).compile(
        dialect=postgresql.dialect())
    assert "ST_GeomFromWKB(%(outline)s, %(ST_GeomFromWKB_1)s" in str(insert)
    assert insert.params["ST_GeomFromWKB_1"] == 4326
    query = str(select(table.c.outline).compile(dialect=postgresql.dialect()))
    assert "ST_AsBinary(geometry_probe.outline)" in query
    assert "ST_AsBinary" not in str(select(table.c.outline).compile(dialect=sqlite.dialect()))
