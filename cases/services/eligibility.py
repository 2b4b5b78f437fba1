"""Writes on the eligibility rules (cases.models.eligibility): each one an audit event.

The audit trail is the rules' history: who changed which rule, when, and the values before
and after (call types, sources and priorities are department policy, not personal data).
Rules are retired (`active` false), never deleted, so the history of every rule stays whole.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction

from acs.audit import audit_record
from acs.models import AuditAction, AuditEvent
from cases.call_types import known_call_types
from cases.models import EligibilityRule

if TYPE_CHECKING:
    from django.http import HttpRequest

    from responders.models import User

RULE_FIELDS = ("call_type", "source", "priority", "active", "note")


def _values(rule: EligibilityRule) -> dict[str, Any]:
    return {name: getattr(rule, name) for name in RULE_FIELDS}


def eligibility_rule_save(
    *,
    rule: EligibilityRule,
    actor: User,
    request: HttpRequest | None = None,
    before: dict[str, Any] | None = None,
) -> EligibilityRule:
    """Create `rule` (no pk yet) or save its edited values; `before` holds the values it had
    when the editor loaded it (None for a new rule). Records what changed."""
    rule.call_type = rule.call_type.strip().upper()
    if rule.call_type not in known_call_types():
        raise ValidationError(
            {"call_type": f"Unknown call type {rule.call_type!r}: an APCO code or a local type."}
        )
    with transaction.atomic():
        created = rule.pk is None
        after = _values(rule)
        changed = sorted(k for k in RULE_FIELDS if before is None or before.get(k) != after[k])
        if not created and not changed:
            return rule
        rule.full_clean()
        rule.save()
        audit_record(
            actor=actor,
            action=AuditAction.CREATE if created else AuditAction.CHANGE,
            target=rule,
            request=request,
            detail={
                "fields": changed,
                "before": None if before is None else {k: before[k] for k in changed},
                "after": {k: after[k] for k in changed},
            },
        )
    return rule


def eligibility_rule_history(rule: EligibilityRule) -> list[AuditEvent]:
    """The rule's audit events, oldest first (one query)."""
    return list(
        AuditEvent.objects.filter(
            target_type=EligibilityRule._meta.label_lower, target_id=rule.public_id
        )
        .select_related("actor")
        .order_by("created_at", "id")
    )
