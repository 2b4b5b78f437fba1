"""A gunicorn worker's start-up (acs/gunicorn_conf.py, post_worker_init): its long-lived
objects are frozen out of the garbage collector's full passes."""

import os
import subprocess
import sys

from tests.workers import ROOT

# In a process of its own: freezing is for the life of the process.
PROBE = """
import gc
import sys
import django
django.setup()
from acs import gunicorn_conf
before = gc.get_freeze_count()
urls_before = "acs.urls" in sys.modules
gc.collect()
tracked = len(gc.get_objects())
gunicorn_conf.post_worker_init(None)
print(int(urls_before), int("acs.urls" in sys.modules), before, gc.get_freeze_count(), tracked)
"""


def test_a_workers_start_up_objects_are_frozen_out_of_full_collections():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "acs.settings"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    urls_before, urls_after, before, frozen, tracked = (int(n) for n in done.stdout.split()[-5:])
    assert before == 0
    # Everything start-up made is frozen, the URLconf and its views too (loaded by the hook,
    # where the first request would have loaded them after the freeze).
    assert (urls_before, urls_after) == (0, 1)
    assert frozen > tracked > 50_000
