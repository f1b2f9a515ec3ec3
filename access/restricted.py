"""Restricted categories: which crime types and council categories viewers and officers may
not see as points. `hidden` ones they never see; `ward` ones (police.uk's "Violence and
sexual offences" by default) they see only as counts per ward or larger area.

The rule is applied where incidents are read (store.incidents), so every map payload, export
and briefing pack built for them leaves the incidents out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import ColumnElement, Engine, and_, false, func, not_, or_, select

from access.audit import record
from access.roles import MANAGE_RESTRICTED, SEE_RESTRICTED, Principal
from access.scope import current_principal, require
from store.db import write_transaction
from store.models import Incident, RestrictedCategory

RULES = {"hidden": "never shown", "ward": "shown only as counts per ward"}
MATCHES = ("exact", "contains")


@dataclass(frozen=True)
class Rule:
    """One restriction: `pattern` (lower case) matched `exact`ly or as `contains`."""

    pattern: str
    match: str
    rule: str

    def applies(self, category: str) -> bool:
        """Whether this rule names `category`."""
        text = category.strip().lower()
        return text == self.pattern if self.match == "exact" else self.pattern in text


def rule_for(category: str, rules: tuple[Rule, ...]) -> str | None:
    """'hidden', 'ward' or None: an exact rule wins over words it contains; among words,
    hidden wins."""
    for rule in rules:
        if rule.match == "exact" and rule.applies(category):
            return rule.rule
    found = {rule.rule for rule in rules if rule.match == "contains" and rule.applies(category)}
    return "hidden" if "hidden" in found else ("ward" if found else None)


@dataclass(frozen=True)
class Visibility:
    """What one principal may see of the incidents: everything, or everything but the
    restricted categories (points) and the hidden ones (counts)."""

    sees_all: bool
    rules: tuple[Rule, ...] = ()

    @property
    def key(self) -> str:
        """A short value for cache keys: results differ between visibilities."""
        if self.sees_all:
            return "all"
        return "restricted:" + ";".join(f"{r.match}:{r.rule}:{r.pattern}" for r in self.rules)

    def _condition(self, column, rules: tuple[Rule, ...], exact_over: tuple[Rule, ...] = ()
                   ) -> ColumnElement[bool]:
        lowered = func.lower(func.trim(column))
        exact = [r.pattern for r in rules if r.match == "exact"]
        words = [lowered.contains(r.pattern, autoescape=True) for r in rules
                 if r.match == "contains"]
        other_exact = [r.pattern for r in exact_over if r.match == "exact"]
        terms = []
        if exact:
            terms.append(lowered.in_(exact))
        if words:
            contained = or_(*words)
            terms.append(and_(lowered.not_in(other_exact), contained) if other_exact
                         else contained)
        return or_(*terms) if terms else false()

    def point_filter(self, column) -> ColumnElement[bool] | None:
        """A WHERE clause keeping the incidents this principal may see as points (None: all)."""
        if self.sees_all or not self.rules:
            return None
        return not_(self._condition(column, self.rules))

    def count_filter(self, column) -> ColumnElement[bool] | None:
        """A WHERE clause keeping the incidents this principal may see counted by ward or
        larger area (None: all): everything but the hidden categories."""
        hidden = tuple(r for r in self.rules if r.rule == "hidden")
        if self.sees_all or not hidden:
            return None
        others = tuple(r for r in self.rules if r.rule != "hidden")
        return not_(self._condition(column, hidden, exact_over=others))

    def restriction(self, category: str) -> str | None:
        """'hidden', 'ward' or None for this principal (None for everything when it sees all)."""
        return None if self.sees_all else rule_for(category, self.rules)


@dataclass(frozen=True)
class Withheld:
    """What is left out for one principal, to say so wherever it shows counts or points:
    the hidden rules (by the words or names they match) and the categories it sees only as
    counts per ward or coarser, with their counts in the selection where those were given."""

    role: str
    hidden: tuple[Rule, ...] = ()
    ward_only: tuple[tuple[str, int | None], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.hidden or self.ward_only)

    @property
    def names(self) -> list[str]:
        """Short names of what is left out, for a legend or a column."""
        return [name for name, _ in self.ward_only] + [_rule_text(r) for r in self.hidden]

    def sentence(self, where: str = "here") -> str:
        """One plain sentence, e.g. 'Left out here for your role (viewer): Violence and sexual
        offences (2,391 in this selection; shown only as counts per ward, on the JAG report)
        and any category whose name contains "domestic".'"""
        if not self:
            return ""
        parts = []
        for name, count in self.ward_only:
            counted = "" if count is None else f"{count:,} in this selection; "
            parts.append(f"{name} ({counted}shown to your role only as counts per ward, on "
                         "the JAG report and the Overview)")
        if self.hidden:
            parts.append(" and ".join(_rule_text(r) for r in self.hidden)
                         + " (not shown to your role)")
        listed = "; ".join(parts)
        return f"Left out {where} for your role ({self.role}): {listed}."


def _rule_text(rule: Rule) -> str:
    return f"'{rule.pattern}'" if rule.match == "exact" else \
        f"any category whose name contains '{rule.pattern}'"


def withheld(engine: Engine, counts: dict[str, int] | None = None,
             principal: Principal | None = None) -> Withheld:
    """What `principal` (default: the one acting) does not see as points. The ward-only
    categories are named as they appear in the data (the principal may know them: it sees
    their counts); `counts` gives their counts in a selection, where the caller has them."""
    principal = principal or current_principal()
    seen = visibility(engine, principal)
    if seen.sees_all or not seen.rules:
        return Withheld(principal.role or "")
    t = Incident.__table__
    query = select(t.c.category).distinct().order_by(t.c.category)
    allowed = seen.count_filter(t.c.category)
    if allowed is not None:
        query = query.where(allowed)
    with engine.connect() as conn:
        present = [row[0] for row in conn.execute(query)]
    ward_only = tuple((name, (counts or {}).get(name) if counts is not None else None)
                      for name in present if seen.restriction(name) == "ward")
    hidden = tuple(r for r in seen.rules if r.rule == "hidden")
    return Withheld(principal.role or "", hidden, ward_only)


def restriction_rules(engine: Engine) -> tuple[Rule, ...]:
    """The stored rules, exact ones first."""
    t = RestrictedCategory.__table__
    with engine.connect() as conn:
        rows = conn.execute(select(t.c.pattern, t.c.match, t.c.rule)
                            .order_by(t.c.match.desc(), t.c.pattern)).all()
    return tuple(Rule(p, m, r) for p, m, r in rows)


def visibility(engine: Engine, principal: Principal | None = None) -> Visibility:
    """What `principal` (default: the one acting now) may see."""
    principal = principal or current_principal()
    if principal.can(SEE_RESTRICTED):
        return Visibility(True)
    return Visibility(False, restriction_rules(engine))


def list_restricted(engine: Engine) -> pd.DataFrame:
    """The rules with who added them and when."""
    t = RestrictedCategory.__table__
    with engine.connect() as conn:
        return pd.read_sql(select(t.c.pattern, t.c.match, t.c.rule, t.c.added_at, t.c.added_by)
                           .order_by(t.c.pattern), conn)


def add_restricted(engine: Engine, pattern: str, rule: str = "hidden",
                   match: str = "exact") -> bool:
    """Restrict a category (admin only); False when the same rule is already there."""
    principal = require(MANAGE_RESTRICTED)
    text = " ".join(str(pattern or "").split()).lower()
    if not text:
        raise ValueError("name the category (or the words it contains) to restrict")
    if rule not in RULES:
        raise ValueError(f"rule '{rule}' is not one of: {', '.join(RULES)}")
    if match not in MATCHES:
        raise ValueError(f"match '{match}' is not one of: {', '.join(MATCHES)}")
    t = RestrictedCategory.__table__
    with write_transaction(engine) as conn:
        old = conn.execute(select(t.c.match, t.c.rule).where(t.c.pattern == text)).first()
        new = {"pattern": text, "match": match, "rule": rule}
        if old is not None and (old.match, old.rule) == (match, rule):
            return False
        if old is None:
            conn.execute(t.insert().values(**new, added_at=datetime.now(),
                                           added_by=principal.username))
        else:
            conn.execute(t.update().where(t.c.pattern == text)
                         .values(match=match, rule=rule, added_at=datetime.now(),
                                 added_by=principal.username))
        record(conn, "restricted", "restricted category", text,
               before=dict(old._mapping, pattern=text) if old else None, after=new,
               summary=f"'{text}' ({match}) {RULES[rule]} to viewers and officers")
    return True


def remove_restricted(engine: Engine, pattern: str) -> bool:
    """Stop restricting a category (admin only); False when it was not restricted."""
    require(MANAGE_RESTRICTED)
    text = " ".join(str(pattern or "").split()).lower()
    t = RestrictedCategory.__table__
    with write_transaction(engine) as conn:
        old = conn.execute(select(t.c.pattern, t.c.match, t.c.rule)
                           .where(t.c.pattern == text)).first()
        if old is None:
            return False
        conn.execute(t.delete().where(t.c.pattern == text))
        record(conn, "unrestricted", "restricted category", text, before=dict(old._mapping),
               after=None, summary=f"'{text}' no longer restricted")
    return True
