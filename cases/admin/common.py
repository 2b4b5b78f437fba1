"""What several of the cases admins share beyond acs/admin_base.py: the desk users who may
hold follow-ups."""

from acs.roles import ASSIGNEE_ROLES
from responders.models import User


def desk_users():
    """Who may hold follow-ups: active case managers and supervisors."""
    return (
        User.objects.filter(is_active=True, groups__name__in=ASSIGNEE_ROLES)
        .distinct()
        .order_by("username")
    )
