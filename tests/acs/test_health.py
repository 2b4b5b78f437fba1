import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from acs import health
from acs.queues import KINDS

pytestmark = pytest.mark.django_db

UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture
def fresh_heartbeat():
    for kind in KINDS:
        health.heartbeat_record(kind)
    yield
    cache.delete_many(health.HEARTBEAT_KEYS)


@pytest.fixture
def no_heartbeat():
    cache.delete_many(health.HEARTBEAT_KEYS)


def stale_heartbeats(settings, *kinds):
    stale = timezone.now() - settings.HEALTH_WORKER_MAX_AGE - timedelta(seconds=5)
    for kind in kinds:
        cache.set(health.heartbeat_key(kind), stale.isoformat(), timeout=None)


def test_healthz_is_200_when_database_cache_broker_and_worker_are_up(client, fresh_heartbeat):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["failing"] == []
    assert set(body["checks"]) == {"database", "cache", "broker", "worker"}
    assert all(check["ok"] for check in body["checks"].values())
    queues = body["checks"]["worker"]["queues"]
    assert set(queues) == {"realtime", "bulk", "maintenance"}
    assert all(
        q["ok"] and re.fullmatch(r"last heartbeat \d+ s ago", q["detail"]) for q in queues.values()
    )


def test_healthz_needs_no_sign_in_and_is_never_cached(client, fresh_heartbeat):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]


def test_healthz_is_503_naming_the_worker_when_no_heartbeat_was_ever_seen(client, no_heartbeat):
    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["failing"] == ["worker"]
    assert "no heartbeat" in body["checks"]["worker"]["detail"]


def test_healthz_is_503_when_the_last_heartbeat_is_too_old(client, settings, no_heartbeat):
    stale_heartbeats(settings, *KINDS)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["failing"] == ["worker"]


def test_healthz_names_the_one_queue_that_is_not_served(client, settings, fresh_heartbeat):
    stale_heartbeats(settings, "bulk")

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["worker"]
    worker = body["checks"]["worker"]
    assert re.fullmatch(
        r"queue bulk not served: last heartbeat \d+ s ago \(limit 120 s\)", worker["detail"]
    )
    assert {name: q["ok"] for name, q in worker["queues"].items()} == {
        "realtime": True,
        "bulk": False,
        "maintenance": True,
    }


def test_healthz_names_cache_and_broker_when_redis_is_unreachable(client, fresh_heartbeat):
    broken_cache = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": UNREACHABLE_REDIS,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    with override_settings(
        CACHES=broken_cache,
        CELERY_BROKER_URL=UNREACHABLE_REDIS,
        CELERY_BROKER_TRANSPORT_OPTIONS={"socket_connect_timeout": 1},
    ):
        response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["cache", "broker", "worker"]
    assert body["checks"]["database"]["ok"] is True
    # The answer names the failure, never the address or a credential.
    assert "127.0.0.1" not in response.content.decode()


def test_healthz_refuses_other_methods(client):
    assert client.post("/healthz").status_code == 405


# --- `manage.py worker_health`: the worker and beat containers' health check ---------------


def test_worker_health_passes_on_a_fresh_heartbeat(fresh_heartbeat, capsys):
    call_command("worker_health")

    assert re.fullmatch(
        r"worker: realtime: last heartbeat \d+ s ago; bulk: last heartbeat \d+ s ago; "
        r"maintenance: last heartbeat \d+ s ago\n",
        capsys.readouterr().out,
    )


def test_worker_health_checks_only_the_queues_a_container_serves(settings, fresh_heartbeat):
    stale_heartbeats(settings, "bulk")

    call_command("worker_health", "--queues", "realtime,maintenance")
    with pytest.raises(CommandError, match=r"^worker: queue bulk not served: last heartbeat"):
        call_command("worker_health", "--queues", "bulk")
    with pytest.raises(CommandError, match="queue bulk not served"):
        call_command("worker_health")
    with pytest.raises(CommandError, match="unknown kind of queue 'fast'"):
        call_command("worker_health", "--queues", "fast")


def test_worker_health_fails_without_a_heartbeat(no_heartbeat):
    with pytest.raises(CommandError, match="worker: queue realtime not served: no heartbeat yet"):
        call_command("worker_health")


def test_worker_health_fails_on_a_stale_heartbeat(settings, no_heartbeat):
    stale_heartbeats(settings, *KINDS)

    with pytest.raises(
        CommandError,
        match=r"worker: queue realtime not served: last heartbeat \d+ s ago \(limit 120 s\)",
    ):
        call_command("worker_health")


def test_the_worker_and_beat_containers_restart_and_are_healthy_by_the_heartbeat():
    import yaml

    compose = yaml.safe_load((Path(django_settings.BASE_DIR) / "docker-compose.yml").read_text())

    served = set()
    for name, queues in [
        ("worker", "realtime,maintenance"),
        ("worker-bulk", "bulk"),
        ("beat", None),
    ]:
        service = compose["services"][name]
        assert service["restart"] == "unless-stopped"
        check = ["CMD", "python", "manage.py", "worker_health"]
        if queues:
            command = service["command"]
            assert command[command.index("-Q") + 1] == queues  # serves what it checks
            served |= set(queues.split(","))
            check += ["--queues", queues]
        assert service["healthcheck"]["test"] == check
    assert served == set(KINDS)  # every queue has a worker


# --- /healthz/live and /healthz/ready: the split for container and orchestrator checks ------


def test_liveness_is_200_even_when_database_cache_and_workers_are_down(client, no_heartbeat):
    from django.db import connection

    broken_cache = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": UNREACHABLE_REDIS,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    queries = []

    def refuse_queries(execute, sql, params, many, context):
        queries.append(sql)
        raise ConnectionError("the database is down")

    with (
        override_settings(CACHES=broken_cache, CELERY_BROKER_URL=UNREACHABLE_REDIS),
        connection.execute_wrapper(refuse_queries),
    ):
        response = client.get("/healthz/live")

    assert queries == []
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_readiness_is_200_with_database_cache_and_every_queue_served(client, fresh_heartbeat):
    response = client.get("/healthz/ready")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "worker"}
    assert set(body["checks"]["worker"]["queues"]) == set(KINDS)


def test_readiness_is_503_naming_the_queue_not_served(client, settings, fresh_heartbeat):
    stale_heartbeats(settings, "maintenance")

    response = client.get("/healthz/ready")

    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["worker"]
    assert body["checks"]["worker"]["queues"]["maintenance"]["ok"] is False


def test_readiness_is_503_naming_the_cache_when_redis_is_unreachable(client, fresh_heartbeat):
    broken_cache = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": UNREACHABLE_REDIS,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    with override_settings(CACHES=broken_cache):
        response = client.get("/healthz/ready")

    assert response.status_code == 503
    assert response.json()["failing"] == ["cache", "worker"]
    assert "127.0.0.1" not in response.content.decode()


def test_the_health_checks_need_no_sign_in_second_factor_or_https(client, settings):
    from acs.mfa import OPEN_PREFIXES

    for path in ("/healthz", "/healthz/live", "/healthz/ready"):
        assert path.startswith(OPEN_PREFIXES)
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz/live").status_code == 200
    assert client.post("/healthz/live").status_code == 405
    assert client.post("/healthz/ready").status_code == 405


def test_the_web_container_is_healthy_by_readiness():
    import yaml

    compose = yaml.safe_load((Path(django_settings.BASE_DIR) / "docker-compose.yml").read_text())
    check = " ".join(compose["services"]["web"]["healthcheck"]["test"])
    assert "acs.probe /healthz/ready" in check  # acs/probe.py, with an allowed Host
