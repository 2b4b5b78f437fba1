"""The apps' own settings: cases, notifications, referrals and the partner API, the field app,
the board and maps, exports. Django's and the libraries' settings are in acs/settings/__init__.py.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import phonenumbers
from django.core.exceptions import ImproperlyConfigured

from acs.settings.environment import BASE_DIR, ENVIRONMENT, LOCAL_DIR, env

# --- Cases --------------------------------------------------------------------------------

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

# --- Notifications (cases/services/notifications/) --------------------------------------------

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
# The sender (cases/services/notifications/): a task claims up to this many due rows in one
# statement, sends them over one pooled keep-alive connection per worker process from this
# many threads at once, and records their results in one statement.
NOTIFICATION_BATCH_SIZE = env.int("NOTIFICATION_BATCH_SIZE", default=100)
# Texts a batch sends at once: sized to the provider's answer time (SendPace in
# cases/services/notifications/pace.py) between these two; equal, it is fixed.
NOTIFICATION_SEND_CONCURRENCY = env.int("NOTIFICATION_SEND_CONCURRENCY", default=16)
NOTIFICATION_SEND_CONCURRENCY_MIN = env.int("NOTIFICATION_SEND_CONCURRENCY_MIN", default=2)
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
# (tests/resources/partner_api/test_limits.py), which sets its rate.
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
# Who hears about disabled endpoints and expired referrals when no one else is named.
ACS_ALERT_EMAILS = env.list("ACS_ALERT_EMAILS", default=[])

# /healthz reports a queue not served (and the worker check failing) when its last heartbeat is
# older than this.
HEALTH_WORKER_MAX_AGE = timedelta(seconds=env.int("HEALTH_WORKER_MAX_AGE", default=120))
# A worker busy with a bulk task (an export) records the bulk heartbeat this often meanwhile
# (acs/celery.py BusyHeartbeat): the heartbeat task waits behind the export.
HEALTH_BUSY_HEARTBEAT_SECONDS = env.float("HEALTH_BUSY_HEARTBEAT_SECONDS", default=20.0)

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
