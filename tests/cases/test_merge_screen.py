"""The side-by-side merge screen: two residents compared, a value chosen for each field where
they differ, merged through resident_merge, and the merge can be undone."""

from datetime import date

import pytest

from acs.errors import DomainError
from acs.models import AuditEvent
from cases.models import Consent, Resident, ResidentMerge
from cases.services import consent_record, resident_create, resident_merge, resident_unmerge

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(case_manager):
    a = resident_create(
        actor=case_manager,
        data={
            "preferred_name": "Tino",
            "legal_name": "Faustino Reyes",
            "date_of_birth": date(1971, 5, 2),
            "phone": "+15055550111",
        },
        confirm_new=True,
    )
    b = resident_create(
        actor=case_manager,
        data={
            "preferred_name": "Tino",
            "legal_name": "Faustino Reyes Jr",
            "date_of_birth": date(1971, 5, 20),
            "phone": "",
            "aliases": ["Flaco"],
        },
        confirm_new=True,
    )
    consent_record(actor=case_manager, resident=b, scope=Consent.Scope.SMS, method="verbal")
    return a, b


def merge_url(a, b):
    return f"/admin/cases/resident/merge/{a.pk}/{b.pk}/"


def test_the_action_on_exactly_two_opens_the_side_by_side_screen(client, case_manager, pair):
    a, b = pair
    client.force_login(case_manager)

    response = client.post(
        "/admin/cases/resident/",
        {"action": "compare_two", "_selected_action": [a.pk, b.pk]},
    )

    assert response.status_code == 302
    assert response["Location"] == merge_url(a, b)


def test_the_action_refuses_anything_but_two(client, case_manager, pair):
    client.force_login(case_manager)

    response = client.post(
        "/admin/cases/resident/",
        {"action": "compare_two", "_selected_action": [pair[0].pk]},
        follow=True,
    )

    assert "Select exactly two residents." in response.content.decode()


def test_the_screen_shows_both_records_and_radio_buttons_where_they_differ(
    client, case_manager, pair
):
    a, b = pair
    client.force_login(case_manager)

    response = client.get(merge_url(a, b))

    body = response.content.decode()
    assert response.status_code == 200
    for shown in ("Faustino Reyes Jr", "1971-05-20", "+15055550111", "Flaco", "Receive SMS"):
        assert shown in body
    form = response.context["form"]
    assert set(form.differing) == {"legal_name", "date_of_birth", "phone"}
    assert 'name="value_legal_name"' in body
    assert 'name="value_preferred_name"' not in body  # the same on both
    # Opening both records is audited as a view of each.
    for r in (a, b):
        assert AuditEvent.objects.filter(
            action="view", target_id=r.public_id, reason="admin: merge"
        ).exists()


def test_merging_keeping_the_survivors_values(client, case_manager, pair):
    a, b = pair
    client.force_login(case_manager)

    response = client.post(
        merge_url(a, b),
        {
            "survivor": "a",
            "value_legal_name": "a",
            "value_date_of_birth": "a",
            "value_phone": "a",
        },
    )

    assert response.status_code == 302
    b.refresh_from_db()
    a.refresh_from_db()
    assert b.merged_into == a
    assert a.legal_name == "Faustino Reyes"
    assert "Flaco" in a.aliases and "Faustino Reyes Jr" in a.aliases


def choose_the_other_records_values(client, a, b):
    return client.post(
        merge_url(a, b),
        {
            "survivor": "a",
            "value_legal_name": "b",
            "value_date_of_birth": "b",
            "value_phone": "a",
        },
    )


def test_chosen_values_are_set_on_the_survivor_and_restored_by_the_undo(client, case_manager, pair):
    a, b = pair
    client.force_login(case_manager)
    choose_the_other_records_values(client, a, b)

    a.refresh_from_db()
    assert (a.legal_name, a.date_of_birth, a.phone) == (
        "Faustino Reyes Jr",
        date(1971, 5, 20),
        "+15055550111",
    )
    assert "Faustino Reyes" in a.aliases  # the replaced name is still searchable
    merge = ResidentMerge.objects.get()
    resident_unmerge(actor=case_manager, merge=merge)
    a.refresh_from_db()
    assert (a.legal_name, a.date_of_birth) == ("Faustino Reyes", date(1971, 5, 2))
    assert a.aliases == []


def test_a_value_neither_record_has_is_refused(case_manager, pair):
    a, b = pair

    with pytest.raises(DomainError):
        resident_merge(
            actor=case_manager, survivor=a, duplicate=b, values={"legal_name": "Someone Else"}
        )

    b.refresh_from_db()
    assert b.merged_into is None


def test_the_other_record_can_survive(client, case_manager, pair):
    a, b = pair
    client.force_login(case_manager)

    client.post(
        merge_url(a, b),
        {"survivor": "b", "value_legal_name": "b", "value_date_of_birth": "b", "value_phone": "b"},
    )

    a.refresh_from_db()
    assert a.merged_into == b
    assert Resident.objects.get(pk=b.pk).consents.count() == 1


def test_the_merge_can_be_undone_from_the_admin(client, case_manager, pair):
    a, b = pair
    merge = resident_merge(actor=case_manager, survivor=a, duplicate=b)
    client.force_login(case_manager)

    client.post("/admin/cases/residentmerge/", {"action": "undo", "_selected_action": [merge.pk]})

    b.refresh_from_db()
    assert b.merged_into is None


def test_a_responder_cannot_open_the_merge_screen(client, responder, pair):
    client.force_login(responder)

    response = client.get(merge_url(*pair))

    assert response.status_code == 302  # to the admin's sign-in: not staff
    assert not ResidentMerge.objects.exists()
