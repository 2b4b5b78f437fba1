from allauth.account.adapter import DefaultAccountAdapter

from acs.signin import SignInGuardMixin


class StaffAccountAdapter(SignInGuardMixin, DefaultAccountAdapter):
    """Accounts hold health-information access: administrators create them, nobody signs up."""

    def is_open_for_signup(self, request) -> bool:
        return False
