"""Recording audit events. Every read of a resident record and every write goes through here."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import models

from acs.models import AuditAction, AuditEvent


def client_ip(request) -> str | None:
    if request is None:
        return None
    # The client's address: behind TRUSTED_PROXIES, acs.client_address has put it here.
    return request.META.get("REMOTE_ADDR") or None


def _target_type(target: models.Model) -> str:
    return target._meta.label_lower


def audit_record(
    *,
    actor,
    action: AuditAction,
    target: models.Model,
    request=None,
    reason: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event. `detail` must hold no personal data (ids, field names, counts)."""
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        target_type=_target_type(target),
        target_id=target.public_id,
        ip_address=client_ip(request),
        reason=reason,
        detail=detail or {},
    )


def audit_record_many(
    *,
    actor,
    action: AuditAction,
    targets: Iterable[models.Model],
    request=None,
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
    actor,
    action: AuditAction,
    items: Iterable[tuple[models.Model, dict[str, Any]]],
    request=None,
    reason: str = "",
) -> None:
    """One event per (target, detail), in one INSERT; each `detail` holds no personal data."""
    AuditEvent.objects.bulk_create(
        AuditEvent(
            actor=actor if getattr(actor, "is_authenticated", False) else None,
            action=action,
            target_type=_target_type(target),
            target_id=target.public_id,
            ip_address=client_ip(request),
            reason=reason,
            detail=detail,
        )
        for target, detail in items
    )
