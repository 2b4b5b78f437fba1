"""Smoke run of `manage.py bench_field_shell` (docs/benchmarks.md) at its smallest: one run on
the fast profile, in the system Chromium. It must still sign in, load the shell, go offline
and print the figures it promises, the floors measured in the same run included."""

import io
import re

import pytest
from django.core.management import call_command

from acs.roles import Role
from tests.factories import TeamFactory, UnitFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_bench_field_shell_prints_sizes_load_times_and_floors(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop in this thread
    team = TeamFactory(name="Street Outreach")
    unit = UnitFactory(call_sign="ACS-31", team=team)
    responder = UserFactory(username="bench-field", role=Role.RESPONDER, team=team)
    unit.members.add(responder)
    stdout = io.StringIO()

    call_command("bench_field_shell", username="bench-field", profile="4g", runs=1, stdout=stdout)

    output = stdout.getvalue()
    assert "Field app shell, profile 4g (9000/9000 kbit/s, 85 ms)" in output
    for resource in (r"/field/", r"/static/field/field\.css", r"/static/field/field\.js"):
        assert re.search(rf"\| {resource}\S* \| [\d,]+ \| [\d,]+ \|", output), resource
    total = re.search(r"\| \*\*total\*\* \| \*\*([\d,]+)\*\* \| \*\*([\d,]+)\*\* \|", output)
    assert total and int(total[1].replace(",", "")) > int(total[2].replace(",", "")) > 0
    for visit in ("first visit", "repeat visit", "offline"):
        assert re.search(rf"^{visit}: median \d+ ms \(runs: \d+\)$", output, re.M), visit
    # The floors: a plain HTTP client fetching the same files, and what the line allows.
    assert re.search(
        r"^floor, plain HTTP client \([1-9]\d* requests, unthrottled\): median \d+ ms", output, re.M
    )
    assert re.search(
        r"^floor, the line: \d+ ms \([\d,]+ bytes at 9000 kbit/s \+ 2 x 85", output, re.M
    )
