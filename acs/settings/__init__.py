"""Settings, configured from the environment (see .env.example for every variable).

Secrets may be given as files: for any variable read through ``env`` below, ``NAME_FILE`` holding
a path is read in its place (Docker and Kubernetes secrets).

ACS_ENVIRONMENT is ``development`` (the default), ``test`` or ``production``. Production turns on
the secure defaults that ``manage.py check --deploy`` asks for and refuses to start without a
SECRET_KEY, a DATABASE_URL and a REDIS_URL.

The settings are split by topic: acs/settings/environment.py (where they come from, the
folders, the deployment kind), acs/settings/auth.py (accounts, second factors, single sign-on)
and acs/settings/domain.py (the apps' own settings); Django's and the libraries' are here.
DJANGO_SETTINGS_MODULE stays ``acs.settings``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

from acs.client_address import trusted_networks
from acs.queues import KINDS as QUEUE_KINDS
from acs.settings.auth import *  # noqa: F403 (a section of the settings, by topic)
from acs.settings.domain import *  # noqa: F403
from acs.settings.domain import TILE_URL
from acs.settings.environment import *  # noqa: F403
from acs.settings.environment import BASE_DIR, ENVIRONMENT, LOCAL_DIR, PRODUCTION, env

if PRODUCTION:
    SECRET_KEY = env.str("SECRET_KEY")
else:
    SECRET_KEY = env.str(
        "SECRET_KEY", default="insecure-development-key-never-used-in-production-0123456789"
    )

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]"]
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- Applications -------------------------------------------------------------------------

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    # Swagger UI's files, pinned and served from here: /api/docs/ works without the internet.
    "drf_spectacular_sidecar",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    # Single sign-on (acs/settings/auth.py): beside allauth's other apps, before ours
    # (responders/admin.py trims its admin pages).
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.socialaccount.providers.saml",
    "acs.apps.AcsConfig",
    "responders.apps.RespondersConfig",
    "cases.apps.CasesConfig",
    "resources.apps.ResourcesConfig",
]

MIDDLEWARE = [
    # First: REMOTE_ADDR becomes the client's address behind TRUSTED_PROXIES, for every reader.
    "acs.client_address.ClientAddressMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The browser's language, unless the signed-in user chose one (responders.middleware).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "responders.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # After allauth, before MFA: an idle session is ended before anything else looks at it.
    "acs.sessions.IdleSessionMiddleware",
    "acs.mfa.RequireMfaMiddleware",
    # Innermost: lets the sign-in pages' form (CSP form-action) lead on to the IdP.
    "responders.sso.SsoFormActionMiddleware",
]

ROOT_URLCONF = "acs.urls"
WSGI_APPLICATION = "acs.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "acs.mfa.continue_after_set_up",
            ],
        },
    },
]

# --- Database: PostgreSQL only --------------------------------------------------------------

DATABASE_URL = env.str("DATABASE_URL", default="")
if DATABASE_URL:
    DATABASES = {"default": env.db_url_config(DATABASE_URL)}
    if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL (postgres://...)")
    DATABASE_ORIGIN = "DATABASE_URL"
elif PRODUCTION:
    raise ImproperlyConfigured("DATABASE_URL is required when ACS_ENVIRONMENT=production")
else:
    from acs import embedded

    DATABASES = {"default": embedded.database_settings(BASE_DIR / ".local" / "pgdata")}
    DATABASE_ORIGIN = "embedded"
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env.int(
    "DB_CONNECT_TIMEOUT", default=5
)
# No JIT compilation on the application's connections (DB_JIT=1 puts it back): its statements
# are short, and PostgreSQL compiled every plan costed over jit_above_cost (the directory's
# searches at 20,000 services and more) for 50-60 ms, longer than many then ran
# (docs/benchmarks.md, "Text rank at 200,000"). A startup option of the connection: behind a
# pooler that does not pass it on, set DB_JIT=1 and `ALTER ROLE ... SET jit = off` instead.
_startup = [] if env.bool("DB_JIT", default=False) else ["-c jit=off"]
# No parallel workers for the application's statements either (DB_PARALLEL=1 puts them back):
# starting one costs more than most of its statements take, and on a busy server the cores
# are the other requests' (a word open now near the tablet at 20,000 services: 10-16 ms with
# a worker, 4.7 without; two clients at once on 200,000 services: 35-37 -> 40 requests a
# second; docs/benchmarks.md, "No parallel workers"). Behind such a pooler: DB_PARALLEL=1 and
# `ALTER ROLE ... SET max_parallel_workers_per_gather = 0`.
if not env.bool("DB_PARALLEL", default=False):
    _startup.append("-c max_parallel_workers_per_gather=0")
# Random reads costed as the data is read, from memory or solid-state storage
# (random_page_cost 1.1, PostgreSQL's documented value for SSDs; DB_RANDOM_PAGE_COST sets
# another, "server" keeps the server's): at the default 4 the planner read every service at a
# location and hashed it to join a few hundred search rows, where looking each up by key is
# a tenth of the time (Navajo speakers at 20,000 services: 9.0 -> 2.7 ms; every kind of the
# directory's search faster, docs/benchmarks.md, "Random reads costed as cached").
_random_page_cost = env.str("DB_RANDOM_PAGE_COST", default="1.1")
if _random_page_cost != "server":
    try:
        _startup.append(f"-c random_page_cost={float(_random_page_cost):g}")
    except ValueError:
        raise ImproperlyConfigured(
            f"DB_RANDOM_PAGE_COST must be a number or 'server', not {_random_page_cost!r}"
        ) from None
if _startup:
    DATABASES["default"]["OPTIONS"]["options"] = " ".join(_startup)
# The test database is named after the database in use, so that checkouts sharing one server
# (CI, several working trees) never share a test database.
DATABASES["default"]["TEST"] = {
    "NAME": env.str("TEST_DATABASE_NAME", default=f"test_{DATABASES['default']['NAME']}")
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis (broker and cache), or the local stand-ins ---------------------------------------

REDIS_URL = env.str("REDIS_URL", default="")
if PRODUCTION and not REDIS_URL:
    raise ImproperlyConfigured("REDIS_URL is required when ACS_ENVIRONMENT=production")

CACHE_KEY_PREFIX = env.str(
    "CACHE_KEY_PREFIX", default="acs-test" if ENVIRONMENT == "test" else "acs"
)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            # Fail fast: /healthz must answer even when Redis hangs.
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    # Any: each transport takes its own options (numbers for Redis, folders for the filesystem).
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {
        # Longer than the longest task and countdown, or an acked-late task would run twice.
        "visibility_timeout": 3600,
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(LOCAL_DIR / "cache"),
            "KEY_PREFIX": CACHE_KEY_PREFIX,
        }
    }
    # A hostname, though unused, keeps kombu from warning on every connection.
    CELERY_BROKER_URL = "filesystem://localhost/"
    _queue_dir = LOCAL_DIR / "broker" / "queue"
    _control_dir = LOCAL_DIR / "broker" / "control"
    _queue_dir.mkdir(parents=True, exist_ok=True)
    _control_dir.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        # Broadcast (pidbox) state; the transport's default is ./control in the working folder.
        "control_folder": str(_control_dir),
        "store_processed": False,
    }

# --- Celery (see acs/celery.py for the beat schedule) ---------------------------------------

CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=90)
# Rows in the database are the source of truth; nobody reads task results.
CELERY_TASK_IGNORE_RESULT = True
# Queues by kind of work (acs/queues.py): realtime, bulk, maintenance, each behind this prefix
# (empty in production; tests/environment.py gives each test run its own).
TASK_QUEUE_PREFIX = env.str("TASK_QUEUE_PREFIX", default="")
# Every task of ours is routed to its kind's queue; anything else lands on maintenance.
CELERY_TASK_DEFAULT_QUEUE = f"{TASK_QUEUE_PREFIX}maintenance"
# A worker started without -Q consumes all three; `-Q realtime,maintenance` picks some.
CELERY_TASK_QUEUES = [Queue(f"{TASK_QUEUE_PREFIX}{kind}") for kind in QUEUE_KINDS]
CELERY_TASK_ROUTES = ("acs.queues.route_task",)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(LOCAL_DIR / "celerybeat-schedule")
CELERY_TIMEZONE = "America/Denver"

# --- API ------------------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "acs.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "acs.openapi.ApiSchema",
    "EXCEPTION_HANDLER": "acs.errors.api_exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DATETIME_FORMAT": "iso-8601",
    # Throttles keyed by address read REMOTE_ADDR, already the client's (acs.client_address);
    # DRF's default (None) would believe any X-Forwarded-For a client sends.
    "NUM_PROXIES": 0,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ACS case management API",
    "DESCRIPTION": (
        "Calls from CAD, encounters, the resource directory and closed-loop referrals. "
        "The public directory at /api/hsds/ follows Open Referral HSDS 3.0's own API "
        "description and is not repeated here; its pages count at most 1,000 items: past "
        "that, `total_items` is a lower bound and the page says `total_items_capped: true` "
        "(docs/api.md)."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "ReferralStatusEnum": "resources.models.referrals.ReferralStatus",
        "ReferralUrgencyEnum": "resources.models.referrals.ReferralUrgency",
        "ReferralOutcomeEnum": "resources.models.referrals.ReferralOutcome",
    },
    # The enum hook is drf-spectacular's default; ours document the common 4xx (acs/api.py),
    # and what each API refuses beyond its fields' types and its links (acs/openapi.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "acs.api.error_responses",
        "cases.api.schema.schema_truths",
        "resources.api.schema.schema_truths",
    ],
}

# --- Internationalisation -------------------------------------------------------------------

LANGUAGE_CODE = "en-us"
LANGUAGES = [("en", "English"), ("es", "Español")]
TIME_ZONE = "America/Denver"
LOCALE_PATHS = [BASE_DIR / "locale"]
# English dates on desk screens in the desk's shape (acs/formats/en/formats.py).
FORMAT_MODULE_PATH = ["acs.formats"]
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
# Outside production, serve straight from the source folders: no collectstatic needed.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "acs.static_storage.StaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- E-mail ---------------------------------------------------------------------------------

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="acs-casework@localhost")

# --- Security -------------------------------------------------------------------------------

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The reverse proxies in front of gunicorn, as addresses or networks ("10.0.0.5,10.0.1.0/24").
# Only a connection from one of them may name the client in X-Forwarded-For
# (acs/client_address.py); empty, the default, believes no one and REMOTE_ADDR stays the
# connection's peer. gunicorn's forwarded_allow_ips is the same list (acs/gunicorn_conf.py).
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
try:
    trusted_networks(TRUSTED_PROXIES)
except ValueError as exc:
    raise ImproperlyConfigured(f"TRUSTED_PROXIES: {exc}") from exc
_https = env.bool("HTTPS", default=PRODUCTION)
SECURE_SSL_REDIRECT = _https
SECURE_REDIRECT_EXEMPT = [r"^healthz(/live|/ready)?$"]
SESSION_COOKIE_SECURE = _https
CSRF_COOKIE_SECURE = _https
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if _https else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _https
SECURE_HSTS_PRELOAD = _https
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Shared tablets: a session ends at the latest a shift after sign-in (absolute) ...
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=12 * 60 * 60)
# ... and sooner after this many seconds without activity (acs/sessions.py). Background
# requests (header X-ACS-Background: 1, the field app's polling and sync) are not activity.
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT", default=30 * 60)

# Content-Security-Policy (django-csp 4): no inline scripts or styles, nothing from elsewhere.
# Django's admin and allauth's pages need neither (tests/acs/test_csp_browser.py). The one
# exception, the Swagger UI at /api/docs/, widens the policy for that view only (acs/urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
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
    },
}

# --- Logging: no personal data in log lines, ever -------------------------------------------

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    # Every handler redacts names, numbers, e-mails, dates of birth and query strings
    # (acs/log_privacy.py): personal data stays out of logs even when an error echoes it.
    "filters": {"no_personal_data": {"()": "acs.log_privacy.RedactPersonalData"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["no_personal_data"],
        }
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "acs": {"level": LOG_LEVEL},
        "cases": {"level": LOG_LEVEL},
        "responders": {"level": LOG_LEVEL},
        "resources": {"level": LOG_LEVEL},
        "celery": {"level": LOG_LEVEL},
        "django.request": {"level": "ERROR"},
    },
}

# The tile server's origin (TILE_URL, acs/settings/domain.py) may serve images (a "{s}"
# subdomain becomes a wildcard).
if TILE_URL.startswith(("https://", "http://")):
    _tiles = urlsplit(TILE_URL)
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"].append(
        f"{_tiles.scheme}://{_tiles.netloc.replace('{s}', '*')}"
    )

# --- Observability: metrics, request ids, JSON logs (docs/operations.md "Monitoring") ------
# Kept together here; Sentry and OpenTelemetry read their own variables (acs/tracing.py).

# /metrics answers only `Authorization: Bearer <METRICS_TOKEN>` (acs/metrics.py); unset, the
# endpoint is off (404 for everyone). METRICS_TOKEN_FILE works as for any secret.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# Optionally also only from these addresses or networks (the client's, behind TRUSTED_PROXIES).
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=[])
try:
    trusted_networks(METRICS_ALLOWED_NETWORKS)
except ValueError as exc:
    raise ImproperlyConfigured(f"METRICS_ALLOWED_NETWORKS: {exc}") from exc
# Requests counted and timed by view (django-prometheus): its first middleware starts the
# clock before all others, its last one counts the response after all others. The request id
# is set right after the client's address, so every later log line carries it.
_client_mw = MIDDLEWARE.index("acs.client_address.ClientAddressMiddleware")
MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    *MIDDLEWARE[: _client_mw + 1],
    "acs.request_id.RequestIdMiddleware",
    *MIDDLEWARE[_client_mw + 1 :],
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]
# Log lines as today ("plain", for people) or one JSON object each ("json", for a log shipper),
# both through the privacy filter, the JSON ones with the request id (acs/log_json.py).
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, not {LOG_FORMAT!r}")
LOGGING["formatters"]["json"] = {"()": "acs.log_json.JsonFormatter"}
LOGGING["filters"]["request_id"] = {"()": "acs.request_id.RequestIdFilter"}
for _handler in LOGGING["handlers"].values():
    _handler["formatter"] = LOG_FORMAT
    # The id first, so the privacy filter (which renders and freezes the record) runs last.
    _handler["filters"] = ["request_id", *_handler["filters"]]
