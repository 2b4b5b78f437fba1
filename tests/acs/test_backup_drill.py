"""The restore drill: `manage.py backup` (pg_dump, custom format), then `manage.py restore` into
a scratch database, which ends with `audit_verify` on the restored copy. It passes on an intact
trail and fails, naming the event, when a sealed audit row was edited before the backup.
Real PostgreSQL and PostgreSQL's own tools; the scratch databases are dropped afterwards."""

from __future__ import annotations

import uuid
from datetime import timedelta

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from psycopg import sql

from acs.audit import audit_record
from acs.audit_chain import audit_seal
from acs.models import AuditEvent
from tests.acs.test_audit_chain import tamper

# The dump is read by pg_dump in a process of its own: the rows must be committed.
pytestmark = pytest.mark.django_db(transaction=True)


def server_url(name: str) -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    host = s.get("HOST") or "localhost"
    if host.startswith("/"):  # the embedded server's socket folder (and its port)
        port = f"&port={s['PORT']}" if s.get("PORT") else ""
        return f"postgres://{s['USER']}{password}@/{name}?host={host}{port}"
    return f"postgres://{s['USER']}{password}@{host}:{s.get('PORT') or 5432}/{name}"


@pytest.fixture
def scratch():
    """Names for scratch databases, dropped after the test."""
    names = []

    def make() -> str:
        names.append(f"acs_drill_{uuid.uuid4().hex[:10]}")
        return names[-1]

    yield make
    s = connection.settings_dict
    with psycopg.connect(
        host=s.get("HOST") or None,
        port=s.get("PORT") or None,
        user=s.get("USER") or None,
        password=s.get("PASSWORD") or None,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        for name in names:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture
def sealed_trail(responder, case_manager):
    for n in range(4):
        audit_record(actor=responder, action="view", target=responder, detail={"n": n})
    audit_record(actor=case_manager, action="export", target=responder, reason="CoC report")
    assert audit_seal(now=timezone.now() + timedelta(seconds=10)) == 5
    return AuditEvent.objects.get(seq=5)


def test_the_drill_restores_a_backup_and_the_copys_audit_chain_verifies(
    sealed_trail, scratch, tmp_path, capsys
):
    dump = tmp_path / "backups" / "acs.dump"
    call_command("backup", str(dump))
    backup_out = capsys.readouterr().out
    assert dump.exists() and dump.stat().st_mode & 0o077 == 0
    assert f"seq 5, hash {sealed_trail.hash}" in backup_out

    target = scratch()
    call_command("restore", str(dump), into=server_url(target), create=True)

    out = capsys.readouterr().out
    assert f"Restored into {target}." in out
    assert "Audit chain intact: 5 event(s) checked" in out
    assert "reaches the backup's last sealed event (seq 5)" in out
    with psycopg.connect(server_url(target)) as copy:
        restored = copy.execute("SELECT seq, hash FROM acs_auditevent ORDER BY seq").fetchall()
    assert restored[-1] == (5, sealed_trail.hash)


def test_the_drill_fails_on_a_backup_whose_audit_trail_was_edited(sealed_trail, scratch, tmp_path):
    tamper("UPDATE acs_auditevent SET reason = 'nothing to see' WHERE seq = 5")
    dump = tmp_path / "acs.dump"
    call_command("backup", str(dump))

    with pytest.raises(CommandError) as failed:
        call_command("restore", str(dump), into=server_url(scratch()), create=True)

    assert "does not verify" in str(failed.value)
    assert "BROKEN at event #5" in str(failed.value)


def test_the_drill_fails_on_a_copy_whose_trail_ends_before_the_backups_last_event(
    sealed_trail, responder, scratch, tmp_path
):
    # An older dump (or one whose newest events were cut) still verifies from the start; the
    # .head written beside the newer backup says where the chain must reach.
    older = tmp_path / "older.dump"
    call_command("backup", str(older))
    audit_record(actor=responder, action="view", target=responder)
    audit_seal(now=timezone.now() + timedelta(seconds=10))
    newer = tmp_path / "newer.dump"
    call_command("backup", str(newer))
    (tmp_path / "older.dump.head").write_text((tmp_path / "newer.dump.head").read_text())

    with pytest.raises(CommandError, match=r"does not reach the backup's last sealed event"):
        call_command("restore", str(older), into=server_url(scratch()), create=True)


def test_restore_refuses_the_running_database(tmp_path):
    dump = tmp_path / "acs.dump"
    dump.write_bytes(b"never read")

    with pytest.raises(CommandError, match="runs on"):
        call_command("restore", str(dump), into=server_url(connection.settings_dict["NAME"]))


def test_restore_into_a_database_that_exists_already_is_refused_with_create(scratch, tmp_path):
    dump = tmp_path / "acs.dump"
    dump.write_bytes(b"never read")
    target = scratch()
    with psycopg.connect(server_url("postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(target)))

    with pytest.raises(CommandError, match="exists already"):
        call_command("restore", str(dump), into=server_url(target), create=True)
