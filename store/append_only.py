"""Database triggers that keep history append-only, on PostgreSQL and SQLite alike; the
migrations that add registers call this."""

from __future__ import annotations

from alembic import op

# PostgreSQL's trigger function, made once (by migration 0003); its argument says what to do
# instead of the refused statement.
REFUSE_FUNCTION = (
    "CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "RAISE EXCEPTION '% of % refused: %', TG_OP, TG_TABLE_NAME, TG_ARGV[0]; END $$")


def create_append_only_triggers(rules: dict[str, tuple[str, str]], postgres: bool) -> None:
    """For each table, refuse the statements named ('UPDATE OR DELETE' or 'DELETE') with a
    message saying what to do instead: `rules` maps table -> (statements, instead)."""
    for table, (statements, instead) in rules.items():
        if postgres:
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE {statements} ON {table} "
                       f"FOR EACH ROW EXECUTE FUNCTION refuse_change('{instead}')")
            continue
        for statement in statements.split(' OR '):
            op.execute(f"CREATE TRIGGER {table}_no_{statement.lower()} BEFORE {statement} ON "
                       f"{table} BEGIN SELECT RAISE(ABORT, '{statement} of {table} refused: "
                       f"{instead}'); END")
