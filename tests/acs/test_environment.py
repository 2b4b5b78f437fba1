from django.conf import settings


def test_tests_run_in_the_test_environment_against_postgresql():
    assert settings.ENVIRONMENT == "test"
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    assert settings.CELERY_TASK_DEFAULT_QUEUE.startswith("acs-test-")
