"""The referral life cycle through its services: every move allowed and refused, consent to
send, the supervisor's override, and the thread."""

import uuid

import pytest

from acs.errors import Conflict, DomainError, Forbidden, NotFound
from acs.models import AuditAction, AuditEvent
from cases.models import Consent
from resources import services
from resources.models import Referral, ReferralEvent, ReferralStatus
from resources.services.referrals import TRANSITIONS
from tests.factories import ResidentFactory, ServiceFactory
from tests.resources.referral_helpers import consenting_resident, referrable_service, referral_in

pytestmark = pytest.mark.django_db
S = ReferralStatus


@pytest.fixture
def service_a(agency_a):
    return referrable_service(agency_a, referral_response_hours=24)[0]


def _act(action, referral, *, partner, staff):
    if action == "send":
        return services.referral_send(actor=staff, referral=referral)
    if action == "cancel":
        return services.referral_cancel(actor=staff, referral=referral, reason="Found a place")
    if action == "expire":
        return services.referrals_expire_overdue(
            now=referral.respond_by or referral.created_at
        ) and Referral.objects.get(pk=referral.pk)
    if action == "decline":
        return services.referral_decline(actor=partner, referral=referral, reason="Full")
    if action == "complete":
        return services.referral_complete(actor=partner, referral=referral, outcome="enrolled")
    return getattr(services, f"referral_{action}")(actor=partner, referral=referral)


@pytest.mark.parametrize("start", list(S))
@pytest.mark.parametrize("action", sorted(TRANSITIONS))
def test_every_move_is_allowed_exactly_as_the_table_says(
    action, start, service_a, resident, partner_a, case_manager
):
    referral = referral_in(start, service=service_a, resident=resident, created_by=case_manager)
    allowed = start in TRANSITIONS[action][0]
    if action == "expire":
        # The sweep expires what it may and passes over the rest.
        result = _act(action, referral, partner=partner_a, staff=case_manager)
        referral.refresh_from_db()
        assert referral.status == (S.EXPIRED if allowed else start)
        assert bool(result) == allowed
        return
    if start == S.DRAFT and action in {"accept", "decline", "start", "complete"}:
        # A partner cannot see a draft at all.
        with pytest.raises(NotFound):
            _act(action, referral, partner=partner_a, staff=case_manager)
        return
    if allowed:
        moved = _act(action, referral, partner=partner_a, staff=case_manager)
        expected = TRANSITIONS[action][1] or S.COMPLETED
        assert moved.status == expected
        event = ReferralEvent.objects.filter(referral=referral).latest("id")
        assert (event.from_status, event.to_status) == (start, expected)
    else:
        with pytest.raises(Conflict) as refused:
            _act(action, referral, partner=partner_a, staff=case_manager)
        assert refused.value.fields == {"status": [start]}
        assert S(start).label.lower() in refused.value.message
        referral.refresh_from_db()
        assert referral.status == start


def test_create_and_send_records_who_when_and_the_deadline(service_a, resident, case_manager):
    referral = services.referral_create(
        actor=case_manager,
        resident=resident,
        service=service_a,
        reason="Bed tonight",
        needs=["shelter"],
        send=True,
    )
    assert referral.status == S.SENT
    assert referral.organization_id == service_a.organization_id
    assert referral.respond_by - referral.sent_at == service_a_hours(service_a)
    history = list(referral.events.values_list("from_status", "to_status", "actor"))
    assert history == [("", "draft", case_manager.pk), ("draft", "sent", case_manager.pk)]
    assert AuditEvent.objects.filter(
        action=AuditAction.CREATE, target_id=resident.public_id, actor=case_manager
    ).exists()


def service_a_hours(service):
    from datetime import timedelta

    return timedelta(hours=service.referral_response_hours)


def test_a_retried_create_with_the_same_client_id_returns_the_first(
    service_a, resident, case_manager
):
    client_id = uuid.uuid4()
    first = services.referral_create(
        actor=case_manager, resident=resident, service=service_a, client_id=client_id, send=True
    )
    again = services.referral_create(
        actor=case_manager, resident=resident, service=service_a, client_id=client_id, send=True
    )
    assert again.pk == first.pk
    assert Referral.objects.count() == 1


def test_complete_with_a_failed_outcome_ends_not_completed(
    service_a, resident, partner_a, case_manager
):
    referral = referral_in(
        S.ACCEPTED, service=service_a, resident=resident, created_by=case_manager
    )
    done = services.referral_complete(
        actor=partner_a, referral=referral, outcome="no_show", note="Did not come"
    )
    assert (done.status, done.outcome) == (S.NOT_COMPLETED, "no_show")
    referral.refresh_from_db()
    assert referral.outcome == "no_show" and referral.closed_at is not None


def test_complete_refuses_an_unknown_outcome(service_a, resident, partner_a, case_manager):
    referral = referral_in(
        S.IN_PROGRESS, service=service_a, resident=resident, created_by=case_manager
    )
    with pytest.raises(DomainError):
        services.referral_complete(actor=partner_a, referral=referral, outcome="teleported")


def test_decline_needs_a_reason(service_a, resident, partner_a, case_manager):
    referral = referral_in(S.SENT, service=service_a, resident=resident, created_by=case_manager)
    with pytest.raises(DomainError):
        services.referral_decline(actor=partner_a, referral=referral, reason="  ")


def test_another_agency_cannot_move_or_note_a_referral(
    service_a, resident, partner_b, case_manager
):
    referral = referral_in(S.SENT, service=service_a, resident=resident, created_by=case_manager)
    for move in (services.referral_accept, services.referral_start):
        with pytest.raises(NotFound):
            move(actor=partner_b, referral=referral)
    with pytest.raises(NotFound):
        services.referral_note_add(actor=partner_b, referral=referral, note="hello")
    referral.refresh_from_db()
    assert referral.status == S.SENT and referral.events.count() == 0


class TestConsentToSend:
    def test_no_consent_no_send(self, service_a, case_manager):
        resident = ResidentFactory()
        referral = services.referral_create(
            actor=case_manager, resident=resident, service=service_a
        )
        with pytest.raises(DomainError) as refused:
            services.referral_send(actor=case_manager, referral=referral)
        assert refused.value.code == "consent_required"
        referral.refresh_from_db()
        assert referral.status == S.DRAFT

    def test_consent_for_another_partner_does_not_count(self, service_a, agency_b, case_manager):
        resident = consenting_resident(agency_b, recorded_by=case_manager)
        referral = services.referral_create(
            actor=case_manager, resident=resident, service=service_a
        )
        with pytest.raises(DomainError):
            services.referral_send(actor=case_manager, referral=referral)

    def test_general_partner_consent_counts(self, service_a, case_manager):
        resident = consenting_resident(recorded_by=case_manager, scope=Consent.Scope.SHARE_PARTNERS)
        referral = services.referral_create(
            actor=case_manager, resident=resident, service=service_a, send=True
        )
        assert referral.status == S.SENT

    def test_a_case_manager_cannot_override(self, service_a, case_manager):
        referral = services.referral_create(
            actor=case_manager, resident=ResidentFactory(), service=service_a
        )
        with pytest.raises(Forbidden):
            services.referral_send(
                actor=case_manager, referral=referral, consent_override_reason="urgent"
            )

    def test_a_supervisor_overrides_with_a_reason_and_it_is_audited(self, service_a, supervisor):
        resident = ResidentFactory()
        referral = services.referral_create(actor=supervisor, resident=resident, service=service_a)
        sent = services.referral_send(
            actor=supervisor,
            referral=referral,
            consent_override_reason="Incapacitated; detox bed needed tonight",
        )
        assert sent.status == S.SENT
        assert sent.consent_override_by == supervisor
        event = AuditEvent.objects.get(action=AuditAction.DISCLOSE, target_id=resident.public_id)
        assert event.actor == supervisor
        assert "Incapacitated" in event.reason


class TestCreateRefuses:
    def test_a_service_that_takes_no_referrals(self, agency_a, resident, case_manager):
        service = ServiceFactory(organization=agency_a, accepts_referrals=False)
        with pytest.raises(DomainError):
            services.referral_create(actor=case_manager, resident=resident, service=service)

    def test_a_merged_resident(self, service_a, resident, case_manager):
        survivor = ResidentFactory()
        resident.merged_into = survivor
        resident.save()
        with pytest.raises(DomainError):
            services.referral_create(actor=case_manager, resident=resident, service=service_a)

    def test_unknown_needs(self, service_a, resident, case_manager):
        with pytest.raises(DomainError):
            services.referral_create(
                actor=case_manager, resident=resident, service=service_a, needs=["unicorns"]
            )

    def test_a_partner_or_outsider(self, service_a, resident, partner_a, outsider):
        for actor in (partner_a, outsider):
            with pytest.raises(Forbidden):
                services.referral_create(actor=actor, resident=resident, service=service_a)


def test_notes_bump_the_polling_clock_and_mark_who_wrote(
    service_a, resident, partner_a, case_manager
):
    referral = referral_in(
        S.ACCEPTED, service=service_a, resident=resident, created_by=case_manager
    )
    before = referral.updated_at
    event = services.referral_note_add(actor=partner_a, referral=referral, note="Bed 4 held")
    referral.refresh_from_db()
    assert referral.updated_at > before
    assert event.by_organization_id == partner_a.organization_id
    staff_note = services.referral_note_add(actor=case_manager, referral=referral, note="Thanks")
    assert staff_note.by_organization_id is None
