"""acs/admin_rows.py renders a desk list's rows cell for cell as Django's admin does
(admin_list.items_for_result), on every list that uses it."""

import io

import pytest
from django.contrib import admin
from django.contrib.admin.templatetags import admin_list
from django.core.management import call_command
from django.urls import reverse

from acs import admin_rows
from acs.admin_base import FastChangeList, FastListAdmin

pytestmark = pytest.mark.django_db


def _rows(context: dict) -> list[str]:
    """Each row as the template writes it: its items one after the other."""
    return ["".join(str(cell) for cell in row) for row in context["results"]]


def _fast_lists() -> list[str]:
    return sorted(
        f"{model._meta.app_label}/{model._meta.model_name}"
        for model, model_admin in admin.site._registry.items()
        if isinstance(model_admin, FastListAdmin)
    )


@pytest.mark.parametrize("role", ["admin", "case_manager"])
def test_every_desk_list_shows_the_cells_djangos_rows_would(client, admin_user, case_manager, role):
    """The demo's records (with a few more kinds), every list as an administrator and as a
    case manager sees it, in its own order, sorted by its columns, searched: the same
    cells as Django's, links with the list's filters included."""
    from cases.services import resident_merge
    from tests.factories import ResidentFactory

    call_command("seed_demo", "--quiet-logins", stdout=io.StringIO())
    resident_merge(actor=case_manager, survivor=ResidentFactory(), duplicate=ResidentFactory())
    user = admin_user if role == "admin" else case_manager
    user.refresh_from_db()  # the demo may have set a user of the same name's password
    client.force_login(user)
    compared: dict[str, int] = {}
    for name in _fast_lists():
        url = reverse(f"admin:{name.replace('/', '_')}_changelist")
        # Residents are searched by a form posted (no name in a URL), not by ?q=.
        searched = [] if name == "cases/resident" else [{"q": "a"}]
        for params in ({}, {"o": "-2.1"}, {"o": "3"}, *searched):
            response = client.get(url, params)
            if response.status_code == 403:  # not this role's list
                break
            assert response.status_code == 200, (name, params, response.status_code)
            changelist = response.context["cl"]
            assert isinstance(changelist, FastChangeList)
            ours = admin_rows.result_list(changelist)
            djangos = admin_list.result_list(changelist)
            assert _rows(ours) == _rows(djangos), (name, params)
            assert ours["result_headers"] == djangos["result_headers"]
            assert ours["num_sorted_fields"] == djangos["num_sorted_fields"]
            compared[name] = compared.get(name, 0) + len(ours["results"])
            for row in _rows(ours)[:3]:  # and the page shows them
                assert f"<tr>{row}</tr>" in response.content.decode()
    shown = {name for name, rows in compared.items() if rows}
    # Every list the role may read showed rows, but form responses (the demo has none).
    assert shown >= set(compared) - {"cases/formresponse"}, compared
    assert len(shown) >= (14 if role == "admin" else 11), compared


def test_a_boolean_column_shows_only_true_false_and_none_from_the_pages_icons():
    """1 and 0 equal True and False as keys, but Django's icon says alt="1": drawn afresh."""
    page = admin_rows._Page.__new__(admin_rows._Page)
    page.icons = {value: admin_list._boolean_icon(value) for value in (True, False, None)}
    for value in (True, False, None, 1, 0):
        assert page.icon(value) == admin_list._boolean_icon(value)


def _djangos_sidebar(response) -> str:
    from django.template.loader import render_to_string

    return render_to_string(
        "admin/app_list.html",
        {
            "app_list": response.context["available_apps"],
            "show_changelinks": False,
            "request": response.wsgi_request,
        },
    )


def test_the_sidebar_is_djangos_for_each_user_page_and_language(client, case_manager, admin_user):
    """acs/admin_sidebar.py keeps the sidebar's rendering per distinct list of links, page and
    language: each page shows the list Django would render there, for this user now (a role
    given since shows at once) and in the user's language."""
    from django.contrib.auth.models import Group

    from acs.roles import Role

    def sidebar_of(user, url: str) -> tuple[str, str]:
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return _djangos_sidebar(response), response.content.decode()

    seen = set()
    for user in (case_manager, admin_user):
        for url in ("/admin/cases/followup/", "/admin/resources/service/", "/admin/cases/call/"):
            djangos, page = sidebar_of(user, url)
            assert djangos in page, (user, url)
            assert '<nav class="sticky" id="nav-sidebar"' in page
            seen.add(djangos)
    assert len(seen) == 6  # each page marks its own model; each user sees their own links

    # A record's page marks the same links as its list's: one rendering serves both.
    from tests.factories import CallFactory

    call = CallFactory()
    djangos, page = sidebar_of(admin_user, f"/admin/cases/call/{call.pk}/change/")
    assert djangos in page

    before, _ = sidebar_of(case_manager, "/admin/resources/service/")
    case_manager.groups.add(Group.objects.get(name=Role.SUPERVISOR))
    djangos, page = sidebar_of(case_manager, "/admin/resources/service/")
    assert djangos != before and djangos in page

    case_manager.language = "es"
    case_manager.save(update_fields=["language"])
    spanish, page = sidebar_of(case_manager, "/admin/resources/service/")
    assert spanish in page
