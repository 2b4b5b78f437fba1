from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone

from acs import health

pytestmark = pytest.mark.django_db

UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture
def fresh_heartbeat():
    health.heartbeat_record()
    yield
    cache.delete(health.HEARTBEAT_KEY)


@pytest.fixture
def no_heartbeat():
    cache.delete(health.HEARTBEAT_KEY)


def test_healthz_is_200_when_database_cache_broker_and_worker_are_up(client, fresh_heartbeat):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["failing"] == []
    assert set(body["checks"]) == {"database", "cache", "broker", "worker"}
    assert all(check["ok"] for check in body["checks"].values())


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
    stale = timezone.now() - settings.HEALTH_WORKER_MAX_AGE - timedelta(seconds=5)
    cache.set(health.HEARTBEAT_KEY, stale.isoformat(), timeout=None)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["failing"] == ["worker"]


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
