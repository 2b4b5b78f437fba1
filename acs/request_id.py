"""A request id on every log line of a request, and of the Celery tasks it queues.

- `RequestIdMiddleware` takes the id from an incoming `X-Request-ID` when it is well formed (a
  UUID, or 32 hex digits as nginx's `$request_id`), else makes one (32 hex digits), and echoes
  it in the response's `X-Request-ID`. Anything else a client sends there is ignored: the id is
  written into logs as is, so it may hold nothing that could be a name, a number or a date.
- `RequestIdFilter`, on every log handler, puts it on each record as `request_id` ("-" outside
  a request); the plain format shows it, and so does the JSON one (acs/log_json.py).
- Celery: `before_task_publish` copies it into the task message's headers
  (`acs_request_id`), `task_prerun` takes it back out in the worker for the task's run, and
  `task_postrun` clears it. The task's own arguments are not touched (acs/queues.py: ids only).
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from celery.signals import before_task_publish, task_postrun, task_prerun

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponseBase

HEADER = "X-Request-ID"
TASK_HEADER = "acs_request_id"
WELL_FORMED = re.compile(
    r"[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)

current: ContextVar[str | None] = ContextVar("acs_request_id", default=None)


def request_id_from(value: str | None) -> str:
    """The id to use for a request that sent `value` in X-Request-ID (None: none sent)."""
    if value and WELL_FORMED.fullmatch(value):
        return value.lower()
    return uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        request_id = request_id_from(request.headers.get(HEADER))
        # An attribute of ours on Django's request, which its type does not declare.
        request.request_id = request_id  # type: ignore[attr-defined]
        token = current.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            current.reset(token)
        response[HEADER] = request_id
        return response


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current.get() or "-"
        return True


# Celery ships no types: its task and the message headers are Any.
def _publish_request_id(headers: dict[str, Any] | None = None, **kwargs: object) -> None:
    request_id = current.get()
    if request_id and headers is not None:
        headers.setdefault(TASK_HEADER, request_id)


def _task_request_id(task: Any = None, **kwargs: object) -> None:
    value = getattr(task.request, TASK_HEADER, None) if task is not None else None
    current.set(value if isinstance(value, str) and WELL_FORMED.fullmatch(value) else None)


def _task_request_id_done(**kwargs: object) -> None:
    current.set(None)


def connect_receivers() -> None:
    """Called by AcsConfig.ready: the request id into and out of Celery tasks."""
    before_task_publish.connect(_publish_request_id, dispatch_uid="acs.request_id.publish")
    task_prerun.connect(_task_request_id, dispatch_uid="acs.request_id.prerun")
    task_postrun.connect(_task_request_id_done, dispatch_uid="acs.request_id.postrun")
