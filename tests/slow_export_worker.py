"""`python -m tests.slow_export_worker -A acs worker ...`: a Celery worker whose exports each
take TEST_EXPORT_SECONDS longer, for tests that need a long export without millions of rows
(tests/acs/test_queues_worker.py). Test-only: nothing in acs/ or cases/ knows about it.

The pause comes after the job is claimed (it is "running" meanwhile), before its file is
written, in every pool process (the patch is made in the main process before the pool forks).
"""

import os
import sys
import time

from celery.signals import worker_init


@worker_init.connect
def _slow_exports(**kwargs):
    from cases.exports import services

    seconds = float(os.environ["TEST_EXPORT_SECONDS"])
    original = services._job_files_delete

    def slow(*args, **kw):
        time.sleep(seconds)
        return original(*args, **kw)

    services._job_files_delete = slow


if __name__ == "__main__":
    from celery.__main__ import main

    sys.argv[0] = "celery"
    sys.exit(main())
