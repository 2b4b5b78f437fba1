"""The audit trail is append-only: the database itself refuses UPDATE and DELETE.

TRUNCATE stays possible for the owner (test teardown flushes tables with it).
"""

from django.db import migrations

FORWARD = """
CREATE FUNCTION acs_auditevent_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'acs_auditevent is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER acs_auditevent_append_only
    BEFORE UPDATE OR DELETE ON acs_auditevent
    FOR EACH ROW EXECUTE FUNCTION acs_auditevent_append_only();
"""

REVERSE = """
DROP TRIGGER IF EXISTS acs_auditevent_append_only ON acs_auditevent;
DROP FUNCTION IF EXISTS acs_auditevent_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("acs", "0002_auditevent")]

    operations = [migrations.RunSQL(FORWARD, REVERSE)]
