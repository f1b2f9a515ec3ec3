"""What needs doing in the registers, as alerts for the Overview page and `hotspots overview`:
PSPOs expiring, overdue for review or lately expired (registers.pspo), and water-safety
equipment needing attention, not yet checked this month or missed last month
(registers.checks).
"""

from __future__ import annotations

from datetime import date, datetime, time

import pandas as pd
from sqlalchemy import Engine

from core.months import shift_month
from core.words import day_in_words
from registers.checks import due_report
from registers.pspo import EXPIRY_WARNING_DAYS, list_orders

SEVERITIES = ("high", "medium", "low")
ALERT_COLUMNS = ["kind", "severity", "message", "subject", "example"]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def overview_alerts(engine: Engine, area_code: str | None, today: date | None = None
                    ) -> pd.DataFrame:
    """What needs doing in a borough (all boroughs if None) on a day: PSPOs expiring within 90
    days, overdue for review or expired in the last 90 days; equipment needing attention, not
    yet checked this month or missed last month. Columns: kind, severity (high, medium, low),
    message, subject, example; most severe first."""
    today = today or date.today()
    alerts = _pspo_alerts(engine, area_code, today) + _equipment_alerts(engine, area_code, today)
    frame = pd.DataFrame(alerts, columns=ALERT_COLUMNS)
    rank = frame["severity"].map({s: i for i, s in enumerate(SEVERITIES)})
    return (frame.assign(_rank=rank).sort_values("_rank", kind="stable")
            .drop(columns="_rank").reset_index(drop=True))


def _pspo_alerts(engine: Engine, area_code: str | None, today: date) -> list[dict]:
    alerts = []
    for order in list_orders(engine, area_code, today).itertuples():
        name = f"{order.name} ({order.reference})"
        base = {"subject": order.reference, "example": bool(order.example)}
        days = int(order.days_to_expiry)
        if order.status == "in force" and days <= EXPIRY_WARNING_DAYS:
            alerts.append(base | {
                "kind": "PSPO expiring", "severity": "high" if days <= 30 else "medium",
                "message": f"PSPO {name} expires in {_plural(days, 'day')}, on "
                           f"{day_in_words(order.expires_on)}: consult on extending it now, or "
                           "let it lapse."})
        if order.status == "in force" and order.next_review and today > order.next_review:
            late = (today - order.next_review).days
            alerts.append(base | {
                "kind": "PSPO review overdue", "severity": "medium",
                "message": f"PSPO {name} is overdue for review by {_plural(late, 'day')} (it "
                           f"was due on {day_in_words(order.next_review)}): put it on the next JAG "
                           "agenda."})
        if order.status == "expired" and -days <= EXPIRY_WARNING_DAYS:
            alerts.append(base | {
                "kind": "PSPO expired", "severity": "high",
                "message": f"PSPO {name} expired on {day_in_words(order.expires_on)}, "
                           f"{_plural(-days, 'day')} ago: it can no longer be enforced. Make a "
                           "new order if it is still needed, or take its signs down."})
    return alerts


def _equipment_alerts(engine: Engine, area_code: str | None, today: date) -> list[dict]:
    now = datetime.combine(today, time(23, 59, 59))
    this_month = today.strftime("%Y-%m")
    report = due_report(engine, this_month, area_code, now)
    alerts = []
    for item in report[report["state"] == "attention"].itertuples():
        checked = pd.Timestamp(item.last_checked_at)
        action = {"reported": ", reported for repair"}.get(item.last_action, "")
        alerts.append({
            "kind": "Equipment needs attention", "severity": "high",
            "subject": item.asset_id, "example": bool(item.example),
            "message": f"{item.asset_id} ({item.kind_label}, {item.site}): "
                       f"{str(item.last_outcome_label).lower()} at its last check on "
                       f"{day_in_words(checked.date())} by {item.last_checked_by}{action}; it "
                       "needs attention."})
    last_month = shift_month(this_month, -1)
    earlier = due_report(engine, last_month, area_code, now)
    for state, frame, month, severity in (
            ("due", report, this_month, "low"), ("missed", earlier, last_month, "medium")):
        items = frame[frame["needs_check"]]  # needing attention or not, each is due a check
        if items.empty:
            continue
        due = int((~pd.to_datetime(frame["retired_on"]).lt(
            pd.Timestamp(shift_month(month, 1) + "-01"))).sum())
        label = date.fromisoformat(month + "-01").strftime("%B %Y")
        ids = items["asset_id"].tolist()
        listed = ", ".join(ids[:10]) + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")
        what = (f"not yet checked this month ({label})" if state == "due"
                else f"not checked last month ({label})")
        alerts.append({
            "kind": "Equipment not yet checked" if state == "due"
            else "Equipment missed last month", "severity": severity,
            "subject": "; ".join(ids), "example": bool(items["example"].all()),
            "message": f"{len(ids)} of {due} items {what}: {listed}."})
    return alerts
