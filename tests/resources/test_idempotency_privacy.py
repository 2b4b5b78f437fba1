"""Idempotency records keep what a retry needs, for as long as a retry is plausible.

Through the real partner API with real partner tokens: a replay answers with the first
status and ids but renders the record as the caller may see it now (a revoked consent counts,
and a disclosure is audited like a live one); records expire after IDEMPOTENCY_TTL, are swept
by beat and by `manage.py retention`, and an expired key is a new key.
"""

import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from acs.models import AuditAction, AuditEvent
from cases.services import consent_revoke
from resources import services
from resources.models import IdempotencyKey
from tests.resources.partner_api.helpers import post
from tests.resources.referral_helpers import consenting_resident, referrable_service

pytestmark = pytest.mark.django_db
PHONE = "+15055550100"
WHERE = "Under the Central Ave bridge"


@pytest.fixture
def sent(agency_a, resident, case_manager):
    service, sal = referrable_service(agency_a)
    return services.referral_create(
        actor=case_manager,
        resident=resident,
        service=service,
        service_at_location=sal,
        reason="Needs a bed tonight",
        needs=["shelter"],
        send=True,
    )


def disclosures(resident):
    return AuditEvent.objects.filter(action=AuditAction.DISCLOSE, target_id=resident.public_id)


def accept(client, referral, key):
    return post(
        client,
        f"/api/v1/referrals/{referral.public_id}/accept",
        {"note": "Bed 4"},
        HTTP_IDEMPOTENCY_KEY=key,
    )


def age(key: str, by: timedelta) -> None:
    IdempotencyKey.objects.filter(key=key).update(created_at=timezone.now() - by)


def test_a_replay_after_the_consent_was_revoked_keeps_status_and_ids_not_the_withdrawn_fields(
    api_a, sent, resident, case_manager
):
    first = accept(api_a, sent, "accept-1")
    assert first.status_code == 200 and first.json()["resident"]["phone"] == PHONE
    consent_revoke(actor=case_manager, consent=resident.consents.get())
    before = disclosures(resident).count()

    again = accept(api_a, sent, "accept-1")

    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    body = again.json()
    assert body["id"] == first.json()["id"] and body["status"] == "accepted"
    assert [h["id"] for h in body["history"]] == [h["id"] for h in first.json()["history"]]
    assert body["resident"]["consent_basis"] == "none"
    for withdrawn in (PHONE, WHERE, "Rosa"):
        assert withdrawn not in again.content.decode()
    assert disclosures(resident).count() == before  # nothing shared, nothing to audit
    assert sent.events.filter(to_status="accepted").count() == 1


def test_a_replay_that_discloses_is_audited_as_the_live_response_is(api_a, sent, resident):
    accept(api_a, sent, "accept-2")
    (live,) = disclosures(resident)

    accept(api_a, sent, "accept-2")

    replayed = disclosures(resident).exclude(pk=live.pk).get()
    assert replayed.actor_id == live.actor_id
    assert replayed.detail == live.detail
    assert replayed.detail["fields"] == [
        "preferred_name",
        "language",
        "phone",
        "where_to_find_me",
        "needs",
    ]


def test_a_replay_before_expiry_returns_the_first_result_from_a_record_without_personal_data(
    api_a, sent, agency_a
):
    first = accept(api_a, sent, "accept-3")
    again = accept(api_a, sent, "accept-3")
    notes = f"/api/v1/referrals/{sent.public_id}/notes"
    note = post(api_a, notes, {"note": "Rosa can come at 6"}, HTTP_IDEMPOTENCY_KEY="note-3")
    note_again = post(api_a, notes, {"note": "Rosa can come at 6"}, HTTP_IDEMPOTENCY_KEY="note-3")
    _, sal = referrable_service(agency_a)

    def set_capacity():
        return api_a.put(
            f"/api/v1/capacity/{sal.public_id}",
            json.dumps({"available": 3, "total": 9}),
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="cap-3",
        )

    capacity = set_capacity()
    capacity_again = set_capacity()

    assert (again.status_code, again.json()) == (200, first.json())
    assert (note_again.status_code, note_again.json()) == (201, note.json())
    assert (capacity_again.status_code, capacity_again.json()) == (200, capacity.json())
    assert all(r["Idempotent-Replayed"] == "true" for r in (again, note_again, capacity_again))
    assert sent.events.filter(note="Rosa can come at 6").count() == 1
    # What is kept is the status and the id, not the response.
    stored = {
        r.key: (r.response_status, str(r.result_id), r.error) for r in IdempotencyKey.objects.all()
    }
    assert stored == {
        "accept-3": (200, str(sent.public_id), None),
        "note-3": (201, note.json()["id"], None),
        "cap-3": (200, str(sal.public_id), None),
    }
    kept = json.dumps(list(IdempotencyKey.objects.values()), default=str)
    for personal in (PHONE, WHERE, "Rosa"):
        assert personal not in kept


def test_a_refusal_is_replayed_with_its_error(api_a, sent):
    path = f"/api/v1/referrals/{sent.public_id}/start"
    first = post(api_a, path, HTTP_IDEMPOTENCY_KEY="start-1")
    again = post(api_a, path, HTTP_IDEMPOTENCY_KEY="start-1")
    assert first.status_code == again.status_code == 409
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert IdempotencyKey.objects.get().error == first.json()


def test_an_expired_key_is_a_new_key(api_a, sent, settings):
    settings.IDEMPOTENCY_TTL = timedelta(hours=24)
    assert accept(api_a, sent, "accept-4").status_code == 200
    age("accept-4", timedelta(hours=25))

    again = accept(api_a, sent, "accept-4")

    # Done again, not replayed: the referral is accepted already, so this is the conflict.
    assert again.status_code == 409 and "Idempotent-Replayed" not in again
    assert IdempotencyKey.objects.get(key="accept-4").response_status == 409


@pytest.fixture
def one_expired_one_live(api_a, sent, settings):
    """Two records through the API: "old" made 25 hours ago, "new" just now (TTL 24 hours)."""
    settings.IDEMPOTENCY_TTL = timedelta(hours=24)
    accept(api_a, sent, "old")
    notes = f"/api/v1/referrals/{sent.public_id}/notes"
    post(api_a, notes, {"note": "x"}, HTTP_IDEMPOTENCY_KEY="new")
    age("old", timedelta(hours=25))


def test_expired_records_are_removed_by_the_beat_task(one_expired_one_live):
    from acs.celery import app
    from cases.tasks import sweep_expired_copies

    assert sweep_expired_copies.apply().get()["idempotency records"] == 1

    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]
    schedule = {entry["task"]: entry for entry in app.conf.beat_schedule.values()}
    assert schedule["cases.tasks.sweep_expired_copies"]["schedule"] <= 3600


def test_expired_records_are_removed_by_the_retention_command(one_expired_one_live, capsys):
    call_command("retention", "--dry-run")
    assert "idempotency records: 1" in capsys.readouterr().out
    assert IdempotencyKey.objects.count() == 2

    call_command("retention")
    assert "idempotency records: 1" in capsys.readouterr().out
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


def test_another_partner_cannot_replay_a_key(api_a, api_b, sent, resident, agency_b, case_manager):
    accept(api_a, sent, "key-1")
    notes = f"/api/v1/referrals/{sent.public_id}/notes"
    post(api_a, notes, {"note": "Rosa can come at 6"}, HTTP_IDEMPOTENCY_KEY="key-2")
    before = disclosures(resident).count()

    # A's key on A's referral, from B: B's own first request, refused like any other.
    theirs = post(api_b, notes, {"note": "Rosa can come at 6"}, HTTP_IDEMPOTENCY_KEY="key-2")
    assert theirs.status_code == 404 and "Idempotent-Replayed" not in theirs
    assert "Rosa" not in theirs.content.decode()
    theirs = accept(api_b, sent, "key-1")
    assert theirs.status_code == 404 and "Idempotent-Replayed" not in theirs
    assert "Rosa" not in theirs.content.decode() and PHONE not in theirs.content.decode()
    assert disclosures(resident).count() == before
    assert sent.events.filter(note="Rosa can come at 6").count() == 1


def test_a_partners_key_is_its_own_on_its_own_referrals(api_a, api_b, sent, agency_b, case_manager):
    accept(api_a, sent, "key-1")
    other_service, _ = referrable_service(agency_b)
    own = services.referral_create(
        actor=case_manager,
        resident=consenting_resident(agency_b, recorded_by=case_manager),
        service=other_service,
        send=True,
    )

    response = accept(api_b, own, "key-1")

    assert response.status_code == 200 and "Idempotent-Replayed" not in response
    assert response.json()["id"] == str(own.public_id)
