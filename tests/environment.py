"""Loaded with `-p tests.environment` (pyproject.toml), before pytest-django reads the settings.

It sets what must hold before settings load: the test environment (its own local folder and
cache key prefix) and Celery queues of its own, so that a demo worker running on the same Redis
never takes a test's task.
"""

import os
import uuid

os.environ.setdefault("ACS_ENVIRONMENT", "test")
os.environ.setdefault("TASK_QUEUE_PREFIX", f"acs-test-{uuid.uuid4().hex[:12]}-")
