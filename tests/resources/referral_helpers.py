"""Building referrals for tests: a referrable service, a consenting resident, and a referral
in any state (made through the services where the life cycle allows, directly otherwise)."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from acs.roles import Role
from acs.tokens import token_issue
from cases.models import Consent
from resources import services
from resources.models import Referral, ReferralStatus
from tests.factories import ResidentFactory, ServiceAtLocationFactory, ServiceFactory


def referrable_service(organization, **kwargs):
    service = ServiceFactory(organization=organization, accepts_referrals=True, **kwargs)
    sal = ServiceAtLocationFactory(service=service)
    return service, sal


def consenting_resident(organization=None, *, recorded_by, scope=None, **kwargs):
    resident = ResidentFactory(
        preferred_name=kwargs.pop("preferred_name", "Rosa"),
        preferred_language=kwargs.pop("preferred_language", "es"),
        phone=kwargs.pop("phone", "+15055550100"),
        where_to_find_me=kwargs.pop("where_to_find_me", "Under the Central Ave bridge"),
        legal_name=kwargs.pop("legal_name", "Rosa Legal"),
        **kwargs,
    )
    scope = scope or (Consent.Scope.SHARE_NAMED_PARTNER if organization else None)
    if scope:
        Consent.objects.create(
            resident=resident,
            scope=scope,
            organization=organization if scope == Consent.Scope.SHARE_NAMED_PARTNER else None,
            method=Consent.Method.VERBAL,
            recorded_by=recorded_by,
        )
    return resident


def referral_in(status: str, *, service, resident, created_by, **kwargs) -> Referral:
    """A referral already in `status` (rows written directly: for transition tables)."""
    now = timezone.now()
    sent = status != ReferralStatus.DRAFT
    outcome = ""
    if status == ReferralStatus.COMPLETED:
        outcome = "enrolled"
    elif status == ReferralStatus.NOT_COMPLETED:
        outcome = "no_show"
    return Referral.objects.create(
        resident=resident,
        service=service,
        organization=service.organization,
        status=status,
        outcome=outcome,
        created_by=created_by,
        sent_at=now if sent else None,
        respond_by=now + timedelta(hours=48) if sent else None,
        needs=kwargs.pop("needs", ["shelter"]),
        reason=kwargs.pop("reason", "Needs a bed tonight"),
        **kwargs,
    )


def bearer(organization, name="ehr") -> Client:
    """A partner agency's machine client: a token of its own, sent as a bearer token."""
    _, token = token_issue(role=Role.PARTNER_USER, name=name, organization=organization)
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def sent_referral(service, resident, case_manager):
    """An urgent shelter referral a case manager sent to `service` ((service, service at
    location)): the partner API's and the portal's tests start from it."""
    return services.referral_create(
        actor=case_manager,
        resident=resident,
        service=service[0],
        service_at_location=service[1],
        reason="Needs a bed tonight",
        reason_part2=False,  # the referrer says the reason itself does not mention it
        needs=["shelter", "substance_use"],
        urgency="urgent",
        send=True,
    )
