"""Prometheus metrics at /metrics, for the city's monitoring (docs/operations.md "Monitoring").

Three sources, one scrape:

- **Requests**: django-prometheus's middleware counts responses by view and status and times
  them by view (`django_http_responses_total_by_status_view_method_total`,
  `django_http_requests_latency_seconds_by_view_method`). The view label is the route's name
  (`field-resident`), never the path, so no id reaches a label. Under gunicorn's several
  worker processes set PROMETHEUS_MULTIPROC_DIR (an empty folder each start, as
  prometheus_client's multi-process mode asks): every process writes there and a scrape, on
  whichever process, adds them up (acs/gunicorn_conf.py marks exited workers dead).
- **Events in other processes** (Celery tasks' outcomes per queue, webhook delivery failures,
  sign-in failures): counted in the shared cache (Redis) by `event_count`, so a scrape of any
  web process sees what every worker container counted, with no port to open on the workers.
  A counter that Redis loses starts again from 0, which Prometheus reads as a counter reset.
- **State, read at scrape time** by `AcsCollector`: each queue's length in the broker and its
  heartbeat's age, the notification and webhook outboxes' backlog and the age of their oldest
  due row, webhook endpoints failing or disabled, and the audit seal's lag. Each is one small
  query on a partial index that holds only the open rows (cases_notif_due_idx,
  resources_delivery_due_idx, acs_audit_unsealed_idx), so a scrape costs the same after ten
  years of history as on the first day (tests/acs/test_metrics.py counts the queries).

Who may scrape: `scraper_allowed` (a bearer token, METRICS_TOKEN, and optionally the client's
address in METRICS_ALLOWED_NETWORKS). Anyone else gets the same 404 as a path that does not
exist; with no METRICS_TOKEN set the endpoint is off.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from celery.signals import task_failure, task_retry, task_revoked, task_success
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from acs.client_address import address_in
from acs.queues import KINDS, queue_name

if TYPE_CHECKING:
    from django.db.models import Model, QuerySet
    from django.http import HttpRequest

    from acs.models import AuditEvent
    from cases.models import Notification
    from resources.models import WebhookDelivery

    _M = TypeVar("_M", bound=Model)

logger = logging.getLogger(__name__)

CONTENT_TYPE = CONTENT_TYPE_LATEST

# Counted events: name -> (help, label name -> its values). The values are fixed, so a scrape
# reads a known set of keys (one get_many) and no label can carry anything else.
EVENTS: dict[str, tuple[str, dict[str, tuple[str, ...]]]] = {
    "acs_celery_tasks": (
        "Celery tasks finished, by queue and outcome.",
        {"queue": KINDS, "outcome": ("succeeded", "failed", "retried", "revoked")},
    ),
    "acs_webhook_delivery_failures": (
        "Failed webhook delivery attempts: retrying (will be tried again) or failed (gave up).",
        {"outcome": ("retrying", "failed")},
    ),
    "acs_signin_failures": (
        "Failed sign-ins: failed (wrong login or password) or locked_out (refused by the limit).",
        {"outcome": ("failed", "locked_out")},
    ),
}


def _combinations(labels: dict[str, tuple[str, ...]]) -> list[tuple[str, ...]]:
    combos: list[tuple[str, ...]] = [()]
    for values in labels.values():
        combos = [(*combo, value) for combo in combos for value in values]
    return combos


def _event_key(name: str, values: tuple[str, ...]) -> str:
    return ":".join(("metrics", name, *values))


def event_count(name: str, **labels: str) -> None:
    """Add one to a counted event. Never raises: a metric must not break what it counts."""
    _help, label_values = EVENTS[name]
    values = tuple(labels[label] for label in label_values)
    pairs = zip(values, label_values.values(), strict=True)
    if any(value not in allowed for value, allowed in pairs):
        raise ValueError(f"{name}: unknown label values {labels}")
    key = _event_key(name, values)
    try:
        if not cache.add(key, 1, timeout=None):
            cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.add(key, 1, timeout=None)
    except Exception as exc:
        logger.warning("metric %s not counted: %s", name, type(exc).__name__)


# --- Who may scrape ----------------------------------------------------------------------------


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode()).digest()


def scraper_allowed(request: HttpRequest) -> bool:
    """The request carries `Authorization: Bearer <METRICS_TOKEN>` (compared in constant
    time) and, when METRICS_ALLOWED_NETWORKS is set, comes from one of them (the client's
    address, acs/client_address.py). No METRICS_TOKEN: nobody."""
    token = settings.METRICS_TOKEN
    if not token:
        return False
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    token_ok = hmac.compare_digest(_digest(given.strip()), _digest(token))
    if scheme.lower() != "bearer" or not token_ok:
        return False
    networks = settings.METRICS_ALLOWED_NETWORKS
    return not networks or address_in(request.META.get("REMOTE_ADDR", ""), networks)


# --- State read at scrape time ---------------------------------------------------------------


def _age(since: datetime | None, now: datetime) -> float:
    return max((now - since).total_seconds(), 0.0) if since else 0.0


def queue_lengths() -> dict[str, int]:
    """Messages waiting in each queue, as the broker holds them (Redis lists; kombu keeps a
    list per priority step, the plain name being the default priority)."""
    names = {kind: queue_name(kind) for kind in KINDS}
    url = settings.CELERY_BROKER_URL
    if url.startswith("filesystem://"):
        folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
        counts: dict[str, int] = dict.fromkeys(KINDS, 0)
        with os.scandir(folder) as entries:
            for entry in entries:
                for kind, name in names.items():
                    if entry.name.endswith(f".{name}.msg"):
                        counts[kind] += 1
        return counts
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        pipe = client.pipeline(transaction=False)
        steps = ["", *(f"\x06\x16{step}" for step in (3, 6, 9))]
        for name in names.values():
            for step in steps:
                pipe.llen(name + step)
        lengths = pipe.execute()
    finally:
        client.close()
    per = len(steps)
    return {kind: sum(lengths[i * per : (i + 1) * per]) for i, kind in enumerate(KINDS)}


class AcsCollector:
    """The gauges and counted events above, computed at each scrape. A part that cannot be
    read (the database or Redis down) is left out and `acs_metrics_part_up{part}` says 0."""

    def collect(self) -> Iterator[Metric]:
        now = timezone.now()
        up = GaugeMetricFamily(
            "acs_metrics_part_up", "1 if this part of the metrics could be read.", labels=["part"]
        )
        parts: tuple[tuple[str, Callable[[datetime], Iterable[Metric]]], ...] = (
            ("queues", self._queues),
            ("events", self._events),
            ("outbox", self._outbox),
            ("webhooks", self._webhooks),
            ("audit", self._audit),
        )
        for part, read in parts:
            try:
                families = list(read(now))
            except Exception as exc:
                logger.warning("metrics: %s not read: %s", part, type(exc).__name__)
                up.add_metric([part], 0)
                continue
            up.add_metric([part], 1)
            yield from families
        yield up

    def _queues(self, now: datetime) -> Iterator[Metric]:
        from acs.health import heartbeat_key

        length = GaugeMetricFamily(
            "acs_celery_queue_length", "Tasks waiting in the queue.", labels=["queue"]
        )
        for kind, count in queue_lengths().items():
            length.add_metric([kind], count)
        yield length
        age = GaugeMetricFamily(
            "acs_celery_queue_heartbeat_age_seconds",
            "Seconds since a worker last took this queue's heartbeat (+Inf: never).",
            labels=["queue"],
        )
        raws = cache.get_many([heartbeat_key(kind) for kind in KINDS])
        for kind in KINDS:
            raw = raws.get(heartbeat_key(kind))
            age.add_metric([kind], _age(datetime.fromisoformat(raw), now) if raw else float("inf"))
        yield age

    def _events(self, now: datetime) -> Iterator[Metric]:
        keyed: dict[str, tuple[str, tuple[str, ...]]] = {}
        for name, (_help, labels) in EVENTS.items():
            for values in _combinations(labels):
                keyed[_event_key(name, values)] = (name, values)
        counts = cache.get_many(list(keyed))
        for name, (help_text, labels) in EVENTS.items():
            family = CounterMetricFamily(name, help_text, labels=list(labels))
            for values in _combinations(labels):
                family.add_metric(list(values), int(counts.get(_event_key(name, values), 0)))
            yield family

    def _outbox(self, now: datetime) -> Iterator[Metric]:
        from cases.models import NotificationStatus

        backlog = GaugeMetricFamily(
            "acs_outbox_notifications",
            "Notifications not yet sent, by status (pending: waiting or due; sending: claimed).",
            labels=["status"],
        )
        counts = dict.fromkeys([NotificationStatus.PENDING, NotificationStatus.SENDING], 0)
        for row in by_status(open_notifications()):
            counts[row["status"]] = row["n"]
        for status, n in counts.items():
            backlog.add_metric([str(status)], n)
        yield backlog
        yield GaugeMetricFamily(
            "acs_outbox_oldest_due_age_seconds",
            "How long the oldest notification that is due has waited (0: none due).",
            value=_age(oldest_due(open_notifications(), now).first(), now),
        )

    def _webhooks(self, now: datetime) -> Iterator[Metric]:
        from resources.models import DeliveryStatus, WebhookEndpoint

        backlog = GaugeMetricFamily(
            "acs_webhook_deliveries",
            "Webhook deliveries not yet made, by status.",
            labels=["status"],
        )
        counts = dict.fromkeys([DeliveryStatus.PENDING, DeliveryStatus.SENDING], 0)
        for row in by_status(open_deliveries()):
            counts[row["status"]] = row["n"]
        for status, n in counts.items():
            backlog.add_metric([str(status)], n)
        yield backlog
        yield GaugeMetricFamily(
            "acs_webhook_oldest_due_age_seconds",
            "How long the oldest webhook delivery that is due has waited (0: none due).",
            value=_age(oldest_due(open_deliveries(), now).first(), now),
        )
        # One row per partner endpoint: a small table that does not grow with events.
        endpoints = GaugeMetricFamily(
            "acs_webhook_endpoints",
            "Partner webhook endpoints: active, failing (active, last attempt failed), disabled.",
            labels=["state"],
        )
        states = {"active": 0, "failing": 0, "disabled": 0}
        for active, failures in WebhookEndpoint.objects.values_list(
            "active", "consecutive_failures"
        ):
            if not active:
                states["disabled"] += 1
                continue
            states["active"] += 1
            states["failing"] += failures > 0
        for state, n in states.items():
            endpoints.add_metric([state], n)
        yield endpoints

    def _audit(self, now: datetime) -> Iterator[Metric]:
        from acs.models import AuditEvent

        unsealed = unsealed_audit_events()
        oldest = unsealed.order_by("id").values_list("created_at", flat=True).first()
        yield GaugeMetricFamily(
            "acs_audit_unsealed_events",
            "Audit events not yet on the hash chain (the seal runs every minute).",
            value=unsealed.count(),
        )
        yield GaugeMetricFamily(
            "acs_audit_oldest_unsealed_age_seconds",
            "Age of the oldest audit event not yet sealed (0: all sealed): the seal's lag.",
            value=_age(oldest, now),
        )
        last = AuditEvent.objects.filter(seq__isnull=False).order_by("-seq")
        yield GaugeMetricFamily(
            "acs_audit_last_seq",
            "Position of the last sealed audit event on the chain.",
            value=last.values_list("seq", flat=True).first() or 0,
        )


# The scrape's queries, each on a partial index of open rows only (tests/acs/test_metrics.py
# checks the plans): their cost follows the backlog, never the history.


def open_notifications() -> QuerySet[Notification]:
    from cases.models import Notification, NotificationStatus

    # cases_notif_due_idx: status IN ('pending', 'sending')
    return Notification.objects.filter(
        status__in=[NotificationStatus.PENDING, NotificationStatus.SENDING]
    )


def open_deliveries() -> QuerySet[WebhookDelivery]:
    from resources.models import DeliveryStatus, WebhookDelivery

    # resources_delivery_due_idx: status IN ('pending', 'sending')
    return WebhookDelivery.objects.filter(
        status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING]
    )


def unsealed_audit_events() -> QuerySet[AuditEvent]:
    from acs.models import AuditEvent

    # acs_audit_unsealed_idx: seq IS NULL
    return AuditEvent.objects.filter(seq__isnull=True)


def by_status(rows: QuerySet[_M]) -> QuerySet[Model, dict[str, Any]]:
    from django.db.models import Count

    return rows.values("status").order_by().annotate(n=Count("id"))


def oldest_due(rows: QuerySet[_M], now: datetime) -> QuerySet[_M, datetime]:
    return (
        rows.filter(next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
    )


class _ThisProcess:
    """The default registry's collectors (this process only: no PROMETHEUS_MULTIPROC_DIR)."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def scrape() -> bytes:
    """The text exposition of everything above."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    registry.register(AcsCollector())
    return generate_latest(registry)


# --- Celery task outcomes, counted in the worker ----------------------------------------------


# Celery ships no types: its task request and signal senders are Any.
def _task_queue(request: Any) -> str | None:
    from acs.queues import kind_of_queue

    delivery = getattr(request, "delivery_info", None) or {}
    return kind_of_queue(delivery.get("routing_key") or "")


def _count_task(request: Any, outcome: str) -> None:
    kind = _task_queue(request)
    if kind is not None:  # a task run in place (.apply(), eager) was on no queue
        event_count("acs_celery_tasks", queue=kind, outcome=outcome)


def _task_succeeded(sender: Any = None, **kwargs: object) -> None:
    _count_task(sender.request, "succeeded")


def _task_failed(sender: Any = None, **kwargs: object) -> None:
    _count_task(sender.request, "failed")


def _task_retried(sender: Any = None, request: Any = None, **kwargs: object) -> None:
    _count_task(request, "retried")


def _task_revoked(sender: Any = None, request: Any = None, **kwargs: object) -> None:
    # Revoked or expired before it ran (a heartbeat older than its 25 s, for one).
    _count_task(request, "revoked")


def connect_receivers() -> None:
    """Called by AcsConfig.ready: count each Celery task's outcome."""
    task_success.connect(_task_succeeded, dispatch_uid="acs.metrics.task_success")
    task_failure.connect(_task_failed, dispatch_uid="acs.metrics.task_failure")
    task_retry.connect(_task_retried, dispatch_uid="acs.metrics.task_retry")
    task_revoked.connect(_task_revoked, dispatch_uid="acs.metrics.task_revoked")
