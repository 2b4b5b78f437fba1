"""/metrics (acs/metrics.py): for the scraper's token only, and its figures follow the system.

The figures that read the broker need the real Redis (marked); the rest read the database and
the cache."""

import uuid
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import get_resolver, resolve
from django.utils import timezone

from acs import views
from acs.audit_chain import audit_seal
from acs.models import AuditEvent
from acs.queues import KINDS, queue_name
from acs.roles import Role
from cases.models import Notification
from cases.services.notifications import notification_schedule
from tests.acs.metrics_scrape import TOKEN, scrape, value
from tests.factories import DEFAULT_PASSWORD, ResidentFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


# --- Who may scrape -------------------------------------------------------------------------


def test_the_scraper_with_the_token_gets_the_metrics_without_a_session(client, token):
    samples = scrape(client)

    assert value(samples, "acs_metrics_part_up", part="outbox") == 1
    assert (
        "no-cache" in client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")["Cache-Control"]
    )


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer ",
        "Bearer wrong-token",
        f"Bearer {TOKEN}x",
        f"Bearer {TOKEN[:-1]}",
        f"Basic {TOKEN}",
        TOKEN,
    ],
)
def test_without_the_right_token_metrics_is_a_404_like_any_missing_page(
    client, token, authorization
):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization is not None else {}
    for method in (client.get, client.post, client.head):
        response = method("/metrics", **headers)
        assert response.status_code == 404
        assert b"acs_" not in response.content


def test_with_no_token_configured_metrics_is_off_for_everyone(client, settings):
    settings.METRICS_TOKEN = ""

    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


def test_a_session_is_not_enough_even_an_administrators(client, token, admin_user):
    client.force_login(admin_user)

    assert client.get("/metrics").status_code == 404


def test_a_signed_in_scraper_is_not_sent_to_set_up_a_second_factor(client, token, settings):
    settings.MFA_REQUIRED = True
    user = UserFactory(username="no-factor-yet", role=Role.SUPERVISOR, second_factor=False)
    assert client.login(username=user.username, password=DEFAULT_PASSWORD)
    assert client.get("/admin/").status_code == 302  # the rest is closed to this session

    assert scrape(client)


def test_the_allowed_networks_narrow_who_may_scrape_with_the_token(client, token, settings):
    settings.METRICS_ALLOWED_NETWORKS = ["10.20.0.0/16"]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    assert client.get("/metrics", REMOTE_ADDR="10.20.3.4", **auth).status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.21.3.4", **auth).status_code == 404
    assert client.get("/metrics", REMOTE_ADDR="10.20.3.4").status_code == 404


def test_metrics_has_one_door_only(client, token):
    """Only our view answers for metrics: django-prometheus's own URLs are not included, and
    its app (whose ready() can open an unprotected export port) is not installed."""
    assert resolve("/metrics").func is views.metrics_view
    assert "django_prometheus" not in django_settings.INSTALLED_APPS

    def modules(resolver):
        for pattern in resolver.url_patterns:
            yield getattr(pattern, "urlconf_name", None) or getattr(pattern, "callback", None)
            if hasattr(pattern, "url_patterns"):
                yield from modules(pattern)

    found = [repr(m) for m in modules(get_resolver())]
    assert not any("django_prometheus" in m for m in found)
    for path in ("/metrics/", "/api/v1/metrics", "/healthz/metrics"):
        assert client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 404


# --- What it says ---------------------------------------------------------------------------


def test_requests_are_counted_by_route_name_and_status_never_by_path(client, token, responder):
    client.force_login(responder)
    public_id = uuid.uuid4()
    client.get(f"/api/v1/field/residents/{public_id}")
    client.get("/healthz/live")

    samples = scrape(client)
    text = repr(samples)
    assert str(public_id) not in text
    responses = {
        labels: n
        for (name, labels), n in samples.items()
        if name == "django_http_responses_total_by_status_view_method_total"
    }
    # The registry is the process's: earlier tests' requests are counted too.
    views_seen: dict[str, set[str]] = {}
    for labels in responses:
        views_seen.setdefault(dict(labels)["view"], set()).add(dict(labels)["status"])
    assert views_seen["field-resident"] & {"403", "404"}
    assert "200" in views_seen["healthz-live"]
    assert any(
        name == "django_http_requests_latency_seconds_by_view_method_bucket"
        and dict(labels).get("view") == "healthz-live"
        for name, labels in samples
    )


def test_the_outbox_backlog_and_its_oldest_due_age_follow_the_rows(client, token):
    resident = ResidentFactory(phone="(505) 555-0142")
    before = scrape(client)
    assert value(before, "acs_outbox_notifications", status="pending") == 0
    assert value(before, "acs_outbox_oldest_due_age_seconds") == 0

    with transaction.atomic():
        row = notification_schedule(template="checkin", channel="sms", resident=resident)
    Notification.objects.filter(pk=row.pk).update(
        next_attempt_at=timezone.now() - timedelta(minutes=10)
    )
    waiting = scrape(client)
    assert value(waiting, "acs_outbox_notifications", status="pending") == 1
    assert 600 <= value(waiting, "acs_outbox_oldest_due_age_seconds") < 700

    Notification.objects.filter(pk=row.pk).update(
        status=Notification.Status.SENT, sent_at=timezone.now()
    )
    done = scrape(client)
    assert value(done, "acs_outbox_notifications", status="pending") == 0
    assert value(done, "acs_outbox_oldest_due_age_seconds") == 0


def test_a_notification_not_yet_due_is_backlog_but_not_late(client, token):
    resident = ResidentFactory(phone="(505) 555-0143")
    with transaction.atomic():
        notification_schedule(
            template="checkin",
            channel="sms",
            resident=resident,
            due_at=timezone.now() + timedelta(hours=3),
        )

    samples = scrape(client)
    assert value(samples, "acs_outbox_notifications", status="pending") == 1
    assert value(samples, "acs_outbox_oldest_due_age_seconds") == 0


def test_the_audit_seals_lag_shows_until_the_seal_runs(client, token, case_manager):
    audit_seal(now=timezone.now() + timedelta(minutes=1))
    # (Rows are append-only: the event cannot be backdated, so its age is small.)
    AuditEvent.objects.create(
        actor=case_manager, action="view", target_type="resident", target_id=uuid.uuid4()
    )
    lagging = scrape(client)
    assert value(lagging, "acs_audit_unsealed_events") == 1
    assert 0 < value(lagging, "acs_audit_oldest_unsealed_age_seconds") < 60

    audit_seal(now=timezone.now() + timedelta(minutes=1))
    sealed = scrape(client)
    # Scraping is not audited, so nothing new waits.
    assert value(sealed, "acs_audit_unsealed_events") == 0
    assert value(sealed, "acs_audit_oldest_unsealed_age_seconds") == 0
    assert value(sealed, "acs_audit_last_seq") == value(lagging, "acs_audit_last_seq") + 1


def test_sign_in_failures_are_counted(client, token):
    user = UserFactory(username=f"metrics-{uuid.uuid4().hex[:8]}")
    before = value(scrape(client), "acs_signin_failures_total", outcome="failed")

    client.post(
        "/accounts/login/",
        {"login": user.username, "password": "Not-The-Password-1"},
        REMOTE_ADDR=f"198.51.100.{uuid.uuid4().int % 250 + 1}",
    )

    assert value(scrape(client), "acs_signin_failures_total", outcome="failed") == before + 1


def test_task_outcomes_are_counted_per_queue_from_their_delivery():
    from types import SimpleNamespace

    from acs import metrics

    def request(kind):
        return SimpleNamespace(delivery_info={"routing_key": queue_name(kind)})

    def count(kind, outcome):
        from django.core.cache import cache

        return cache.get(metrics._event_key("acs_celery_tasks", (kind, outcome)), 0)

    before = {(k, o): count(k, o) for k in KINDS for o in ("succeeded", "failed")}
    metrics._task_succeeded(sender=SimpleNamespace(request=request("bulk")))
    metrics._task_failed(sender=SimpleNamespace(request=request("realtime")))
    # Run in place (no queue): not counted under any queue.
    metrics._task_succeeded(sender=SimpleNamespace(request=SimpleNamespace(delivery_info=None)))

    after = {(k, o): count(k, o) for k in KINDS for o in ("succeeded", "failed")}
    changed = {key: after[key] - before[key] for key in after if after[key] != before[key]}
    assert changed == {("bulk", "succeeded"): 1, ("realtime", "failed"): 1}


def test_an_unknown_label_value_is_refused_so_no_label_carries_anything_else():
    from acs.metrics import event_count

    with pytest.raises(ValueError, match="unknown label"):
        event_count("acs_signin_failures", outcome="rosa@example.org")


def test_a_scrape_costs_the_same_queries_whatever_the_backlog(client, token):
    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            scrape(client)
        return len(ctx)

    resident = ResidentFactory(phone="(505) 555-0144")
    with transaction.atomic():
        notification_schedule(template="checkin", channel="sms", resident=resident)
    few = queries()
    with transaction.atomic():
        for i in range(15):
            notification_schedule(
                template="checkin", channel="sms", resident=resident, dedupe_key=f"m-{i}"
            )
    AuditEvent.objects.bulk_create(
        AuditEvent(action="view", target_type="resident", target_id=uuid.uuid4()) for _ in range(10)
    )

    assert queries() == few


@pytest.mark.redis
def test_queue_lengths_are_read_from_the_broker(client, token):
    import redis

    broker = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    name = queue_name("bulk")
    broker.delete(name)
    try:
        broker.lpush(name, b"{}", b"{}")
        samples = scrape(client)
        assert value(samples, "acs_celery_queue_length", queue="bulk") == 2
        assert value(samples, "acs_metrics_part_up", part="queues") == 1
    finally:
        broker.delete(name)
    assert value(scrape(client), "acs_celery_queue_length", queue="bulk") == 0


def test_a_queue_never_served_shows_an_infinite_heartbeat_age(client, token):
    from django.core.cache import cache

    from acs import health

    cache.delete_many(health.HEARTBEAT_KEYS)
    health.heartbeat_record("realtime")
    try:
        samples = scrape(client)
    finally:
        cache.delete_many(health.HEARTBEAT_KEYS)
    assert value(samples, "acs_celery_queue_heartbeat_age_seconds", queue="realtime") < 5
    assert value(samples, "acs_celery_queue_heartbeat_age_seconds", queue="bulk") == float("inf")


def test_the_sample_alerts_and_dashboard_name_only_metrics_that_exist(client, token):
    """docs/prometheus-alerts.yml and docs/grafana-dashboard.json: every metric they query is
    one a scrape exposes (a renamed metric would leave an alert that never fires)."""
    import json
    import re
    from pathlib import Path

    import yaml

    docs = Path(django_settings.BASE_DIR) / "docs"
    rules = yaml.safe_load((docs / "prometheus-alerts.yml").read_text())
    exprs = [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    dashboard = json.loads((docs / "grafana-dashboard.json").read_text())
    exprs += [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    client.get("/healthz/live")  # so the request metrics have a sample
    exposed = {name for name, _labels in scrape(client)}
    named = {m for expr in exprs for m in re.findall(r"\b((?:acs|django)_[a-z_]+)", expr)}

    assert {"acs_outbox_oldest_due_age_seconds", "acs_audit_oldest_unsealed_age_seconds"} <= named
    assert "acs_celery_queue_heartbeat_age_seconds" in named
    assert named - exposed == set()
    alerts = {rule["alert"] for group in rules["groups"] for rule in group["rules"]}
    assert {"ACSOutboxBacklogOld", "ACSAuditSealLag", "ACSQueueNotServed"} <= alerts
    assert {"ACSWebhookFailures"} <= alerts


def test_the_scrapes_backlog_queries_can_only_run_on_the_partial_indexes_of_open_rows():
    """With sequential scans priced out, each query's plan uses its partial index: the query
    matches the index's condition, so its cost follows the backlog, not the years of sent rows
    (a plan that still scans the table means no index can serve it)."""
    from acs import metrics

    now = timezone.now()
    queries = {
        "cases_notif_due_idx": [
            metrics.by_status(metrics.open_notifications()),
            metrics.oldest_due(metrics.open_notifications(), now)[:1],
        ],
        "resources_delivery_due_idx": [
            metrics.by_status(metrics.open_deliveries()),
            metrics.oldest_due(metrics.open_deliveries(), now)[:1],
        ],
        # The unique index on seq serves `seq IS NULL` too (PostgreSQL 18 picks it on a
        # small table): both hold the unsealed rows only, whatever the trail's length.
        ("acs_audit_unsealed_idx", "acs_auditevent_seq_key"): [
            metrics.unsealed_audit_events().values("id"),
            metrics.unsealed_audit_events().order_by("id").values_list("created_at")[:1],
        ],
    }
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        # The list of notifications by status (the admin's) is served by an index of every
        # row, which a near-empty table's planner may price the same as the partial one
        # (seen once in a parallel run); set aside for this test's transaction, it leaves the
        # plan to the partial index or to a scan of the table.
        cursor.execute("DROP INDEX cases_notif_status_idx")
    for indexes, querysets in queries.items():
        indexes = (indexes,) if isinstance(indexes, str) else indexes
        for queryset in querysets:
            plan = queryset.explain()
            assert any(i in plan for i in indexes) and "Seq Scan" not in plan, plan
