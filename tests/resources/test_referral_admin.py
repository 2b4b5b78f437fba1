"""Referrals in the admin: live status on the encounter and the resident's timeline, the
referral list for staff, moves through the services, webhook health; tokens issued there."""

import pytest
from django.test import Client

from acs.models import ApiToken
from cases.selectors.timeline import resident_timeline
from resources import services, webhooks
from resources.models import ReferralStatus, WebhookEndpoint
from tests.resources.referral_helpers import consenting_resident, referrable_service

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(agency_a, case_manager):
    service, _ = referrable_service(agency_a, name="Westside Emergency Shelter")
    resident = consenting_resident(agency_a, recorded_by=case_manager)
    return services.referral_create(
        actor=case_manager, resident=resident, service=service, send=True
    )


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def test_the_timeline_shows_the_referral_with_its_live_status(sent, partner_a):
    (entry,) = [e for e in resident_timeline(sent.resident) if e.kind == "referral"]
    assert "Westside Emergency Shelter" in entry.text and "Sent" in entry.text
    services.referral_accept(actor=partner_a, referral=sent)
    (entry,) = [e for e in resident_timeline(sent.resident) if e.kind == "referral"]
    assert "Accepted" in entry.text


def test_case_managers_see_referrals_and_their_thread(sent, case_manager):
    client = signed_in(case_manager)
    listing = client.get("/admin/resources/referral/")
    assert listing.status_code == 200
    assert "Westside Emergency Shelter" in listing.content.decode()
    detail = client.get(f"/admin/resources/referral/{sent.pk}/change/")
    assert detail.status_code == 200
    assert "draft" in detail.content.decode()


def test_cancel_action_goes_through_the_service(sent, case_manager):
    client = signed_in(case_manager)
    response = client.post(
        "/admin/resources/referral/",
        {"action": "cancel_open", "_selected_action": [sent.pk]},
        follow=True,
    )
    assert response.status_code == 200
    sent.refresh_from_db()
    assert sent.status == ReferralStatus.CANCELLED
    assert sent.events.latest("id").actor == case_manager


def test_responders_see_only_their_referrals(sent, responder):
    from resources.selectors import referral_queryset_for_user

    assert not referral_queryset_for_user(responder).exists()
    assert referral_queryset_for_user(sent.created_by).filter(pk=sent.pk).exists()


def test_partners_and_outsiders_see_no_referrals_in_the_admin(sent, partner_a, outsider):
    from resources.selectors import referral_queryset_for_user

    for user in (partner_a, outsider):
        assert not referral_queryset_for_user(user).exists()


def test_webhook_endpoints_and_deliveries_are_visible_and_can_be_reenabled(agency_a, supervisor):
    endpoint = webhooks.endpoint_create(organization=agency_a, url="https://partner.example/h")
    webhooks.endpoint_disable(endpoint=endpoint, reason="test")
    client = signed_in(supervisor)
    page = client.get("/admin/resources/webhookendpoint/")
    assert page.status_code == 200 and "partner.example" in page.content.decode()
    assert (
        endpoint.secret
        not in client.get(
            f"/admin/resources/webhookendpoint/{endpoint.pk}/change/"
        ).content.decode()
    )
    client.post(
        "/admin/resources/webhookendpoint/",
        {"action": "enable", "_selected_action": [endpoint.pk]},
    )
    assert WebhookEndpoint.objects.get().active
    assert client.get("/admin/resources/webhookdelivery/").status_code == 200


class TestTokensInTheAdmin:
    def test_an_admin_issues_a_partner_token_shown_once(self, admin_user, agency_a):
        client = signed_in(admin_user)
        assert client.get("/admin/acs/apitoken/issue/").status_code == 200
        response = client.post(
            "/admin/acs/apitoken/issue/",
            {
                "kind": "partner",
                "organization": agency_a.pk,
                "name": "agency-a-ehr",
                "expires_in_days": 90,
            },
        )
        assert response.status_code == 200
        token = response.context["token"]
        assert token in response.content.decode()
        assert "no-store" in response["Cache-Control"]
        row = ApiToken.objects.get()
        assert row.user.organization == agency_a and token not in row.digest
        api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
        assert api.get("/api/v1/referrals").status_code == 200

    def test_a_partner_token_needs_an_organization(self, admin_user):
        response = signed_in(admin_user).post(
            "/admin/acs/apitoken/issue/",
            {"kind": "partner", "name": "x", "expires_in_days": 90},
        )
        assert response.status_code == 200
        assert "organization" in response.context["form"].errors
        assert not ApiToken.objects.exists()

    def test_rotation_revokes_the_old_token_and_shows_the_new_once(self, admin_user, agency_a):
        from acs.roles import Role
        from acs.tokens import token_issue

        old, old_token = token_issue(role=Role.PARTNER_USER, name="ehr", organization=agency_a)
        response = signed_in(admin_user).post(
            "/admin/acs/apitoken/", {"action": "rotate", "_selected_action": [old.pk]}
        )
        new_token = response.context["token"]
        old.refresh_from_db()
        assert old.revoked_at is not None
        assert (
            Client(HTTP_AUTHORIZATION=f"Bearer {old_token}").get("/api/v1/referrals").status_code
            == 401
        )
        assert (
            Client(HTTP_AUTHORIZATION=f"Bearer {new_token}").get("/api/v1/referrals").status_code
            == 200
        )

    def test_case_managers_cannot_issue(self, case_manager):
        assert signed_in(case_manager).get("/admin/acs/apitoken/issue/").status_code in (302, 403)


def test_issue_token_partner_command(agency_a, capsys):
    from django.core.management import call_command

    call_command("issue_token", "partner", str(agency_a.public_id), "agency-a-ehr")
    token = capsys.readouterr().out.strip()
    assert ApiToken.objects.get().user.organization == agency_a
    assert Client(HTTP_AUTHORIZATION=f"Bearer {token}").get("/api/v1/referrals").status_code == 200


@pytest.mark.parametrize(
    "args", [["partner", "not-a-uuid", "x"], ["partner", "x"], ["cad", "a", "b"]]
)
def test_issue_token_partner_refuses_bad_arguments(args, db):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError):
        call_command("issue_token", *args)


def test_two_partners_may_name_their_clients_alike(agency_a, agency_b):
    from acs.roles import Role
    from acs.tokens import token_issue

    a, _ = token_issue(role=Role.PARTNER_USER, name="main", organization=agency_a)
    b, _ = token_issue(role=Role.PARTNER_USER, name="main", organization=agency_b)
    assert a.user != b.user and b.user.organization == agency_b
