"""Read and validate a user's layer file: GeoJSON, GeoPackage or zipped Shapefile, any CRS.

The file as a whole is refused (LayerError) when it cannot be trusted at all: unreadable, no
declared CRS, coordinates that do not fall where the CRS says. Single features that cannot be
used (empty, wrong geometry type, invalid beyond repair) are set aside with a reason, and the
good ones kept, as incident imports do with rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from core.errors import UserError
from core.uploads import UploadRefused, check_upload_path
from geo.crs import BNG, WGS84

# What geometry each kind of layer needs: boundaries are areas; a river may be drawn as a
# polygon (its banks) or as a line (its centreline).
POLYGONAL = ("Polygon", "MultiPolygon")
ACCEPTED_TYPES = {
    "area": POLYGONAL, "ward": POLYGONAL, "lsoa": POLYGONAL, "town-centre": POLYGONAL,
    "pspo": POLYGONAL, "water": (*POLYGONAL, "LineString", "MultiLineString"),
    "cctv": ("Point",),
}
REJECT_COLUMNS = ["file", "feature", "field", "reason"]
# What a layer file's content may be (read from its bytes, not its name): GeoJSON, KML/GML,
# GeoPackage, zipped Shapefile, a bare .shp beside its parts (CLI), or text GDAL may read.
UPLOAD_KINDS = ("json", "kml", "gpkg", "zip", "shp", "text")


class LayerError(UserError, ValueError):
    """A layer file that cannot be used, with a message saying what looks wrong."""


@dataclass
class LayerFile:
    """A layer file read and checked: features kept (WGS84) and features set aside."""

    file: str
    kind: str
    features: gpd.GeoDataFrame
    rejected: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=REJECT_COLUMNS))
    repaired: int = 0

    def reject(self, mask: pd.Series, reason: str, column: str = "geometry") -> None:
        """Move the features where `mask` is true to `rejected`, each with the reason."""
        if not mask.any():
            return
        numbers = [int(i) + 1 for i in self.features.index[mask.to_numpy()]]
        labels = self.labels()[mask.to_numpy()]
        rows = pd.DataFrame({"file": self.file, "feature": numbers, "field": column,
                             "reason": [reason.format(label=label) for label in labels]})
        self.rejected = pd.concat([self.rejected, rows], ignore_index=True)
        self.features = self.features[~mask.to_numpy()]

    def labels(self) -> pd.Series:
        """A name for each feature in messages: its name field if it has one, else 'feature N'."""
        for column in self.features.columns:
            if column.lower() in ("name", "alt_name") or column.upper().endswith("NM"):
                return self.features[column].astype(str)
        return pd.Series([f"feature {int(i) + 1}" for i in self.features.index],
                         index=self.features.index)


def read_layer_file(path: str | Path, kind: str = "area") -> gpd.GeoDataFrame:
    """Read a layer in any declared CRS, check it, repair it; return the usable features in
    WGS84 (features set aside are dropped; use `check_layer_file` to see them)."""
    return check_layer_file(path, kind).features


def check_layer_file(path: str | Path, kind: str, repair_invalid: bool = True) -> LayerFile:
    """Read, check and repair a layer file for a kind of layer; say what was set aside.
    With `repair_invalid` False invalid geometry is left as it is, for callers that refuse it
    (the PSPO register: an order's published map must be drawn right, not guessed at)."""
    path = Path(path)
    name = path.name
    if path.is_file():  # size, real type and (for zips) zip slip / zip bomb, before GDAL
        try:
            check_upload_path(path, UPLOAD_KINDS, refusal="cannot be read as a GeoJSON, KML, "
                              "GeoPackage or zipped Shapefile layer")
        except UploadRefused as exc:
            raise LayerError(str(exc)) from None
    target = f"zip://{path}" if path.suffix.lower() == ".zip" else str(path)
    try:
        frame = gpd.read_file(target)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise LayerError(f"{name}: cannot be read as GeoJSON, GeoPackage or zipped Shapefile "
                         f"({exc})") from None
    if frame.empty:
        raise LayerError(f"{name}: the file holds no features")
    if frame.crs is None:
        raise LayerError(f"{name}: the file does not declare its coordinate reference system;"
                         " re-save it with one (EPSG:27700 for eastings/northings, EPSG:4326 for"
                         " longitude/latitude)")
    frame = frame.reset_index(drop=True)
    result = LayerFile(file=name, kind=kind, features=frame)
    result.reject(frame.geometry.isna() | frame.geometry.is_empty, "{label}: no geometry")
    if result.features.empty:
        raise LayerError(f"{name}: every feature has an empty geometry")
    check_coordinates_match_crs(name, result.features)
    if repair_invalid:
        repair(result)
    wanted = ACCEPTED_TYPES.get(kind, POLYGONAL)
    needs = " or ".join(sorted({w.removeprefix("Multi") for w in wanted}))
    for bad in sorted(set(result.features.geometry.geom_type) - set(wanted)):
        result.reject(result.features.geometry.geom_type == bad,
                      f"{{label}}: a {kind} layer needs {needs} geometry; this feature is a "
                      f"{bad}")
    if result.features.empty:
        reasons = "; ".join(result.rejected["reason"].head(3))
        raise LayerError(f"{name}: no feature can be used as a {kind} layer ({reasons})")
    result.features = result.features.to_crs(WGS84)
    return result


def repair(layer: LayerFile) -> None:
    """Make invalid geometry valid (shapely's make_valid), keep only the parts of the type
    the layer needs, and set aside what is left empty."""
    features = layer.features
    invalid = ~features.geometry.is_valid
    if not invalid.any():
        return
    fixed = shapely.make_valid(features.geometry[invalid].to_numpy())
    wanted = ACCEPTED_TYPES.get(layer.kind, POLYGONAL)
    fixed = [_keep_types(g, wanted) for g in fixed]
    features.loc[invalid, "geometry"] = fixed
    layer.features = features
    layer.repaired = int(invalid.sum())
    layer.reject(features.geometry.isna() | features.geometry.is_empty,
                 "{label}: the geometry is invalid and nothing usable is left after repair "
                 "(for example a polygon that crosses itself down to a line)")


def _keep_types(geometry, wanted: tuple[str, ...]):
    """The parts of a repaired geometry of the wanted types (repair can add stray lines)."""
    if geometry.geom_type in wanted:
        return geometry
    parts = [p for p in getattr(geometry, "geoms", [geometry]) if p.geom_type in wanted]
    if not parts:
        return None
    merged = shapely.union_all(parts)
    return merged if merged.geom_type in wanted else None


def check_coordinates_match_crs(name: str, frame: gpd.GeoDataFrame) -> None:
    """Refuse a file whose coordinates do not fall where its declared CRS says they are."""
    minx, miny, maxx, maxy = frame.total_bounds
    if frame.crs.is_geographic:
        if max(abs(minx), abs(maxx)) > 180 or max(abs(miny), abs(maxy)) > 90:
            raise LayerError(
                f"{name}: the file says its coordinates are longitude/latitude ({frame.crs.name})"
                f" but they run from {minx:.0f},{miny:.0f} to {maxx:.0f},{maxy:.0f}, which look "
                "like British National Grid metres: re-save it declaring EPSG:27700")
        if -8.7 <= miny <= 1.9 and 49.8 <= maxx <= 60.9:
            raise LayerError(f"{name}: longitude and latitude look swapped (x runs {minx:.2f}"
                             f" to {maxx:.2f}, y {miny:.2f} to {maxy:.2f})")
    elif _looks_like_degrees(frame):
        raise LayerError(
            f"{name}: the file says its coordinates are in {frame.crs.name} (metres) but they run"
            f" from {minx:.4f},{miny:.4f} to {maxx:.4f},{maxy:.4f}, which look like longitude/"
            "latitude degrees: re-save it declaring EPSG:4326")
    bng = frame.to_crs(BNG).total_bounds
    if not (0 <= bng[0] and bng[2] <= 700_000 and 0 <= bng[1] and bng[3] <= 1_300_000):
        raise LayerError(f"{name}: the features do not fall in Great Britain in the CRS the "
                         f"file declares ({frame.crs.name}); check the file's CRS")


def _looks_like_degrees(frame: gpd.GeoDataFrame) -> bool:
    minx, miny, maxx, maxy = frame.total_bounds
    return -10 <= minx <= maxx <= 3 and 49 <= miny <= maxy <= 62
