"""Settings, configured from the environment (see .env.example for every variable).

Secrets may be given as files: for any variable read through ``env`` below, ``NAME_FILE`` holding
a path is read in its place (Docker and Kubernetes secrets).

ACS_ENVIRONMENT is ``development`` (the default), ``test`` or ``production``. Production turns on
the secure defaults that ``manage.py check --deploy`` asks for and refuses to start without a
SECRET_KEY, a DATABASE_URL and a REDIS_URL.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
import phonenumbers
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

from acs.client_address import trusted_networks
from acs.queues import KINDS as QUEUE_KINDS
from acs.roles import STAFF_ROLES

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.FileAwareEnv()
if (BASE_DIR / ".env").is_file() and "ACS_SKIP_DOTENV" not in os.environ:
    environ.Env.read_env(BASE_DIR / ".env")

ENVIRONMENT = env.str("ACS_ENVIRONMENT", default="development")
if ENVIRONMENT not in {"development", "test", "production"}:
    raise ImproperlyConfigured(
        f"ACS_ENVIRONMENT must be development, test or production, not {ENVIRONMENT!r}"
    )
PRODUCTION = ENVIRONMENT == "production"

DEBUG = env.bool("DEBUG", default=ENVIRONMENT == "development")

# Where the embedded defaults keep their state (git-ignored). Tests get their own folder so a
# test run never touches the data of a running demo.
LOCAL_DIR = Path(
    env.str(
        "ACS_LOCAL_DIR",
        default=str(BASE_DIR / ".local" / ("test" if ENVIRONMENT == "test" else "")),
    )
)

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
if not env.bool("DB_JIT", default=False):
    DATABASES["default"]["OPTIONS"]["options"] = "-c jit=off"
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
    CELERY_BROKER_TRANSPORT_OPTIONS = {
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

# Local call types CAD may send beyond the APCO codes of cases/call_types.py.
# The council district boundaries the transparency page's map is drawn on (GeoJSON, each
# feature with a `district` property); the default is a synthetic demo file (issue 21).
TRANSPARENCY_DISTRICTS_GEOJSON = env.str(
    "TRANSPARENCY_DISTRICTS_GEOJSON",
    default=str(BASE_DIR / "cases" / "data" / "council_districts_demo.geojson"),
)
CAD_LOCAL_CALL_TYPES = env.list("CAD_LOCAL_CALL_TYPES", default=["NEEDLE", "MINORINJ", "ACCNOINJ"])
# The largest body the machine APIs read; anything bigger is refused with 413.
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=64 * 1024)

# A responder may open a resident record their own search showed them for this long.
RESIDENT_SEARCH_ACCESS_WINDOW = timedelta(hours=env.int("RESIDENT_SEARCH_ACCESS_HOURS", default=12))
# A submitted encounter can still be edited for this long; after it, changes are addenda.
ENCOUNTER_EDIT_GRACE = timedelta(minutes=env.int("ENCOUNTER_EDIT_GRACE_MINUTES", default=120))

# A directory capacity figure older than this shows as stale (and does not count as free).
CAPACITY_STALE_AFTER = timedelta(hours=env.int("CAPACITY_STALE_AFTER_HOURS", default=12))

# --- Notifications (cases/services/notifications.py) ------------------------------------------

# SMS through a Twilio-compatible REST API: Twilio (https://api.twilio.com), a compatible
# provider, or a local receiver. Unset: SMS notifications fail with "not configured".
SMS_API_BASE_URL = env.str("SMS_API_BASE_URL", default="")
SMS_ACCOUNT_SID = env.str("SMS_ACCOUNT_SID", default="")
SMS_AUTH_TOKEN = env.str("SMS_AUTH_TOKEN", default="")
SMS_FROM_NUMBER = env.str("SMS_FROM_NUMBER", default="")
SMS_TIMEOUT_SECONDS = env.float("SMS_TIMEOUT_SECONDS", default=10.0)
# Residents get no messages between these hours, department time (they wait for morning).
QUIET_HOURS_START = env.int("QUIET_HOURS_START", default=20)
QUIET_HOURS_END = env.int("QUIET_HOURS_END", default=8)
NOTIFICATION_MAX_ATTEMPTS = env.int("NOTIFICATION_MAX_ATTEMPTS", default=6)
# The sender (cases/services/notifications.py): a task claims up to this many due rows in one
# statement, sends them over one pooled keep-alive connection per worker process from this
# many threads at once, and records their results in one statement.
NOTIFICATION_BATCH_SIZE = env.int("NOTIFICATION_BATCH_SIZE", default=100)
NOTIFICATION_SEND_CONCURRENCY = env.int("NOTIFICATION_SEND_CONCURRENCY", default=16)
# Batches one worker process keeps going at once: the next is claimed and checked while the
# last is sent and recorded (in the process's threads), instead of one after the other.
NOTIFICATION_BATCHES_IN_FLIGHT = env.int("NOTIFICATION_BATCHES_IN_FLIGHT", default=2)
# A row handed to a batch task is not handed out again for this long (the task is presumed
# alive and waiting in the queue); a task lost with the broker's data delays its rows by at
# most this much.
NOTIFICATION_QUEUED_SECONDS = env.int("NOTIFICATION_QUEUED_SECONDS", default=300)
# The provider's limit, texts per second per sending number, shared by every worker (Redis).
# Twilio: 1 for a long code, 3 for toll-free, 100 for a short code; 0: no limit of ours.
SMS_RATE_PER_SECOND = env.int("SMS_RATE_PER_SECOND", default=10)
# A sent notification keeps its text and address this long (at least the 14 days in which a
# reply is matched to its check-in by the number), then they are blanked; the row stays.
NOTIFICATION_TEXT_TTL = timedelta(days=env.int("NOTIFICATION_TEXT_DAYS", default=30))
# The department's public phone line, given in messages to residents.
ACS_PHONE_NUMBER = env.str("ACS_PHONE_NUMBER", default="311")
# Phone numbers typed without a country code are read as this country's (ISO 3166 code,
# acs/phones.py); "+" or the international prefix (011 from the US) reaches any other.
PHONE_DEFAULT_REGION = env.str("PHONE_DEFAULT_REGION", default="US").upper()
if PHONE_DEFAULT_REGION not in phonenumbers.SUPPORTED_REGIONS:
    raise ImproperlyConfigured(
        f"PHONE_DEFAULT_REGION={PHONE_DEFAULT_REGION!r} is not a country code such as US or MX"
    )
# When case managers get their morning digest (department time, 24-hour clock).
DIGEST_HOUR = env.int("DIGEST_HOUR", default=7)

# Records untouched for this long are de-identified by `manage.py retention`.
RETENTION_YEARS = env.int("RETENTION_YEARS", default=7)

# --- Referrals and the partner API (resources/, docs/api.md) ---------------------------------

# The partner feed holds back changes younger than this, so that a change whose transaction
# commits a moment after a poll is still ahead of the poller's `updated_since` next time.
REFERRAL_FEED_SETTLE = timedelta(seconds=env.float("REFERRAL_FEED_SETTLE_SECONDS", default=2.0))
# Requests per token (or partner user) and period, DRF's "N/second|minute|hour|day". The test
# suite's fuzz sends a partner's quota in seconds; the throttle has a test of its own
# (tests/resources/test_partner_api.py), which sets its rate.
PARTNER_API_RATE = env.str(
    "PARTNER_API_RATE", default="100000/minute" if ENVIRONMENT == "test" else "600/minute"
)
# How long a write's Idempotency-Key (partner API) or event id (CAD and field call events)
# replays its first result; after that the record is swept and the key is new again.
IDEMPOTENCY_TTL = timedelta(hours=env.int("IDEMPOTENCY_TTL_HOURS", default=24))
# Webhooks: attempts per event (backoff with jitter between them), the request timeout, and
# how many failed attempts in a row disable an endpoint (and alert ACS).
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=8)
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
WEBHOOK_DISABLE_AFTER_FAILURES = env.int("WEBHOOK_DISABLE_AFTER_FAILURES", default=20)
# Deliveries per batch task, and endpoints sent to at once per worker process (each endpoint's
# events go in order over one keep-alive connection).
WEBHOOK_BATCH_SIZE = env.int("WEBHOOK_BATCH_SIZE", default=50)
WEBHOOK_SEND_CONCURRENCY = env.int("WEBHOOK_SEND_CONCURRENCY", default=4)
# Outside production, endpoints on this machine or the private network are allowed (the
# test receiver, a partner's staging box); in production only public HTTPS addresses.
WEBHOOK_ALLOW_PRIVATE_HOSTS = env.bool(
    "WEBHOOK_ALLOW_PRIVATE_HOSTS", default=ENVIRONMENT != "production"
)
# The certificate authorities endpoints' certificates are checked against: a CA bundle file;
# empty, the default, is the public ones (certifi's bundle, as requests ships it).
WEBHOOK_CA_BUNDLE = env.str("WEBHOOK_CA_BUNDLE", default="")
# Where this system is reached from outside, for links in webhooks and e-mails.
ACS_BASE_URL = env.str("ACS_BASE_URL", default="http://localhost:8000").rstrip("/")
# Who hears about disabled endpoints and expired referrals when no one else is named.
ACS_ALERT_EMAILS = env.list("ACS_ALERT_EMAILS", default=[])

# /healthz reports a queue not served (and the worker check failing) when its last heartbeat is
# older than this.
HEALTH_WORKER_MAX_AGE = timedelta(seconds=env.int("HEALTH_WORKER_MAX_AGE", default=120))
# A worker busy with a bulk task (an export) records the bulk heartbeat this often meanwhile
# (acs/celery.py BusyHeartbeat): the heartbeat task waits behind the export.
HEALTH_BUSY_HEARTBEAT_SECONDS = env.float("HEALTH_BUSY_HEARTBEAT_SECONDS", default=20.0)

# --- Authentication -------------------------------------------------------------------------

AUTH_USER_MODEL = "responders.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if ENVIRONMENT == "test":
    # Hashing strength is not under test; a fast hasher keeps the suite quick.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"

# Staff accounts are created by an administrator, never by sign-up.
ACCOUNT_ADAPTER = "responders.adapters.StaffAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_PREVENT_ENUMERATION = True
# allauth's rate limits (on by default) are stated here so they are visible and tunable.
# They count per client address, which allauth reads from REMOTE_ADDR: with no proxy count and
# no client-IP header of its own it takes what acs.client_address put there (TRUSTED_PROXIES).
ALLAUTH_TRUSTED_PROXY_COUNT = 0
ALLAUTH_TRUSTED_CLIENT_IP_HEADER = None
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": env.str("ACCOUNT_RATE_LIMIT_LOGIN_FAILED", default="10/m/ip,5/5m/key"),
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "signup": "20/m/ip",
}
# Second factors: a TOTP app or a passkey (WebAuthn: a security key, a phone, the tablet's own
# fingerprint or face unlock), and recovery codes for a lost one.
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
# WebAuthn needs a secure origin; the local demo and the tests serve plain HTTP on localhost.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = env.bool(
    "MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN", default=ENVIRONMENT in ("development", "test")
)
MFA_TOTP_ISSUER = "ACS case management"
# Staff with broad access need a second factor before any personal data (acs/mfa.py). On by
# default; the local demo (ACS_ENVIRONMENT=development) leaves it off unless asked.
MFA_REQUIRED = env.bool("MFA_REQUIRED", default=ENVIRONMENT != "development")
# The desk (acs.roles.STAFF_ROLES) by default.
MFA_REQUIRED_ROLES = env.list(
    "MFA_REQUIRED_ROLES", default=sorted(role.value for role in STAFF_ROLES)
)

# --- Single sign-on (OpenID Connect) -------------------------------------------------------
# Staff may sign in through the city's identity provider (Entra ID, Okta, Google Workspace,
# Keycloak...) with allauth's OpenID Connect provider; docs/operations.md "Single sign-on".
# Nothing configured (no SSO_OIDC_ISSUER) = no SSO button, local sign-in only. The rules
# (roles from the IdP's groups at every sign-in, lockout, MFA) are in responders/sso.py.
# Beside allauth's other apps, before ours (responders/admin.py trims its admin pages).
_after_allauth = INSTALLED_APPS.index("allauth.mfa") + 1
INSTALLED_APPS[_after_allauth:_after_allauth] = [
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.socialaccount.providers.saml",
]
SOCIALACCOUNT_ADAPTER = "responders.adapters.StaffSocialAccountAdapter"
# Innermost: lets the sign-in pages' form (CSP form-action) lead on to the IdP.
MIDDLEWARE += ["responders.sso.SsoFormActionMiddleware"]
SSO_OIDC_ISSUER = env.str("SSO_OIDC_ISSUER", default="")
SSO_OIDC_CLIENT_ID = env.str("SSO_OIDC_CLIENT_ID", default="")
SSO_OIDC_CLIENT_SECRET = env.str("SSO_OIDC_CLIENT_SECRET", default="")
# The button reads "Sign in with <SSO_OIDC_NAME>".
SSO_OIDC_NAME = env.str("SSO_OIDC_NAME", default="City sign-in")
# Part of the redirect URI to register at the IdP: /accounts/oidc/<id>/login/callback/.
SSO_OIDC_PROVIDER_ID = "sso"
SSO_OIDC_SCOPES = env.list("SSO_OIDC_SCOPES", default=["openid", "profile", "email"])
# The claim (in userinfo or the ID token) holding the person's groups at the IdP.
SSO_GROUPS_CLAIM = env.str("SSO_GROUPS_CLAIM", default="groups")
# IdP group -> role (acs/roles.py): "acs-supervisors=supervisor,acs-case-mgmt=case_manager".
# A person gets every role one of their groups maps to, re-read at every SSO sign-in; with
# none they are refused. Partner users and CAD are never SSO roles.
SSO_GROUP_ROLES = env.dict("SSO_GROUP_ROLES", default={})
# The IdP's word that it did multi-factor sign-in: "mfa" in the ID token's amr (RFC 8176),
# or an acr value listed here. Without it, local MFA is asked as for a password sign-in.
SSO_MFA_AMR = env.list("SSO_MFA_AMR", default=["mfa"])
SSO_MFA_ACR = env.list("SSO_MFA_ACR", default=[])
# Staff whose account is linked to the IdP may not sign in with a local password (leaving
# the city's directory then ends their access); break-glass administrators stay local.
SSO_FORBID_LOCAL_PASSWORD = env.bool("SSO_FORBID_LOCAL_PASSWORD", default=True)
# First SSO sign-in of someone who already has a local account with the same (IdP-verified)
# e-mail links the two, except accounts of administrators and partner users (kept local).
SSO_LINK_BY_EMAIL = env.bool("SSO_LINK_BY_EMAIL", default=True)
SOCIALACCOUNT_PROVIDERS = {
    "openid_connect": {
        "OAUTH_PKCE_ENABLED": True,
        "APPS": (
            [
                {
                    "provider_id": SSO_OIDC_PROVIDER_ID,
                    "name": SSO_OIDC_NAME,
                    "client_id": SSO_OIDC_CLIENT_ID,
                    "secret": SSO_OIDC_CLIENT_SECRET,
                    "settings": {"server_url": SSO_OIDC_ISSUER, "scope": SSO_OIDC_SCOPES},
                }
            ]
            if SSO_OIDC_ISSUER
            else []
        ),
    }
}
# --- Single sign-on (SAML 2.0) -------------------------------------------------------------
# The same door for a city whose IdP speaks SAML (Entra ID, Okta, Keycloak, ADFS...), with
# allauth's SAML provider (python3-saml). The same rules (responders/sso.py): roles from the
# groups attribute through SSO_GROUP_ROLES, lockout, linking, MFA. Nothing configured (no
# SSO_SAML_IDP_ENTITY_ID) = no SAML button. docs/operations.md "Single sign-on".
SSO_SAML_NAME = env.str("SSO_SAML_NAME", default="City sign-in")
# Part of our URLs to give the IdP: /accounts/saml/<id>/acs/ and /accounts/saml/<id>/metadata/.
SSO_SAML_ID = "city"
SSO_SAML_IDP_ENTITY_ID = env.str("SSO_SAML_IDP_ENTITY_ID", default="")
# Either the IdP's metadata URL (read over HTTPS, cached 4 h), or its SSO URL and signing
# certificate (PEM or bare base64).
SSO_SAML_IDP_METADATA_URL = env.str("SSO_SAML_IDP_METADATA_URL", default="")
SSO_SAML_IDP_SSO_URL = env.str("SSO_SAML_IDP_SSO_URL", default="")
SSO_SAML_IDP_X509_CERT = env.str("SSO_SAML_IDP_X509_CERT", default="", multiline=True)
# Our entity id at the IdP: our metadata URL, from ACS_BASE_URL (not from the request's Host).
SSO_SAML_SP_ENTITY_ID = env.str(
    "SSO_SAML_SP_ENTITY_ID", default=f"{ACS_BASE_URL}/accounts/saml/{SSO_SAML_ID}/metadata/"
)
# The attributes the IdP releases (names as the IdP sends them; the first present wins).
# Without a subject attribute, the assertion's NameID (persistent, please) is the subject.
SSO_SAML_SUBJECT_ATTRIBUTES = env.list("SSO_SAML_SUBJECT_ATTRIBUTES", default=[])
SSO_SAML_EMAIL_ATTRIBUTES = env.list(
    "SSO_SAML_EMAIL_ATTRIBUTES",
    default=[
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
        "urn:oid:0.9.2342.19200300.100.1.3",
        "email",
    ],
)
SSO_SAML_GROUPS_ATTRIBUTE = env.str("SSO_SAML_GROUPS_ATTRIBUTE", default="groups")
# SAML has no "email_verified": say here whether the IdP's e-mail attribute comes from the
# city's own directory (then it links a local account by e-mail, SSO_LINK_BY_EMAIL).
SSO_SAML_EMAIL_VERIFIED = env.bool("SSO_SAML_EMAIL_VERIFIED", default=False)
# AuthnContextClassRef values that mean the IdP did multi-factor sign-in; the same values in
# the attribute SSO_SAML_MFA_ATTRIBUTE count too (Entra ID says "multipleauthn" there).
SSO_SAML_MFA_CONTEXTS = env.list(
    "SSO_SAML_MFA_CONTEXTS",
    default=[
        "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract",
        "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorUnregistered",
        "urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken",
        "http://schemas.microsoft.com/claims/multipleauthn",
    ],
)


def saml_app(*, name: str, idp: dict) -> dict:
    """allauth's SAML app from our settings (tests/saml_idp.py builds its own with it)."""
    return {
        "name": name,
        "provider_id": "saml",
        "client_id": SSO_SAML_ID,
        "settings": {
            "idp": idp,
            "sp": {"entity_id": SSO_SAML_SP_ENTITY_ID},
            "attribute_mapping": {
                **({"uid": SSO_SAML_SUBJECT_ATTRIBUTES} if SSO_SAML_SUBJECT_ATTRIBUTES else {}),
                "email": SSO_SAML_EMAIL_ATTRIBUTES,
                "first_name": [
                    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
                    "urn:oid:2.5.4.42",
                    "firstName",
                ],
                "last_name": [
                    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",
                    "urn:oid:2.5.4.4",
                    "lastName",
                ],
            },
            "advanced": {
                # The assertion itself must be signed by the IdP's key (python3-saml
                # refuses an unsigned one, or one signed by another key), within
                # its validity window, for our entity id and ACS URL; IdP-initiated
                # sign-ins (no request of ours to answer) are refused.
                "strict": True,
                "want_assertion_signed": True,
                "reject_idp_initiated_sso": True,
                "reject_deprecated_algorithm": True,
                "allow_single_label_domains": False,
            },
        },
    }


SSO_SAML_MFA_ATTRIBUTE = env.str(
    "SSO_SAML_MFA_ATTRIBUTE", default="http://schemas.microsoft.com/claims/authnmethodsreferences"
)


SOCIALACCOUNT_PROVIDERS["saml"] = {
    # allauth's provider, which also keeps the assertion's AuthnContextClassRef (for MFA).
    "provider_class": "responders.sso.StaffSamlProvider",
    "APPS": (
        [
            saml_app(
                name=SSO_SAML_NAME,
                idp={
                    "entity_id": SSO_SAML_IDP_ENTITY_ID,
                    **(
                        {"metadata_url": SSO_SAML_IDP_METADATA_URL}
                        if SSO_SAML_IDP_METADATA_URL
                        else {"sso_url": SSO_SAML_IDP_SSO_URL, "x509cert": SSO_SAML_IDP_X509_CERT}
                    ),
                },
            )
        ]
        if SSO_SAML_IDP_ENTITY_ID
        else []
    ),
}
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False  # linking is ours (SSO_LINK_BY_EMAIL), not allauth's
SOCIALACCOUNT_STORE_TOKENS = False
# A sign-in starts with a POST from the button (a GET shows a "Continue" page), so another
# site cannot sign someone in with a link.
SOCIALACCOUNT_LOGIN_ON_GET = False
# --- end of single sign-on ------------------------------------------------------------------

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

# --- The field app (responders/field/) ---------------------------------------------------

# How often the "my calls" screen asks for its rows again, in seconds.
FIELD_CALLS_REFRESH_SECONDS = env.int("FIELD_CALLS_REFRESH_SECONDS", default=15)

# --- Unit positions, the operations board and maps (cases/board/, responders/positions.py) --

# How long a unit's positions (from CAD and the tablets) are kept: the board shows the last
# known one; older ones are deleted by the hourly retention sweep (docs/security.md).
UNIT_POSITION_RETENTION_HOURS = env.int("UNIT_POSITION_RETENTION_HOURS", default=12)
# A pending call is overdue after this many minutes since received, by priority (1 highest):
# "1=10,2=15,3=30,4=60,5=120". The board colours calls by the share of this they have used.
BOARD_PENDING_MINUTES = {
    int(k): int(v)
    for k, v in env.dict(
        "BOARD_PENDING_MINUTES", default={"1": "10", "2": "15", "3": "30", "4": "60", "5": "120"}
    ).items()
}
# A call still pending this long after it was received is returned to police; the board
# marks it this many minutes before.
BOARD_RETURN_TO_POLICE_MINUTES = env.int("BOARD_RETURN_TO_POLICE_MINUTES", default=60)
BOARD_RETURN_WARNING_MINUTES = env.int("BOARD_RETURN_WARNING_MINUTES", default=10)
# A unit on scene this long without a status change is a missed safety check-in.
BOARD_ON_SCENE_MINUTES = env.int("BOARD_ON_SCENE_MINUTES", default=45)
# How often the board asks whether anything changed (seconds; answered 304 when nothing did).
BOARD_POLL_SECONDS = env.float("BOARD_POLL_SECONDS", default=2.0)
# A board whose cursor is older than this gets the whole snapshot instead of the changes since
# (seconds; a board that polls every BOARD_POLL_SECONDS is never that far behind).
BOARD_DELTA_MAX_SECONDS = env.int("BOARD_DELTA_MAX_SECONDS", default=600)
# Map tiles: an OpenStreetMap-style URL template ("https://tile.openstreetmap.org/{z}/{x}/{y}.png")
# in production; empty draws markers on a plain background (the lists carry everything).
# "/static/board/tile.png" is the local test-pattern tile of the demo and the tests.
TILE_URL = env.str("TILE_URL", default="")
TILE_ATTRIBUTION = env.str("TILE_ATTRIBUTION", default="")
# Distances shown to responders: "mi" (the default) or "km".
DISTANCE_UNIT = env.str("DISTANCE_UNIT", default="mi")
if DISTANCE_UNIT not in ("mi", "km"):
    raise ImproperlyConfigured("DISTANCE_UNIT is mi or km.")
# The tile server's origin may serve images (a "{s}" subdomain becomes a wildcard).
if TILE_URL.startswith(("https://", "http://")):
    _tiles = urlsplit(TILE_URL)
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"].append(
        f"{_tiles.scheme}://{_tiles.netloc.replace('{s}', '*')}"
    )

# --- Exports (cases/exports/, docs/exports.md) ----------------------------------------------

# Where export files are written: a folder both the web and the worker processes reach (a
# shared volume in production). Files are served only through the audited download view.
EXPORTS_ROOT = Path(env.str("EXPORTS_ROOT", default=str(LOCAL_DIR / "exports")))
# How long a finished export may be downloaded before the cleanup removes its file.
EXPORTS_TTL = timedelta(hours=env.int("EXPORTS_TTL_HOURS", default=72))

# --- Export files in object storage (cases/exports/models.py, docs/operations.md) --------------

# "local" (the default): files in EXPORTS_ROOT, streamed by the audited download view.
# "s3": any S3-compatible object store (AWS S3, MinIO, Ceph RGW...) through django-storages; the
# audited download view answers with a presigned link that lives EXPORTS_DOWNLOAD_LINK_SECONDS.
EXPORTS_STORAGE = env.str("EXPORTS_STORAGE", default="local")
if EXPORTS_STORAGE not in {"local", "s3"}:
    raise ImproperlyConfigured("EXPORTS_STORAGE must be local or s3")
EXPORTS_DOWNLOAD_LINK_SECONDS = env.int("EXPORTS_DOWNLOAD_LINK_SECONDS", default=60)
# django-storages' S3Storage options. Credentials: EXPORTS_S3_ACCESS_KEY_ID and
# EXPORTS_S3_SECRET_ACCESS_KEY (or their *_FILE), else boto3's own chain (instance role, ...).
EXPORTS_S3_OPTIONS = {
    "bucket_name": env.str("EXPORTS_S3_BUCKET", default=""),
    "endpoint_url": env.str("EXPORTS_S3_ENDPOINT_URL", default="") or None,
    "region_name": env.str("EXPORTS_S3_REGION", default="") or None,
    "access_key": env.str("EXPORTS_S3_ACCESS_KEY_ID", default="") or None,
    "secret_key": env.str("EXPORTS_S3_SECRET_ACCESS_KEY", default="") or None,
    # Every object under this prefix; a bucket may be shared with other systems.
    "location": env.str("EXPORTS_S3_PREFIX", default="exports"),
    # MinIO and most on-premises stores want path-style URLs (http://host:9000/bucket/key).
    "addressing_style": env.str("EXPORTS_S3_ADDRESSING_STYLE", default="path"),
    "signature_version": "s3v4",
    "querystring_auth": True,
    "querystring_expire": EXPORTS_DOWNLOAD_LINK_SECONDS,
    # Never public, never overwritten: the bucket policy stays private.
    "default_acl": None,
    "file_overwrite": False,
    "object_parameters": (
        {"ServerSideEncryption": env.str("EXPORTS_S3_SERVER_SIDE_ENCRYPTION")}
        if env.str("EXPORTS_S3_SERVER_SIDE_ENCRYPTION", default="")
        else {}
    ),
}
if EXPORTS_STORAGE == "s3" and not EXPORTS_S3_OPTIONS["bucket_name"]:
    raise ImproperlyConfigured("EXPORTS_STORAGE=s3 needs EXPORTS_S3_BUCKET")
# HUD HMIS CSV: the Continuum of Care, its geocode, and when ACS street outreach began.
HMIS_COC_CODE = env.str("HMIS_COC_CODE", default="NM-501")
HMIS_GEOCODE = env.str("HMIS_GEOCODE", default="")
HMIS_OPERATING_START = env.str("HMIS_OPERATING_START", default="2021-09-01")

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
