"""Optional error reporting (Sentry) and tracing (OpenTelemetry): off unless configured.

Neither package is a dependency of the project: a city that uses one installs it into the
image (docs/operations.md "Monitoring" gives the pinned versions) and sets its environment
variable. Without the variable nothing here is imported or started; with it and without the
package, start-up stops with a message that says what to install.

- SENTRY_DSN: errors (and, with SENTRY_TRACES_SAMPLE_RATE above 0, a share of transactions) go
  to Sentry, with the SDK's personal-data options off (no cookies, users, addresses, request
  bodies or local variables) and every message and exception text through the same redaction
  as the logs (acs/log_privacy.py).
- OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT): traces of requests,
  Celery tasks and database queries go to that OTLP/HTTP collector, named by OTEL_SERVICE_NAME
  (default "acs-casework"). The OpenTelemetry SDK reads its other OTEL_* variables itself.
  Span names are routes, not paths; query parameters are not recorded.
"""

from __future__ import annotations

import os
from typing import Any

from django.core.exceptions import ImproperlyConfigured

SENTRY_PACKAGES = "sentry-sdk==2.75.0"
OTEL_PACKAGES = (
    "opentelemetry-sdk==1.45.2 opentelemetry-exporter-otlp-proto-http==1.45.2 "
    "opentelemetry-instrumentation-django==0.66b1 opentelemetry-instrumentation-celery==0.66b1 "
    "opentelemetry-instrumentation-psycopg==0.66b1"
)

_started: list[str] = []


def setup() -> list[str]:
    """Start what the environment asks for, once per process; returns what is running."""
    if os.environ.get("SENTRY_DSN") and "sentry" not in _started:
        _sentry(os.environ["SENTRY_DSN"])
        _started.append("sentry")
    otel = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get(
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
    )
    if otel and "opentelemetry" not in _started:
        _opentelemetry()
        _started.append("opentelemetry")
    return list(_started)


def _missing(what: str, packages: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(
        f"{what} is configured but not installed: `uv pip install {packages}` in the image "
        "(docs/operations.md, Monitoring)"
    )


# sentry_sdk's Event is a TypedDict of many optional keys: read here as the plain dict it is.
def _redact_event(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    from acs.log_privacy import redact

    for value in (event.get("exception") or {}).get("values") or []:
        if isinstance(value.get("value"), str):
            value["value"] = redact(value["value"])
    entry = event.get("logentry") or {}
    if isinstance(entry.get("message"), str):
        entry["message"] = redact(entry["message"])
        entry["params"] = []
    if isinstance(event.get("message"), str):
        event["message"] = redact(event["message"])
    request = event.get("request") or {}
    request.pop("query_string", None)
    request.pop("data", None)
    request.pop("cookies", None)
    return event


def _sentry(dsn: str) -> None:
    try:
        import sentry_sdk
    except ImportError as exc:
        raise _missing("SENTRY_DSN", SENTRY_PACKAGES) from exc
    from django.conf import settings

    sentry_sdk.init(
        dsn=dsn,
        environment=settings.ENVIRONMENT,
        send_default_pii=False,
        max_request_body_size="never",
        include_local_variables=False,
        traces_sample_rate=float(os.environ.get("SENTRY_TRACES_SAMPLE_RATE", "0")),
        before_send=_redact_event,
    )


def _opentelemetry() -> None:
    try:
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.instrumentation.celery import CeleryInstrumentor
        from opentelemetry.instrumentation.django import DjangoInstrumentor
        from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as exc:
        raise _missing("OTEL_EXPORTER_OTLP_ENDPOINT", OTEL_PACKAGES) from exc

    name = os.environ.get("OTEL_SERVICE_NAME", "acs-casework")
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    DjangoInstrumentor().instrument()
    CeleryInstrumentor().instrument()
    # Statements only, never their parameters (they hold names and numbers).
    PsycopgInstrumentor().instrument(enable_commenter=False)
