"""The outbox and the opt-outs in the admin: read-only, no address or text in the lists, the
detail page audited; sent messages on the resident's timeline."""

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from acs.models import AuditEvent
from cases.models import Consent, Notification, SmsOptOut
from cases.selectors.timeline import resident_timeline
from cases.services import resident_create
from cases.services.notifications import notification_schedule

pytestmark = pytest.mark.django_db
N = Notification
PHONE = "+15055550142"
BODY = "Albuquerque Community Safety checking in. Reply STOP to stop these texts."
LIST = "/admin/cases/notification/"


@pytest.fixture
def resident(case_manager):
    resident = resident_create(
        actor=case_manager, data={"preferred_name": "Sunny Secret", "phone": "505-555-0142"}
    )
    Consent.objects.create(
        resident=resident, scope="sms", method="verbal", recorded_by=case_manager
    )
    return resident


def sent_text(resident, *, provider_status="delivered", template="checkin"):
    row = notification_schedule(template=template, channel="sms", resident=resident)
    N.objects.filter(pk=row.pk).update(
        status=N.Status.SENT,
        sent_at=timezone.now(),
        to_address=PHONE,
        body=BODY,
        provider_message_id=f"SM{row.pk:032d}",
        provider_status=provider_status,
        attempts=1,
    )
    row.refresh_from_db()
    return row


def test_the_list_shows_the_outbox_without_addresses_or_texts(client, admin_user, resident):
    sent_text(resident)
    client.force_login(admin_user)

    response = client.get(LIST)

    page = response.content.decode()
    assert response.status_code == 200
    assert "checkin" in page and "delivered" in page
    assert PHONE not in page and "checking in" not in page


def test_the_list_filters_by_status_channel_and_template(client, admin_user, resident):
    sent_text(resident)
    notification_schedule(template="referral_accepted", channel="sms", resident=resident)
    client.force_login(admin_user)

    sent = client.get(LIST, {"status__exact": "sent", "channel__exact": "sms"})
    waiting = client.get(LIST, {"template": "referral_accepted"})

    assert sent.context["cl"].result_count == 1
    assert [n.template for n in waiting.context["cl"].result_list] == ["referral_accepted"]


def test_the_list_takes_the_same_queries_for_many_rows(client, admin_user, resident):
    client.force_login(admin_user)
    client.get(LIST)  # the session's first page also checks the second factor, once
    sent_text(resident)
    with CaptureQueriesContext(connection) as one:
        client.get(LIST)
    for _ in range(9):
        sent_text(resident)
    with CaptureQueriesContext(connection) as ten:
        client.get(LIST)

    assert len(ten) == len(one)


def test_the_detail_page_shows_address_and_text_and_is_audited(client, admin_user, resident):
    row = sent_text(resident)
    client.force_login(admin_user)

    response = client.get(f"{LIST}{row.pk}/change/")

    page = response.content.decode()
    assert response.status_code == 200
    assert PHONE in page and "checking in" in page
    assert 'name="_save"' not in page  # read-only
    assert AuditEvent.objects.filter(
        actor=admin_user, action="view", target_id=resident.public_id, reason="admin: notification"
    ).exists()


def test_nobody_adds_changes_or_deletes_a_notification(client, admin_user, resident):
    row = sent_text(resident)
    client.force_login(admin_user)

    assert client.get(f"{LIST}add/").status_code == 403
    assert client.post(f"{LIST}{row.pk}/change/", {"status": "pending"}).status_code == 403
    assert client.post(f"{LIST}{row.pk}/delete/", {"post": "yes"}).status_code == 403
    row.refresh_from_db()
    assert row.status == N.Status.SENT


def test_a_case_manager_with_the_view_permission_reads_but_cannot_change(
    client, case_manager, resident
):
    # The grant itself comes with a data migration (view_notification, view_smsoptout).
    case_manager.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="cases", codename__in=["view_notification", "view_smsoptout"]
        )
    )
    row = sent_text(resident)
    client.force_login(case_manager)

    assert client.get(LIST).status_code == 200
    detail = client.get(f"{LIST}{row.pk}/change/")
    assert detail.status_code == 200 and 'name="_save"' not in detail.content.decode()
    assert client.post(f"{LIST}{row.pk}/change/", {}).status_code == 403
    assert client.get("/admin/cases/smsoptout/").status_code == 200


def test_opt_outs_list_the_last_digits_only(client, admin_user):
    opt_out = SmsOptOut.objects.create(phone=PHONE, opted_out_at=timezone.now(), keyword="STOP")
    SmsOptOut.objects.create(
        phone="+15055550999",
        opted_out_at=timezone.now(),
        opted_in_at=timezone.now(),
        keyword="PARA",
    )
    client.force_login(admin_user)

    listing = client.get("/admin/cases/smsoptout/")
    active = client.get("/admin/cases/smsoptout/", {"state": "active"})
    detail = client.get(f"/admin/cases/smsoptout/{opt_out.pk}/change/")

    assert listing.status_code == 200
    assert "…0142" in listing.content.decode() and PHONE not in listing.content.decode()
    assert [o.keyword for o in active.context["cl"].result_list] == ["STOP"]
    assert PHONE in detail.content.decode()
    assert client.get("/admin/cases/smsoptout/add/").status_code == 403


# --- the resident's timeline ------------------------------------------------------------------


def test_the_timeline_shows_sent_messages_with_their_delivery(client, admin_user, resident):
    sent_text(resident)
    notification_schedule(template="checkin", channel="sms", resident=resident)  # not sent
    client.force_login(admin_user)

    (entry,) = [e for e in resident_timeline(resident) if e.kind == "message"]
    page = client.get(f"/admin/cases/resident/{resident.pk}/change/").content.decode()

    assert entry.text == "Text sent: check-in (delivered)"
    assert "Text sent: check-in (delivered)" in page
    assert "checking in" not in page


def test_the_timeline_shows_messages_of_a_record_merged_into_it(case_manager, resident):
    from cases.services import resident_merge

    twin = resident_create(actor=case_manager, data={"preferred_name": "Sun"}, confirm_new=True)
    sent_text(twin, provider_status="", template="referral_accepted")
    resident_merge(actor=case_manager, survivor=resident, duplicate=twin)

    texts = [e.text for e in resident_timeline(resident) if e.kind == "message"]

    assert texts == ["Text sent: referral accepted"]


def test_the_timeline_takes_the_same_queries_for_many_messages(resident):
    sent_text(resident)
    with CaptureQueriesContext(connection) as one:
        resident_timeline(resident)
    for _ in range(5):
        sent_text(resident)
    with CaptureQueriesContext(connection) as six:
        entries = resident_timeline(resident)

    assert len(six) == len(one)
    assert sum(e.kind == "message" for e in entries) == 6


def test_case_managers_and_supervisors_may_read_the_outbox(case_manager, supervisor):
    for user in (case_manager, supervisor):
        assert user.has_perm("cases.view_notification")
        assert user.has_perm("cases.view_smsoptout")
        assert not user.has_perm("cases.change_notification")
