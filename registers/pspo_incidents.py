"""Incidents inside a PSPO's area, by month and crime type, before and after it was made
(registers.place_incidents does the counting, shared with problem locations)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from registers.place_incidents import PlaceIncidents, place_incidents
from registers.pspo import get_order

__all__ = ["OrderIncidents", "order_incidents"]


@dataclass
class OrderIncidents(PlaceIncidents):
    """What happened inside one order's area: per month and type, and before against after."""

    reference: str = ""
    name: str = ""

    @property
    def made_month(self) -> str:
        """The month the order was made (counted in neither period)."""
        return self.start_month


def order_incidents(engine: Engine, order_id: int,
                    categories: list[str] | None = None) -> OrderIncidents:
    """Incidents inside the order's (current) area over every month loaded for its borough."""
    record = get_order(engine, order_id)
    order = record.order
    found = place_incidents(engine, order["area_code"], record.area, order["made_on"],
                            categories, started="the order was made", start_period="month made")
    return OrderIncidents(**vars(found), reference=order["reference"], name=order["name"])
