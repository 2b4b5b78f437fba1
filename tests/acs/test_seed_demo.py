import pytest
from django.core.management import CommandError, call_command

from acs.management.commands.seed_demo import DEMO_USERS, demo_password
from acs.roles import Role
from cases.models import Call, Resident
from resources.models import (
    Organization,
    Referral,
    ReferralEvent,
    ReferralStatus,
    Service,
    ServiceAtLocation,
)
from responders.models import Team, Unit, User

pytestmark = pytest.mark.django_db

COUNTED = [
    Team,
    Unit,
    User,
    Call,
    Resident,
    Organization,
    Service,
    ServiceAtLocation,
    Referral,
    ReferralEvent,
]


def counts():
    return {model.__name__: model.objects.count() for model in COUNTED}


def test_seed_demo_creates_one_user_per_role_who_can_sign_in_with_the_printed_password(
    client, capsys
):
    call_command("seed_demo")
    printed = capsys.readouterr().out

    roles = set()
    for username in DEMO_USERS:
        user = User.objects.get(username=username)
        roles.update(user.role_names)
        assert demo_password(username) in printed
        assert client.login(username=username, password=demo_password(username))
    assert roles == set(Role.values)


def test_seed_demo_is_idempotent_and_deterministic():
    call_command("seed_demo", quiet_logins=True)
    first = counts()
    first_ids = set(Resident.objects.values_list("public_id", flat=True))

    call_command("seed_demo", quiet_logins=True)

    assert counts() == first
    assert set(Resident.objects.values_list("public_id", flat=True)) == first_ids
    assert all(first[name] > 0 for name in first)


def test_seed_demo_refuses_to_run_in_production(settings):
    settings.PRODUCTION = True

    with pytest.raises(CommandError, match="refuses"):
        call_command("seed_demo")

    assert not User.objects.filter(username="admin").exists()


def test_seed_demo_adds_partners_with_users_tokens_and_referrals_in_every_state(capsys, settings):
    from datetime import timedelta

    from django.test import Client

    settings.REFERRAL_FEED_SETTLE = timedelta(0)
    from acs.management.commands.seed_demo import demo_token

    call_command("seed_demo")
    printed = capsys.readouterr().out
    assert set(Referral.objects.values_list("status", flat=True)) == set(ReferralStatus.values)
    partner, partner2 = (User.objects.get(username=u) for u in ("partner", "partner2"))
    assert partner.organization and partner2.organization
    assert partner.organization != partner2.organization
    token = demo_token("partner")
    assert token in printed
    feed = Client(HTTP_AUTHORIZATION=f"Bearer {token}").get("/api/v1/referrals").json()
    statuses = {r["status"] for r in feed["results"]}
    assert "draft" not in statuses and {"sent", "completed", "expired"} <= statuses
    other = Client(HTTP_AUTHORIZATION=f"Bearer {demo_token('partner2')}")
    assert other.get("/api/v1/referrals").json()["results"] == []


def test_running_seed_demo_again_keeps_everyone_signed_in(client):
    """Restarting `dev.py up` runs seed_demo again: it signed every demo session out (a new
    password hash each time)."""
    call_command("seed_demo", quiet_logins=True)
    username = next(iter(DEMO_USERS))
    assert client.login(username=username, password=demo_password(username))
    call_command("seed_demo", quiet_logins=True)
    assert "_auth_user_id" in client.session
    response = client.get("/")
    assert response.status_code == 200 and response.wsgi_request.user.username == username


def test_seed_demo_computes_the_public_figures_at_once():
    """The transparency page was empty for the first 15 minutes of a fresh demo."""
    from cases.models import MetricRefresh, MetricRollup

    call_command("seed_demo", quiet_logins=True)
    assert MetricRefresh.objects.exists()
    assert MetricRollup.objects.exists()
