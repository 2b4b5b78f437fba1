"""DRF's browsable API under our Content-Security-Policy (script-src and style-src 'self', no
'unsafe-inline'): a page with an inline style or script would be silently broken by the
browser. DRF's templates carry an inline <style> and style="" attributes; ours in
templates/rest_framework/ move them into static/rest_framework_overrides/browsable-api.css.

The browsable API is on in every environment (REST_FRAMEWORK sets no renderer classes, so
DRF's defaults, JSON and the browsable API, apply), hence these tests.

Our own API views are plain APIViews, so they never reach the parts of DRF's templates with
the style="" attributes (extra actions, filters, nested serializers in the HTML form). The
exhibit viewset below, routed only in this module's URLconf, reaches every one of them.
"""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import include, path
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from acs.roles import Role
from acs.urls import urlpatterns as project_urlpatterns
from responders.models import Team
from tests.acs.test_csp_browser import Watched
from tests.acs.test_http_headers import policy
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

HTML = "text/html"
STYLESHEET = "rest_framework_overrides/browsable-api.css"

# A <script> with a src loads a file from 'self'; one of type application/json is a data block
# the browser never runs (DRF keeps the CSRF header name there for csrf.js). Any other
# <script> would be inline code.
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
INLINE = {
    "style attribute": re.compile(r"\sstyle\s*=", re.IGNORECASE),
    "style element": re.compile(r"<style\b", re.IGNORECASE),
    "event handler": re.compile(r"\son\w+\s*=", re.IGNORECASE),
    "javascript: URL": re.compile(r"""=\s*["']?\s*javascript:""", re.IGNORECASE),
}


def inline_code(html: str) -> list[str]:
    found = [f"{kind}: {m.group(0)}" for kind, rx in INLINE.items() for m in rx.finditer(html)]
    for m in SCRIPT_TAG.finditer(html):
        attributes = m.group(1).lower()
        if "src=" not in attributes and 'type="application/json"' not in attributes:
            found.append(f"inline script: {m.group(0)}")
    return found


def browsable_page(client, url: str) -> str:
    response = client.get(url, HTTP_ACCEPT=HTML)
    assert response.status_code == 200
    assert response["Content-Type"].startswith(HTML)
    # Parsed, not matched as text: django-csp does not keep the directives in one order.
    directives = policy(response)
    assert directives["style-src"] == ["'self'"] and directives["script-src"] == ["'self'"]
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    return response.content.decode()


# --- an exhibit that reaches every branch of DRF's templates ---------------------------------


class ExhibitAddress(serializers.Serializer):
    street = serializers.CharField()


class ExhibitPhone(serializers.Serializer):
    number = serializers.CharField()


class ExhibitSerializer(serializers.Serializer):
    name = serializers.CharField()
    address = ExhibitAddress()  # horizontal/fieldset.html
    phones = ExhibitPhone(many=True)  # horizontal/list_fieldset.html


class ExhibitViewSet(viewsets.GenericViewSet):
    queryset = Team.objects.all()
    serializer_class = ExhibitSerializer
    pagination_class = None
    filter_backends = [SearchFilter, OrderingFilter]  # filters/search.html, ordering.html
    search_fields = ["name"]
    ordering_fields = ["name"]
    ordering = ["name"]  # the current ordering gets DRF's styled check mark

    def list(self, request):
        return Response([{"name": team.name} for team in self.filter_queryset(self.queryset)])

    def create(self, request):
        return Response(status=201)

    @action(detail=False)  # the "Extra Actions" menu
    def summary(self, request):
        return Response({})


router = SimpleRouter()
router.register("browsable-api-exhibit", ExhibitViewSet, basename="browsable-api-exhibit")
urlpatterns = [path("", include(router.urls)), *project_urlpatterns]


# --- tests ------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/api/v1/me", "/api/v1/field/calls"])
def test_our_browsable_api_pages_carry_no_inline_script_or_style(client, responder, url):
    client.force_login(responder)

    html = browsable_page(client, url)

    assert inline_code(html) == []
    assert STYLESHEET in html


def test_the_paginated_partner_feed_carries_no_inline_script_or_style(client, partner_a):
    client.force_login(partner_a)

    html = browsable_page(client, "/api/v1/referrals")

    assert inline_code(html) == []


@pytest.mark.urls(__name__)
def test_every_styled_part_of_drfs_templates_renders_without_inline_style(client, responder):
    client.force_login(responder)

    html = browsable_page(client, "/browsable-api-exhibit/")

    assert inline_code(html) == []
    # Each part DRF styles inline is on this page, with its class from our stylesheet instead.
    assert "Extra Actions" in html and "Filters" in html
    assert html.count("drf-request-button") == 2
    assert html.count("drf-fieldset-heading") == 2
    assert "drf-search-input" in html
    assert "drf-ordering-current" in html


def test_the_stylesheet_defines_every_class_the_templates_use():
    css = (Path(settings.BASE_DIR) / "static" / STYLESHEET).read_text()
    for name in (
        "drf-request-button",
        "drf-fieldset-heading",
        "drf-search-input",
        "drf-ordering-current",
    ):
        assert f".{name}" in css


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.urls(__name__)
def test_in_chromium_the_browsable_api_runs_under_the_policy_with_our_styles(live_server, browser):
    UserFactory(username="csp-responder", role=Role.RESPONDER)
    watched = Watched(browser, live_server.url)
    watched.sign_in("csp-responder")

    watched.goto("/api/v1/me")
    watched.goto("/browsable-api-exhibit/")
    page = watched.page
    # The stylesheet applies: what DRF wrote inline now comes from the class.
    filters = page.get_by_role("button", name="Filters")
    assert filters.evaluate("e => getComputedStyle(e).float") == "right"
    assert filters.evaluate("e => getComputedStyle(e).marginRight") == "10px"
    # DRF's scripts run: the filters modal opens and shows the search box at its width.
    filters.click()
    search = page.locator("#filtersModal input.drf-search-input")
    search.wait_for(state="visible")
    assert search.evaluate("e => getComputedStyle(e).width") == "350px"
    current = page.locator("#filtersModal .drf-ordering-current")
    assert current.evaluate("e => getComputedStyle(e).float") == "right"
    heading = page.locator("#post-object-form .drf-fieldset-heading").first
    assert heading.evaluate("e => getComputedStyle(e).borderBottom") == (
        "1px solid rgb(229, 229, 229)"
    )
    assert heading.locator("legend").evaluate("e => getComputedStyle(e).borderBottomWidth") == (
        "0px"
    )
    watched.collect()

    assert watched.problems == []
