"""Reads of referrals, scoped to who asks.

Partners (a partner user or a partner organization's token) see only referrals sent to their
organization, and of the resident only what the consent allows (`referral_resident_for_partner`,
audited as a disclosure). ACS staff see referrals as they see residents.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from acs.audit import audit_record, audit_record_each
from acs.errors import NotFound
from acs.models import AuditAction
from acs.roles import STAFF_ROLES, Role, has_any_role
from cases.models.encounters import PART2_NEEDS
from resources.models import Organization, Referral, ReferralEvent

if TYPE_CHECKING:
    from collections.abc import Iterable

    from django.contrib.auth.models import AnonymousUser
    from django.http import HttpRequest

    from cases.models import Resident
    from responders.models import User


# What travels with every disclosure of substance-use information (42 CFR 2.32(a)(2), the
# abbreviated form of the notice prohibiting redisclosure).
PART2_NOTICE = "42 CFR part 2 prohibits unauthorized use or disclosure of these records."


def partner_organization(user: User | AnonymousUser | None) -> Organization | None:
    """The organization a partner user or token acts for; None for anyone else."""
    if user is None or not user.is_authenticated or not has_any_role(user, {Role.PARTNER_USER}):
        return None
    organization: Organization | None = user.organization
    return organization


def referral_queryset_for_partner(user: User | AnonymousUser) -> QuerySet[Referral]:
    organization_id = getattr(partner_organization(user), "pk", None)
    if organization_id is None:
        return Referral.objects.none()
    return Referral.objects.filter(
        organization_id=organization_id, sent_at__isnull=False
    ).select_related("service", "service_at_location")


def referral_get_for_partner(user: User, public_id: uuid.UUID | str) -> Referral:
    try:
        public_id = uuid.UUID(str(public_id))
    except ValueError as exc:
        raise NotFound("No such referral.", code="referral_not_found") from exc
    referral = referral_queryset_for_partner(user).filter(public_id=public_id).first()
    if referral is None:
        raise NotFound("No such referral.", code="referral_not_found")
    return referral


def referral_event_get_for_partner(user: User, public_id: uuid.UUID | str) -> ReferralEvent:
    """An event on the thread of one of the partner's referrals (as the detail lists them)."""
    try:
        public_id = uuid.UUID(str(public_id))
    except ValueError as exc:
        raise NotFound("No such referral event.", code="referral_event_not_found") from exc
    event = (
        ReferralEvent.objects.filter(
            public_id=public_id, referral__in=referral_queryset_for_partner(user)
        )
        .select_related("referral")
        .first()
    )
    if event is None:
        raise NotFound("No such referral event.", code="referral_event_not_found")
    return event


def referral_queryset_for_user(user: User | AnonymousUser) -> QuerySet[Referral]:
    """ACS staff: case managers, supervisors and admins see every referral; responders the
    referrals they made and those of their units' encounters. Partners use the partner
    selectors; anyone else sees none."""
    base = Referral.objects.select_related("service", "organization", "resident", "created_by")
    if not (user and user.is_authenticated):
        return base.none()
    if has_any_role(user, STAFF_ROLES):
        return base
    if user.has_role(Role.RESPONDER):
        return base.filter(Q(created_by=user) | Q(encounter__unit__members=user)).distinct()
    return base.none()


def referral_get_for_user(user: User, public_id: uuid.UUID) -> Referral:
    referral = referral_queryset_for_user(user).filter(public_id=public_id).first()
    if referral is None:
        raise NotFound("No such referral.", code="referral_not_found")
    return referral


def sharing_consent_basis(referral: Referral, *, at: datetime | None = None) -> str:
    """Why the partner may see the resident: "named_partner", "partners",
    "supervisor_override" or "none" (consents are read now, so a revocation counts at once)."""
    return sharing_consent_bases([referral], at=at)[referral.pk]


def sharing_consent_bases(
    referrals: Iterable[Referral], *, at: datetime | None = None
) -> dict[int, str]:
    """sharing_consent_basis for several referrals in one query: {referral pk: basis}. The
    consents are those `Consent.objects.holding` returns (not revoked, not expired; a
    named-partner consent names the referral's organization)."""
    from cases.models import Consent

    referrals = list(referrals)
    held = set(
        Consent.objects.holding(at)
        .filter(
            resident_id__in={r.resident_id for r in referrals},
            scope__in=[Consent.Scope.SHARE_NAMED_PARTNER, Consent.Scope.SHARE_PARTNERS],
        )
        .values_list("resident_id", "scope", "organization_id")
    )
    bases = {}
    for referral in referrals:
        named = (referral.resident_id, Consent.Scope.SHARE_NAMED_PARTNER, referral.organization_id)
        general = any(
            resident_id == referral.resident_id and scope == Consent.Scope.SHARE_PARTNERS
            for resident_id, scope, _ in held
        )
        if named in held:
            bases[referral.pk] = "named_partner"
        elif general:
            bases[referral.pk] = "partners"
        elif referral.consent_override_by_id:
            bases[referral.pk] = "supervisor_override"
        else:
            bases[referral.pk] = "none"
    return bases


@dataclass(frozen=True)
class PartnerCard:
    """One referral in a partner's inbox, told apart from the others of the same service:
    the resident's preferred name and language where the consent shares them (the same rule
    as referral_resident_for_partner), else None; the short reference; the referrer."""

    reference: str
    referred_by: str
    preferred_name: str | None = None
    language: str | None = None


def referrer_for_partner(referral: Referral) -> str:
    """Who referred, as a partner sees it: the staff member's name as ACS set it on their
    account, or "ACS responder" when it has none (never the username: half a credential)."""
    return referral.created_by.get_full_name() or "ACS responder"


def referral_cards_for_partner(
    referrals: Iterable[Referral], *, user: User, request: HttpRequest | None = None
) -> dict[int, PartnerCard]:
    """{referral pk: PartnerCard} for a page of the partner's referrals (select_related
    resident and created_by), in one query for the consents and one INSERT for the audit: each
    resident named is a disclosure, audited as referral_resident_for_partner audits one."""
    from cases.models import Resident

    referrals = list(referrals)
    bases = sharing_consent_bases(referrals)
    languages = dict(Resident.Language.choices)
    cards, disclosed = {}, []
    for referral in referrals:
        basis, resident = bases[referral.pk], referral.resident
        name = language = None
        if basis != "none":
            name = resident.preferred_name or None
            language = str(languages.get(resident.preferred_language, "")) or None
        cards[referral.pk] = PartnerCard(
            reference=referral.short_reference,
            referred_by=referrer_for_partner(referral),
            preferred_name=name,
            language=language,
        )
        fields = [n for n, v in (("preferred_name", name), ("language", language)) if v]
        if fields:
            detail = {
                "referral": str(referral.public_id),
                "fields": fields,
                "basis": basis,
                "part2": False,
            }
            disclosed.append((resident, detail))
    if disclosed:
        audit_record_each(
            actor=user,
            action=AuditAction.DISCLOSE,
            items=disclosed,
            request=request,
            reason="inbox",
        )
    return cards


@dataclass(frozen=True)
class SharingConsents:
    """What a resident's consents to share allow now: with partners in general, and with the
    partners named (their public ids). `basis(organization)` is sharing_consent_for's answer."""

    partners: bool
    named: frozenset[uuid.UUID]

    def basis(self, organization: Organization) -> str:
        if organization.public_id in self.named:
            return "named_partner"
        return "partners" if self.partners else "none"


def sharing_consents(resident: Resident, *, at: datetime | None = None) -> SharingConsents:
    """The resident's sharing consents that hold at `at` (not revoked, not expired; the rule
    of `Consent.objects.holding`), in one query: enough to tell, for every partner of
    a picker, what referral_send will find."""
    from cases.models import Consent

    held = list(
        Consent.objects.holding(at)
        .filter(
            resident=resident,
            scope__in=[Consent.Scope.SHARE_NAMED_PARTNER, Consent.Scope.SHARE_PARTNERS],
        )
        .values_list("scope", "organization__public_id")
    )
    return SharingConsents(
        partners=any(scope == Consent.Scope.SHARE_PARTNERS for scope, _ in held),
        named=frozenset(
            org for scope, org in held if scope == Consent.Scope.SHARE_NAMED_PARTNER and org
        ),
    )


def sharing_consent_for(
    resident: Resident, organization: Organization, *, at: datetime | None = None
) -> str:
    """Whether the resident's consent covers sharing with `organization`: "named_partner",
    "partners" (partners in general) or "none". What referral_send will find, asked before a
    referral exists (the admin's refer panel shows it before sending; the field app's
    referral picker reads `sharing_consents` for all partners at once)."""
    return sharing_consents(resident, at=at).basis(organization)


@dataclass(frozen=True)
class PartnerResident:
    """What a partner may know of the referred resident; None where the consent does not
    reach. `basis` says why: named_partner, partners, supervisor_override or none."""

    basis: str
    preferred_name: str | None = None
    language: str | None = None
    phone: str | None = None
    where_to_find_me: str | None = None
    needs: list[str] = field(default_factory=list)
    # The referral's reason: "" when withheld because it holds substance-use information the
    # resident has not consented in writing to share (`reason_withheld`).
    reason: str = ""
    reason_withheld: bool = False
    # Set exactly when `needs` or `reason` holds substance-use information (42 CFR Part 2).
    part2_notice: str | None = None

    @property
    def shared_fields(self) -> list[str]:
        names = ["preferred_name", "language", "phone", "where_to_find_me"]
        shared = [n for n in names if getattr(self, n) is not None]
        if self.needs:
            shared.append("needs")
        if self.part2_notice and self.reason:
            # A Part 2 reason is a disclosure of the resident's record; a plain one is not.
            shared.append("reason")
        return shared


def referral_resident_for_partner(
    referral: Referral, *, user: User, request: HttpRequest | None = None, audit: bool = True
) -> PartnerResident:
    """The resident as the partner may see them, read against the consents as they are now.

    - a consent to share with this partner, or with partners in general: preferred name,
      language, phone, where to find them, needs;
    - sent without consent on a supervisor's override: preferred name, language and needs
      only (minimum necessary to receive the person);
    - no consent (never given, or revoked since): nothing;
    - substance-use needs, and a reason flagged as holding substance-use information, only
      under a written substance-use consent (42 CFR Part 2), on top of one of the above; a
      reason without that flag is shared as it was written to be.

    Never the narrative, date of birth, legal name or safety notes. A disclosure is audited.
    """
    from cases.models import Consent
    from cases.selectors import consent_active

    resident = referral.resident
    basis = sharing_consent_basis(referral)
    part2_consent = basis != "none" and consent_active(resident, Consent.Scope.SUBSTANCE_USE)
    reason_withheld = bool(referral.reason) and referral.reason_part2 and not part2_consent
    reason = "" if reason_withheld else referral.reason
    if basis == "none":
        return PartnerResident(basis=basis, reason=reason, reason_withheld=reason_withheld)
    needs = list(referral.needs)
    if not part2_consent:
        needs = [n for n in needs if n not in PART2_NEEDS]
    part2 = bool(PART2_NEEDS.intersection(needs)) or (bool(reason) and referral.reason_part2)
    full = basis in {"named_partner", "partners"}
    shared = PartnerResident(
        basis=basis,
        preferred_name=resident.preferred_name or None,
        language=resident.preferred_language or None,
        phone=(resident.phone or None) if full else None,
        where_to_find_me=(resident.where_to_find_me or None) if full else None,
        needs=needs,
        reason=reason,
        reason_withheld=reason_withheld,
        part2_notice=PART2_NOTICE if part2 else None,
    )
    if audit and shared.shared_fields:
        audit_record(
            actor=user,
            action=AuditAction.DISCLOSE,
            target=resident,
            request=request,
            detail={
                "referral": str(referral.public_id),
                "fields": shared.shared_fields,
                "basis": basis,
                # A Part 2 disclosure, made under the written consent, with the notice.
                "part2": shared.part2_notice is not None,
            },
        )
    return shared
