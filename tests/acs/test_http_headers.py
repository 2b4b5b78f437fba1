"""Security headers on every kind of page: a Content-Security-Policy without inline scripts,
no framing, no sniffing, a same-origin referrer; and templates that need no inline code."""

import re
from pathlib import Path

import pytest
from django.conf import settings

from tests.acs.test_settings import PRODUCTION_ENV, run_django

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.fixture
def pages(client, responder, admin_user, partner_a):
    """One response of each kind: public, sign-in, signed-in home, admin, portal, API docs."""

    def as_user(user, path):
        client.force_login(user)
        response = client.get(path)
        client.logout()
        return response

    return {
        "home": as_user(responder, "/"),
        "sign-in": client.get("/accounts/login/"),
        "admin index": as_user(admin_user, "/admin/"),
        "partner portal": as_user(partner_a, "/partners/"),
        "transparency": client.get("/transparency/"),
        "api docs": client.get("/api/docs/"),
    }


def test_every_kind_of_page_has_a_policy_whose_scripts_are_never_unsafe(pages):
    for name, response in pages.items():
        assert response.status_code == 200, name
        assert "text/html" in response["Content-Type"], name
        directives = policy(response)
        assert directives["script-src"][0] == "'self'", name
        assert not [v for v in directives["script-src"] if v.startswith("'unsafe")], name
        assert directives["object-src"] == ["'none'"], name
        assert directives["base-uri"] == ["'none'"], name
        assert directives["frame-ancestors"] == ["'none'"], name
        assert directives["form-action"] == ["'self'"], name


def test_pages_other_than_the_api_docs_allow_nothing_but_this_site(pages):
    for name, response in pages.items():
        if name == "api docs":
            continue
        assert policy(response) == {
            "default-src": ["'self'"],
            "script-src": ["'self'"],
            "style-src": ["'self'"],
            "img-src": ["'self'", "data:"],
            "connect-src": ["'self'"],
            "worker-src": ["'self'"],
            "manifest-src": ["'self'"],
            "frame-ancestors": ["'none'"],
            "form-action": ["'self'"],
            "base-uri": ["'none'"],
            "object-src": ["'none'"],
        }, name


def test_the_api_docs_are_served_from_here_and_run_no_inline_script(client, pages):
    docs = pages["api docs"]
    directives = policy(docs)
    # Swagger UI comes from drf-spectacular-sidecar, pinned: nothing from a CDN (works offline).
    assert directives["script-src"] == ["'self'"]
    assert "https:" not in " ".join(directives["style-src"] + directives["img-src"])
    html = docs.content.decode()
    assert "cdn.jsdelivr.net" not in html and "@latest" not in html
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    # Every script has a src; the start-up script is this same view with ?script.
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert 'src="/api/docs/?script="' in html
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert "javascript" in script["Content-Type"]
    assert "/api/schema/" in script.content.decode()


def test_the_other_security_headers_are_on_every_page(pages):
    for name, response in pages.items():
        assert response["X-Frame-Options"] == "DENY", name
        assert response["X-Content-Type-Options"] == "nosniff", name
        assert response["Referrer-Policy"] == "same-origin", name


def test_production_sends_hsts_and_secure_httponly_cookies():
    result = run_django(
        "from django.conf import settings as s; "
        "print(s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_SSL_REDIRECT, "
        "s.SESSION_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.CSRF_COOKIE_SECURE, "
        "'csp.middleware.CSPMiddleware' in s.MIDDLEWARE)",
        **PRODUCTION_ENV,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["31536000", "True", "True", "True", "True", "True", "True"]


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
# onclick=, onload=, ... as attributes inside a tag (not words like "done=" in text).
HANDLER_ATTRIBUTE = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[^>]*\sstyle\s*=", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style\b", re.IGNORECASE)


def test_no_template_of_ours_has_inline_scripts_handlers_or_styles():
    offenders = []
    for template in sorted(TEMPLATES.rglob("*.html")):
        text = template.read_text()
        for rule, pattern in (
            ("inline <script>", INLINE_SCRIPT),
            ("on*= handler", HANDLER_ATTRIBUTE),
            ("style= attribute", STYLE_ATTRIBUTE),
            ("<style> element", STYLE_ELEMENT),
        ):
            if pattern.search(text):
                offenders.append(f"{template.relative_to(TEMPLATES)}: {rule}")

    assert offenders == []
