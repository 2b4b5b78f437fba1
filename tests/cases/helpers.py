"""Test helpers that drive the real services, as CAD and the field app would."""

import uuid
from datetime import timedelta

from django.utils import timezone

from cases.models import Call
from cases.services import CallInput, call_event_record, call_upsert


def dispatched_call(unit, number=None, *, event="on_scene") -> Call:
    """A call whose `unit` is working it, created through the CAD services."""
    number = number or f"T-{uuid.uuid4().hex[:10]}"
    received = timezone.now() - timedelta(minutes=20)
    call_upsert(
        incident_number=number,
        data=CallInput(call_type="WELFARE", priority=3, source="911", received_at=received),
    )
    call_event_record(
        incident_number=number,
        event_id=uuid.uuid4(),
        type=event,
        at=received + timedelta(minutes=5),
        unit_call_sign=unit.call_sign,
        render=lambda call: {},
    )
    return Call.objects.get(incident_number=number)


def submitted_encounter(unit, author, **fields):
    """A submitted encounter of `unit` (the row written directly: only its state matters)."""
    from cases.models import Encounter

    now = timezone.now()
    return Encounter.objects.create(
        client_id=uuid.uuid4(),
        unit=unit,
        created_by=author,
        occurred_at=now,
        status="submitted",
        submitted_at=now,
        disposition="settled_by_contact",
        **fields,
    )


def logged_encounter(responder, unit, *, submit=False, residents=(), **data):
    """An encounter logged through the services, as the field app does (a draft unless
    `submit`); `data` overrides the fields."""
    from cases.services import encounter_create, encounter_submit

    encounter, _ = encounter_create(
        actor=responder,
        client_id=uuid.uuid4(),
        unit=unit,
        call=data.pop("call", None),
        data={"occurred_at": timezone.now(), "disposition": "settled_by_contact", **data},
        resident_ids=[r.public_id for r in residents],
    )
    return encounter_submit(actor=responder, encounter=encounter) if submit else encounter
