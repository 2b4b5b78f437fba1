"""The transparency dashboard's hand-made records (tests/cases/test_transparency*.py): March 2026 in
council district 3 (Albuquerque time), with a February encounter before it and a busier April for
figures large enough to publish; and the readers of the published figures."""

import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cases.models import (
    ContactAttempt,
    Encounter,
    EncounterResident,
    FollowUp,
    MetricRollup,
    UnitAssignment,
)
from cases.services.transparency import transparency_refresh
from resources.models import Referral, ReferralEvent
from tests.factories import CallFactory, ResidentFactory, ServiceFactory, UnitFactory

ABQ = ZoneInfo("America/Denver")
FEBRUARY, MARCH, APRIL = date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)
MAY, JUNE = date(2026, 5, 1), date(2026, 6, 1)
MIN = timedelta(minutes=1)


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=ABQ)


def call(received, *, district="3", source="911", call_type="WELFARE", **steps):
    """A call with its step times given as minutes after `received`."""
    times = {f"{step}_at": received + minutes * MIN for step, minutes in steps.items()}
    return CallFactory(
        received_at=received,
        status_changed_at=received,
        council_district=district,
        source=source,
        call_type=call_type,
        **times,
    )


def encounter(unit, user, *, call=None, occurred, residents=(), anonymous=0, **fields):
    row = Encounter.objects.create(
        client_id=uuid.uuid4(),
        call=call,
        unit=unit,
        created_by=user,
        status="submitted",
        occurred_at=occurred,
        submitted_at=occurred + timedelta(hours=1),
        anonymous_people=anonymous,
        disposition=fields.pop("disposition", "settled_by_contact"),
        **fields,
    )
    for resident in residents:
        EncounterResident.objects.create(encounter=row, resident=resident)
    return row


def referral(resident, enc, user, *, sent, status="sent", accepted=None, closed=None):
    service = ServiceFactory()
    row = Referral.objects.create(
        resident=resident,
        encounter=enc,
        service=service,
        organization=service.organization,
        status=status,
        outcome="enrolled" if status == "completed" else "",
        created_by=user,
        sent_at=sent,
        responded_at=accepted,
        closed_at=closed,
    )
    if accepted:
        ReferralEvent.objects.create(referral=row, from_status="sent", to_status="accepted")
        ReferralEvent.objects.filter(referral=row).update(created_at=accepted)
    return row


def follow_up(resident, enc, *, attempts=(), outcome="", referral_row=None):
    row = FollowUp.objects.create(
        resident=resident,
        encounter=enc,
        referral=referral_row,
        kind="phone",
        status="closed" if outcome else "open",
        outcome=outcome,
        closed_at=enc.occurred_at + timedelta(days=5) if outcome and enc else None,
        due_at=(enc.occurred_at if enc else at(3, 20, 9)) + timedelta(hours=48),
        window_ends_at=(enc.occurred_at if enc else at(3, 20, 9)) + timedelta(days=7),
    )
    for hours in attempts:
        ContactAttempt.objects.create(
            follow_up=row,
            at=enc.occurred_at + timedelta(hours=hours),
            channel="phone",
            outcome="reached",
            by=enc.created_by,
        )
    return row


@pytest.fixture
def records(responder, unit):
    """March 2026, district 3, counted by hand in the tests below."""
    other_unit = UnitFactory(call_sign="ACS-12", team=unit.team)
    r1, r2, r3 = ResidentFactory(), ResidentFactory(), ResidentFactory()
    # February: r2 is met for the first time (an encounter without a call).
    encounter(unit, responder, occurred=at(2, 10, 12), residents=[r2])

    c1 = call(at(3, 2, 10), dispatched=2, on_scene=12, cleared=42)
    e1 = encounter(unit, responder, call=c1, occurred=c1.on_scene_at, residents=[r1])
    # Two units: A is sent first (+4) but B, sent at +6, arrives first (+18).
    c2 = call(
        at(3, 2, 14),
        source="311",
        call_type="MNTL",
        dispatched=4,
        en_route=5,
        on_scene=18,
        transporting=50,
        cleared=80,
    )
    UnitAssignment.objects.create(
        call=c2,
        unit=unit,
        status="cleared",
        dispatched_at=c2.received_at + 4 * MIN,
        on_scene_at=c2.received_at + 20 * MIN,
        cleared_at=c2.received_at + 80 * MIN,
    )
    UnitAssignment.objects.create(
        call=c2,
        unit=other_unit,
        status="cleared",
        dispatched_at=c2.received_at + 6 * MIN,
        on_scene_at=c2.received_at + 18 * MIN,
        cleared_at=c2.received_at + 80 * MIN,
    )
    e2 = encounter(
        unit,
        responder,
        call=c2,
        occurred=c2.on_scene_at,
        residents=[r2, r3],
        disposition="transported",
        transport_destination="  unm   hospital ",
    )
    # 23:00 on 31 March in Albuquerque is 1 April in UTC: it belongs to March (and so does
    # its encounter, at 23:30).
    c3 = call(
        at(3, 31, 23),
        source="police_request",
        dispatched=6,
        on_scene=30,
        escalated=35,
        cleared=60,
    )
    e3 = encounter(  # nobody gave a name: no resident, two people
        unit,
        responder,
        call=c3,
        occurred=c3.on_scene_at,
        anonymous=2,
        disposition="escalated",
        police_requested=True,
    )
    call(at(3, 5, 9), call_type="INTOX", dispatched=3, cancelled=8)  # cancelled on the way
    call(at(3, 6, 9), source="311", returned_to_police=40)  # no unit was free
    c6 = call(at(3, 7, 12), source="self_initiated", call_type="VAG", on_scene=0, cleared=20)
    e4 = encounter(
        unit, responder, call=c6, occurred=c6.on_scene_at, residents=[r1], disposition="referred"
    )
    call(at(3, 8, 9), district="")  # no district, still pending
    # A draft encounter counts nowhere.
    Encounter.objects.create(
        client_id=uuid.uuid4(), call=c1, unit=unit, created_by=responder, occurred_at=at(3, 2, 11)
    )

    ref1 = referral(r1, e4, responder, sent=at(3, 7, 13), accepted=at(3, 9, 10))
    referral(  # accepted after 39 days, completed after 41: late on both counts
        r2,
        e2,
        responder,
        sent=at(3, 2, 16),
        status="completed",
        accepted=at(4, 10, 10),
        closed=at(4, 12, 10),
    )
    Referral.objects.create(  # a draft: never sent
        resident=r3,
        encounter=e2,
        service=ServiceFactory(),
        organization_id=ServiceFactory().organization_id,
        created_by=responder,
    )
    follow_up(r1, e1, attempts=[24])
    follow_up(r3, e2, attempts=[72], outcome="connected")
    follow_up(r2, e2)
    follow_up(r1, None, referral_row=ref1)  # from a referral event: not an encounter's
    return {"e1": e1, "e2": e2, "e3": e3, "e4": e4}


def rollup(metric, dimension="", month=MARCH, district="3"):
    return MetricRollup.objects.get(
        month=month, district=district, metric=metric, dimension=dimension
    )


def values(metric, month=MARCH, district="3"):
    return dict(
        MetricRollup.objects.filter(month=month, district=district, metric=metric).values_list(
            "dimension", "count"
        )
    )


@pytest.fixture
def refreshed(records):
    return transparency_refresh(full=True)


@pytest.fixture
def busy_april(refreshed, unit, responder):
    """April: 30 calls in district 3 (20 from 911, 10 from 311 returned to police) and 12 in
    district 5 (8 from 911, 4 from 311)."""
    for i in range(20):
        call(at(4, 1 + i, 10), dispatched=2, on_scene=10 + i, cleared=40)
    for i in range(10):
        call(at(4, 1 + i, 15), source="311", returned_to_police=30)
    for i in range(12):
        call(
            at(4, 1 + i, 11),
            district="5",
            source="911" if i < 8 else "311",
            dispatched=2,
            on_scene=12,
            cleared=40,
        )
    return transparency_refresh(full=True)


def figures(client, **query):
    response = client.get("/transparency/metrics.json", query)
    assert response.status_code == 200
    return response.json()


def find(body, metric, month="2026-04", dimension=""):
    (record,) = [
        r
        for r in body["figures"]
        if r["metric"] == metric and r["month"] == month and r["dimension"] == dimension
    ]
    return record
