"""A geometry column that is PostGIS `geometry(…, 4326)` on PostgreSQL and WKB on SQLite.

The registers keep their outlines and points in WGS84 (what the map draws); analysis takes
them to British National Grid itself. On PostgreSQL the column is a real PostGIS geometry (so
`ST_Contains`, indexes and QGIS work on it); on SQLite it is the same shape's WKB, which
GeoPackage and every GIS reads, and which needs no spatial extension.

A few lines of our own rather than GeoAlchemy2: GeoAlchemy2 on SQLite needs SpatiaLite, which
the embedded default must not depend on.
"""

from __future__ import annotations

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import LargeBinary, func
from sqlalchemy.types import TypeDecorator, UserDefinedType

WGS84_SRID = 4326


class PostGISGeometry(UserDefinedType):
    """PostGIS `geometry(<type>, 4326)`; values go in as WKB and come out as WKB."""

    cache_ok = True

    def __init__(self, geometry_type: str = "Geometry"):
        self.geometry_type = geometry_type

    def get_col_spec(self, **_kw) -> str:
        return f"geometry({self.geometry_type},{WGS84_SRID})"

    def bind_expression(self, bindvalue):
        return func.ST_GeomFromWKB(bindvalue, WGS84_SRID, type_=self)

    def column_expression(self, col):
        # typed as the decorator, so its result processing turns the WKB into shapely
        return func.ST_AsBinary(col, type_=Geometry(self.geometry_type))


class Geometry(TypeDecorator):
    """A shapely geometry in WGS84: PostGIS geometry on PostgreSQL, WKB bytes elsewhere."""

    impl = LargeBinary
    cache_ok = True

    def __init__(self, geometry_type: str = "Geometry"):
        super().__init__()
        self.geometry_type = geometry_type

    def load_dialect_impl(self, dialect):
        if dialect.name == "postgresql":
            return dialect.type_descriptor(PostGISGeometry(self.geometry_type))
        return dialect.type_descriptor(LargeBinary())

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, BaseGeometry):
            return shapely.to_wkb(value)
        if isinstance(value, (bytes, bytearray, memoryview)):
            return bytes(value)
        raise TypeError(f"expected a shapely geometry, not {type(value).__name__}")

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, str):  # hex WKB, as PostGIS prints it
            return shapely.from_wkb(value)
        return shapely.from_wkb(bytes(value))
