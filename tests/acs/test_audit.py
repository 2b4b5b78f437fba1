import pytest
from django.db import DatabaseError, transaction

from acs.audit import audit_record
from acs.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_the_audit_trail_cannot_be_changed_or_deleted(responder):
    event = audit_record(actor=responder, action="view", target=responder)

    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(reason="tampered")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()

    assert AuditEvent.objects.get(pk=event.pk).reason == ""
