"""Load the EXAMPLE registers bundled in data/sample/registers/ (see its PROVENANCE entry).

They go in through the same functions as a council's own files (equipment and checks
imports, `add_order`), flagged `example`, so the app and the map say they are examples.
Loading twice adds nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

import shapely.geometry
from sqlalchemy import Engine, select

from registers.imports import import_checks, import_equipment
from registers.pspo import (
    Condition,
    add_order,
    extend_order,
    find_order_id,
    review_order,
)
from store.models import PspoOrder

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "sample" / "registers"
EXAMPLE_USER = "bundled example data"


def seed_example_registers(engine: Engine) -> dict:
    """Example PSPOs, equipment and checks, once; returns how many of each were added."""
    added = {"pspo orders": 0}
    orders = json.loads((EXAMPLES / "example_pspos.geojson").read_text(encoding="utf-8"))
    table = PspoOrder.__table__
    for feature in orders["features"]:
        spec = feature["properties"]
        with engine.connect() as conn:
            if conn.execute(select(table.c.id).where(table.c.reference == spec["reference"])
                            ).first():
                continue
        conditions = [Condition.checked("prohibition", *c) for c in spec["prohibits"]] + \
            [Condition.checked("requirement", *c) for c in spec["requires"]]
        add_order(engine, area=spec["area"], reference=spec["reference"], name=spec["name"],
                  geometry=shapely.geometry.shape(feature["geometry"]),
                  area_source="example_pspos.geojson (EXAMPLE stand-in outline)",
                  made_on=spec["made_on"], expires_on=spec["expires_on"],
                  conditions=conditions, review_every_days=spec["review_every_days"],
                  published_url=spec["published_url"],
                  consultation_notes=spec["consultation_notes"], recorded_by=EXAMPLE_USER,
                  example=True)
        order_id = find_order_id(engine, spec["reference"])
        for kind, on, expires, notes in spec["events"]:
            if kind == "extended":
                extend_order(engine, order_id, on=on, expires_on=expires, notes=notes,
                             recorded_by=EXAMPLE_USER)
            elif kind == "reviewed":
                review_order(engine, order_id, on=on, notes=notes, recorded_by=EXAMPLE_USER)
        added["pspo orders"] += 1
    items = import_equipment(engine, EXAMPLES / "example_equipment.csv", EXAMPLE_USER,
                             example=True)
    checks = import_checks(engine, EXAMPLES / "example_checks.csv", EXAMPLE_USER)
    added["equipment items"] = len(items.accepted)
    added["checks"] = len(checks.accepted)
    return added
