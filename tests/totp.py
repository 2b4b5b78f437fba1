"""The code an authenticator app shows now, for tests that sign in through the real pages."""

import time


def totp_now(secret: str) -> str:
    """allauth's own helpers; a code read in the last seconds of its period may reach the
    server in the next one (allauth allows no drift by default): wait for a fresh period then."""
    from allauth.mfa import app_settings
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    left = app_settings.TOTP_PERIOD - time.time() % app_settings.TOTP_PERIOD
    if left < 5:
        time.sleep(left + 0.1)
    return format_hotp_value(hotp_value(secret, int(time.time()) // app_settings.TOTP_PERIOD))


def totp_code(user) -> str:
    """The code `user`'s authenticator app shows now."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.utils import decrypt

    return totp_now(decrypt(Authenticator.objects.get(user=user, type="totp").data["secret"]))
