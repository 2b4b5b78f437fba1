"""The audit trail's hash chain: sealed once, and any edit, removal or forgery is found."""

import itertools
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from acs.audit import audit_record
from acs.audit_chain import GENESIS, audit_seal, audit_verify
from acs.models import AuditEvent
from acs.tasks import seal_audit

pytestmark = pytest.mark.django_db
LATER = timedelta(seconds=10)


@pytest.fixture
def events(responder, case_manager):
    made = [
        audit_record(actor=responder, action="view", target=responder, detail={"n": n})
        for n in range(5)
    ]
    made.append(audit_record(actor=case_manager, action="export", target=responder, reason="CoC"))
    return made


def tamper(sql: str, params=()):
    """What an attacker with the database owner's rights could do: switch the trigger off."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no deferred checks pending
        cursor.execute("ALTER TABLE acs_auditevent DISABLE TRIGGER acs_auditevent_append_only")
        cursor.execute(sql, params)
        cursor.execute("ALTER TABLE acs_auditevent ENABLE TRIGGER acs_auditevent_append_only")


def test_sealing_chains_events_in_order_once(events):
    assert audit_seal(now=timezone.now()) == 0  # too fresh: a commit may still be on its way
    assert audit_seal(now=timezone.now() + LATER) == 6
    assert audit_seal(now=timezone.now() + LATER) == 0
    rows = list(AuditEvent.objects.order_by("seq"))
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5, 6]
    assert rows[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(rows))
    verdict = audit_verify()
    assert verdict.intact and verdict.sealed == 6 and verdict.unsealed == 0


def test_new_events_extend_the_chain(events, responder):
    audit_seal(now=timezone.now() + LATER)
    last = AuditEvent.objects.get(seq=6)
    audit_record(actor=responder, action="view", target=responder)
    assert audit_seal(now=timezone.now() + LATER) == 1
    assert AuditEvent.objects.get(seq=7).prev_hash == last.hash
    assert audit_verify().intact


def test_the_trigger_allows_sealing_only(events):
    audit_seal(now=timezone.now() + LATER)
    event = AuditEvent.objects.get(seq=1)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(hash="0" * 64)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(seq=None, hash="", prev_hash="")
    unsealed = audit_record(actor=None, action="view", target=event)
    with pytest.raises(DatabaseError), transaction.atomic():  # sealing must not edit content
        AuditEvent.objects.filter(pk=unsealed.pk).update(
            seq=99, hash="a" * 64, prev_hash="b" * 64, reason="slipped in"
        )


def test_an_edited_event_is_found(events):
    audit_seal(now=timezone.now() + LATER)
    tamper("UPDATE acs_auditevent SET reason = 'nothing to see' WHERE seq = 6")
    verdict = audit_verify()
    assert not verdict.intact and verdict.broken_at == 6
    assert "changed" in verdict.problem
    assert verdict.sealed == 5


def test_a_removed_event_is_found(events):
    audit_seal(now=timezone.now() + LATER)
    tamper("DELETE FROM acs_auditevent WHERE seq = 3")
    verdict = audit_verify()
    assert (verdict.intact, verdict.broken_at) == (False, 3)
    assert "gap" in verdict.problem


def test_a_rewritten_tail_is_found(events):
    """Re-hashing an edited event is not enough: the next one no longer links to it."""
    audit_seal(now=timezone.now() + LATER)
    from acs.audit_chain import FIELDS, chain_hash

    tamper("UPDATE acs_auditevent SET reason = 'forged' WHERE seq = 2")
    row = AuditEvent.objects.filter(seq=2).values(*FIELDS, "prev_hash").get()
    forged = chain_hash(row["prev_hash"], row, 2)
    tamper("UPDATE acs_auditevent SET hash = %s WHERE seq = 2", [forged])
    verdict = audit_verify()
    assert (verdict.broken_at, verdict.problem) == (3, "does not link to the event before it")


def test_the_command_reports_and_fails_on_a_broken_chain(events, capsys):
    call_command("audit_verify")  # nothing sealed yet: intact, six waiting
    assert "6 not sealed yet" in capsys.readouterr().out
    with pytest.raises(CommandError, match="BROKEN at event #1"):
        audit_seal(now=timezone.now() + LATER)
        tamper("UPDATE acs_auditevent SET action = 'view', reason = 'x' WHERE seq = 1")
        call_command("audit_verify")


def test_the_periodic_task_seals_in_batches(events, monkeypatch):
    monkeypatch.setattr("acs.audit_chain.SETTLE", timedelta(0))
    monkeypatch.setattr("acs.audit_chain.CHUNK", 4)
    assert seal_audit() == 6
    assert audit_verify().sealed == 6
