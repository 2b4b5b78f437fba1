"""Settings come from the environment, and production is safe by construction."""

import os
import subprocess
import sys

from django.conf import settings

PRODUCTION_ENV = {
    "ACS_ENVIRONMENT": "production",
    "ACS_SKIP_DOTENV": "1",
    "DEBUG": "false",
    "SECRET_KEY": "x7k2!pq9zL0v#Rw4mT8bN1cY6hJ3sD5fG0aQ2eU7iO9pK4lZ-c3Vb8Nm1Qw5Er7Ty",
    # check --deploy does not connect; these only have to be well formed.
    "DATABASE_URL": "postgres://acs:secret@db.internal:5432/acs",
    "REDIS_URL": "redis://cache.internal:6379/0",
    "ALLOWED_HOSTS": "acs.example.org",
}


def run_django(code: str, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV and k != "ACS_LOCAL_DIR"
    }
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=settings.BASE_DIR,
        env={**clean, "DJANGO_SETTINGS_MODULE": "acs.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_deploy_check_reports_nothing_in_production_with_debug_off():
    result = manage("check", "--deploy", "--fail-level", "DEBUG", **PRODUCTION_ENV)

    assert result.returncode == 0, result.stderr + result.stdout
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}

    result = run_django("pass", **env)

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_a_database_url():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "DATABASE_URL"}

    result = run_django("pass", **env)

    assert result.returncode != 0
    assert "DATABASE_URL is required" in result.stderr


def test_a_database_url_that_is_not_postgresql_is_refused():
    result = run_django("pass", **{**PRODUCTION_ENV, "DATABASE_URL": "sqlite:///db.sqlite3"})

    assert result.returncode != 0
    assert "must point at PostgreSQL" in result.stderr


def test_secrets_can_be_read_from_files(tmp_path):
    (tmp_path / "secret_key").write_text("from-a-file-" + "k" * 50 + "\n")
    (tmp_path / "database_url").write_text("postgres://acs:pw@db-from-file:5432/acsdb\n")
    env = {k: v for k, v in PRODUCTION_ENV.items() if k not in {"SECRET_KEY", "DATABASE_URL"}}
    env["SECRET_KEY_FILE"] = str(tmp_path / "secret_key")
    env["DATABASE_URL_FILE"] = str(tmp_path / "database_url")

    result = run_django(
        "from django.conf import settings as s; "
        "print(s.SECRET_KEY); print(s.DATABASES['default']['HOST'])",
        **env,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["from-a-file-" + "k" * 50, "db-from-file"]


def test_without_redis_url_the_broker_and_cache_are_local(tmp_path):
    result = run_django(
        "from django.conf import settings as s; "
        "print(s.CELERY_BROKER_URL); print(s.CACHES['default']['BACKEND'])",
        ACS_ENVIRONMENT="development",
        ACS_SKIP_DOTENV="1",
        ACS_LOCAL_DIR=str(tmp_path),
        REDIS_URL="",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "filesystem://localhost/",
        "django.core.cache.backends.filebased.FileBasedCache",
    ]


def test_celery_follows_the_house_rules():
    from acs.celery import app

    assert app.conf.task_serializer == "json"
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert 0 < app.conf.task_soft_time_limit < app.conf.task_time_limit
    assert {
        "worker-heartbeat-realtime",
        "worker-heartbeat-bulk",
        "worker-heartbeat-maintenance",
    } <= set(app.conf.beat_schedule)


def test_only_the_test_suite_lifts_the_partner_rate_limit():
    """The schema fuzz sends a partner's quota in seconds (tests/acs/test_api_fuzz.py); that
    must not throttle the partner role away in tests, nor loosen the limit anywhere else."""
    show = "from django.conf import settings as s; print(s.PARTNER_API_RATE)"

    production = run_django(show, **PRODUCTION_ENV)
    development = run_django(show, ACS_ENVIRONMENT="development", ACS_SKIP_DOTENV="1")

    assert production.returncode == 0, production.stderr
    assert production.stdout.split() == ["600/minute"]
    assert development.stdout.split() == ["600/minute"]
    assert settings.PARTNER_API_RATE == "100000/minute"
