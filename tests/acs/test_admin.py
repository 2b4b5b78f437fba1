import pytest

from acs.audit import audit_record
from acs.models import ApiToken
from acs.roles import Role
from acs.tokens import token_check, token_issue

pytestmark = pytest.mark.django_db


def test_an_administrator_revokes_a_token_in_the_admin(client, admin_user):
    row, token = token_issue(role=Role.CAD_INTEGRATION, name="old-cad")
    client.force_login(admin_user)

    response = client.post(
        "/admin/acs/apitoken/", {"action": "revoke", "_selected_action": [row.pk]}
    )

    assert response.status_code == 302
    assert ApiToken.objects.get().revoked_at is not None
    assert token_check(token) is None


def test_the_audit_trail_is_read_only_in_the_admin(client, admin_user, responder):
    event = audit_record(actor=responder, action="view", target=responder)
    client.force_login(admin_user)

    assert client.get("/admin/acs/auditevent/").status_code == 200
    page = client.get(f"/admin/acs/auditevent/{event.pk}/change/")
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert client.post(f"/admin/acs/auditevent/{event.pk}/delete/").status_code == 403


def test_supervisors_see_the_audit_trail_and_case_managers_do_not(client, supervisor, case_manager):
    client.force_login(supervisor)
    assert client.get("/admin/acs/auditevent/").status_code == 200

    client.force_login(case_manager)
    assert client.get("/admin/acs/auditevent/").status_code == 403


def _fast_lists():
    from django.contrib import admin

    from acs.admin_base import FastListAdmin

    return sorted(
        (model._meta.app_label, model._meta.model_name)
        for model, model_admin in admin.site._registry.items()
        if isinstance(model_admin, FastListAdmin)
    )


@pytest.mark.parametrize("app_label,model_name", _fast_lists())
def test_a_fast_list_links_its_rows_as_django_does(client, admin_user, app_label, model_name):
    """FastChangeList makes every row's link from one reversed URL with the list's filters
    (sorted, searched) already on it; each link is the one Django makes for that row, keys
    that need quoting included, and the page shows them."""
    from types import SimpleNamespace

    from django.contrib import admin
    from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
    from django.contrib.admin.views.main import ChangeList
    from django.urls import reverse

    from acs.admin_base import FastChangeList
    from tests.factories import ServiceAtLocationFactory

    ServiceAtLocationFactory.create_batch(2)  # rows for the directory's lists
    client.force_login(admin_user)
    url = reverse(f"admin:{app_label}_{model_name}_changelist")
    response = client.get(url, {"o": "-1"})  # newest or last first: kept on every link
    assert response.status_code == 200, response.status_code
    changelist = response.context["cl"]
    assert isinstance(changelist, FastChangeList)
    model_admin = admin.site._registry[changelist.model]
    preserved = model_admin.get_preserved_filters(response.wsgi_request)
    assert "_changelist_filters=o%3D-1" in preserved

    def djangos(row):
        return add_preserved_filters(
            {"preserved_filters": preserved, "opts": changelist.opts},
            ChangeList.url_for_result(changelist, row),
        )

    for key in (7, 1234567, "a b/c_d:é?%&#x", "0ROW0KEY0"):
        row = SimpleNamespace(**{changelist.pk_attname: key})
        assert changelist.url_for_result(row) == djangos(row), key
    page = response.content.decode()
    rows = list(changelist.result_list)
    if model_name in ("organization", "service", "location", "serviceatlocation"):
        assert rows, "the directory's lists show the places made above"
    for row in rows:
        assert f'href="{djangos(row)}"'.replace("&", "&amp;") in page


def test_a_fast_list_resolves_no_url_for_each_row(client, admin_user, monkeypatch):
    """Django resolves every row's link again to add a searched list's filters to it (about
    100 us a row); a FastChangeList's page resolves as many URLs for five rows as for one."""
    from django.contrib.admin.templatetags import admin_urls

    from tests.factories import ServiceFactory

    resolved = []
    resolve = admin_urls.resolve
    monkeypatch.setattr(admin_urls, "resolve", lambda path: resolved.append(path) or resolve(path))
    client.force_login(admin_user)

    def resolves(rows: int) -> int:
        resolved.clear()
        response = client.get("/admin/resources/service/", {"q": "shelter"})
        assert len(response.context["cl"].result_list) == rows
        return len(resolved)

    ServiceFactory(name="Shelter 0")
    one = resolves(1)
    ServiceFactory.create_batch(4, name="Shelter")
    assert resolves(5) == one
