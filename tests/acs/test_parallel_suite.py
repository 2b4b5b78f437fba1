"""The suite runs in several processes (pytest-xdist, `python3 dev.py test`): each has its own test
database, queues, cache keys and local folder; the test database is cloned from a template keyed
on the migrations; the loud list of tests skipped for want of a service, and CI's failure for
them, still come out of the controller (#19)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from tests.database import _base_name, migrations_key

ROOT = Path(settings.BASE_DIR)
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


@pytest.mark.django_db
def test_each_process_has_its_own_database_queues_cache_keys_and_folder():
    name = connection.settings_dict["NAME"]
    assert name.startswith("test_")
    if WORKER:
        assert name.endswith(f"_{WORKER}")
        assert settings.TASK_QUEUE_PREFIX.endswith(f"-{WORKER}-")
        assert settings.CELERY_TASK_DEFAULT_QUEUE.removeprefix(settings.TASK_QUEUE_PREFIX) == (
            "maintenance"
        )
        assert settings.CACHE_KEY_PREFIX.endswith(f"-{WORKER}")
        assert Path(settings.LOCAL_DIR).name == WORKER
    else:
        assert "-gw" not in settings.TASK_QUEUE_PREFIX + settings.CACHE_KEY_PREFIX
    assert settings.CACHE_KEY_PREFIX.startswith("acs-test-")


@pytest.mark.django_db
def test_the_test_database_is_a_copy_of_the_template_of_these_migrations():
    import hashlib

    # This run's template (other checkouts on the same server have their own, same key).
    base = _base_name(connection.settings_dict["NAME"], os.environ.get("PYTEST_XDIST_WORKER", ""))
    names = [
        f"{base}_tpl_{migrations_key()}",
        f"test_{hashlib.sha256(base.encode()).hexdigest()[:20]}_tpl_{migrations_key()}",
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_database WHERE datname = ANY(%s)", [names])
        assert cursor.fetchone() == (1,)
        cursor.execute("SELECT count(*) FROM django_migrations")
        assert cursor.fetchone()[0] > 50  # migrated: the clone has every app's migrations


def test_the_migrations_key_changes_with_a_migration(tmp_path, settings):
    for app in ("acs", "cases", "resources", "responders"):
        (tmp_path / app / "migrations").mkdir(parents=True)
        (tmp_path / app / "migrations" / "0001_initial.py").write_text("# one\n")
    (tmp_path / "uv.lock").write_text("lock\n")
    settings.BASE_DIR = tmp_path
    before = migrations_key()
    assert migrations_key() == before
    (tmp_path / "cases" / "migrations" / "0002_more.py").write_text("# two\n")
    assert migrations_key() != before
    after_new_file = migrations_key()
    (tmp_path / "uv.lock").write_text("lock, another Django\n")
    assert migrations_key() != after_new_file


@pytest.mark.redis
def test_clearing_the_cache_leaves_other_processes_keys(settings):
    import redis

    other = redis.Redis.from_url(settings.REDIS_URL)
    foreign = f"acs-test-another-process-{os.getpid()}:1:kept"
    other.set(foreign, b"1", ex=60)
    cache.set("mine", 1)
    try:
        cache.clear()
        assert cache.get("mine") is None
        assert other.get(foreign) == b"1"
    finally:
        other.delete(foreign)


def start_probe(env_changes: dict[str, str], basetemp: Path) -> subprocess.Popen:
    """The probe tests (tests/acs/service_probe.py) in a run with an xdist worker (one: each
    process loads Django, which takes long on a loaded machine), started in the background."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST_", "ACS_TEST_")) and k not in {"CI"}
    }
    env.pop("TASK_QUEUE_PREFIX", None)
    env.pop("CACHE_KEY_PREFIX", None)
    env.pop("ACS_LOCAL_DIR", None)
    env.update(env_changes)
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "pytest", "-n", "1", "-p", "no:cacheprovider"),
            *("--basetemp", str(basetemp), "tests/acs/service_probe.py"),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finished(probe: subprocess.Popen) -> subprocess.CompletedProcess:
    try:
        stdout, stderr = probe.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        probe.kill()
        probe.communicate()
        raise
    return subprocess.CompletedProcess(probe.args, probe.returncode, stdout, stderr)


def test_skips_for_want_of_a_service_are_listed_and_fail_ci_under_xdist(tmp_path):
    """A Redis that does not answer: listed loudly at the end of a parallel run, and a failure
    with CI=true."""
    bogus = {"REDIS_URL": "redis://127.0.0.1:9/0"}
    # Both runs at once: each loads Django in its controller, then in its worker, one core at
    # a time, so two side by side take about the time of one on a 2-core machine (#19).
    plain = start_probe(bogus, tmp_path / "plain")
    in_ci = start_probe({**bogus, "CI": "true"}, tmp_path / "ci")
    try:
        run, ci = finished(plain), finished(in_ci)
    finally:
        for probe in (plain, in_ci):
            if probe.poll() is None:
                probe.kill()
                probe.communicate()
    assert run.returncode == 0, run.stdout + run.stderr
    assert "SKIPPED FOR WANT OF A SERVICE" in run.stdout, run.stdout
    assert "2 test(s) did not run because a service is missing" in run.stdout, run.stdout
    assert "Redis: ConnectionError connecting to REDIS_URL" in run.stdout

    assert ci.returncode == 1, ci.stdout + ci.stderr
    assert "CI needs Redis but ConnectionError connecting to REDIS_URL" in ci.stdout
    assert "2 errors" in ci.stdout  # failed in the set-up, before the test's body


@pytest.mark.django_db
def test_a_spanish_request_leaves_its_thread_in_spanish_until_the_next_test_starts(
    client, responder
):
    from django.utils import translation

    from tests.conftest import start_in_the_default_language

    responder.language = "es"
    responder.save(update_fields=["language"])
    client.force_login(responder)
    assert client.get("/field/").status_code == 200
    assert translation.get_language() == "es"  # Django leaves it so: each test resets it
    start_in_the_default_language()
    assert translation.get_language() == settings.LANGUAGE_CODE


@pytest.mark.redis
@pytest.mark.django_db
def test_a_test_that_starts_a_worker_finds_this_process_queues_empty():
    from acs.celery import app
    from cases.tasks import send_notifications
    from tests.conftest import no_tasks_left_by_earlier_tests

    send_notifications.apply_async(([0],), countdown=60)
    no_tasks_left_by_earlier_tests()
    assert app.control.purge() == 0
