"""Calls and unit assignments carry the operations board's change stamps, set by
responders 0007's trigger function (docs/architecture.md, "The operations board")."""

from django.db import migrations

TABLES = ("cases_call", "cases_unitassignment")


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
        ("cases", "0039_billing_export_kind"),
        ("responders", "0007_board_change_stamps"),
    ]

    atomic = False

    operations = [op for table in TABLES for op in stamp(table)]
