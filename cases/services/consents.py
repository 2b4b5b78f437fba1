"""Consent: recorded per scope, revoked (never deleted)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from acs.audit import audit_record
from acs.client_ids import create_once, created_before
from acs.errors import Conflict, DomainError
from acs.models import AuditAction
from cases.models import Consent, Encounter, Resident

if TYPE_CHECKING:
    from django.http import HttpRequest

    from resources.models import Organization
    from responders.models import User


def consent_record(
    *,
    actor: User,
    resident: Resident,
    scope: str,
    method: str,
    organization: Organization | None = None,
    encounter: Encounter | None = None,
    expires_at: datetime | None = None,
    client_id: uuid.UUID | None = None,
    request: HttpRequest | None = None,
) -> Consent:
    """Record a consent. A named-partner consent names its partner; substance-use
    information (42 CFR Part 2) is shared only on written consent.

    `client_id` is the tablet's UUID for the consent: a retry, even one racing its first
    attempt, returns the consent that attempt recorded (acs.client_ids; `replayed` tells
    which); another user's client_id is refused."""
    existing = created_before(Consent, client_id=client_id, actor=actor, owner="recorded_by")
    if existing is not None:
        return existing
    if scope == Consent.Scope.SHARE_NAMED_PARTNER and organization is None:
        raise DomainError(
            "Name the partner this consent is for.",
            code="invalid",
            fields={"organization": ["Required for share_named_partner."]},
        )
    if scope != Consent.Scope.SHARE_NAMED_PARTNER and organization is not None:
        raise DomainError(
            "Only a named-partner consent names a partner.",
            code="invalid",
            fields={"organization": ["Not for this scope."]},
        )
    if scope == Consent.Scope.SUBSTANCE_USE and method != Consent.Method.WRITTEN:
        raise DomainError(
            "Substance-use information is shared only on written consent (42 CFR Part 2).",
            code="invalid",
            fields={"method": ["Must be written for substance_use."]},
        )
    if expires_at is not None and expires_at <= timezone.now():
        raise DomainError(
            "The expiry is in the past.", code="invalid", fields={"expires_at": ["Past."]}
        )

    def create() -> Consent:
        consent = Consent.objects.create(
            client_id=client_id,
            resident=resident,
            scope=scope,
            method=method,
            organization=organization,
            encounter=encounter,
            expires_at=expires_at,
            recorded_by=actor,
        )
        audit_record(
            actor=actor,
            action=AuditAction.CHANGE,
            target=resident,
            request=request,
            detail={"consent": str(consent.public_id), "scope": scope},
        )
        return consent

    return create_once(
        Consent, client_id=client_id, actor=actor, create=create, owner="recorded_by"
    )


def consent_revoke(*, actor: User, consent: Consent, request: HttpRequest | None = None) -> Consent:
    with transaction.atomic():
        updated = Consent.objects.filter(pk=consent.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now(), revoked_by=actor, updated_at=timezone.now()
        )
        if not updated:
            raise Conflict("This consent was already revoked.", code="consent_revoked")
        consent.refresh_from_db()
        audit_record(
            actor=actor,
            action=AuditAction.CHANGE,
            target=consent.resident,
            request=request,
            detail={"consent_revoked": str(consent.public_id)},
        )
    return consent
