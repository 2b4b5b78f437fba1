"""Recording audit events. Every read of a resident record and every write goes through here."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from acs.models import AuditAction, AuditEvent

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser
    from django.http import HttpRequest

    from acs.models import BaseModel
    from responders.models import User

    # Who acted: a signed-in user, an anonymous visitor or nobody (the system); only a
    # signed-in user is recorded as the actor.
    Actor = User | AnonymousUser | None
    # What an event is about: any row with a public id (every BaseModel, and the user model).
    Target = BaseModel | User


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    # The client's address: behind TRUSTED_PROXIES, acs.client_address has put it here.
    return request.META.get("REMOTE_ADDR") or None


def _recorded_actor(actor: Actor) -> User | None:
    """Only a signed-in user is recorded as the actor; an anonymous visitor or None is not."""
    if actor is None or not actor.is_authenticated:
        return None
    return actor


def _target_type(target: Target) -> str:
    return target._meta.label_lower


def audit_record(
    *,
    actor: Actor,
    action: AuditAction,
    target: Target,
    request: HttpRequest | None = None,
    reason: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event. `detail` must hold no personal data (ids, field names, counts)."""
    return AuditEvent.objects.create(
        actor=_recorded_actor(actor),
        action=action,
        target_type=_target_type(target),
        target_id=target.public_id,
        ip_address=client_ip(request),
        reason=reason,
        detail=detail or {},
    )


def audit_record_many(
    *,
    actor: Actor,
    action: AuditAction,
    targets: Iterable[Target],
    request: HttpRequest | None = None,
    reason: str = "",
    detail: dict[str, Any] | None = None,
) -> None:
    """One event per target, in one INSERT; `detail` (no personal data) is the same on each."""
    audit_record_each(
        actor=actor,
        action=action,
        items=((target, detail or {}) for target in targets),
        request=request,
        reason=reason,
    )


def audit_record_each(
    *,
    actor: Actor,
    action: AuditAction,
    items: Iterable[tuple[Target, dict[str, Any]]],
    request: HttpRequest | None = None,
    reason: str = "",
) -> None:
    """One event per (target, detail), in one INSERT; each `detail` holds no personal data."""
    AuditEvent.objects.bulk_create(
        AuditEvent(
            actor=_recorded_actor(actor),
            action=action,
            target_type=_target_type(target),
            target_id=target.public_id,
            ip_address=client_ip(request),
            reason=reason,
            detail=detail,
        )
        for target, detail in items
    )
