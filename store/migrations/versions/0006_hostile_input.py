"""hostile input: sign-in failures by name and source, asset ids unique in any case, council
rows keyed by content, checks keyed by content

- `sign_in_failures`: wrong passwords counted per (username as typed, source address) and per
  source, so a lock-out at one address cannot keep the owner out from another, a lock is not
  renewed by one more try, and an unknown name is treated exactly like a known one.
- A unique index on lower(asset_id): TL-77 and tl-77 can no longer both land, even when added
  at the same moment on PostgreSQL. Items already stored whose ids differ only in case are
  renamed first ("tl-77 (2)", with an audit entry), never deleted.
- Council log incidents get the key the importer now gives them (ingest.council_keys): their
  reference and day, or their content as stored; never the file's name. Rows stored twice
  under two file names keep both copies (numbered like identical rows of one file), and a
  third import of either file adds nothing.
- Equipment checks get the key of their content (registers.check_keys), so a check logged in
  the form before this revision is found by a spreadsheet import holding it. A check whose
  content is already stored under another check's key (stored twice before) keeps its key.
  The append-only trigger on checks is lifted for this one update and put back.

The key rules are frozen here (this file must give the same keys whatever the code becomes);
tests/test_hostile_input.py checks they equal the importers'.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 09:00:00
"""

from collections import defaultdict
from datetime import datetime
import hashlib

from alembic import op
import sqlalchemy as sa

from store.append_only import create_append_only_triggers


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

ACTOR = 'migration 0006'
BATCH = 5000


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == 'postgresql'
    op.create_table(
        'sign_in_failures',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('username', sa.String(length=200), nullable=False),
        sa.Column('source', sa.String(length=100), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('first_at', sa.DateTime(), nullable=False),
        sa.Column('last_at', sa.DateTime(), nullable=False),
        sa.Column('locked_until', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('username', 'source', name='uq_sign_in_failure'),
    )
    _rename_case_clashes()
    op.create_index('uq_equipment_asset_id_lower', 'equipment', [sa.text('lower(asset_id)')],
                    unique=True)
    _rekey_council_incidents()
    _rekey_checks(postgres)


def downgrade() -> None:
    """Drops the table and the index; keys stay as they are (both schemes are plain text)."""
    op.drop_index('uq_equipment_asset_id_lower', table_name='equipment')
    op.drop_table('sign_in_failures')


def _rename_case_clashes() -> None:
    """Give the second and later items of ids equal in any case a numbered id."""
    bind = op.get_bind()
    equipment = sa.table('equipment', sa.column('id', sa.Integer),
                         sa.column('asset_id', sa.String))
    audit = sa.table('audit_log', sa.column('at', sa.DateTime), sa.column('actor', sa.String),
                     sa.column('role', sa.String), sa.column('action', sa.String),
                     sa.column('entity', sa.String), sa.column('entity_id', sa.String),
                     sa.column('summary', sa.Text), sa.column('before', sa.JSON),
                     sa.column('after', sa.JSON))
    rows = bind.execute(sa.select(equipment.c.id, equipment.c.asset_id)
                        .order_by(equipment.c.id)).fetchall()
    taken = {asset.lower() for _, asset in rows}
    seen: set[str] = set()
    for item_id, asset in rows:
        if asset.lower() not in seen:
            seen.add(asset.lower())
            continue
        n = 2
        while True:
            suffix = f' ({n})'
            new = asset[:60 - len(suffix)] + suffix
            if new.lower() not in taken:
                break
            n += 1
        taken.add(new.lower())
        bind.execute(equipment.update().where(equipment.c.id == item_id).values(asset_id=new))
        bind.execute(audit.insert().values(
            at=datetime.now(), actor=ACTOR, role=None, action='renamed', entity='equipment',
            entity_id=new, before={'asset_id': asset}, after={'asset_id': new},
            summary=f'equipment {asset} renamed {new}: another item has the same asset id '
                    'in another case'))


def council_identity(row) -> str:
    """Frozen copy of ingest.council_keys.council_identity for one stored row."""
    if row.crime_id:
        return f'ref:{row.crime_id}|{row.occurred_at:%Y-%m-%d}'
    place = ''
    if row.located_by == 'exact coordinates':
        place = f'{row.lon:.6f},{row.lat:.6f}'
    elif row.located_by == 'exact coordinates (OS grid)':
        place = f'{row.easting:.1f},{row.northing:.1f}'
    return '|'.join([f'{row.occurred_at:%Y-%m-%dT%H:%M:%S}', row.category or '', place,
                     row.postcode or '', row.location or '', row.notes or ''])


def _rekey_council_incidents() -> None:
    bind = op.get_bind()
    incidents = sa.table(
        'incidents', sa.column('id', sa.Integer), sa.column('dedup_key', sa.String),
        sa.column('source', sa.String), sa.column('crime_id', sa.String),
        sa.column('occurred_at', sa.DateTime), sa.column('category', sa.String),
        sa.column('located_by', sa.String), sa.column('lon', sa.Float),
        sa.column('lat', sa.Float), sa.column('easting', sa.Float),
        sa.column('northing', sa.Float), sa.column('postcode', sa.String),
        sa.column('location', sa.Text), sa.column('notes', sa.Text))
    rows = bind.execute(sa.select(incidents).where(incidents.c.source == 'council log')
                        .order_by(incidents.c.id)).fetchall()
    if not rows:
        return
    occurrence: dict[str, int] = defaultdict(int)
    keys = []
    for row in rows:
        identity = council_identity(row)
        text = f'council|{identity}|{occurrence[identity]}'
        occurrence[identity] += 1
        keys.append({'row_id': row.id, 'key': hashlib.sha1(text.encode('utf-8')).hexdigest()})
    update = (incidents.update().where(incidents.c.id == sa.bindparam('row_id'))
              .values(dedup_key=sa.bindparam('key')))
    # through a temporary key first, so no new key can meet an old one on the way
    for start in range(0, len(keys), BATCH):
        bind.execute(update, [{'row_id': k['row_id'], 'key': f"m6:{k['row_id']}"}
                              for k in keys[start:start + BATCH]])
    for start in range(0, len(keys), BATCH):
        bind.execute(update, keys[start:start + BATCH])


def check_key(asset_id: str, checked_at: datetime, checked_by: str, outcome: str, action: str,
              notes: str | None) -> str:
    """Frozen copy of registers.check_keys.check_key."""
    parts = ['check', asset_id.strip().lower(), checked_at.isoformat(timespec='minutes'),
             checked_by.strip().lower(), outcome, action, notes or '']
    return hashlib.sha256('|'.join(parts).encode('utf-8')).hexdigest()


def correction_key(key: str, corrects: int) -> str:
    """Frozen copy of registers.check_keys.correction_key."""
    return hashlib.sha256(f'{key}|corrects|{corrects}'.encode()).hexdigest()


def _rekey_checks(postgres: bool) -> None:
    bind = op.get_bind()
    checks = sa.table('equipment_checks', sa.column('id', sa.Integer),
                      sa.column('equipment_id', sa.Integer),
                      sa.column('checked_at', sa.DateTime), sa.column('checked_by', sa.String),
                      sa.column('outcome', sa.String), sa.column('action', sa.String),
                      sa.column('notes', sa.Text), sa.column('corrects_id', sa.Integer),
                      sa.column('entry_key', sa.String))
    equipment = sa.table('equipment', sa.column('id', sa.Integer),
                         sa.column('asset_id', sa.String))
    rows = bind.execute(sa.select(checks, equipment.c.asset_id)
                        .join(equipment, equipment.c.id == checks.c.equipment_id)
                        .order_by(checks.c.id)).fetchall()
    used = {row.entry_key for row in rows}
    changes = []
    for row in rows:
        key = check_key(row.asset_id, row.checked_at, row.checked_by, row.outcome, row.action,
                        row.notes)
        if key == row.entry_key:
            continue
        if key in used and row.corrects_id is not None:
            key = correction_key(key, row.corrects_id)
        if key in used:
            continue  # stored twice before this revision: this copy keeps its key
        used.discard(row.entry_key)
        used.add(key)
        changes.append({'row_id': row.id, 'key': key})
    if not changes:
        return
    if postgres:
        op.execute('ALTER TABLE equipment_checks DISABLE TRIGGER equipment_checks_append_only')
    else:
        op.execute('DROP TRIGGER equipment_checks_no_update')
    update = (checks.update().where(checks.c.id == sa.bindparam('row_id'))
              .values(entry_key=sa.bindparam('key')))
    for start in range(0, len(changes), BATCH):
        bind.execute(update, changes[start:start + BATCH])
    if postgres:
        op.execute('ALTER TABLE equipment_checks ENABLE TRIGGER equipment_checks_append_only')
    else:  # as 0003 made it
        create_append_only_triggers(
            {'equipment_checks': ('UPDATE', 'log a correcting check instead')}, postgres)
