"""The registers out of the product: orders and equipment as GeoJSON (WGS84) or CSV, the check
history as CSV for audit and insurance. CSV text cells are guarded against spreadsheet
formulas; text is otherwise exported exactly as it was entered."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
from sqlalchemy import Engine

from core.safe_text import json_value, safe_csv
from registers.checks import check_history
from registers.pspo import conditions_text

ORDER_FIELDS = ["reference", "name", "area", "status", "made_on", "expires_on",
                "discharged_on", "next_review", "review_every_days", "alerts", "conditions",
                "published_url", "consultation_notes", "publication_notes", "area_source",
                "example"]
EQUIPMENT_FIELDS = ["asset_id", "kind", "kind_label", "site", "river", "area_code", "lat",
                    "lon", "easting", "northing", "grid_reference", "installed_on", "owner",
                    "notes", "active", "retired_on", "retired_reason", "example"]
HISTORY_FIELDS = ["check_id", "asset_id", "kind", "site", "river", "checked_at", "checked_by",
                  "outcome", "outcome_label", "action", "notes", "counts", "corrects_check",
                  "superseded_by_check", "has_photo", "source", "recorded_at", "recorded_by"]


def orders_table(engine: Engine, orders: gpd.GeoDataFrame) -> pd.DataFrame:
    """The register's orders as the table users read (conditions on one line each)."""
    table = orders.copy()
    table["conditions"] = table["id"].map(conditions_text(engine, table["id"].tolist()))
    return pd.DataFrame(table[ORDER_FIELDS])


def orders_geojson(engine: Engine, orders: gpd.GeoDataFrame) -> str:
    """Orders with their areas, for publishing with the order or opening in a GIS."""
    table = orders_table(engine, orders)
    features = [{"type": "Feature",
                 "properties": {k: json_value(v) for k, v in row.items()},
                 "geometry": geometry.__geo_interface__}
                for row, geometry in zip(table.to_dict("records"), orders.geometry,
                                         strict=True)]
    return json.dumps({"type": "FeatureCollection", "features": features})


def orders_csv(engine: Engine, orders: gpd.GeoDataFrame) -> str:
    """Orders as CSV, outlines as WKT (WGS84)."""
    table = orders_table(engine, orders)
    table["area_wkt"] = orders.geometry.to_wkt(rounding_precision=6).to_numpy()
    return safe_csv(table)


def equipment_geojson(items: gpd.GeoDataFrame) -> str:
    """Equipment points with every register field."""
    fields = [f for f in EQUIPMENT_FIELDS if f in items.columns]
    features = [{"type": "Feature", "properties": {k: json_value(row[k]) for k in fields},
                 "geometry": row.geometry.__geo_interface__} for _, row in items.iterrows()]
    return json.dumps({"type": "FeatureCollection", "features": features})


def equipment_csv(items: gpd.GeoDataFrame) -> str:
    """The equipment register as CSV, in the columns `equipment import` reads back."""
    return safe_csv(pd.DataFrame(items[[f for f in EQUIPMENT_FIELDS if f in items.columns]]))


def history_csv(engine: Engine, asset_id: str | None = None, month_from: str | None = None,
                month_to: str | None = None) -> tuple[str, int]:
    """Every check (superseded ones too, marked) as CSV, and how many rows it holds."""
    history = check_history(engine, asset_id, month_from, month_to)
    return safe_csv(history[HISTORY_FIELDS]), len(history)


PROBLEM_FIELDS = ["id", "name", "area", "status", "theme", "adopted_on", "closed_on", "origin",
                  "objective", "scanning", "analysis", "response", "assessment", "open_actions",
                  "overdue_actions", "next_due", "area_ha", "example", "created_by"]
ACTION_FIELDS = ["action_id", "problem", "action", "lead", "measure", "due_on", "status",
                 "overdue", "closed_on", "update_note", "created_by"]


def problems_csv(problems: gpd.GeoDataFrame) -> str:
    """The problem-location register as CSV, outlines as WKT (WGS84)."""
    table = pd.DataFrame(problems[PROBLEM_FIELDS])
    table["area_wkt"] = problems.geometry.to_wkt(rounding_precision=6).to_numpy()
    return safe_csv(table)


def actions_csv(actions: pd.DataFrame) -> str:
    """Partner actions as CSV: the JAG's "key points for delivery" table."""
    return safe_csv(pd.DataFrame(actions[ACTION_FIELDS]))
