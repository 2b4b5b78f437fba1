from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from acs import views

# The Swagger UI's bundle and stylesheet are served from here (drf-spectacular-sidecar, pinned),
# so /api/docs/ works offline; its own start-up script comes from this view (?script), so
# scripts stay free of inline code. Only its inline <style> widens this one page's policy.
api_docs = csp_update({"style-src": ["'unsafe-inline'"]})(
    SpectacularSwaggerSplitView.as_view(url_name="api-schema")
)

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("healthz/live", views.healthz_live, name="healthz-live"),
    path("healthz/ready", views.healthz_ready, name="healthz-ready"),
    # For the Prometheus scraper only (acs/metrics.py): a 404 without its token.
    path("metrics", views.metrics_view, name="metrics"),
    # Browsers ask every site for /favicon.ico; pages without an icon link get the app's.
    path("favicon.ico", views.favicon),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("acs.api_urls")),
    path("api/hsds/", include("resources.api.hsds_urls")),
    path("partners/", include("resources.partners.urls")),
    path("field/", include("responders.field.urls")),
    path("board/", include("cases.board.urls")),
    path("transparency/", include("cases.transparency.public.urls")),
    path("hooks/sms/", include("cases.hook_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", api_docs, name="api-docs"),
]

# Under /api/ a path no view matches is a JSON 404 in the error shape (acs/errors.py).
handler404 = "acs.errors.page_not_found"
