"""Reads of export jobs, scoped to the acting user: case managers see their own exports;
supervisors and administrators see everyone's."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.db.models import QuerySet

from acs.errors import NotFound
from acs.roles import OVERSIGHT_ROLES, STAFF_ROLES, has_any_role
from cases.exports.models import ExportJob

if TYPE_CHECKING:
    from collections.abc import Iterable

    from django.contrib.auth.models import AnonymousUser

    from acs.roles import Role
    from responders.models import User


def may_export(user: User | AnonymousUser | None) -> bool:
    """The desk exports (acs.roles.STAFF_ROLES); oversight sees every export."""
    return _active_with(user, STAFF_ROLES)


def sees_all_exports(user: User | AnonymousUser | None) -> bool:
    """Who sees, and may download, every export, not only their own (and may include
    42 CFR Part 2 data): acs.roles.OVERSIGHT_ROLES."""
    return _active_with(user, OVERSIGHT_ROLES)


def _active_with(user: User | AnonymousUser | None, roles: Iterable[Role]) -> bool:
    return has_any_role(user, roles) and user is not None and user.is_active


def export_jobs_for_user(user: User) -> QuerySet[ExportJob]:
    qs = ExportJob.objects.select_related("requested_by")
    if sees_all_exports(user):
        return qs
    if may_export(user):
        return qs.filter(requested_by=user)
    return qs.none()


def export_get_for_user(user: User, public_id: uuid.UUID | str) -> ExportJob:
    """One export the user may see (and download); NotFound otherwise, as for a missing one."""
    try:
        public_id = uuid.UUID(str(public_id))
    except ValueError:
        raise NotFound("No such export.", code="export_not_found") from None
    job = export_jobs_for_user(user).filter(public_id=public_id).first()
    if job is None:
        raise NotFound("No such export.", code="export_not_found")
    return job
