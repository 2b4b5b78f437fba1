"""gunicorn settings: `gunicorn -c python:acs.gunicorn_conf acs.wsgi`."""

import os
from typing import Any

from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "acs.settings")

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
timeout = 30
graceful_timeout = 20
# The access log carries paths only; URLs never hold personal data (public_id UUIDs only).
accesslog = "-"
errorlog = "-"
# gunicorn's default line, and the request id our response carries (acs/request_id.py): one
# id finds a request in the access log, the application's log and its tasks' logs.
access_log_format = (
    '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %({x-request-id}o)s'
)
# X-Forwarded-Proto is believed only from the proxies Django believes X-Forwarded-For from
# (TRUSTED_PROXIES, acs/client_address.py): one list, empty by default. gunicorn itself never
# takes the client's address from a header; Django does, in acs.client_address.
forwarded_allow_ips = ",".join(settings.TRUSTED_PROXIES)


# gunicorn ships no types: its arbiter and worker are Any.
def when_ready(server: Any) -> None:
    import django

    django.setup()
    from acs.startup import announce

    announce("web")


# A worker's objects from start-up (Django, the apps, the URLconf: about 150,000) are kept out
# of the garbage collector's full passes, which otherwise stopped a request in every hundred
# or so for 75-155 ms to walk them all (docs/benchmarks.md, "A worker's full collections").
# They live as long as the worker; only what requests create is collected, as before.
def post_worker_init(worker: Any) -> None:
    import gc

    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - loaded now, so that it is frozen with the rest
    gc.collect()
    gc.freeze()


# Metrics from every worker process (acs/metrics.py): prometheus_client's multi-process mode,
# on when PROMETHEUS_MULTIPROC_DIR names a folder. It is emptied at each start (figures of a
# previous run must not be added in) and an exited worker's live gauges are dropped.
def on_starting(server: Any) -> None:
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        from pathlib import Path

        Path(folder).mkdir(parents=True, exist_ok=True)
        for old in Path(folder).glob("*.db"):
            old.unlink()


def child_exit(server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
