"""Writes about staff accounts: the roles a person holds, set in one place.

A role is a Django group (acs/roles.py); what the admin site lets in follows from it: staff
roles work in the admin (`is_staff`), the administrator role is a superuser. Setting them by
hand (ticking groups and flags separately) left new case managers unable to reach the admin and
partner users without their agency, so the admin's user form sets roles only through here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction

from acs.audit import audit_record
from acs.errors import DomainError
from acs.models import AuditAction
from acs.roles import STAFF_ROLES, Role

if TYPE_CHECKING:
    from django.http import HttpRequest

    from responders.models import User


def staff_roles_set(
    *, actor: User, user: User, roles: Iterable[str], request: HttpRequest | None = None
) -> bool:
    """Give `user` exactly `roles`; returns whether anything changed (audited when it did)."""
    wanted = sorted({Role(role).value for role in roles})
    before = user.role_names
    is_staff = any(Role(role) in STAFF_ROLES for role in wanted)
    is_superuser = Role.ADMIN.value in wanted
    if before == wanted and (user.is_staff, user.is_superuser) == (is_staff, is_superuser):
        return False
    with transaction.atomic():
        keep = user.groups.exclude(name__in=Role.values)
        user.groups.set([*keep, *Group.objects.filter(name__in=wanted)])
        user.is_staff, user.is_superuser = is_staff, is_superuser
        user.save(update_fields=["is_staff", "is_superuser", "updated_at"])
        audit_record(
            actor=actor,
            action=AuditAction.CHANGE,
            target=user,
            request=request,
            detail={"roles_before": before, "roles_after": wanted},
        )
    # The prefetch cache, if any, no longer holds the truth.
    getattr(user, "_prefetched_objects_cache", {}).pop("groups", None)
    return True


def user_language_set(*, user: User, language: str) -> None:
    """The interface language `user` chose (one of settings.LANGUAGES), kept on the user so
    every tablet they sign in to follows it."""
    if language not in dict(settings.LANGUAGES):
        raise DomainError(
            "That language is not available.", code="invalid", fields={"language": ["Unknown."]}
        )
    user.language = language
    user.save(update_fields=["language", "updated_at"])
