from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponsePermanentRedirect,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import render, resolve_url
from django.templatetags.static import static
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from acs import health, metrics

if TYPE_CHECKING:
    from responders.models import User

    class SignedInRequest(HttpRequest):
        """A request past login_required: its user is signed in."""

        user: User


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when database, cache, broker and a worker on each queue are all up; 503 naming what
    is not (a queue not served: "worker" fails, its "queues" and detail name the queue)."""
    return _health_response(health.run_checks())


@require_GET
@never_cache
def healthz_live(request: HttpRequest) -> JsonResponse:
    """Liveness: this process answers requests. Touches no database, cache or broker, so a
    restart is never ordered for an outage a restart cannot mend."""
    return JsonResponse({"status": "ok"})


@require_GET
@never_cache
def healthz_ready(request: HttpRequest) -> JsonResponse:
    """Readiness: database, cache and a worker on each queue (acs.health.run_readiness_checks);
    the same answer's shape as /healthz."""
    return _health_response(health.run_readiness_checks())


# Exempt from CSRF only so that a POST without the token gets the same 404 as any other (it
# writes nothing, and answers nothing to anyone without the token).
@csrf_exempt
@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics (acs/metrics.py), for the scraper only: anyone else, signed in or
    not, whatever the method, gets the 404 of a path that does not exist."""
    if not metrics.scraper_allowed(request):
        raise Http404
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    return HttpResponse(metrics.scrape(), content_type=metrics.CONTENT_TYPE)


def _health_response(checks: list[health.Check]) -> JsonResponse:
    failing = [c.name for c in checks if not c.ok]
    body = {
        "status": "fail" if failing else "ok",
        "failing": failing,
        "checks": {c.name: _check_json(c) for c in checks},
    }
    return JsonResponse(body, status=503 if failing else 200)


def _check_json(check: health.Check) -> dict[str, Any]:
    body: dict[str, Any] = {"ok": check.ok, "detail": check.detail}
    if check.parts:
        body["queues"] = {
            name: {"ok": part.ok, "detail": part.detail} for name, part in check.parts.items()
        }
    return body


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask every site for /favicon.ico: the app's icon (its hashed static name is read
    at request time, once collectstatic has written the manifest)."""
    return HttpResponsePermanentRedirect(static("field/icon.svg"))


@login_required
def home(request: SignedInRequest) -> HttpResponse:
    return render(request, "acs/home.html", {"roles": request.user.role_labels})


@never_cache
def admin_login(request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
    """Django's admin sign-in page, closed: one door for everyone.

    It would take a password past allauth's second factor, lockout, rate limits and audit, so
    it never reads one (a POST is not authenticated either). Signed-out visitors go to the
    allauth sign-in and come back to where they were going; signed-in staff go on to the
    admin; anyone else signed in is refused.
    """
    next_url = request.GET.get(REDIRECT_FIELD_NAME) or request.POST.get(REDIRECT_FIELD_NAME)
    if not next_url or not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = resolve_url("admin:index")
    if request.user.is_authenticated:
        if not admin.site.has_permission(request):
            raise PermissionDenied
        return HttpResponseRedirect(next_url)
    query = urlencode({REDIRECT_FIELD_NAME: next_url})
    return HttpResponseRedirect(f"{resolve_url(settings.LOGIN_URL)}?{query}")
