"""The operations board's change stamps (docs/architecture.md, "The operations board"):
every write to a unit or a position records the writing transaction's id (`board_xid`) and a
number from `board_change_seq` (`board_seq`), set by a trigger, so /board/data can send only
what changed since the board's cursor without missing a row committed late. The columns are
the database's, not the models' (Django never writes them); cases 0040 stamps calls and
assignments with the same function."""

from django.db import migrations

FUNCTION = """
CREATE SEQUENCE IF NOT EXISTS board_change_seq;
CREATE OR REPLACE FUNCTION board_change_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- The writing transaction's id (assigned now if need be): a board's cursor has not
    -- seen it if it was in progress or not yet begun at the cursor's snapshot. The number
    -- orders one transaction's own writes (a board read inside a transaction that wrote).
    NEW.board_xid := pg_current_xact_id()::text::bigint;
    NEW.board_seq := nextval('board_change_seq');
    RETURN NEW;
END
$$;
"""


def stamp(table: str) -> list[migrations.RunSQL]:
    """The columns, their index (built CONCURRENTLY: the table stays writable during a rolling
    deploy, docs/operations.md) and the trigger, each its own statement outside a transaction."""
    return [
        migrations.RunSQL(
            f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS board_xid bigint,"
            " ADD COLUMN IF NOT EXISTS board_seq bigint",
            f"ALTER TABLE {table} DROP COLUMN IF EXISTS board_xid, DROP COLUMN IF EXISTS board_seq",
        ),
        migrations.RunSQL(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {table}_board_xid_idx ON {table} (board_xid)",
            f"DROP INDEX CONCURRENTLY IF EXISTS {table}_board_xid_idx",
        ),
        migrations.RunSQL(
            f"CREATE TRIGGER {table}_board_change BEFORE INSERT OR UPDATE ON {table}"
            " FOR EACH ROW EXECUTE FUNCTION board_change_stamp()",
            f"DROP TRIGGER IF EXISTS {table}_board_change ON {table}",
        ),
    ]


class Migration(migrations.Migration):
    dependencies = [
        ("responders", "0006_user_credentials"),
    ]

    atomic = False

    operations = [
        migrations.RunSQL(
            FUNCTION,
            "DROP FUNCTION IF EXISTS board_change_stamp();"
            " DROP SEQUENCE IF EXISTS board_change_seq;",
        ),
        *stamp("responders_unit"),
        *stamp("responders_unitposition"),
    ]
