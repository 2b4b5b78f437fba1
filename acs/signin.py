"""Failed sign-ins and lockouts, audited and logged without the password or the typed login.

allauth's ACCOUNT_RATE_LIMITS["login_failed"] ("10/m/ip,5/5m/key" by default) does the
refusing: five failures for one account lock that account out for five minutes (even the right
password is refused), ten failures from one address in a minute refuse that address. Here the
per-account limit is keyed by the account, not by what was typed, so the username and the
e-mail address share one count. The rest records what happened, through the account
adapter's hooks:

- a failure for an existing account is an `signin_fail` audit event on that account; a
  refusal by the lockout is a `locked_out` event. Neither holds the typed login or password.
- every failure and refusal is logged with the account's public id, or, when the typed login
  matches no account, with a keyed digest of it (the same login gives the same digest, so
  repeated guesses can be correlated without the login being readable).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q

from acs.audit import audit_record
from acs.metrics import event_count
from acs.models import AuditAction

if TYPE_CHECKING:
    from django.http import HttpRequest

    from responders.models import User

    class _AccountAdapter:
        """What the mixin calls of allauth's DefaultAccountAdapter, the class it is mixed in
        before (allauth ships no types, so it would be Any); never defined at run time."""

        def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: Any) -> str:
            raise NotImplementedError

        def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
            raise NotImplementedError

        def authentication_failed(self, request: HttpRequest, **credentials: Any) -> None:
            raise NotImplementedError

else:
    _AccountAdapter = object

logger = logging.getLogger(__name__)


def login_digest(login: str) -> str:
    """A keyed, one-way digest of a typed login: correlates attempts, reveals nothing."""
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, login.strip().lower().encode(), hashlib.sha256).hexdigest()[:16]


def _typed_login(credentials: dict[str, Any]) -> str:
    return str(credentials.get("email") or credentials.get("username") or "")


def _account_for(login: str) -> User | None:
    User = get_user_model()
    if not login:
        return None
    return User.objects.filter(Q(username__iexact=login) | Q(email__iexact=login)).first()


def _record(
    request: HttpRequest, credentials: dict[str, Any], *, action: AuditAction, what: str
) -> None:
    outcome = "locked_out" if action == AuditAction.LOCKED_OUT else "failed"
    event_count("acs_signin_failures", outcome=outcome)
    login = _typed_login(credentials)
    account = _account_for(login)
    if account is None:
        logger.warning("%s for an unknown login (digest %s)", what, login_digest(login))
        return
    logger.warning("%s for account %s", what, account.public_id)
    audit_record(actor=None, action=action, target=account, request=request)


class SignInGuardMixin(_AccountAdapter):
    """Mixed into the account adapter (responders/adapters.py)."""

    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: Any) -> str:
        # allauth keys the per-account limit by the login as typed, so the username and the
        # e-mail address of one account would each get their own five tries. Key it by the
        # account instead when the login names one (allauth's own key otherwise).
        account = _account_for(_typed_login(credentials))
        if account is None:
            return super()._get_login_attempts_cache_key(request, **credentials)
        return f"account:{account.public_id}"

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError:
            _record(request, credentials, action=AuditAction.LOCKED_OUT, what="sign-in refused")
            raise

    def authentication_failed(self, request: HttpRequest, **credentials: Any) -> None:
        _record(request, credentials, action=AuditAction.SIGN_IN_FAILED, what="sign-in failed")
        super().authentication_failed(request, **credentials)
