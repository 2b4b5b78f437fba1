import os
import subprocess
import sys

from django.conf import settings


def test_tests_run_in_the_test_environment_against_postgresql():
    assert settings.ENVIRONMENT == "test"
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    assert settings.CELERY_TASK_DEFAULT_QUEUE.startswith("acs-test-")


def _connection_options(**env: str) -> tuple[bool, str]:
    """Whether settings load under `env`, and the application's connection startup options
    they make (or their error)."""
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'acs.settings'; "
        "django.setup(); from django.conf import settings; "
        "print(settings.DATABASES['default']['OPTIONS'].get('options', ''))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode == 0:
        return True, result.stdout.strip()
    return False, result.stderr


def test_random_reads_are_costed_as_cached_unless_the_server_is_to_say():
    loaded, options = _connection_options()
    assert loaded and "-c random_page_cost=1.1" in options, options
    loaded, options = _connection_options(DB_RANDOM_PAGE_COST="2")
    assert loaded and "-c random_page_cost=2" in options, options
    loaded, options = _connection_options(DB_RANDOM_PAGE_COST="server")
    assert loaded and "random_page_cost" not in options, options
    loaded, error = _connection_options(DB_RANDOM_PAGE_COST="fast")
    assert not loaded and "DB_RANDOM_PAGE_COST must be a number or 'server'" in error
