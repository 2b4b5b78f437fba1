"""The API's callers for the schema tests (tests/acs/test_api_fuzz.py, test_api_contract.py):
each role's credentials as a client sends them, and where the seeded records are (the
`api_world` fixture, tests/acs/conftest.py)."""

from __future__ import annotations

from django.conf import settings
from django.test import Client
from django.utils.crypto import get_random_string

from acs.roles import Role
from acs.tokens import token_issue

# The persona (tests/conftest.py) of each role that signs in, where the names differ.
PERSONAS = {"admin": "admin_user"}


def known_ids(world, path: str) -> dict | None:
    return next((ids for prefix, ids in world if path.startswith(prefix)), None)


def signed_in(user) -> dict[str, str]:
    """The headers of a browser signed in as `user`: the session cookie with the second factor
    done (as after allauth's TOTP step, acs/mfa.py) and the CSRF cookie and header a page would
    send."""
    client = Client()
    client.force_login(user)  # a whole sign-in, second factor included (tests/conftest.py)
    session = client.session
    csrf = get_random_string(32)
    return {
        "Cookie": f"{settings.SESSION_COOKIE_NAME}={session.session_key}; "
        f"{settings.CSRF_COOKIE_NAME}={csrf}",
        "X-CSRFToken": csrf,
    }


def credentials_for(role: str, request) -> dict[str, str]:
    """The role's credentials as headers: given so, schemathesis knows them for what they are,
    and its ignored_auth check sends each request once more without them, and with bad ones,
    expecting a 401 or 403."""
    if role == "anonymous":
        return {}
    if role == "cad":
        _, token = token_issue(role=Role.CAD_INTEGRATION, name="fuzz-cad")
    elif role == "partner":
        agency_a = request.getfixturevalue("agency_a")
        _, token = token_issue(role=Role.PARTNER_USER, name="fuzz", organization=agency_a)
    else:
        return signed_in(request.getfixturevalue(PERSONAS.get(role, role)))
    return {"Authorization": f"Bearer {token}"}
