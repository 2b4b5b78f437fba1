import os
import subprocess
import sys

from django.conf import settings


def test_tests_run_in_the_test_environment_against_postgresql():
    assert settings.ENVIRONMENT == "test"
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    assert settings.CELERY_TASK_DEFAULT_QUEUE.startswith("acs-test-")


# Loads acs.settings afresh under each value of DB_RANDOM_PAGE_COST (and a database URL
# that is never connected to, so no embedded server starts), printing one line each: "ok" and
# the connection's startup options, or "error" and the message.
_SETTINGS_UNDER = """
import importlib, os, sys
for value in sys.argv[1:]:
    os.environ.pop("DB_RANDOM_PAGE_COST", None)
    if value != "-":
        os.environ["DB_RANDOM_PAGE_COST"] = value
    try:
        module = importlib.reload(sys.modules["acs.settings"]) if "acs.settings" in sys.modules \
            else importlib.import_module("acs.settings")
        print("ok", module.DATABASES["default"]["OPTIONS"].get("options", ""))
    except Exception as exc:
        print("error", exc)
"""


def _connection_options(*values: str) -> list[tuple[bool, str]]:
    """For each value of DB_RANDOM_PAGE_COST ("-": unset), whether settings load, and the
    application's connection startup options they make (or their error)."""
    result = subprocess.run(
        [sys.executable, "-c", _SETTINGS_UNDER, *values],
        env={**os.environ, "DATABASE_URL": "postgres://nobody@127.0.0.1:1/unused"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    lines = result.stdout.strip().splitlines()
    assert len(lines) == len(values), result
    return [(line.startswith("ok "), line.partition(" ")[2]) for line in lines]


def test_random_reads_are_costed_as_cached_unless_the_server_is_to_say():
    default, number, server, word = _connection_options("-", "2", "server", "fast")
    assert default[0] and "-c random_page_cost=1.1" in default[1], default
    assert number[0] and "-c random_page_cost=2" in number[1], number
    assert server[0] and "random_page_cost" not in server[1], server
    assert not word[0] and "DB_RANDOM_PAGE_COST must be a number or 'server'" in word[1], word
