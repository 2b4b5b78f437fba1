"""Sentry and OpenTelemetry are off unless configured (acs/tracing.py): without their variables
nothing of theirs is imported or started; with one set and its package missing, start-up stops
saying what to install (neither is a dependency of the project)."""

import importlib.abc
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from acs import tracing

VARIABLES = ("SENTRY_DSN", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


class RefuseImports(importlib.abc.MetaPathFinder):
    def __init__(self):
        self.asked = []

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"sentry_sdk", "opentelemetry"}:
            self.asked.append(name)
            raise ImportError(f"{name} refused by the test")
        return None


@pytest.fixture
def clean(monkeypatch):
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(tracing, "_started", [])
    finder = RefuseImports()
    sys.meta_path.insert(0, finder)
    yield finder
    sys.meta_path.remove(finder)


def test_with_no_variable_set_nothing_is_imported_or_started(clean):
    assert tracing.setup() == []
    assert clean.asked == []
    assert not any(m.split(".")[0] in {"sentry_sdk", "opentelemetry"} for m in sys.modules)


@pytest.mark.parametrize(
    "variable,value,package",
    [
        ("SENTRY_DSN", "https://key@sentry.invalid/1", "sentry-sdk=="),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318", "opentelemetry-sdk=="),
    ],
)
def test_a_configured_one_without_its_package_stops_start_up_saying_what_to_install(
    clean, monkeypatch, variable, value, package
):
    monkeypatch.setenv(variable, value)

    with pytest.raises(ImproperlyConfigured, match=rf"{variable} is configured.*{package}"):
        tracing.setup()
    assert clean.asked  # it did try


def test_sentry_events_are_redacted_before_they_leave():
    event = {
        "exception": {"values": [{"type": "ValueError", "value": "bad phone 505-555-0188"}]},
        "logentry": {"message": "texting rosa@example.org failed", "params": ["x"]},
        "request": {"url": "https://acs/x", "query_string": "q=Rosa", "data": {"a": 1}},
    }

    out = tracing._redact_event(event, {})

    assert out["exception"]["values"][0]["value"] == "bad phone [phone]"
    assert out["logentry"] == {"message": "texting [email] failed", "params": []}
    assert out["request"] == {"url": "https://acs/x"}
