from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from acs import health


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when database, cache, broker and a worker are all up; 503 naming what is not."""
    checks = health.run_checks()
    failing = [c.name for c in checks if not c.ok]
    body = {
        "status": "fail" if failing else "ok",
        "failing": failing,
        "checks": {c.name: {"ok": c.ok, "detail": c.detail} for c in checks},
    }
    return JsonResponse(body, status=503 if failing else 200)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "acs/home.html", {"roles": request.user.role_labels})
