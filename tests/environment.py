"""Loaded with `-p tests.environment` (pyproject.toml), before pytest-django reads the settings.

It sets what must hold before settings load: the test environment (its own local folder and
a cache key prefix of the run's own) and Celery queues of its own, so that a demo worker running
on the same Redis never takes a test's task.

Under pytest-xdist (`python3 dev.py test` runs the suite in several processes) each worker
process (PYTEST_XDIST_WORKER=gw0, gw1, ...) gets its own of each, on top of the run's: queues
and cache keys on the shared Redis (so a Celery worker a test starts takes only its own
process's tasks, and clearing the cache clears only its own keys: tests/conftest.py), and its
own local folder (file cache, filesystem broker, exports). Its own test database is
tests/test_database.py's. Whatever a test starts from these settings inherits them.
"""

import os
import uuid
from pathlib import Path

os.environ.setdefault("ACS_ENVIRONMENT", "test")
# One id for the run: the xdist controller sets it, its workers inherit it.
RUN = os.environ.setdefault("ACS_TEST_RUN", uuid.uuid4().hex[:12])
os.environ.setdefault("TASK_QUEUE_PREFIX", f"acs-test-{RUN}-")
# Cache keys of this run only: a run right after another on the same Redis recreates the same
# user ids, and allauth keeps each used TOTP code per user id for a period (a code "already
# used" by the previous run's user made sign-in tests fail within 30 s of it). The worker
# processes that tests start inherit it.
os.environ.setdefault("CACHE_KEY_PREFIX", f"acs-test-{RUN}")

# "gw0", "gw1", ... in an xdist worker (xdist sets it before any plugin loads); "" otherwise.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if WORKER and os.environ.get("ACS_TEST_WORKER_ISOLATED") != WORKER:
    # The controller's values (or the caller's own) with the worker's name added; marked done
    # so that a process this worker starts with its environment does not add it twice.
    os.environ["ACS_TEST_WORKER_ISOLATED"] = WORKER
    os.environ["TASK_QUEUE_PREFIX"] += f"{WORKER}-"
    os.environ["CACHE_KEY_PREFIX"] += f"-{WORKER}"
    local = os.environ.get("ACS_LOCAL_DIR") or str(
        Path(__file__).resolve().parent.parent / ".local" / "test"
    )
    os.environ["ACS_LOCAL_DIR"] = str(Path(local) / WORKER)
