"""A request id on every response and log line, carried into the Celery tasks a request queues
(acs/request_id.py), and JSON log lines (LOG_FORMAT=json, acs/log_json.py) that carry it and
still no personal data."""

import io
import json
import logging
import os
import re
import subprocess
import sys
import uuid

import pytest
from django.conf import settings
from django.test import RequestFactory

from acs import request_id
from acs.log_json import JsonFormatter

pytestmark = pytest.mark.django_db

HEX32 = re.compile(r"[0-9a-f]{32}")


def test_every_response_carries_a_new_request_id(client):
    first = client.get("/healthz/live")["X-Request-ID"]
    second = client.get("/healthz/live")["X-Request-ID"]

    assert HEX32.fullmatch(first) and HEX32.fullmatch(second) and first != second


@pytest.mark.parametrize(
    "sent",
    [
        "6F1C1F0E-3C55-4D0C-9A8E-8F1D2C0A5E11",  # a UUID (a load balancer's)
        "0123456789abcdef0123456789abcdef",  # nginx's $request_id
    ],
)
def test_a_well_formed_incoming_request_id_is_kept(client, sent):
    response = client.get("/healthz/live", HTTP_X_REQUEST_ID=sent)

    assert response["X-Request-ID"] == sent.lower()


@pytest.mark.parametrize(
    "sent",
    [
        "5055550123",  # a phone number
        "rosa.ortega@example.org",
        "1979-03-14",
        "x" * 32,
        "0123456789abcdef0123456789abcdef0",
        "abc\r\nSet-Cookie: x=1",
        "",
    ],
)
def test_anything_else_in_x_request_id_is_replaced_never_logged(client, sent):
    response = client.get("/healthz/live", HTTP_X_REQUEST_ID=sent)

    assert HEX32.fullmatch(response["X-Request-ID"])
    assert response["X-Request-ID"] != sent


def _json_lines(handler_stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in handler_stream.getvalue().splitlines() if line]


def test_a_json_log_line_carries_the_request_id_and_no_personal_data():
    """The handler as settings build it (the request-id and privacy filters), with the JSON
    formatter LOG_FORMAT=json picks, on a request whose code logs personal data."""
    console = next(h for h in logging.getLogger().handlers if h.name == "console")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    for kept in console.filters:
        handler.addFilter(kept)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("acs.test_request_id")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)

    def view(request):
        logger.warning(
            "texting resident %s at %s failed",
            "rosa.ortega@example.org",
            "(505) 555-0199",
            extra={"phone": "505-555-0199", "legal_name": "Rosa Ortega"},
        )
        try:
            raise ValueError("bad number 505-555-0188")
        except ValueError:
            logger.exception("send failed")
        from django.http import HttpResponse

        return HttpResponse()

    try:
        middleware = request_id.RequestIdMiddleware(view)
        sent = str(uuid.uuid4())
        response = middleware(RequestFactory().get("/x", HTTP_X_REQUEST_ID=sent))
    finally:
        logger.removeHandler(handler)
    lines = _json_lines(stream)

    assert response["X-Request-ID"] == sent
    assert len(lines) == 2
    assert all(line["request_id"] == sent for line in lines)
    assert set(lines[0]) == {"time", "level", "logger", "message", "request_id"}
    assert lines[0]["level"] == "WARNING" and lines[0]["logger"] == "acs.test_request_id"
    assert "[email]" in lines[0]["message"] and "[phone]" in lines[0]["message"]
    text = stream.getvalue()
    for personal in ("rosa", "Ortega", "555-0199", "555-0188"):
        assert personal not in text
    assert "ValueError" in lines[1]["exc_info"]
    # Outside a request: "-".
    assert request_id.current.get() is None


def test_log_format_json_switches_every_handler_and_plain_stays_the_default():
    def run(extra_env):
        env = {**os.environ, **extra_env}
        env.pop("LOG_FORMAT", None) if "LOG_FORMAT" not in extra_env else None
        code = (
            "import django, logging; django.setup(); "
            "logging.getLogger('acs.x').warning('resident %s', 'rosa@example.org')"
        )
        return subprocess.run(
            [sys.executable, "-c", code],
            env={**env, "DJANGO_SETTINGS_MODULE": "acs.settings"},
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stderr.strip()

    line = json.loads(run({"LOG_FORMAT": "json"}).splitlines()[-1])
    assert line["message"] == "resident [email]" and line["request_id"] == "-"
    plain = run({}).splitlines()[-1]
    assert re.fullmatch(r"\S+ \S+ WARNING acs\.x: resident \[email\]", plain)


def test_log_format_must_be_plain_or_json():
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "acs.settings", "LOG_FORMAT": "xml"},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and "LOG_FORMAT must be plain or json" in result.stderr


@pytest.mark.redis
def test_a_task_queued_in_a_request_carries_its_id_in_the_message_headers(settings):
    """The id rides in the message's headers, beside the ids-only arguments."""
    import redis

    from acs.queues import queue_name
    from acs.tasks import worker_heartbeat

    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    name = queue_name("bulk")
    broker.delete(name)
    rid = uuid.uuid4().hex
    token = request_id.current.set(rid)
    try:
        worker_heartbeat.delay("bulk")
    finally:
        request_id.current.reset(token)
    try:
        message = json.loads(broker.lpop(name))
    finally:
        broker.delete(name)
    assert message["headers"][request_id.TASK_HEADER] == rid
    assert rid not in message["body"]


def test_the_worker_takes_the_id_for_the_tasks_run_and_drops_it_after():
    from types import SimpleNamespace

    rid = uuid.uuid4().hex
    task = SimpleNamespace(request=SimpleNamespace(**{request_id.TASK_HEADER: rid}))
    request_id._task_request_id(task=task)
    try:
        assert request_id.current.get() == rid
        record = logging.LogRecord("acs.x", logging.INFO, __file__, 1, "m", None, None)
        request_id.RequestIdFilter().filter(record)
        assert record.request_id == rid
    finally:
        request_id._task_request_id_done()
    assert request_id.current.get() is None
    # A header that is not a well-formed id is not believed.
    bad = SimpleNamespace(request=SimpleNamespace(**{request_id.TASK_HEADER: "505-555-0199"}))
    request_id._task_request_id(task=bad)
    assert request_id.current.get() is None
