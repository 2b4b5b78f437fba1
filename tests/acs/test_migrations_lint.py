"""Zero-downtime migration rules (docs/operations.md, Upgrading without downtime), checked by
django-migration-linter over every migration of our apps: the SQL each one runs must not lock a
busy table for long, and must not break the previous version's code while both run during a
rolling deploy (a NOT NULL column the old code does not fill, a dropped or renamed column the
old code still reads).

Warnings count as errors. Migrations written before these rules (version 0.1.0, before any
city ran the system) are listed below with what they did; history is not rewritten. A new
migration that the linter flags fails this test: follow the rules, or, when a lock is truly
harmless (a table that is empty in production), add it here with the reason.
"""

from __future__ import annotations

import pytest
from django_migration_linter import MigrationLinter

APPS = ["acs", "cases", "responders", "resources"]

NOT_NULL = "adds a NOT NULL column with a one-time default that Django then drops"
INDEX = "builds an index inside the transaction (CREATE INDEX, not CONCURRENTLY)"
KNOWN = {
    ("acs", "0005_audit_hash_chain"): f"{NOT_NULL}; {INDEX}",
    ("cases", "0002_residents_encounters_consent"): f"{NOT_NULL}; {INDEX}",
    ("cases", "0004_admin_filter_indexes"): INDEX,
    ("cases", "0005_follow_ups"): INDEX,
    ("cases", "0009_follow_ups_from_referrals"): f"{NOT_NULL}; a unique constraint; {INDEX}",
    ("cases", "0014_merge_moves_referrals_follow_ups"): NOT_NULL,
    ("cases", "0016_call_address_index"): INDEX,
    ("cases", "0017_merge_values_and_admin_indexes"): f"{NOT_NULL}; {INDEX}",
    ("cases", "0018_part2_flags"): NOT_NULL,
    ("cases", "0019_addendum_pending_index"): INDEX,
    ("cases", "0022_encounter_living_situation"): NOT_NULL,
    ("cases", "0025_stored_copies_sweep_indexes"): INDEX,
    ("cases", "0027_resident_search_keys"): INDEX,
    ("cases", "0028_addendum_rejection"): f"{NOT_NULL}; {INDEX}",
    # The forms' new tables are empty when it runs; the follow-up rules' unique constraint is
    # made again to include risk_level, on a table of a few rows edited in the admin.
    ("cases", "0036_forms"): f"a unique constraint; {INDEX} (new tables; a tiny rules table)",
    # The board's change stamps (#20): the linter reads the reverse SQL too; the columns are
    # dropped only when migrating backwards, and forwards the indexes are built CONCURRENTLY.
    ("cases", "0040_board_change_stamps"): "drops columns, in its reverse SQL only",
    ("resources", "0002_directory_hsds"): f"{NOT_NULL}; {INDEX}",
    ("resources", "0004_location_address_fields_removed"): "drops columns in one step",
    ("resources", "0008_part2_flags"): NOT_NULL,
    ("resources", "0011_idempotencykey_remove_response_body"): "drops a column in one step",
    ("responders", "0003_unit_needs_confirmation"): NOT_NULL,
    ("responders", "0004_user_language"): NOT_NULL,
    ("responders", "0007_board_change_stamps"): "drops columns, in its reverse SQL only",
}


class RecordingLinter(MigrationLinter):
    """The linter, keeping each migration's verdict and messages instead of only printing."""

    def __init__(self, *args, **kwargs):
        self.verdicts: dict[tuple[str, str], str] = {}
        super().__init__(*args, **kwargs)

    def print_linting_msg(self, app_label, migration_name, msg, lint_result):
        self.verdicts[(app_label, migration_name)] = msg
        super().print_linting_msg(app_label, migration_name, msg, lint_result)


@pytest.mark.django_db
def test_every_migration_follows_the_zero_downtime_rules_or_is_a_known_older_one(capsys):
    linter = RecordingLinter(None, include_apps=APPS, no_cache=True, all_warnings_as_errors=True)
    linter.lint_all_migrations()
    output = capsys.readouterr().out

    linted = {key for key in linter.verdicts if key[0] in APPS}
    assert len(linted) > 50, "the linter looked at every migration of our apps"
    flagged = {key for key in linted if linter.verdicts[key].startswith("ERR")}
    new = flagged - KNOWN.keys()
    assert not new, f"migrations that break the zero-downtime rules: {sorted(new)}\n{output}"
    # A listed migration the linter no longer flags (squashed, or the linter improved) leaves
    # the list, so that the list stays the truth.
    assert KNOWN.keys() <= flagged, sorted(KNOWN.keys() - flagged)
