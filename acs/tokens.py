"""Bearer tokens for machine clients: issue, check, revoke."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from django.db.models import QuerySet
from django.utils import timezone

from acs.models import ApiToken
from acs.roles import Role

if TYPE_CHECKING:  # type-only: acs names no app at run time (pyproject.toml, importlinter)
    from resources.models import Organization
    from responders.models import User

TOKEN_PREFIX = "acs"  # noqa: S105 - a label, not a secret
# The kinds of machine client a token is issued to (manage.py issue_token, the admin's form),
# and the role each one's machine user holds.
TOKEN_KINDS = {"cad": Role.CAD_INTEGRATION, "partner": Role.PARTNER_USER}
# Refresh last_used_at at most this often: a write per request would cost more than it tells.
LAST_USED_GRANULARITY = timedelta(minutes=5)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_issue(
    *,
    role: Role,
    name: str,
    expires_in: timedelta | None = None,
    organization: Organization | None = None,
    token: str | None = None,
) -> tuple[ApiToken, str]:
    """Create a machine user of `role` named after the client, and a token for it.

    `token` fixes the token instead of drawing one: only seed_demo does that, for published
    demo credentials (it refuses to run in production).

    Returns the row and the token; the token is not stored and cannot be shown again.
    """
    User = get_user_model()
    # A partner's machine user is named within its organization: two partners may both call
    # their client "main" without sharing a user.
    username = f"{role.value}:{name}"
    if organization is not None:
        username = f"{role.value}:{organization.public_id}:{name}"
    with transaction.atomic():
        user, created = User.objects.get_or_create(
            username=username, defaults={"organization": organization}
        )
        if user.organization_id != getattr(organization, "pk", None):
            raise ValueError(f"The machine user {username} belongs to another organization.")
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        user.groups.add(Group.objects.get(name=role.value))
        row, token = _token_for(user, name=name, expires_in=expires_in, token=token)
    return row, token


def _token_for(
    user: User, *, name: str, expires_in: timedelta | None, token: str | None = None
) -> tuple[ApiToken, str]:
    if token is None:
        token = f"{TOKEN_PREFIX}_{secrets.token_hex(4)}_{secrets.token_urlsafe(32)}"
    prefix = token.split("_", 2)[1]
    row = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=prefix,
        digest=_digest(token),
        expires_at=timezone.now() + expires_in if expires_in else None,
    )
    return row, token


def token_rotate(*, token: ApiToken) -> tuple[ApiToken, str]:
    """A new token for the same client, valid as long as the old one was meant to be; the
    old one is revoked at once. Returns the new row and the token (shown once)."""
    with transaction.atomic():
        old = ApiToken.objects.select_for_update().get(pk=token.pk)
        lifetime = old.expires_at - old.created_at if old.expires_at else None
        row, raw = _token_for(old.user, name=old.name, expires_in=lifetime)
        if old.revoked_at is None:
            old.revoked_at = timezone.now()
            old.save(update_fields=["revoked_at", "updated_at"])
    return row, raw


def token_revoke(*, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


def token_check(raw: str, *, now: datetime | None = None) -> ApiToken | None:
    """The live token for `raw`, or None when it is unknown, revoked or expired."""
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    row = ApiToken.objects.select_related("user").filter(prefix=parts[1]).first()
    if row is None or not hmac.compare_digest(row.digest, _digest(raw)):
        return None
    now = now or timezone.now()
    if row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        return None
    if not row.user.is_active:
        return None
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_GRANULARITY:
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return row


def partner_organizations() -> QuerySet[Organization]:
    """The organizations a partner token may act for: whatever the user model's `organization`
    points at (the directory's organizations), found through the user model so that acs names
    no app."""
    field = get_user_model()._meta.get_field("organization")
    model = field.related_model
    if not (isinstance(model, type) and issubclass(model, models.Model)):
        raise ImproperlyConfigured("User.organization must be a foreign key.")
    return model._default_manager.all()  # type: ignore[return-value]
