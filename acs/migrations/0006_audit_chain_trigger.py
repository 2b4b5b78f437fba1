"""The append-only trigger lets exactly one update through: sealing an event onto the hash
chain (seq, prev_hash and hash set once, every other column unchanged)."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION acs_auditevent_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND OLD.seq IS NULL AND NEW.seq IS NOT NULL
       AND NEW.hash <> '' AND NEW.prev_hash <> ''
       AND NEW.id = OLD.id
       AND NEW.public_id = OLD.public_id
       AND NEW.created_at = OLD.created_at
       AND NEW.updated_at = OLD.updated_at
       AND NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id
       AND NEW.action = OLD.action
       AND NEW.target_type = OLD.target_type
       AND NEW.target_id = OLD.target_id
       AND NEW.ip_address IS NOT DISTINCT FROM OLD.ip_address
       AND NEW.reason = OLD.reason
       AND NEW.detail = OLD.detail
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'acs_auditevent is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""

REVERSE = """
CREATE OR REPLACE FUNCTION acs_auditevent_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'acs_auditevent is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("acs", "0005_audit_hash_chain")]

    operations = [migrations.RunSQL(FORWARD, REVERSE)]
