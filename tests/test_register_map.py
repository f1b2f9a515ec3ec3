"""The equipment layer of the map, as the Water safety page and the hotspot map draw it from
the real due report: one circle per item in its state's colour, every text escaped, no asset
fetched from the internet."""

from __future__ import annotations

import re
from datetime import datetime

import geopandas as gpd
import pandas as pd

from geo.areas import resolve_area
from geo.layers import load_layer
from present.assets import external_assets
from present.map import build_map
from registers.checks import due_report, log_check
from registers.equipment import add_item

HOSTILE = '<img src=x onerror="alert(1)">'
NOW = datetime(2026, 11, 28, 12, 0)


def test_equipment_is_drawn_by_state_with_text_escaped(register_db) -> None:
    engine = register_db.engine
    add_item(engine, {"asset_id": "MAP-1", "kind": "throw-ring", "site": f"Bridge {HOSTILE}",
                      "latitude": "51.4318", "longitude": "-0.5131"}, "test", now=NOW)
    add_item(engine, {"asset_id": "MAP-2", "kind": "throwline", "site": "Lammas Park",
                      "grid_reference": "TQ 030 712"}, "test", now=NOW)
    log_check(engine, asset_id="MAP-1", checked_at="2026-11-20 10:00", checked_by="A",
              outcome="vandalised", notes=HOSTILE, recorded_by="test", now=NOW)
    due = due_report(engine, "2026-11", now=NOW)
    due = due[due["asset_id"].isin(["MAP-1", "MAP-2"])]
    place = resolve_area(engine, "Spelthorne")
    fmap = build_map(gpd.GeoSeries([place.boundary], crs=27700),
                     load_layer(engine, "ward", place.code), load_layer(engine, "water"),
                     pd.DataFrame(columns=["lat", "lon"]), gpd.GeoDataFrame(geometry=[], crs=4326),
                     equipment=due)
    html = fmap.get_root().render()
    assert "Water-safety equipment" in html
    assert HOSTILE not in html and "lt;img src=x" in html  # &lt; (JSON-encoded by folium)
    # each state is a symbol, a shape and a colour (not colour alone), named in the key
    assert '"className": "csp-kit csp-kit-attention"' in html  # MAP-1, vandalised
    assert '"className": "csp-kit csp-kit-due"' in html  # MAP-2, not yet checked
    assert "Water-safety item: Needs attention (diamond)" in html
    assert "Water-safety item: Not yet checked this month (square)" in html
    assert "MAP-1: Needs attention" in html and "MAP-2: Not yet checked this month" in html
    assert external_assets() == []
    assert not re.search(r"<(?:script|link)\b[^>]*\b(?:src|href)=[\"']?(?:https?:)?//", html)
