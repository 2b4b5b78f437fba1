from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from acs.roles import Role, has_any_role


def role_required(*roles: Role) -> type[BasePermission]:
    """A DRF permission class admitting signed-in users who hold one of `roles`."""

    class HasRole(BasePermission):
        message = "Your role does not allow this."

        def has_permission(self, request: Request, view: APIView) -> bool:
            return has_any_role(request.user, roles)

    HasRole.__name__ = "HasRole_" + "_".join(sorted(r.value for r in roles))
    return HasRole
