"""Loaded with `-p tests.environment` (pyproject.toml), before pytest-django reads the settings.

It sets what must hold before settings load: the test environment (its own local folder and
a cache key prefix of the run's own) and Celery queues of its own, so that a demo worker running
on the same Redis never takes a test's task.
"""

import os
import uuid

os.environ.setdefault("ACS_ENVIRONMENT", "test")
RUN = uuid.uuid4().hex[:12]
os.environ.setdefault("TASK_QUEUE_PREFIX", f"acs-test-{RUN}-")
# Cache keys of this run only: a run right after another on the same Redis recreates the same
# user ids, and allauth keeps each used TOTP code per user id for a period (a code "already
# used" by the previous run's user made sign-in tests fail within 30 s of it). The worker
# processes that tests start inherit it.
os.environ.setdefault("CACHE_KEY_PREFIX", f"acs-test-{RUN}")
